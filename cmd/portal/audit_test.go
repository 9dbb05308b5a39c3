package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/wait"
	"github.com/openrestore/portal/store/sqlite"
)

const joni = "JoniS@contoso.onmicrosoft.com" // the demo's auditor

// auditRows downloads the trail as CSV, as an auditor, and returns its rows as maps.
func auditRows(t *testing.T, b *browser, q url.Values) []map[string]string {
	t.Helper()
	r := b.get("/audit.csv?" + q.Encode())
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", r.StatusCode, r.body)
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("CSV: %v", err)
	}
	var out []map[string]string
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = row[i]
		}
		out = append(out, m)
	}
	return out
}

// TestEveryAttemptIsAuditedOnce runs restores and downloads that start,
// succeed, are denied, are refused, fail upstream, break off and lose their
// browser, and finds each in the trail exactly once.
func TestEveryAttemptIsAuditedOnce(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_RESTORE_REASON": "others", "PORTAL_AUDITORS": demotenant.AuditorRole}})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	rows := rowsOf(t, m.page)

	// 1. A restore that starts.
	page := m.restore([]string{rows[0].key}, url.Values{"target": {"folder"}, "folder_name": {"Audit"}, "reason": {"checking"}})
	b.waitRestore(page)
	// 2. A download that succeeds.
	if r := b.post(rows[1].href+"/download", url.Values{"kind": {"msg"}}); r.StatusCode != http.StatusOK {
		t.Fatalf("download: %d", r.StatusCode)
	}
	// 3. Someone else's mailbox: denied (VB365 says it is not hers).
	meganMB := fakeveeam.MailboxID(demotenant.ID("user", megan), false)
	theirs := b.post("/sessions/"+sid+"/mailboxes/"+meganMB+"/restore/new", url.Values{"scope": {"selected"}, "item": {rows[0].key}})
	if r := b.post(theirs.Header.Get("Location"), url.Values{"target": {"original"}, "missing": {"1"}, "confirm": {"1"}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("someone else's mailbox: %d", r.StatusCode)
	}
	// 4. A restore whose form is incomplete: refused.
	wizard := b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {rows[0].key}})
	if r := b.submitWizard(wizard, url.Values{"target": {"folder"}, "folder_name": {""}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("incomplete form: %d", r.StatusCode)
	}
	// 5. VB365 fails the restore: the wizard comes back saying so.
	remove := s.veeam.Inject(fakeveeam.Fault{Method: http.MethodPost, Path: "/v8/RestoreSessions/" + sid + "/organization/mailboxes/", Status: 500, Times: 1})
	wizard = b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {rows[2].key}})
	r := b.submitWizard(wizard, url.Values{"target": {"original"}, "missing": {"1"}})
	if again := b.get(r.Header.Get("Location")); r.StatusCode != http.StatusSeeOther || !strings.Contains(again.body, "The backup server is not answering") {
		t.Fatalf("upstream failure: %d, then %s", r.StatusCode, again.doc(t).Find(".alert").Text())
	}
	remove()
	// 6. The browser goes away while VB365 takes its time: the restore still
	// starts, is recorded, and the watcher records its end.
	mine := fakeveeam.MailboxID(demotenant.ID("user", adele), false)
	remove = s.veeam.Inject(fakeveeam.Fault{Method: http.MethodPost, Path: "/v8/RestoreSessions/" + sid + "/organization/mailboxes/" + mine + "/items/operatorRestore",
		Delay: 700 * time.Millisecond, Times: 1})
	wizard = b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {rows[3].key}})
	form := url.Values{"target": {"original"}, "missing": {"1"}, "confirm": {"1"}, "csrf_token": {b.csrf()}}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url+wizardAction(t, wizard), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if _, err := b.c.Do(req); err == nil {
		t.Fatal("the request did not time out")
	}
	cancel()
	remove()
	auditor := s.signedIn(joni)
	wait.For(t, "the end of the restore whose browser went away", func() bool {
		return len(auditRows(t, auditor, url.Values{"actor": {"Adele"}, "outcome": {"succeeded"}})) >= 3
	})
	// 7. A download VB365 breaks off.
	export := m.page.doc(t).Find(`form[action$="/export"]`).AttrOr("action", "")
	remove = s.veeam.Inject(fakeveeam.Fault{Path: "/v8/RestoreSessions/", CutAfter: 1 << 10, Times: 1})
	req, _ = http.NewRequest(http.MethodPost, s.url+export, strings.NewReader(url.Values{"csrf_token": {b.csrf()}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if resp, err := b.c.Do(req); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	remove()
	// A wizard that is only shown is not an attempt.
	b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {rows[0].key}})

	var got []map[string]string
	wait.For(t, "Adele's attempts in the trail", func() bool {
		got = auditRows(t, auditor, url.Values{"actor": {"Adele"}})
		return len(got) >= 12
	})
	var outcomes []string
	for i := len(got) - 1; i >= 0; i-- { // oldest first
		r := got[i]
		outcomes = append(outcomes, r["action"]+":"+r["outcome"])
		if r["actor_upn"] != adele || r["actor_oid"] != demotenant.ID("user", adele) || r["tenant_id"] == "" {
			t.Errorf("the actor: %v", r)
		}
	}
	want := []string{
		"restore:requested", "restore:started", "restore:succeeded", // 1, and its end
		"download:succeeded",
		"restore:denied", "restore:refused",
		"restore:requested", "restore:failed", // 5: VB365 refused it
		"restore:requested", "restore:started", "restore:succeeded", // 6, whose browser went away
		"export:failed",
	}
	if !slices.Equal(outcomes, want) {
		t.Errorf("the trail: %v, want %v", outcomes, want)
	}
	if len(got) == len(want) {
		first, started, ended := got[11], got[10], got[9]
		if !strings.Contains(first["on_behalf_of"], "Adele Vance") {
			t.Errorf("on whose behalf: %q", first["on_behalf_of"])
		}
		restoreID := strings.TrimPrefix(page, "/restores/")
		if first["reason"] != "checking" || first["restore"] != restoreID || first["vb365_session"] != "" || first["item_count"] != "1" ||
			!strings.Contains(first["items"], rows[0].subject) || !strings.Contains(first["options"], "Audit") {
			t.Errorf("the first restore's intent: %v", first)
		}
		if started["restore"] != restoreID || started["vb365_session"] == "" {
			t.Errorf("the first restore's start: %v", started)
		}
		if ended["restore"] != restoreID || ended["restored"] != "1" || ended["skipped"] != "0" || ended["failed"] != "0" {
			t.Errorf("the first restore's end: %v", ended)
		}
		if denied := got[7]; denied["on_behalf_of_id"] != meganMB {
			t.Errorf("the denied attempt does not name whose data: %v", denied)
		}
		if late := got[2]; late["vb365_session"] == "" || late["restore"] == "" {
			t.Errorf("the restore whose browser went away has no session: %v", late)
		}
	}
	// No token or code of the fakes is in the trail.
	all := auditor.get("/audit.csv").body
	for _, tok := range s.veeam.IssuedTokens() {
		if strings.Contains(all, tok) {
			t.Error("a token is in the audit trail")
		}
	}
}

