package fakeveeam_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

type exItem struct {
	ID          string
	Subject     string
	ItemClass   string
	From        string
	Received    time.Time
	Attachments []struct {
		Name      string
		SizeBytes int64
	}
	Actions map[string]struct{ URI, Method string } `json:"_actions"`
}

type exPage struct {
	Results []exItem
	SetID   string                           `json:"setId"`
	Links   map[string]struct{ Href string } `json:"_links"`
}

type exFolder struct {
	ID, Name, Type, Category string
}

// mailboxSession opens an Exchange session for upn at the point nearest at
// (zero: the latest) and returns the token, session id and mailbox path.
func (f *fixture) mailboxSession(upn string, at time.Time, owner string, archive bool, extra map[string]any) (string, string, string) {
	f.t.Helper()
	tok := f.login(upn)
	body := map[string]any{"type": "Vex"}
	if !at.IsZero() {
		body["dateTime"] = at
	}
	for k, v := range extra {
		body[k] = v
	}
	status, s := f.explore(tok.AccessToken, body)
	if status != http.StatusCreated {
		f.t.Fatalf("explore: %d", status)
	}
	u, _ := demotenant.Contoso().User(owner)
	return tok.AccessToken, s.ID, "/v8/RestoreSessions/" + s.ID + "/organization/mailboxes/" + fakeveeam.MailboxID(u.OID, archive)
}

func (f *fixture) folders(tok, mb string) map[string]exFolder {
	f.t.Helper()
	var p struct{ Results []exFolder }
	f.getJSON(mb+"/folders?limit=1000", tok, &p)
	out := map[string]exFolder{}
	for _, x := range p.Results {
		out[x.Name] = x
	}
	return out
}

func (f *fixture) searchItems(tok, path, q string) (int, exPage) {
	f.t.Helper()
	b, _ := json.Marshal(map[string]string{"query": q})
	status, body := f.post(path, tok, "application/json", b)
	var p exPage
	json.Unmarshal(body, &p)
	return status, p
}

func subjects(items []exItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Subject)
	}
	return out
}

