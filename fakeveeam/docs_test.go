package fakeveeam_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

const (
	diego  = "DiegoS@contoso.onmicrosoft.com"
	isaiah = "IsaiahL@contoso.onmicrosoft.com"
)

type docItem struct {
	ID               string                                  `json:"id"`
	Name             string                                  `json:"name"`
	Title            string                                  `json:"title,omitempty"`
	Type             string                                  `json:"type,omitempty"`
	IsFolder         bool                                    `json:"isFolder"`
	SizeBytes        int64                                   `json:"sizeBytes"`
	Version          string                                  `json:"version"`
	VersionID        int                                     `json:"versionId"`
	CreatedBy        string                                  `json:"createdBy"`
	CreationTime     time.Time                               `json:"creationTime"`
	ModifiedBy       string                                  `json:"modifiedBy"`
	ModificationTime time.Time                               `json:"modificationTime"`
	Actions          map[string]struct{ URI, Method string } `json:"-"`
}

// UnmarshalJSON reads _actions too, which a restore request does not echo.
func (d *docItem) UnmarshalJSON(b []byte) error {
	type plain docItem
	var v struct {
		plain
		Actions map[string]struct{ URI, Method string } `json:"_actions"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = docItem(v.plain)
	d.Actions = v.Actions
	return nil
}

type docPage struct {
	Results []docItem
	SetID   string                           `json:"setId"`
	Links   map[string]struct{ Href string } `json:"_links"`
}

// docSession opens a OneDrive (Veod) or SharePoint (Vesp) session for upn at
// the point nearest at (zero: the latest).
func (f *fixture) docSession(upn, typ string, at time.Time) (string, string) {
	f.t.Helper()
	tok := f.login(upn)
	body := map[string]any{"type": typ}
	if !at.IsZero() {
		body["dateTime"] = at
	}
	status, s := f.explore(tok.AccessToken, body)
	if status != http.StatusCreated {
		f.t.Fatalf("explore: %d", status)
	}
	return tok.AccessToken, s.ID
}

func oneDrivePath(sid, upn string) string {
	u, _ := demotenant.Contoso().User(upn)
	return "/v8/RestoreSessions/" + sid + "/Organization/OneDrives/" + fakeveeam.OneDriveID(u.OID)
}

func sitePath(sid, title string) string {
	for _, s := range demotenant.Contoso().Sites {
		if s.Title == title {
			return "/v8/RestoreSessions/" + sid + "/Organization/Sites/" + s.ID
		}
	}
	panic(title)
}

// find walks a path of folder names from the root, then lists the last one's content.
func (f *fixture) walk(tok, base, path string) (folder docItem, content []docItem) {
	f.t.Helper()
	parent := "root"
	for _, name := range strings.Split(path, "/") {
		var p docPage
		f.getJSON(base+"/Documents?limit=1000&includeFolders=true&parentId="+url.QueryEscape(parent), tok, &p)
		found := false
		for _, it := range p.Results {
			if it.Name == name {
				folder, parent, found = it, it.ID, true
			}
		}
		if !found {
			f.t.Fatalf("no %q under %s", name, parent)
		}
	}
	var p docPage
	f.getJSON(base+"/Documents?limit=1000&includeFolders=true&parentId="+url.QueryEscape(folder.ID), tok, &p)
	return folder, p.Results
}

func named(items []docItem, name string) (docItem, bool) {
	for _, it := range items {
		if it.Name == name || it.Title == name {
			return it, true
		}
	}
	return docItem{}, false
}

func (f *fixture) docRestore(tok, path string, body map[string]any) string {
	f.t.Helper()
	b, _ := json.Marshal(body)
	status, resp := f.post(path, tok, "application/json", b)
	var r struct{ SessionID string }
	json.Unmarshal(resp, &r)
	if status != http.StatusOK || r.SessionID == "" {
		f.t.Fatalf("operatorRestore: %d %s", status, resp)
	}
	return r.SessionID
}

func prodDoc(docs []fakeveeam.ProductionDoc, path string) (fakeveeam.ProductionDoc, bool) {
	for _, d := range docs {
		if d.Path == path {
			return d, true
		}
	}
	return fakeveeam.ProductionDoc{}, false
}

func TestOneDriveBrowseAndVersions(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok, sid := f.docSession(megan, "Veod", f.clock.Now().Add(-3*24*time.Hour))
	od := oneDrivePath(sid, megan)
	var drive struct{ ID, Name, URL string }
	f.getJSON(od, tok, &drive)
	if drive.Name != "Megan Bowen" || !strings.Contains(drive.URL, "meganb_contoso_onmicrosoft_com") {
		t.Errorf("OneDrive = %+v", drive)
	}
	var top docPage
	f.getJSON(od+"/Folders?parentId=root", tok, &top)
	var names []string
	for _, x := range top.Results {
		names = append(names, x.Name)
		if !x.IsFolder {
			t.Errorf("%s in a folder list is not a folder", x.Name)
		}
	}
	for _, want := range []string{"Documents", "Desktop", "Pictures", "Downloads", "Videos"} {
		if !slices.Contains(names, want) {
			t.Errorf("top folders %v lack %s", names, want)
		}
	}
	_, budget := f.walk(tok, od, "Documents/Budget")
	doc, ok := named(budget, "Q3 budget.xlsx")
	if !ok {
		t.Fatalf("no budget in %v", budget)
	}
	if doc.Version != "3.0" || doc.VersionID != 3 || doc.SizeBytes != 241_907 || doc.Actions["save"].Method != "POST" {
		t.Errorf("the budget three days ago = %+v", doc)
	}
	var versions docPage
	f.getJSON(od+"/Documents/"+doc.ID+"/Versions", tok, &versions)
	if len(versions.Results) != 2 || versions.Results[0].Version != "2.0" || versions.Results[1].SizeBytes != 182_340 {
		t.Errorf("previous versions = %+v", versions.Results)
	}
	var v1 docItem
	f.getJSON(od+"/Documents/"+doc.ID+"/Versions/1", tok, &v1)
	if v1.Version != "1.0" || v1.SizeBytes != 182_340 {
		t.Errorf("version 1 = %+v", v1)
	}
	if status, _ := f.get(od+"/Documents/"+doc.ID+"/Versions/4", tok); status != http.StatusNotFound {
		t.Errorf("a version after the restore point: %d", status)
	}
	// Files come after folders, and includeFolders=false leaves folders out.
	var files docPage
	f.getJSON(od+"/Documents?parentId=root", tok, &files)
	for _, x := range files.Results {
		if x.IsFolder {
			t.Errorf("folder %s listed without includeFolders", x.Name)
		}
	}
	// Another user's OneDrive is not found.
	if status, _ := f.get(oneDrivePath(sid, adele), tok); status != http.StatusNotFound {
		t.Errorf("Adele's OneDrive in Megan's session: %d", status)
	}
}

func TestOneDriveSearch(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok, sid := f.docSession(megan, "Veod", time.Time{})
	od := oneDrivePath(sid, megan)
	search := func(path, q string) (int, docPage) {
		b, _ := json.Marshal(map[string]string{"query": q})
		status, body := f.post(path, tok, "application/json", b)
		var p docPage
		json.Unmarshal(body, &p)
		return status, p
	}
	if status, p := search(od+"/search", `filename:"Q3 budget"`); status != http.StatusOK || len(p.Results) != 1 || p.SetID == "" {
		t.Errorf("by name: %d %+v", status, p.Results)
	}
	_, xlsx := search(od+"/search?limit=1000", `System.FileExtension:xlsx`)
	for _, x := range xlsx.Results {
		if !strings.HasSuffix(x.Name, ".xlsx") {
			t.Errorf("%s found as xlsx", x.Name)
		}
	}
	if len(xlsx.Results) < 3 {
		t.Errorf("%d spreadsheets", len(xlsx.Results))
	}
	_, recent := search(od+"/search?limit=1000", "datemodified>="+f.clock.Now().Add(-30*24*time.Hour).UTC().Format(time.RFC3339))
	for _, x := range recent.Results {
		if x.ModificationTime.Before(f.clock.Now().Add(-30 * 24 * time.Hour)) {
			t.Errorf("%s modified %s", x.Name, x.ModificationTime)
		}
	}
	_, folders := search(od+"/search?itemType=Folders&limit=1000", "Budget OR Pictures")
	if len(folders.Results) == 0 {
		t.Error("no folders found")
	}
	for _, x := range folders.Results {
		if !x.IsFolder {
			t.Errorf("itemType=Folders found %s", x.Name)
		}
	}
	for _, bad := range []string{`filename:"open`, `colour:blue`, `(a`} {
		b, _ := json.Marshal(map[string]string{"query": bad})
		if status, _ := f.malformed("POST", od+"/search", tok, "application/json", b); status != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, status)
		}
	}
	// Contact properties are valid names for documents, and match nothing.
	if status, p := search(od+"/search", "birthday:x"); status != http.StatusOK || len(p.Results) != 0 {
		t.Errorf("birthday: %d %d", status, len(p.Results))
	}
}