func TestAuditPageIsForAuditors(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	begin := s.now().UTC()
	b := s.signedIn(adele)
	for _, p := range []string{"/audit", "/audit.csv"} {
		if r := b.get(p); r.StatusCode != http.StatusForbidden {
			t.Errorf("Adele at %s: %d", p, r.StatusCode)
		}
	}
	if b.get("/").doc(t).Find(`nav.site-nav a[href="/audit"]`).Length() != 0 {
		t.Error("Adele is offered the audit page")
	}
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	x := rowsOf(t, m.page)[0]
	b.post(x.href+"/download", url.Values{"kind": {"msg"}})

	auditor := s.signedIn(joni)
	home := auditor.get("/")
	if home.doc(t).Find(`nav.site-nav a[href="/audit"]`).Length() != 1 {
		t.Error("the auditor has no link to the audit page")
	}
	r := auditor.get("/audit?" + url.Values{"actor": {"adele"}, "workload": {"exchange"}}.Encode())
	if r.StatusCode != http.StatusOK {
		t.Fatalf("audit page: %d %s", r.StatusCode, r.body)
	}
	d := r.doc(t)
	if rows := d.Find("table.audit-events tbody tr"); rows.Length() != 1 || !strings.Contains(rows.Text(), "Adele Vance") || !strings.Contains(rows.Text(), "Succeeded") {
		t.Errorf("the page: %s", d.Find("main").Text())
	}
	if csvLink := d.Find(`a[href^="/audit.csv?"]`).AttrOr("href", ""); !strings.Contains(csvLink, "actor=adele") {
		t.Errorf("the CSV link does not keep the filters: %q", csvLink)
	}
	for _, q := range []url.Values{{"from": {"2026-02-30"}}, {"workload": {"fax"}}, {"outcome": {"maybe"}}, {"from": {"2026-11-20"}, "to": {"2026-11-19"}}, {"offset": {"-1"}}} {
		r := auditor.get("/audit?" + q.Encode())
		if r.StatusCode != http.StatusBadRequest || r.doc(t).Find("form.audit-filters").Length() != 1 {
			t.Errorf("%v: %d", q, r.StatusCode)
		}
	}
	if got := auditRows(t, auditor, url.Values{"outcome": {"denied"}}); len(got) != 0 {
		t.Errorf("denied: %v", got)
	}
	// Filters by day are days of the auditor's zone.
	today := begin.Format("2006-01-02")
	if got := auditRows(t, auditor, url.Values{"from": {today}, "to": {today}}); len(got) != 1 {
		t.Errorf("today: %d events", len(got))
	}
	// The page lists the trail but cannot change it: no form posts anything.
	if d.Find(`form[method="post"]`).FilterFunction(func(_ int, s *goquery.Selection) bool { return s.AttrOr("action", "") != "/auth/logout" }).Length() != 0 {
		t.Error("the audit page posts something")
	}
}

