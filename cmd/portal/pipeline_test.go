package main

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/wait"
	"github.com/openrestore/portal/restore"
)

// restoreID is the portal's restore a wizard's answer leads to.
func restoreID(t *testing.T, r response) string {
	t.Helper()
	m := regexp.MustCompile(`^/restores/([0-9a-f-]{36})$`).FindStringSubmatch(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("the restore did not start: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	return m[1]
}

// TestEveryRestoreEndsOnRecordUnwatched starts a restore of every kind and
// never opens a progress page: the watcher alone records each end, with
// its counts, in My restores and in the audit trail.
func TestEveryRestoreEndsOnRecordUnwatched(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	b := s.signedIn(lee)
	started := map[string]string{} // restore id → what it restores
	start := func(what string, r response) {
		t.Helper()
		started[restoreID(t, r)] = what
	}
	// Exchange.
	exSid, _ := b.explore("exchange")
	m := b.openMailbox(exSid, "Megan Bowen")
	start("mail", b.attemptRestore(m.base, url.Values{"scope": {"selected"}, "item": {rowsOf(t, m.page)[0].key}},
		url.Values{"target": {"original"}, "missing": {"1"}, "changed": {"1"}}))
	// OneDrive.
	odSid, _ := b.explore("onedrive")
	od := b.openDocs(odSid, "Megan Bowen")
	q3 := findDoc(t, od.open("Documents/Budget"), "Q3 budget.xlsx")
	start("document", b.attemptRestore(od.base, url.Values{"scope": {"selected"}, "item": {q3.key}}, url.Values{"action": {"keep"}}))
	// SharePoint: a document and a list item are two restores of one submit.
	spSid := b.exploreDaysAgo("sharepoint", 4)
	site := b.openDocs(spSid, "Sales and Marketing")
	visit := findDoc(t, site.open(fakeveeam.StoryVisitsList), fakeveeam.StoryDeletedListItem)
	var doc string
	for _, r := range docRowsOf(t, site.open("Documents")) {
		if strings.Contains(r.href, "/d/") {
			doc = r.key
		}
	}
	r := b.attemptRestore(site.base, url.Values{"scope": {"selected"}, "item": {doc, visit.key}},
		url.Values{"target": {"original"}, "missing": {"1"}, "changed": {"1"}, "last": {"merge"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/restores" {
		t.Fatalf("the site's restores: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Teams: a whole team, a channel, its tabs, files and posts, tabs of several channels.
	tSid := b.exploreDaysAgo("teams", 4)
	team := b.openTeam(tSid, "Sales and Marketing")
	teamBase := strings.TrimSuffix(team.doc(t).Find(`form[action$="/restore/new"]`).AttrOr("action", ""), "/restore/new")
	start("team", b.attemptRestore(teamBase, nil, url.Values{"missing": {"1"}, "settings": {"1"}}))
	general := linkNamed(t, team, "table.channel-items a", "General")
	start("channel", b.attemptRestore(general, url.Values{"kind": {"channel"}}, url.Values{"missing": {"1"}}))
	tabsPage := b.get(general + "?view=tabs")
	var tab string
	tabsPage.doc(t).Find(`input[name="tab"]`).Each(func(i int, sel *goquery.Selection) {
		if i == 0 {
			tab = sel.AttrOr("value", "")
		}
	})
	start("tabs", b.attemptRestore(general, url.Values{"kind": {"tabs"}, "tab": {tab}}, url.Values{"missing": {"1"}, "changed": {"1"}}))
	files := b.get(general + "?view=files")
	var file string
	files.doc(t).Find(`table.team-files input[name="file"]`).Each(func(i int, sel *goquery.Selection) {
		if file == "" {
			file = sel.AttrOr("value", "")
		}
	})
	start("files", b.attemptRestore(general, url.Values{"kind": {"files"}, "file": {file}}, url.Values{"changed": {"1"}, "versions": {"last"}}))
	var post string
	b.get(general).doc(t).Find(`ul.posts input[name="post"]`).Each(func(i int, sel *goquery.Selection) {
		if post == "" {
			post = sel.AttrOr("value", "")
		}
	})
	start("posts", b.attemptRestore(general, url.Values{"kind": {"posts"}, "post": {post}}, nil))
	across := b.get(teamBase + "/tabs")
	var tabKey string
	across.doc(t).Find(`input[name="tab"]`).Each(func(i int, sel *goquery.Selection) {
		if i == 0 {
			tabKey = sel.AttrOr("value", "")
		}
	})
	start("tabs across", b.attemptRestore(teamBase+"/tabs", url.Values{"tab": {tabKey}}, url.Values{"missing": {"1"}}))
	// The restore list: a mail group.
	b.post(m.base+"/restore-list", url.Values{"item": {rowsOf(t, m.page)[1].key}})
	list := b.get("/restore-list").doc(t)
	form := url.Values{"reason": {"everything at once"}, "submission": {list.Find(`input[name="submission"]`).AttrOr("value", "")}}
	list.Find(`#list-run-form input[checked]`).Each(func(_ int, sel *goquery.Selection) { form.Add(sel.AttrOr("name", ""), sel.AttrOr("value", "")) })
	if r := b.post("/restore-list/run", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the list: %d", r.StatusCode)
	}

	// Nobody looks; the watcher records every end, in My restores…
	mine := func(q string) []map[string]string {
		t.Helper()
		var out []map[string]string
		b.get("/restores" + q).doc(t).Find("table.items tbody tr").Each(func(_ int, tr *goquery.Selection) {
			out = append(out, map[string]string{
				"id":     strings.TrimPrefix(tr.Find(`td[data-label="Started"] a`).AttrOr("href", ""), "/restores/"),
				"status": strings.TrimSpace(tr.Find(`td[data-label="Status"]`).Text()),
			})
		})
		return out
	}
	want := len(started) + 3 // the site's two and the list's one
	wait.For(t, "every restore to end on record", func() bool { return len(mine("")) == want && len(mine("?status=running")) == 0 })
	// …and in the audit trail, with its counts.
	ends := map[string]map[string]string{}
	for _, row := range auditRows(t, s.signedIn(joni), url.Values{"actor": {"Lee"}, "outcome": {"succeeded"}}) {
		if row["action"] == "restore" {
			ends[row["restore"]] = row
		}
	}
	for _, r := range mine("") {
		if !strings.HasPrefix(r["status"], "Finished") {
			t.Errorf("My restores: %s %s (%s)", r["id"], r["status"], started[r["id"]])
		}
		end := ends[r["id"]]
		restored, _ := strconv.Atoi(end["restored"])
		skipped, _ := strconv.Atoi(end["skipped"])
		if end == nil || restored+skipped == 0 || end["failed"] != "0" || end["vb365_session"] == "" {
			t.Errorf("the trail's end of %s (%s): %v", r["id"], started[r["id"]], end)
		}
	}
}

// TestTwoSubmitsOfOneFormStartOneRestore sends one wizard's form many times
// at once, as two tabs, a double click or a replay would: one restore starts,
// and every answer leads to it.
func TestTwoSubmitsOfOneFormStartOneRestore(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	wizard := b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {rowsOf(t, m.page)[0].key}})
	before := restoreSessionsStarted(s, adele)
	var wg sync.WaitGroup
	answers := make([]response, 6)
	for i := range answers {
		wg.Go(func() { answers[i] = b.submitWizard(wizard, url.Values{"target": {"original"}, "missing": {"1"}}) })
	}
	wg.Wait()
	first := restoreID(t, answers[0])
	for _, r := range answers[1:] {
		if id := restoreID(t, r); id != first {
			t.Errorf("submits led to %s and %s", first, id)
		}
	}
	if n := restoreSessionsStarted(s, adele) - before; n != 1 {
		t.Errorf("%d restores started, want 1", n)
	}
	// Back to the wizard: it says the restore started, and sending it again starts nothing.
	again := b.get(wizardAction(t, wizard))
	if again.StatusCode != http.StatusOK || again.doc(t).Find(`.alert.info a[href="/restores/`+first+`"]`).Length() != 1 {
		t.Errorf("the wizard after the submit: %d %s", again.StatusCode, again.doc(t).Find("main").Text())
	}
	if r := b.submitWizard(again, url.Values{"target": {"original"}, "missing": {"1"}}); restoreID(t, r) != first ||
		restoreSessionsStarted(s, adele)-before != 1 {
		t.Error("a late submit started another restore")
	}
}

// TestACrashBetweenIntentAndAnswerLeavesTheRestoreUnconfirmed kills the
// portal while the backup server holds a restore's request: after the
// restart the restore is in My restores and the trail as not confirmed,
// not lost and not pretended.
func TestACrashBetweenIntentAndAnswerLeavesTheRestoreUnconfirmed(t *testing.T) {
	t.Parallel()
	s := startFakes(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	bin, data := buildPortal(t), t.TempDir()
	p := s.startProcess(bin, data, false)
	s.url = p.url
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	wizard := b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {rowsOf(t, m.page)[0].key}})
	restorePath := "/v8/RestoreSessions/" + sid + "/organization/mailboxes/"
	s.veeam.Inject(fakeveeam.Fault{Method: http.MethodPost, Path: restorePath, Hang: true, Times: 1})
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		req, _ := http.NewRequest(http.MethodPost, s.url+wizardAction(t, wizard),
			strings.NewReader(url.Values{"target": {"original"}, "missing": {"1"}, "confirm": {"1"}, "csrf_token": {b.csrf()}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if resp, err := b.c.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	wait.For(t, "the backup server to hold the restore's request", func() bool { return s.veeam.InFlight(http.MethodPost, restorePath) == 1 })
	p.kill(t)
	<-answered
	// The restart comes later than the intent's lease: nobody can tell any more.
	s.clock.Advance(restore.IntentLease + time.Second)
	p = s.startProcess(bin, data, false)
	s.url = p.url
	var status string
	wait.For(t, "the restore to be marked not confirmed", func() bool {
		rows := b.get("/restores").doc(t).Find("table.items tbody tr")
		status = strings.TrimSpace(rows.Find(`td[data-label="Status"]`).Text())
		return rows.Length() == 1 && strings.HasPrefix(status, "Not confirmed")
	})
	var outcomes []string
	for _, r := range auditRows(t, s.signedIn(joni), url.Values{"actor": {"Adele"}}) {
		outcomes = append(outcomes, r["outcome"])
	}
	if !slices.Equal(outcomes, []string{"unconfirmed", "requested"}) {
		t.Errorf("the trail: %v", outcomes)
	}
	if n := restoreSessionsStarted(s, adele); n != 0 {
		t.Errorf("%d restores ran", n)
	}
}

// TestARestartResumesWatching restarts the portal while a restore runs:
// the restarted portal follows it to its end and records it once.
func TestARestartResumesWatching(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{RestoreItemDuration: 300 * time.Millisecond},
		env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	var keys []string
	for _, r := range rowsOf(t, m.page)[:5] {
		keys = append(keys, r.key)
	}
	id := restoreID(t, b.attemptRestore(m.base, url.Values{"scope": {"selected"}, "item": keys}, url.Values{"target": {"original"}, "changed": {"1"}}))
	s.restart()
	wait.For(t, "the restarted portal to record the end", func() bool {
		return len(auditRows(t, s.signedIn(joni), url.Values{"actor": {"Adele"}, "outcome": {"succeeded"}})) == 1
	})
	page := b.get("/restores/" + id).doc(t)
	if st := page.Find(".status").Text(); !strings.Contains(st, "Finished") {
		t.Errorf("status after the restart: %q", st)
	}
	if n := strings.Count(s.logs.String(), `"msg":"restore_ended"`); n != 1 {
		t.Errorf("the end was recorded %d times by the restarted portal", n)
	}
}

// TestTheWatcherOutlivesItsTokenAndTheSignOut: the user signs out while
// the restore runs, and it ends after the watcher's access token expired;
// the watcher renews its own pair and records the end.
func TestTheWatcherOutlivesItsTokenAndTheSignOut(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{RestoreItemDuration: 10 * time.Minute},
		env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	b := s.signedIn(megan)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Megan Bowen")
	restoreID(t, b.attemptRestore(m.base, url.Values{"scope": {"selected"}, "item": {rowsOf(t, m.page)[0].key}},
		url.Values{"target": {"original"}, "changed": {"1"}}))
	b.post("/auth/logout", nil)
	logouts := func() int {
		n := 0
		for _, r := range s.veeam.Requests() {
			if r.Path == "/v8/token/logout" {
				n++
			}
		}
		return n
	}
	if n := logouts(); n != 1 {
		t.Fatalf("%d VB365 sign-outs at the portal's sign-out, want the session's", n)
	}
	refreshes := s.veeam.TokenRequests("refresh_token")
	s.clock.Advance(2 * time.Hour) // past the restore's end and the access token's hour
	wait.For(t, "the end of the restore", func() bool {
		return len(auditRows(t, s.signedIn(joni), url.Values{"actor": {"Megan"}, "outcome": {"succeeded"}})) == 1
	})
	if s.veeam.TokenRequests("refresh_token") <= refreshes {
		t.Error("the watcher did not renew its token")
	}
	wait.For(t, "the watcher's token pair to be revoked at the end", func() bool { return logouts() == 2 })
}