func TestOneDriveRestoreKeepBothAndOverwrite(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{RestoreItemDuration: time.Second})
	tok, sid := f.docSession(megan, "Veod", f.clock.Now().Add(-3*24*time.Hour))
	od := oneDrivePath(sid, megan)
	_, budget := f.walk(tok, od, "Documents/Budget")
	doc, _ := named(budget, "Q3 budget.xlsx")
	u, _ := demotenant.Contoso().User(megan)
	driveID := fakeveeam.OneDriveID(u.OID)
	before, _ := prodDoc(f.veeam.ProductionDocs(driveID), fakeveeam.StoryOverwrittenDoc)
	if before.Version != fakeveeam.VersionKey(fakeveeam.StoryOverwrittenDoc, 4) {
		t.Fatalf("production before: %+v", before)
	}
	id := f.docRestore(tok, od+"/Documents/operatorRestore", map[string]any{
		"documentAction":          "Keep",
		"documentsRestoreConfigs": []any{map[string]any{"document": doc, "documentVersion": "Last"}},
		"reason":                  "overwritten by mistake",
	})
	f.clock.Advance(2 * time.Second)
	var s session
	f.getJSON("/v8/RestoreSessions/"+id, tok, &s)
	if s.State != "Stopped" {
		t.Errorf("state %s", s.State)
	}
	docs := f.veeam.ProductionDocs(driveID)
	orig, _ := prodDoc(docs, fakeveeam.StoryOverwrittenDoc)
	kept, ok := prodDoc(docs, "Documents/Budget/Q3 budget (restored).xlsx")
	if orig.Version != before.Version || !ok || kept.Version != fakeveeam.VersionKey(fakeveeam.StoryOverwrittenDoc, 3) || kept.CopyOf != doc.ID {
		t.Errorf("after keep: original %+v, kept %+v", orig, kept)
	}
	var st struct {
		RestoredItemsCount int
		Items              []struct {
			ItemRestoreDetailsType string
			ChildItems             []struct{ Name, Status string }
		}
	}
	f.getJSON("/v8/RestoreSessions/"+id+"/Statistics", tok, &st)
	if st.RestoredItemsCount != 1 || len(st.Items) != 1 || st.Items[0].ItemRestoreDetailsType != "BulkOneDrive" || len(st.Items[0].ChildItems) != 1 {
		t.Errorf("statistics = %+v", st)
	}
	// Overwrite with all versions rewinds the history.
	f.docRestore(tok, od+"/Documents/operatorRestore", map[string]any{
		"documentAction":          "Overwrite",
		"documentsRestoreConfigs": []any{map[string]any{"document": doc, "documentVersion": "All"}},
	})
	f.clock.Advance(2 * time.Second)
	f.getJSON("/v8/RestoreSessions/"+id, tok, &s)
	orig, _ = prodDoc(f.veeam.ProductionDocs(driveID), fakeveeam.StoryOverwrittenDoc)
	if orig.Versions != 3 || orig.Version != fakeveeam.VersionKey(fakeveeam.StoryOverwrittenDoc, 3) || !orig.Restored {
		t.Errorf("after overwrite: %+v", orig)
	}
	// Bad requests.
	for _, body := range []map[string]any{
		{"documentsRestoreConfigs": []any{map[string]any{"document": doc}}},
		{"documentAction": "Merge", "documentsRestoreConfigs": []any{map[string]any{"document": doc}}},
		{"documentAction": "Keep", "documentsRestoreConfigs": []any{}},
		{"documentAction": "Keep", "documentsRestoreConfigs": []any{map[string]any{"document": doc, "documentVersion": "Some"}}},
	} {
		b, _ := json.Marshal(body)
		if status, _ := f.malformed("POST", od+"/Documents/operatorRestore", tok, "application/json", b); status != http.StatusBadRequest {
			t.Errorf("%v: %d", body, status)
		}
	}
}