func TestMailboxFoldersAndItems(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok, _, mb := f.mailboxSession(adele, time.Time{}, adele, false, nil)
	var m struct {
		Name, Email string
		IsArchive   bool
	}
	f.getJSON(mb, tok, &m)
	if m.Name != "Adele Vance" || m.Email != adele || m.IsArchive {
		t.Errorf("mailbox = %+v", m)
	}
	folders := f.folders(tok, mb)
	for _, name := range []string{"Inbox", "Projects", "Receipts", "Sent Items", "Deleted Items", "Drafts", "Junk Email", "Calendar", "Contacts", "Tasks", "Notes"} {
		if _, ok := folders[name]; !ok {
			t.Errorf("no %s folder", name)
		}
	}
	if folders["Calendar"].Type != "Appointment" || folders["Inbox"].Category != "Inbox" {
		t.Errorf("folder kinds: %+v %+v", folders["Calendar"], folders["Inbox"])
	}
	var top struct{ Results []exFolder }
	f.getJSON(mb+"/folders?parentId=root", tok, &top)
	if len(top.Results) != 10 {
		t.Errorf("%d top-level folders", len(top.Results))
	}
	var sub struct{ Results []exFolder }
	f.getJSON(mb+"/folders?parentId="+url.QueryEscape(folders["Inbox"].ID), tok, &sub)
	if len(sub.Results) != 2 {
		t.Errorf("Inbox has %d subfolders", len(sub.Results))
	}

	// Items page newest first through every page of the Inbox; ids need escaping.
	var all []exItem
	next := mb + "/items?limit=25&parentId=" + url.QueryEscape(folders["Inbox"].ID)
	for next != "" {
		var p exPage
		f.getJSON(next, tok, &p)
		all = append(all, p.Results...)
		next = p.Links["next"].Href
	}
	if len(all) < 100 {
		t.Fatalf("%d items in the Inbox", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Received.After(all[i-1].Received) {
			t.Fatal("items are not newest first")
		}
	}
	var slashed *exItem
	for i := range all {
		if strings.ContainsAny(all[i].ID, "/+") {
			slashed = &all[i]
			break
		}
	}
	if slashed == nil {
		t.Fatal("no item id needs escaping")
	}
	var one exItem
	f.getJSON(mb+"/items/"+url.PathEscape(slashed.ID), tok, &one)
	if one.ID != slashed.ID || one.Actions["save"].Method != "POST" {
		t.Errorf("item = %+v", one)
	}
	// Every kind has its item class.
	classes := map[string]bool{}
	for _, name := range []string{"Calendar", "Contacts", "Tasks", "Notes"} {
		var p exPage
		f.getJSON(mb+"/items?limit=1&parentId="+url.QueryEscape(folders[name].ID), tok, &p)
		classes[p.Results[0].ItemClass] = true
	}
	if len(classes) != 4 {
		t.Errorf("item classes %v", classes)
	}
}

func TestRestorePointsAreSnapshots(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	lastWeek := f.clock.Now().Add(-7 * 24 * time.Hour)
	find := func(mb, tok string) []string {
		_, p := f.searchItems(tok, mb+"/search", `subject:"`+fakeveeam.StoryDeletedSubject+`"`)
		return subjects(p.Results)
	}
	tok, _, mb := f.mailboxSession(adele, lastWeek, adele, false, nil)
	if got := find(mb, tok); len(got) != 1 {
		t.Errorf("last week's point: %v", got)
	}
	tok, _, mb = f.mailboxSession(adele, time.Time{}, adele, false, nil)
	if got := find(mb, tok); len(got) != 0 {
		t.Errorf("the latest point still has the deleted message: %v", got)
	}
	tok, _, mb = f.mailboxSession(adele, time.Time{}, adele, false, map[string]any{"showDeleted": true})
	if got := find(mb, tok); len(got) != 1 {
		t.Errorf("showDeleted: %v", got)
	}
	// The changed draft: its old subject at last week's point, the new one now; both with showAllVersions.
	tok, _, mb = f.mailboxSession(adele, time.Time{}, adele, false, map[string]any{"showAllVersions": true})
	_, p := f.searchItems(tok, mb+"/search", `subject:"Holiday rota"`)
	if got := subjects(p.Results); !slices.Contains(got, fakeveeam.StoryChangedSubject) || !slices.Contains(got, fakeveeam.StoryChangedSubject+" (v2)") {
		t.Errorf("all versions: %v", got)
	}
}

func TestSearchEndpoint(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	lastWeek := f.clock.Now().Add(-7 * 24 * time.Hour)
	tok, _, mb := f.mailboxSession(adele, lastWeek, adele, false, nil)
	from := f.clock.Now().Add(-10 * 24 * time.Hour).UTC().Format(time.RFC3339)
	to := f.clock.Now().Add(-8 * 24 * time.Hour).UTC().Format(time.RFC3339)
	status, p := f.searchItems(tok, mb+"/search", fmt.Sprintf(`floor plan received:>=%s received:<%s`, from, to))
	if status != 200 || len(p.Results) != 1 || p.Results[0].Subject != fakeveeam.StoryDeletedSubject || p.SetID == "" {
		t.Fatalf("search = %d %v setId %q", status, subjects(p.Results), p.SetID)
	}
	// A folder search looks in that folder only.
	folders := f.folders(tok, mb)
	_, inSent := f.searchItems(tok, mb+"/folders/"+url.PathEscape(folders["Sent Items"].ID)+"/search", "floor plan")
	if len(inSent.Results) != 0 {
		t.Errorf("found in Sent Items: %v", subjects(inSent.Results))
	}
	// Pages of one search share its setId.
	_, first := f.searchItems(tok, mb+"/search?limit=5", "to:adele")
	_, second := f.searchItems(tok, mb+"/search?limit=5&offset=5&setId="+first.SetID, "to:adele")
	if second.SetID != first.SetID || len(second.Results) != 5 || second.Results[0].ID == first.Results[0].ID {
		t.Errorf("second page: setId %q, %d results", second.SetID, len(second.Results))
	}
	// A malformed query is a 400 in the documented shape.
	b, _ := json.Marshal(map[string]string{"query": `subject:"unclosed`})
	status, body := f.post(mb+"/search", tok, "application/json", b)
	var e struct{ Message, ErrorCode string }
	json.Unmarshal(body, &e)
	if status != 400 || e.ErrorCode != "ParameterValidationFailure" || !strings.Contains(e.Message, "quoted") {
		t.Errorf("malformed query: %d %s", status, body)
	}
}

func TestMailboxesOutsideTheScopeAreNotFound(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok, _, mb := f.mailboxSession(lee, time.Time{}, adele, false, nil)
	for _, path := range []string{mb, mb + "/folders", mb + "/items"} {
		if status, _ := f.get(path, tok); status != http.StatusNotFound {
			t.Errorf("Lee reading Adele's %s: %d", path, status)
		}
	}
	b, _ := json.Marshal(map[string]any{"items": []map[string]string{{"id": "x"}}})
	if status, _ := f.post(mb+"/items/operatorRestore", tok, "application/json", b); status != http.StatusNotFound {
		t.Errorf("Lee restoring into Adele's mailbox: %d", status)
	}
	// But Megan's, in the Sales group, is his to see.
	tok, _, mb = f.mailboxSession(lee, time.Time{}, megan, false, nil)
	if status, _ := f.get(mb, tok); status != http.StatusOK {
		t.Errorf("Lee reading Megan's mailbox: %d", status)
	}
}

func (f *fixture) restore(tok, mb string, opts map[string]any) string {
	f.t.Helper()
	b, _ := json.Marshal(opts)
	status, body := f.post(mb+"/items/operatorRestore", tok, "application/json", b)
	var r struct{ SessionID string }
	json.Unmarshal(body, &r)
	if status != http.StatusOK || r.SessionID == "" {
		f.t.Fatalf("operatorRestore: %d %s", status, body)
	}
	return r.SessionID
}

type stats struct {
	TotalItemsCount, RestoredItemsCount, FailedItemsCount, SkippedItemsCount int
	Errors                                                                   []string
	Items                                                                    []struct {
		ItemRestoreDetailsType, Status                    string
		CreatedMailboxItemsCount, MergedMailboxItemsCount int
	}
}

func TestRestoreChangesProductionOverTime(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{RestoreItemDuration: time.Second})
	lastWeek := f.clock.Now().Add(-7 * 24 * time.Hour)
	tok, _, mb := f.mailboxSession(adele, lastWeek, adele, false, nil)
	_, found := f.searchItems(tok, mb+"/search", `subject:"`+fakeveeam.StoryDeletedSubject+`" OR subject:"`+fakeveeam.StoryChangedSubject+`" OR subject:"Lunch"`)
	_, unchanged := f.searchItems(tok, mb+"/search?limit=1", "importance:low")
	items := []map[string]string{}
	for _, it := range append(found.Results, unchanged.Results...) {
		items = append(items, map[string]string{"id": it.ID})
	}
	if len(items) != 3 {
		t.Fatalf("items to restore: %v", subjects(append(found.Results, unchanged.Results...)))
	}
	mailbox := fakeveeam.MailboxID(demotenant.ID("user", adele), false)
	inProduction := func(subject string) []fakeveeam.ProductionItem {
		var out []fakeveeam.ProductionItem
		for _, p := range f.veeam.ProductionItems(mailbox) {
			if p.Subject == subject {
				out = append(out, p)
			}
		}
		return out
	}
	if len(inProduction(fakeveeam.StoryDeletedSubject)) != 0 {
		t.Fatal("the deleted message is in production before the restore")
	}
	id := f.restore(tok, mb, map[string]any{"items": items, "deletedItems": true, "changedItems": false, "reason": "lost mail"})
	var s session
	f.getJSON("/v8/RestoreSessions/"+id, tok, &s)
	if s.State != "Working" {
		t.Errorf("state right after the start: %s", s.State)
	}
	f.clock.Advance(1500 * time.Millisecond) // one item done
	var st stats
	f.getJSON("/v8/RestoreSessions/"+id+"/Statistics", tok, &st)
	if st.TotalItemsCount != 3 || st.RestoredItemsCount+st.SkippedItemsCount != 1 {
		t.Errorf("after one item: %+v", st)
	}
	f.clock.Advance(3 * time.Second)
	f.getJSON("/v8/RestoreSessions/"+id, tok, &s)
	f.getJSON("/v8/RestoreSessions/"+id+"/Statistics", tok, &st)
	if s.State != "Stopped" || st.RestoredItemsCount != 1 || st.SkippedItemsCount != 2 || st.Items[0].ItemRestoreDetailsType != "BulkMailbox" {
		t.Errorf("finished: %s %+v", s.State, st)
	}
	back := inProduction(fakeveeam.StoryDeletedSubject)
	if len(back) != 1 || back[0].Folder != "Inbox" || !back[0].Restored {
		t.Errorf("production after the restore: %+v", back)
	}
	var events struct {
		Results []struct{ Title, Status, ItemName, Message string }
	}
	f.getJSON("/v8/RestoreSessions/"+id+"/Events?limit=100", tok, &events)
	var skipped []string
	for _, e := range events.Results {
		if e.Title == "Restoring item" && e.Status == "Skipped" {
			skipped = append(skipped, e.Message)
		}
	}
	if len(events.Results) != 5 || len(skipped) != 2 || !strings.Contains(strings.Join(skipped, " "), "changed") {
		t.Errorf("events = %+v", events.Results)
	}

	// Again with "changed items": the draft gets its old version back.
	id = f.restore(tok, mb, map[string]any{"items": items[:2], "changedItems": true, "deletedItems": true})
	f.clock.Advance(5 * time.Second)
	if got := inProduction(fakeveeam.StoryChangedSubject); len(got) != 1 {
		t.Errorf("the draft's old version is not back: %+v", inProduction(fakeveeam.StoryChangedSubject+" (v2)"))
	}
	_ = id
}

