package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/wait"
)

// restoreSessionsStarted counts the operatorRestore sessions of a user.
func restoreSessionsStarted(s *stack, upn string) int {
	n := 0
	for _, rs := range s.veeam.RestoreSessions(demotenant.ID("user", upn)) {
		if rs.Restore {
			n++
		}
	}
	return n
}

// TestRestoreListAcrossWorkloads: Lee gathers a mail item and a document of
// Megan's and a list item of a site, restores them with one submit and one
// reason; one group fails upstream, stays on the list and is retried alone.
func TestRestoreListAcrossWorkloads(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_RESTORE_REASON": "others", "PORTAL_AUDITORS": demotenant.AuditorRole}})
	b := s.signedIn(lee)
	exSid, _ := b.explore("exchange")
	m := b.openMailbox(exSid, "Megan Bowen")
	mail := rowsOf(t, m.page)[0]
	if r := b.post(m.base+"/restore-list", url.Values{"item": {mail.key}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add mail: %d %s", r.StatusCode, r.body)
	}
	odSid, _ := b.explore("onedrive")
	od := b.openDocs(odSid, "Megan Bowen")
	doc := findDoc(t, od.open("Documents/Budget"), "Q3 budget.xlsx")
	b.post(od.base+"/restore-list", url.Values{"item": {doc.key}})
	spSid := b.exploreDaysAgo("sharepoint", 4)
	site := b.openDocs(spSid, "Sales and Marketing")
	item := findDoc(t, site.open(fakeveeam.StoryVisitsList), fakeveeam.StoryDeletedListItem)
	b.post(site.base+"/restore-list", url.Values{"item": {item.key}})
	// Adding the same item again changes nothing.
	if r := b.post(od.base+"/restore-list", url.Values{"item": {doc.key}}); r.Header.Get("Location") != "/restore-list?added=0" {
		t.Errorf("added twice: %q", r.Header.Get("Location"))
	}

	page := b.get("/restore-list")
	groups := texts(page.doc(t), "section.list-group h2")
	if len(groups) != 3 || !strings.Contains(groups[0], "Exchange: Megan Bowen") || !strings.Contains(groups[1], "OneDrive: Megan Bowen") ||
		!strings.Contains(groups[2], "SharePoint: Sales and Marketing") {
		t.Fatalf("groups: %v", groups)
	}
	if body := page.doc(t).Find("main").Text(); !strings.Contains(body, mail.subject) || !strings.Contains(body, "Q3 budget.xlsx") ||
		!strings.Contains(body, fakeveeam.StoryDeletedListItem) {
		t.Errorf("the items: %s", body)
	}
	form := url.Values{}
	page.doc(t).Find(`#list-run-form input`).Each(func(_ int, sel *goquery.Selection) {
		if typ := sel.AttrOr("type", ""); typ == "hidden" || sel.AttrOr("checked", "x") != "x" {
			form.Add(sel.AttrOr("name", ""), sel.AttrOr("value", ""))
		}
	})
	form.Del("csrf_token")
	// Without a reason: refused, nothing started, the list kept, the
	// choices kept and the problem next to the reason.
	before := restoreSessionsStarted(s, lee)
	if r := b.post("/restore-list/run", form); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/restore-list" {
		t.Fatalf("no reason: %d", r.StatusCode)
	}
	if again := b.get("/restore-list").doc(t); !strings.Contains(again.Find("#reason-error").Text(), "a reason is required") ||
		again.Find("section.list-group").Length() != 3 {
		t.Fatalf("no reason: %s", again.Find("main").Text())
	}
	if restoreSessionsStarted(s, lee) != before {
		t.Fatal("a refused submit started restores")
	}
	// The OneDrive restore fails upstream once.
	s.veeam.Inject(fakeveeam.Fault{Method: http.MethodPost, Path: "/v8/RestoreSessions/" + odSid + "/", Status: 500, Times: 1})
	form.Set("reason", "INC-7: Megan's and the team's things")
	if r := b.post("/restore-list/run", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("run: %d %s", r.StatusCode, r.body)
	}
	if got := restoreSessionsStarted(s, lee) - before; got != 2 {
		t.Errorf("%d restores started, want 2", got)
	}
	after := b.get("/restore-list")
	if groups := texts(after.doc(t), "section.list-group h2"); len(groups) != 1 || !strings.Contains(groups[0], "OneDrive") {
		t.Errorf("left on the list: %v", groups)
	}
	runs := after.doc(t).Find("#list-runs").Text()
	if !strings.Contains(runs, "still on the list") || strings.Count(runs, "Megan Bowen") != 2 {
		t.Errorf("the last submit: %s", runs)
	}
	// The progress polls until both have ended.
	wait.For(t, "the restores to end", func() bool {
		r := b.get("/restore-list/runs", "HX-Request: true")
		if r.StatusCode == 286 && strings.Contains(r.body, "In progress") {
			t.Error("polling stopped while a restore runs")
		}
		return r.StatusCode == 286
	})
	// Retrying resubmits only the OneDrive group.
	retry := url.Values{}
	after.doc(t).Find(`#list-run-form input`).Each(func(_ int, sel *goquery.Selection) {
		if name := sel.AttrOr("name", ""); name != "csrf_token" && (sel.AttrOr("type", "") == "hidden" || sel.AttrOr("checked", "x") != "x") {
			retry.Add(name, sel.AttrOr("value", ""))
		}
	})
	// The same form sent again starts nothing: its key was used.
	if r := b.post("/restore-list/run", form); r.StatusCode != http.StatusSeeOther || restoreSessionsStarted(s, lee)-before != 2 {
		t.Errorf("the first form sent again: %d, %d restores", r.StatusCode, restoreSessionsStarted(s, lee)-before)
	}
	retry.Set("reason", "INC-7: retry")
	n := restoreSessionsStarted(s, lee)
	if r := b.post("/restore-list/run", retry); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d", r.StatusCode)
	}
	if got := restoreSessionsStarted(s, lee) - n; got != 1 {
		t.Errorf("the retry started %d restores, want 1", got)
	}
	if b.get("/restore-list").doc(t).Find("section.list-group").Length() != 0 {
		t.Error("the list is not empty")
	}
	// Production has them back, and the trail has each attempt.
	list := s.veeam.ProductionList(salesSite, fakeveeam.StoryVisitsList)
	found := false
	for _, d := range list {
		found = found || (d.Title == fakeveeam.StoryDeletedListItem && d.Restored)
	}
	if !found {
		t.Error("the list item is not back")
	}
	wait.For(t, "the retry to end", func() bool { return b.get("/restore-list/runs", "HX-Request: true").StatusCode == 286 })
	outcomes := map[string][]string{}
	for _, r := range auditRows(t, s.signedIn(joni), url.Values{"actor": {"Lee"}}) {
		outcomes[r["workload"]] = append(outcomes[r["workload"]], r["outcome"])
		if !strings.HasPrefix(r["reason"], "INC-7") {
			t.Errorf("reason: %v", r)
		}
	}
	for w, want := range map[string][]string{
		"exchange":   {"succeeded", "started", "requested"},
		"sharepoint": {"succeeded", "started", "requested"},
		"onedrive":   {"succeeded", "started", "requested", "failed", "requested"}, // refused once, then retried
	} {
		if !slices.Equal(outcomes[w], want) {
			t.Errorf("the trail of %s: %v, want %v (newest first)", w, outcomes[w], want)
		}
	}
}

