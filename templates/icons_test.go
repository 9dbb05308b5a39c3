package templates

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestEveryIconIsDrawn checks that each icon's class has its drawing in the
// stylesheet, and that the stylesheet draws no icon that nothing shows.
func TestEveryIconIsDrawn(t *testing.T) {
	css, err := os.ReadFile("../static/css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	var drawn []string
	for _, m := range regexp.MustCompile(`(?m)^\.(i-[a-z]+) \{ --icon: url\("data:image/svg\+xml,`).FindAllSubmatch(css, -1) {
		drawn = append(drawn, string(m[1]))
	}
	var shown []string
	for kind, c := range icons {
		var b bytes.Buffer
		if err := c.Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`^<span class="icon (i-[a-z]+)" aria-hidden="true"></span>$`).FindStringSubmatch(b.String())
		if m == nil {
			t.Fatalf("%s: %s", kind, b.String())
		}
		shown = append(shown, m[1])
	}
	slices.Sort(drawn)
	slices.Sort(shown)
	if shown = slices.Compact(shown); !slices.Equal(drawn, shown) {
		t.Errorf("the stylesheet draws %v, the pages show %v", drawn, shown)
	}
	var b bytes.Buffer
	icon("a kind of its own").Render(context.Background(), &b)
	if b.String() != `<span class="icon i-mail" aria-hidden="true"></span>` {
		t.Errorf("an unknown kind shows %s", b.String())
	}
}