func TestRestoreToANewFolderUnread(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{RestoreItemDuration: time.Millisecond})
	tok, _, mb := f.mailboxSession(megan, time.Time{}, megan, false, nil)
	_, p := f.searchItems(tok, mb+"/search?limit=3", "to:megan")
	var items []map[string]string
	for _, it := range p.Results {
		items = append(items, map[string]string{"id": it.ID})
	}
	f.veeam.FailRestoreOf(p.Results[2].Subject)
	id := f.restore(tok, mb, map[string]any{"items": items, "folder": "Recovered items", "markRestoredAsUnread": true})
	f.clock.Advance(time.Second)
	var st stats
	f.getJSON("/v8/RestoreSessions/"+id+"/Statistics", tok, &st)
	if st.RestoredItemsCount != 2 || st.FailedItemsCount != 1 || len(st.Errors) != 1 || st.Items[0].CreatedMailboxItemsCount != 2 {
		t.Errorf("statistics = %+v", st)
	}
	var s struct{ Result string }
	f.getJSON("/v8/RestoreSessions/"+id, tok, &s)
	if s.Result != "Warning" {
		t.Errorf("result %s", s.Result)
	}
	var copies int
	for _, it := range f.veeam.ProductionItems(fakeveeam.MailboxID(demotenant.ID("user", megan), false)) {
		if it.Folder == "Recovered items" {
			copies++
			if !it.Unread || it.CopyOf == "" {
				t.Errorf("copy %+v", it)
			}
		}
	}
	if copies != 2 {
		t.Errorf("%d copies in the new folder", copies)
	}
	// Malformed restores.
	for _, body := range []map[string]any{{"items": []any{}}, {"items": items, "folder": "a/b"}} {
		b, _ := json.Marshal(body)
		if status, _ := f.post(mb+"/items/operatorRestore", tok, "application/json", b); status != http.StatusBadRequest {
			t.Errorf("restore %v: %d", body, status)
		}
	}
}

