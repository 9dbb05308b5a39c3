package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/wait"
)

// chooseScope picks name on the scope page, searching for it first.
func (b *browser) chooseScope(name string) {
	t := b.s.t
	t.Helper()
	r := b.get("/scope?" + url.Values{"q": {name}}.Encode())
	form := url.Values{}
	r.doc(t).Find("table.scope-items tbody tr").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(`td[data-label="Name"]`).Text()) == name {
			form.Set("type", s.Find(`input[name="type"]`).AttrOr("value", ""))
			form.Set("id", s.Find(`input[name="id"]`).AttrOr("value", ""))
		}
	})
	if form.Get("id") == "" {
		t.Fatalf("no %q on the scope page:\n%s", name, r.doc(t).Find("main").Text())
	}
	if r := b.post("/scope", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose %s: %d %s", name, r.StatusCode, r.body)
	}
}

func TestHelpdeskRestoresForSomeoneElse(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	// The scope page lists the role's people, groups, sites and teams, searchable.
	all := b.get("/scope").doc(t)
	names := texts(all, `table.scope-items td[data-label="Name"]`)
	for _, want := range []string{"Megan Bowen", "Sales", "Sales and Marketing", "Lee Gu"} {
		if !slices.Contains(names, want) {
			t.Errorf("the scope page lacks %s: %v", want, names)
		}
	}
	if got := texts(b.get("/scope?q=bowen").doc(t), `table.scope-items td[data-label="Name"]`); !slices.Equal(got, []string{"Megan Bowen"}) {
		t.Errorf("search by name: %v", got)
	}
	if got := texts(b.get("/scope?q=MeganB@").doc(t), `table.scope-items td[data-label="Name"]`); !slices.Equal(got, []string{"Megan Bowen"}) {
		t.Errorf("search by address: %v", got)
	}
	b.chooseScope("Megan Bowen")
	home := b.get("/")
	if banner := home.doc(t).Find(".acting-banner").Text(); !strings.Contains(banner, "Restoring for Megan Bowen") {
		t.Errorf("no banner: %q", banner)
	}
	// Restore sessions now hold Megan's data only.
	_, r := b.explore("exchange")
	if got := texts(r.doc(t), "table.items tbody td strong"); !slices.Equal(got, []string{"Megan Bowen", "In-Place Archive - Megan Bowen"}) {
		t.Errorf("Megan's mailboxes: %v", got)
	}
	if banner := r.doc(t).Find(".acting-banner").Text(); !strings.Contains(banner, "Megan Bowen") {
		t.Error("the session page has no banner")
	}
	lee := demotenant.ID("user", lee)
	var scoped bool
	for _, rs := range s.veeam.RestoreSessions(lee) {
		scoped = scoped || rs.ScopeName == "Megan Bowen"
	}
	if !scoped {
		t.Error("VB365 was not asked for a session scoped to Megan")
	}
	// Back to his own data: the whole scope again, in a session of its own.
	if r := b.post("/scope/clear", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear: %d", r.StatusCode)
	}
	if b.get("/").doc(t).Find(".acting-banner").Length() != 0 {
		t.Error("the banner stayed")
	}
	_, r = b.explore("exchange")
	if got := texts(r.doc(t), "table.items tbody td strong"); len(got) < 5 {
		t.Errorf("his whole scope: %v", got)
	}
}

func TestScopeChoicesOutsideTheRoleAreRefused(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	for _, form := range []url.Values{
		{"type": {"User"}, "id": {demotenant.ID("user", adele)}}, // not in Lee's role
		{"type": {"Mailbox"}, "id": {demotenant.ID("user", megan)}},
		{"type": {"User"}, "id": {""}},
	} {
		r := b.post("/scope", form)
		if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %d", form, r.StatusCode)
		}
	}
	if b.get("/").doc(t).Find(".acting-banner").Length() != 0 {
		t.Error("a refused choice took effect")
	}
	// An end user's scope is only herself.
	a := s.signedIn(adele)
	if p := a.get("/scope").doc(t); !strings.Contains(p.Find("main").Text(), "your own data only") {
		t.Errorf("Adele's scope page: %s", p.Find("main").Text())
	}
	if r := a.get("/scope?offset=-3"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad offset: %d", r.StatusCode)
	}
}