func TestOneDriveRestoreDeletedFolder(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{RestoreItemDuration: 100 * time.Millisecond})
	u, _ := demotenant.Contoso().User(diego)
	driveID := fakeveeam.OneDriveID(u.OID)
	if _, ok := prodDoc(f.veeam.ProductionDocs(driveID), fakeveeam.StoryDeletedFolder); ok {
		t.Fatal("the folder is in production")
	}
	tokNow, sidNow := f.docSession(diego, "Veod", time.Time{})
	var docs docPage
	f.getJSON(oneDrivePath(sidNow, diego)+"/Documents?includeFolders=true&limit=1000", tokNow, &docs)
	if _, ok := named(docs.Results, "Onboarding 2026"); ok {
		t.Error("the latest point has the deleted folder")
	}
	tok, sid := f.docSession(diego, "Veod", f.clock.Now().Add(-5*24*time.Hour))
	od := oneDrivePath(sid, diego)
	folder, content := f.walk(tok, od, fakeveeam.StoryDeletedFolder)
	if len(content) != 6 { // five files and Forms
		t.Errorf("the folder holds %d things", len(content))
	}
	id := f.docRestore(tok, od+"/Documents/operatorRestore", map[string]any{
		"documentAction": "Keep", "documentsRestoreConfigs": []any{map[string]any{"document": folder}},
	})
	f.clock.Advance(2 * time.Second)
	var st struct{ TotalItemsCount, RestoredItemsCount int }
	f.getJSON("/v8/RestoreSessions/"+id+"/Statistics", tok, &st)
	if st.TotalItemsCount != 9 || st.RestoredItemsCount != 9 { // the folder, Forms, seven files
		t.Errorf("statistics = %+v", st)
	}
	prod := f.veeam.ProductionDocs(driveID)
	for _, p := range []string{fakeveeam.StoryDeletedFolder, fakeveeam.StoryDeletedFolder + "/Welcome pack.pdf", fakeveeam.StoryDeletedFolder + "/Forms/Equipment request.xlsx"} {
		if d, ok := prodDoc(prod, p); !ok || !d.Restored {
			t.Errorf("%s after the restore: %+v", p, d)
		}
	}
}