func TestRestoreListRemoveAndEmpty(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	rows := rowsOf(t, m.page)
	b.post(m.base+"/restore-list", url.Values{"item": {rows[0].key, rows[1].key, rows[2].key}})
	page := b.get("/restore-list")
	first := page.doc(t).Find(`input[name="remove"]`).First().AttrOr("value", "")
	b.post("/restore-list/remove", url.Values{"remove": {first}})
	if n := b.get("/restore-list").doc(t).Find("ul.list-items li").Length(); n != 2 {
		t.Errorf("%d items after removing one", n)
	}
	b.post("/restore-list/remove", url.Values{"all": {"1"}})
	if d := b.get("/restore-list").doc(t); d.Find("ul.list-items li").Length() != 0 || !strings.Contains(d.Find("main").Text(), "The list is empty") {
		t.Error("the list is not empty")
	}
	if r := b.post(m.base+"/restore-list", url.Values{}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("nothing ticked: %d", r.StatusCode)
	}
	if r := b.post(m.base+"/restore-list", url.Values{"item": {"not a key"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad key: %d", r.StatusCode)
	}
	// The list survives a reload, and another user has their own.
	b.post(m.base+"/restore-list", url.Values{"item": {rows[0].key}})
	if b.get("/restore-list").doc(t).Find("ul.list-items li").Length() != 1 {
		t.Error("the list did not survive")
	}
	if s.signedIn(megan).get("/restore-list").doc(t).Find("ul.list-items li").Length() != 0 {
		t.Error("another user sees the list")
	}
}

func TestRestoreListTakesTeamsFiles(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_RESTORE_REASON": "others"}})
	b := s.signedIn("AlexW@contoso.onmicrosoft.com")
	sid, _ := b.explore("teams")
	general := linkNamed(t, b.openTeam(sid, "Mark 8 Project Team"), "table.channel-items a", "General")
	files := b.get(general + "?view=files")
	key := ""
	files.doc(t).Find("table.team-files tbody tr").Each(func(_ int, sel *goquery.Selection) {
		if strings.TrimSpace(sel.Find(`td[data-label="Name"] a`).Text()) == fakeveeam.StoryChannelFile {
			key = sel.Find(`input[name="file"]`).AttrOr("value", "")
		}
	})
	if r := b.post(general+"/restore-list", url.Values{"file": {key}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.StatusCode, r.body)
	}
	page := b.get("/restore-list")
	if g := texts(page.doc(t), "section.list-group h2"); len(g) != 1 || !strings.Contains(g[0], "Teams: Mark 8 Project Team") {
		t.Fatalf("groups: %v", g)
	}
	form := url.Values{"reason": {"overwrote the plan"}, "submission": {page.doc(t).Find(`#list-run-form input[name="submission"]`).AttrOr("value", "")}}
	page.doc(t).Find(`#list-run-form input[checked]`).Each(func(_ int, sel *goquery.Selection) {
		form.Add(sel.AttrOr("name", ""), sel.AttrOr("value", ""))
	})
	if r := b.post("/restore-list/run", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("run: %d", r.StatusCode)
	}
	wait.For(t, "the restore to end", func() bool { return b.get("/restore-list/runs", "HX-Request: true").StatusCode == 286 })
	g, _ := prodChannel(s, "Mark 8 Project Team", "General")
	for _, f := range g.Files {
		if f.Name == fakeveeam.StoryChannelFile && (f.Size == 2048 || !f.Restored) {
			t.Errorf("the file: %+v", f)
		}
	}
}
