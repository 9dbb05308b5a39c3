package directory

import (
	"errors"
	"testing"

	"github.com/openrestore/portal/fakeentra"
)

func TestSearch(t *testing.T) {
	t.Parallel()
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer entra.Close()
	c, err := New(entra.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := entra.GraphTokenFor("NestorW@contoso.onmicrosoft.com", "User.Read User.ReadBasic.All")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	people, err := c.Search(ctx, tok, `meg"an`, 10) // a quote in what is typed cannot break the query
	if err != nil || len(people) != 1 || people[0].Name != "Megan Bowen" || people[0].ID == "" || people[0].UPN != "MeganB@contoso.onmicrosoft.com" {
		t.Errorf("search: %+v %v", people, err)
	}
	if people, err := c.Search(ctx, tok, "  ", 10); err != nil || people != nil {
		t.Errorf("nothing typed: %v %v", people, err)
	}
	weak, _ := entra.GraphTokenFor("NestorW@contoso.onmicrosoft.com", "User.Read")
	if _, err := c.Search(ctx, weak, "meg", 10); !errors.Is(err, ErrDenied) {
		t.Errorf("without consent: %v", err)
	}
	if _, err := New("http://graph.example.com", nil); err == nil {
		t.Error("plain http beyond loopback")
	}
}