func TestOneDriveDownloads(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{})
	tok, sid := f.docSession(megan, "Veod", time.Time{})
	od := oneDrivePath(sid, megan)
	folder, budget := f.walk(tok, od, "Documents/Budget")
	doc, _ := named(budget, "Q3 budget.xlsx")
	status, body := f.post(od+"/Documents/"+doc.ID+"/save", tok, "application/json", []byte(`{}`))
	if status != http.StatusOK || int64(len(body)) != doc.SizeBytes {
		t.Errorf("save: %d, %d bytes of %d", status, len(body), doc.SizeBytes)
	}
	status, body = f.post(od+"/Documents/"+doc.ID+"/Versions/1/save", tok, "application/json", []byte(`{"asZip":true}`))
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if status != http.StatusOK || err != nil || len(zr.File) != 1 || zr.File[0].UncompressedSize64 != 182_340 {
		t.Errorf("version as zip: %d %v", status, err)
	}
	status, body = f.post(od+"/Folders/"+folder.ID+"/save", tok, "", nil)
	zr, err = zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if status != http.StatusOK || err != nil {
		t.Fatalf("folder zip: %d %v", status, err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, fakeveeam.StoryOverwrittenDoc) {
		t.Errorf("the zip holds %v", names)
	}
	// Downloads refused: no save action, 403.
	g := setup(t, fakeveeam.Options{DenyDownloads: func(string) bool { return true }})
	tok, sid = g.docSession(megan, "Veod", time.Time{})
	od = oneDrivePath(sid, megan)
	_, budget = g.walk(tok, od, "Documents/Budget")
	doc, _ = named(budget, "Q3 budget.xlsx")
	if len(doc.Actions) != 0 {
		t.Errorf("actions = %v", doc.Actions)
	}
	if status, _ := g.post(od+"/Documents/"+doc.ID+"/save", tok, "application/json", []byte(`{}`)); status != http.StatusForbidden {
		t.Errorf("denied save: %d", status)
	}
}