// TestDocumentRestoresAndDownloadsAreAudited: OneDrive and SharePoint
// attempts reach the trail with whose data, which documents and the options.
func TestDocumentRestoresAndDownloadsAreAudited(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	b := s.signedIn(megan)
	sid, _ := b.explore("onedrive")
	od := b.openDocs(sid, "Megan Bowen")
	q3 := findDoc(t, od.open("Documents/Budget"), "Q3 budget.xlsx")
	r := od.restore(url.Values{"scope": {"selected"}, "item": {q3.key}}, url.Values{"action": {"keep"}, "reason": {"overwrote it"}})
	b.waitRestore(r.Header.Get("Location"))
	b.post(q3.href+"/download", url.Values{"version": {"1"}})
	lb := s.signedIn(lee)
	spSid := lb.exploreDaysAgo("sharepoint", 4)
	site := lb.openDocs(spSid, "Sales and Marketing")
	item := findDoc(t, site.open(fakeveeam.StoryVisitsList), fakeveeam.StoryDeletedListItem)
	lb.post(item.href+"/download", nil)

	got := auditRows(t, s.signedIn(joni), nil)
	if len(got) != 5 {
		t.Fatalf("%d events: %v", len(got), got)
	}
	// The restore's intent, start and end (the end recorded before the downloads: its page waited for it).
	intent, restore, ended, download, attachments := got[4], got[3], got[2], got[1], got[0]
	if intent["outcome"] != "requested" || intent["restore"] != restore["restore"] || ended["outcome"] != "succeeded" ||
		ended["restore"] != restore["restore"] || ended["restored"] != "1" {
		t.Errorf("the restore's intent and end: %v, %v", intent, ended)
	}
	if restore["workload"] != "onedrive" || restore["action"] != "restore" || restore["outcome"] != "started" ||
		restore["on_behalf_of"] != "Megan Bowen" || restore["items"] != "Q3 budget.xlsx" || restore["reason"] != "overwrote it" ||
		!strings.Contains(restore["options"], "Keep both") || restore["restore"] != strings.TrimPrefix(r.Header.Get("Location"), "/restores/") ||
		restore["vb365_session"] == "" {
		t.Errorf("the restore: %v", restore)
	}
	if download["action"] != "download" || download["outcome"] != "succeeded" || download["options"] != "version 1" {
		t.Errorf("the download: %v", download)
	}
	if attachments["workload"] != "sharepoint" || attachments["on_behalf_of"] != "Sales and Marketing" ||
		attachments["items"] != fakeveeam.StoryDeletedListItem || attachments["actor_upn"] != lee {
		t.Errorf("the attachments: %v", attachments)
	}
}

// TestAuditPagesByKey: the audit page walks a deep trail by key, older
// and back newer, each event once, events of one millisecond included;
// a place that is not one is refused.
func TestAuditPagesByKey(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	auditor := s.signedIn(joni)
	st, err := sqlite.Open(t.Context(), filepath.Join(s.env["PORTAL_DATA_DIR"], "portal.db"), s.now, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 130 {
		at := s.now().Add(-time.Duration(i/2) * time.Minute) // two events a millisecond
		if err := st.Append(t.Context(), audit.Event{Time: at, ActorName: fmt.Sprintf("Person %03d", i), Workload: "exchange",
			Action: "download", Outcome: audit.Succeeded}); err != nil {
			t.Fatal(err)
		}
	}
	actors := func(r response) []string {
		var out []string
		for _, who := range texts(r.doc(t), `table.audit-events tbody td[data-label="Who"]`) {
			out = append(out, strings.Fields(who)[0]+" "+strings.Fields(who)[1])
		}
		return out
	}
	var seen []string
	var pages []response
	page := auditor.get("/audit?actor=Person")
	for range 5 {
		if page.StatusCode != http.StatusOK {
			t.Fatalf("a page of the trail: %d", page.StatusCode)
		}
		pages = append(pages, page)
		seen = append(seen, actors(page)...)
		older := page.doc(t).Find(`a:contains("Older")`).AttrOr("href", "")
		if older == "" {
			break
		}
		page = auditor.get(older)
	}
	if len(pages) != 3 || len(seen) != 130 || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 130 {
		t.Fatalf("%d pages, %d events (%d distinct)", len(pages), len(seen), len(slices.Compact(slices.Sorted(slices.Values(seen)))))
	}
	if summary := pages[0].doc(t).Find("main p.muted").Last().Text(); !strings.Contains(summary, "Events 1 to 50 of 130") {
		t.Errorf("the first page's summary: %q", summary)
	}
	newer := pages[2].doc(t).Find(`a:contains("Newer")`).AttrOr("href", "")
	if back := auditor.get(newer); !slices.Equal(actors(back), actors(pages[1])) {
		t.Errorf("back from the last page: %v, want %v", actors(back), actors(pages[1]))
	}
	if r := auditor.get("/audit?before=yesterday"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a place that is not one: %d", r.StatusCode)
	}
}