func TestMyRestoresFilters(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	before := s.now().UTC()
	sid, _ := b.explore("exchange")
	mine := b.openMailbox(sid, "Lee Gu")
	b.waitRestore(mine.restore([]string{rowsOf(t, mine.page)[0].key}, url.Values{"target": {"original"}, "changed": {"1"}}))
	megans := b.openMailbox(sid, "Megan Bowen")
	b.waitRestore(megans.restore([]string{rowsOf(t, megans.page)[0].key}, url.Values{"target": {"original"}, "changed": {"1"}}))
	sources := func(q url.Values) []string {
		t.Helper()
		r := b.get("/restores?" + q.Encode())
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%v: %d", q, r.StatusCode)
		}
		return texts(r.doc(t), `table.items tbody td[data-label="From"] > span:first-child`)
	}
	for _, c := range []struct {
		q    url.Values
		want []string
	}{
		{url.Values{}, []string{"Exchange: Megan Bowen", "Exchange: Lee Gu"}},
		{url.Values{"whose": {"others"}}, []string{"Exchange: Megan Bowen"}},
		{url.Values{"whose": {"own"}}, []string{"Exchange: Lee Gu"}},
		{url.Values{"workload": {"onedrive"}}, nil},
		{url.Values{"status": {"succeeded"}, "from": {before.Format("2006-01-02")}}, []string{"Exchange: Megan Bowen", "Exchange: Lee Gu"}},
		{url.Values{"to": {before.AddDate(0, 0, -1).Format("2006-01-02")}}, nil},
	} {
		if got := sources(c.q); !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.q, got, c.want)
		}
	}
	if d := b.get("/restores?whose=others").doc(t); !strings.Contains(d.Find("table.items tbody").Text(), "for someone else") ||
		d.Find(`#r-whose option[value="others"][selected]`).Length() != 1 {
		t.Error("the list does not mark restores for others, or loses the filter")
	}
	for _, q := range []string{"whose=nobody", "status=maybe", "workload=fax", "from=2026-13-01", "from=2026-11-20&to=2026-11-19"} {
		r := b.get("/restores?" + q)
		if r.StatusCode != http.StatusBadRequest || r.doc(t).Find("form.restore-filters").Length() != 1 {
			t.Errorf("%s: %d", q, r.StatusCode)
		}
	}
}

// TestNoticeWhenARestoreEndsElsewhere: a restore ends while the user is on
// another page; the page's poll brings one notice with a link, then stops.
func TestNoticeWhenARestoreEndsElsewhere(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{RestoreItemDuration: 300 * time.Millisecond}})
	b := s.signedIn(adele)
	if r := b.get("/notices", "HX-Request: true"); r.StatusCode != 286 {
		t.Errorf("nothing running: %d, want 286 (stop polling)", r.StatusCode)
	}
	if b.get("/").doc(t).Find(`#notices[aria-live="polite"][hx-get="/notices"]`).Length() != 1 {
		t.Error("the page does not poll for notices")
	}
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	page := m.restore([]string{rowsOf(t, m.page)[0].key}, url.Values{"target": {"original"}, "changed": {"1"}})
	var notice response
	wait.For(t, "a notice", func() bool {
		notice = b.get("/notices", "HX-Request: true")
		return notice.StatusCode != http.StatusNoContent
	})
	d := notice.doc(t)
	// 200 (poll again) when the restore ended between the handler's read of
	// what runs and its read of what ended; the next poll then stops.
	if notice.StatusCode != 286 && notice.StatusCode != http.StatusOK || d.Find(`p.notice a[href="`+page+`"]`).Length() != 1 || !strings.Contains(d.Text(), "Adele Vance") {
		t.Errorf("the notice: %d %s", notice.StatusCode, notice.body)
	}
	if r := b.get("/notices", "HX-Request: true"); r.StatusCode != 286 || strings.Contains(r.body, "notice") {
		t.Errorf("a second notice: %d %s", r.StatusCode, r.body)
	}
	// My restores has it as finished, recorded by the notice.
	if st := b.get("/restores").doc(t).Find("table.items tbody").Text(); !strings.Contains(st, "Finished") {
		t.Errorf("My restores: %s", st)
	}
}

func TestRestoringForAGroupShowsItsMembers(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	b.chooseScope("Sales")
	if banner := b.get("/").doc(t).Find(".acting-banner").Text(); !strings.Contains(banner, "Restoring for Sales") {
		t.Errorf("banner: %q", banner)
	}
	_, r := b.explore("onedrive")
	if got := texts(r.doc(t), "table.items tbody td strong"); !slices.Equal(got, []string{"Alex Wilber", "Isaiah Langer", "Megan Bowen", "Miriam Graham"}) {
		t.Errorf("the Sales group's OneDrives: %v", got)
	}
}