func TestSharePointBrowseAndRestoreListItem(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{RestoreItemDuration: time.Second})
	tok, sid := f.docSession(lee, "Vesp", f.clock.Now().Add(-5*24*time.Hour))
	site := sitePath(sid, "Sales and Marketing")
	var libs, lists struct {
		Results []struct{ ID, Name, URL, SiteID string }
	}
	f.getJSON(site+"/Libraries", tok, &libs)
	f.getJSON(site+"/Lists", tok, &lists)
	if len(libs.Results) != 1 || libs.Results[0].Name != "Documents" {
		t.Errorf("libraries = %+v", libs.Results)
	}
	var visits string
	for _, l := range lists.Results {
		if l.Name == fakeveeam.StoryVisitsList {
			visits = l.ID
		}
	}
	if visits == "" {
		t.Fatalf("lists = %+v", lists.Results)
	}
	var folders docPage
	f.getJSON(site+"/Folders?parentId="+libs.Results[0].ID, tok, &folders)
	if _, ok := named(folders.Results, "Campaigns"); !ok || folders.Results[0].Type != "LibraryFolder" {
		t.Errorf("library folders = %+v", folders.Results)
	}
	var docs docPage
	f.getJSON(site+"/Documents?parentId="+libs.Results[0].ID, tok, &docs)
	if len(docs.Results) == 0 {
		t.Error("no documents at the library's top")
	}
	var items docPage
	f.getJSON(site+"/Items?limit=1000&parentId="+visits, tok, &items)
	item, ok := named(items.Results, fakeveeam.StoryDeletedListItem)
	if !ok {
		t.Fatalf("no story item in %+v", items.Results)
	}
	var atts struct {
		Results []struct{ ID, Name, ItemID string }
	}
	f.getJSON(site+"/Items/"+item.ID+"/Attachments", tok, &atts)
	if len(atts.Results) != 2 || atts.Results[0].Name != "Fabrikam visit notes.docx" {
		t.Errorf("attachments = %+v", atts.Results)
	}
	// Missing items need restoreDeletedItems.
	skip := f.docRestore(tok, site+"/Items/operatorRestore", map[string]any{
		"itemsRestoreConfigs": []any{map[string]any{"item": item}}, "restoreDeletedItems": false, "reason": "Ticket 4711"})
	f.clock.Advance(2 * time.Second)
	var st struct{ SkippedItemsCount, RestoredItemsCount int }
	f.getJSON("/v8/RestoreSessions/"+skip+"/Statistics", tok, &st)
	if st.SkippedItemsCount != 1 {
		t.Errorf("without deleted items: %+v", st)
	}
	f.docRestore(tok, site+"/Items/operatorRestore", map[string]any{
		"itemsRestoreConfigs": []any{map[string]any{"item": item}}, "restoreDeletedItems": true, "documentVersion": "All", "reason": "Ticket 4711"})
	f.clock.Advance(2 * time.Second)
	f.getJSON("/v8/RestoreSessions/"+skip, tok, &session{})
	got, ok := prodDoc(f.veeam.ProductionDocs(visits), item.Name)
	if !ok || got.Title != fakeveeam.StoryDeletedListItem || !slices.Equal(got.Attachments, []string{"Fabrikam visit notes.docx", "Whiteboard photo.jpg"}) {
		t.Errorf("production item = %+v", got)
	}
	var rs []fakeveeam.SessionInfo
	for _, s := range f.veeam.RestoreSessions(demotenant.ID("user", lee)) {
		if s.Restore {
			rs = append(rs, s)
		}
	}
	if len(rs) != 2 || rs[0].Reason != "Ticket 4711" || rs[0].Type != "Vesp" {
		t.Errorf("restore sessions = %+v", rs)
	}
	// A site outside Lee's scope is not found.
	if status, _ := f.get(sitePath(sid, "Retail"), tok); status != http.StatusNotFound {
		t.Errorf("the Retail site for Lee: %d", status)
	}
}