func TestDownloads(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{DenyDownloads: func(oid string) bool { return oid == demotenant.ID("user", megan) }})
	tok, _, mb := f.mailboxSession(adele, time.Time{}, adele, false, nil)
	_, p := f.searchItems(tok, mb+"/search", "hasattachments:true")
	it := p.Results[0]
	status, msg := f.post(mb+"/items/"+url.PathEscape(it.ID)+"/save", tok, "", nil)
	if status != 200 || !bytes.Contains(msg, []byte("Subject: ")) || int64(len(msg)) < it.Attachments[0].SizeBytes {
		t.Fatalf("save: %d, %d bytes", status, len(msg))
	}
	sum := sha256.Sum256(msg)
	if d := f.veeam.Downloads(); d[len(d)-1].SHA256 != hex.EncodeToString(sum[:]) || d[len(d)-1].Kind != "msg" {
		t.Errorf("recorded %+v", d)
	}
	b, _ := json.Marshal(map[string]any{"items": []map[string]string{{"id": p.Results[0].ID}, {"id": p.Results[1].ID}}})
	status, zipped := f.post(mb+"/items/Save", tok, "application/json", b)
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if status != 200 || err != nil || len(zr.File) != 2 {
		t.Errorf("save several: %d %v", status, err)
	}
	status, pst := f.post(mb+"/items/exportToPst", tok, "application/json", b)
	if status != 200 || !bytes.HasPrefix(pst, []byte("!BDN")) {
		t.Errorf("export: %d", status)
	}
	// An operator without the right sees no actions and is refused.
	tok, _, mb = f.mailboxSession(megan, time.Time{}, megan, false, nil)
	_, p = f.searchItems(tok, mb+"/search?limit=1", "to:megan")
	if len(p.Results[0].Actions) != 0 {
		t.Errorf("actions for a denied operator: %v", p.Results[0].Actions)
	}
	if status, _ := f.post(mb+"/items/"+url.PathEscape(p.Results[0].ID)+"/save", tok, "", nil); status != http.StatusForbidden {
		t.Errorf("denied save: %d", status)
	}
}

func TestLargeMailbox(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{LargeMailbox: "PradeepG@contoso.onmicrosoft.com", LargeFolderItems: 20_000})
	tok, _, mb := f.mailboxSession("PradeepG@contoso.onmicrosoft.com", time.Time{}, "PradeepG@contoso.onmicrosoft.com", false, nil)
	folders := f.folders(tok, mb)
	path := mb + "/items?parentId=" + url.QueryEscape(folders["Notifications"].ID)
	var last exPage
	f.getJSON(path+"&offset=19990&limit=100", tok, &last)
	if len(last.Results) != 10 || last.Results[9].Subject != "Notification 000001: build report" || last.Links["next"].Href != "" {
		t.Errorf("last page: %d items, ends with %q", len(last.Results), subjects(last.Results))
	}
}