func TestSharePointDocumentRestoreOptions(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{RestoreItemDuration: time.Second})
	tok, sid := f.docSession(nestor, "Vesp", f.clock.Now().Add(-20*24*time.Hour))
	site := sitePath(sid, "Contoso Intranet")
	var libs struct{ Results []struct{ ID string } }
	f.getJSON(site+"/Libraries", tok, &libs)
	lib := libs.Results[0].ID
	var all docPage
	f.getJSON(site+"/Documents?limit=1000&parentId="+lib, tok, &all)
	if len(all.Results) == 0 {
		t.Fatal("no documents")
	}
	doc := all.Results[0]
	// Into another list: a copy there, created if need be.
	f.docRestore(tok, site+"/Documents/operatorRestore", map[string]any{
		"documentsRestoreConfigs": []any{map[string]any{"document": doc}}, "list": "Recovered files"})
	f.clock.Advance(2 * time.Second)
	f.getJSON(site, tok, &struct{}{}) // a request advances the restore
	var siteID string
	for _, st := range demotenant.Contoso().Sites {
		if st.Title == "Contoso Intranet" {
			siteID = st.ID
		}
	}
	copies := f.veeam.ProductionList(siteID, "Recovered files")
	if len(copies) != 1 || copies[0].Name != doc.Name || copies[0].CopyOf != doc.ID {
		t.Errorf("the new list holds %+v", copies)
	}
	b, _ := json.Marshal(map[string]any{"documentsRestoreConfigs": []any{map[string]any{"document": doc}}, "documentLastVersionAction": "Replace"})
	if status, _ := f.malformed("POST", site+"/Documents/operatorRestore", tok, "application/json", b); status != http.StatusBadRequest {
		t.Errorf("a bad last-version action: %d", status)
	}
}

func TestLargeLibraryPagesToTheEnd(t *testing.T) {
	t.Parallel()
	f := setup(t, fakeveeam.Options{LargeLibrarySite: "Sales Proposals", LargeLibraryDocs: 50_000})
	tok, sid := f.docSession(lee, "Vesp", time.Time{})
	site := sitePath(sid, "Sales Proposals")
	var libs struct{ Results []struct{ ID, Name string } }
	f.getJSON(site+"/Libraries", tok, &libs)
	var archive string
	for _, l := range libs.Results {
		if l.Name == fakeveeam.LargeLibraryName {
			archive = l.ID
		}
	}
	if archive == "" {
		t.Fatalf("libraries = %+v", libs.Results)
	}
	var last docPage
	f.getJSON(site+"/Documents?parentId="+archive+"&offset=49900&limit=100", tok, &last)
	if len(last.Results) != 100 || last.Results[99].Name != "Proposal 050000.docx" || last.Links["next"].Href != "" {
		t.Errorf("last page: %d, %+v", len(last.Results), last.Links)
	}
}
