package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

// docs is a OneDrive or site the tests are in.
type docs struct {
	b    *browser
	base string // /sessions/<sid>/onedrives/<key> or …/sites/<key>
	page response
}

// openDocs opens the OneDrive or site named name from the session page.
func (b *browser) openDocs(sid, name string) *docs {
	t := b.s.t
	t.Helper()
	r := b.get("/sessions/" + sid)
	href := ""
	r.doc(t).Find("table.items tbody td a").Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) == name {
			href = s.AttrOr("href", "")
		}
	})
	if href == "" {
		t.Fatalf("no link to %q on the session page:\n%s", name, r.body)
	}
	page := b.get(href)
	if page.StatusCode == http.StatusSeeOther {
		page = b.get(page.Header.Get("Location"))
	}
	if page.StatusCode != http.StatusOK {
		t.Fatalf("opening %s: %d %s", href, page.StatusCode, page.body)
	}
	return &docs{b: b, base: href, page: page}
}

// docRow is a document, folder or list item in a list.
type docRow struct {
	key, name, size, by, when, href string
}

func docRowsOf(t testing.TB, r response) []docRow {
	t.Helper()
	var out []docRow
	r.doc(t).Find("table.doc-items tbody tr").Each(func(_ int, s *goquery.Selection) {
		a := s.Find("td[data-label] a").First()
		out = append(out, docRow{
			key: s.Find(`input[name="item"]`).AttrOr("value", ""), name: strings.TrimSpace(a.Text()),
			size: strings.TrimSpace(s.Find(`td[data-label="Size"]`).Text()), by: strings.TrimSpace(s.Find(`td[data-label="Modified by"]`).Text()),
			when: s.Find("time").AttrOr("datetime", ""), href: a.AttrOr("href", ""),
		})
	})
	return out
}

func findDoc(t testing.TB, r response, name string) docRow {
	t.Helper()
	for _, x := range docRowsOf(t, r) {
		if x.name == name {
			return x
		}
	}
	t.Fatalf("no %q in the list: %v\n%s", name, docRowsOf(t, r), r.Request.URL)
	return docRow{}
}

// open follows a path of names from the page the tests are on: tree and
// start-page links for the first step, list rows after it.
func (d *docs) open(p string) response {
	t := d.b.s.t
	t.Helper()
	parts := strings.Split(p, "/")
	href := ""
	d.page.doc(t).Find("nav.folder-tree a, ul.containers a").Each(func(_ int, s *goquery.Selection) {
		if href == "" && strings.TrimSpace(s.Text()) == parts[0] {
			href = s.AttrOr("href", "")
		}
	})
	if href == "" {
		t.Fatalf("no %q in the tree:\n%s", parts[0], d.page.body)
	}
	r := d.b.get(href)
	for _, name := range parts[1:] {
		r = d.b.get(findDoc(t, r, name).href)
	}
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", p, r.StatusCode, r.body)
	}
	return r
}

// restore runs the wizard for the selection with the given choices and
// returns where the portal went.
func (d *docs) restore(selection, choices url.Values) response {
	t := d.b.s.t
	t.Helper()
	wizard := d.b.openWizard(d.base, selection)
	if wizard.StatusCode != http.StatusOK {
		t.Fatalf("wizard: %d %s", wizard.StatusCode, wizard.body)
	}
	return d.b.submitWizard(wizard, choices)
}

func productionDoc(docs []fakeveeam.ProductionDoc, p string) (fakeveeam.ProductionDoc, bool) {
	i := slices.IndexFunc(docs, func(d fakeveeam.ProductionDoc) bool { return d.Path == p })
	if i < 0 {
		return fakeveeam.ProductionDoc{}, false
	}
	return docs[i], true
}

var salesSite = demotenant.ID("site", "https://contoso.sharepoint.com/sites/SalesAndMarketing")

func oneDriveOf(upn string) string { return fakeveeam.OneDriveID(demotenant.ID("user", upn)) }

func TestBrowseOneDrive(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(megan)
	sid, _ := b.explore("onedrive")
	od := b.openDocs(sid, "Megan Bowen")
	tree := texts(od.page.doc(t), "nav.folder-tree a")
	for _, want := range []string{"Documents", "Desktop", "Pictures", "Downloads", "Videos"} {
		if !slices.Contains(tree, want) {
			t.Errorf("the tree has no %s: %v", want, tree)
		}
	}
	if od.page.doc(t).Find(".badge").Length() != 0 {
		t.Error("Megan's own OneDrive is marked as someone else's")
	}
	// Subfolders load as htmx asks for them.
	toggle := od.page.doc(t).Find(`nav.folder-tree button.tree-toggle`).First()
	if sub := b.get(toggle.AttrOr("hx-get", ""), "HX-Request: true"); sub.StatusCode != http.StatusOK || strings.Contains(sub.body, "<html") {
		t.Errorf("subfolders: %d %s", sub.StatusCode, sub.body)
	}
	budget := od.open("Documents/Budget")
	if got := texts(budget.doc(t), "nav.crumbs a, nav.crumbs [aria-current]"); !slices.Equal(got, []string{"OneDrive", "Documents", "Budget"}) {
		t.Errorf("crumbs = %v", got)
	}
	q3 := findDoc(t, budget, "Q3 budget.xlsx")
	if q3.size != "242 KB" || q3.by != "Megan Bowen" || q3.when == "" {
		t.Errorf("the row: %+v", q3)
	}
	// The details, as a page and as the htmx pane: every earlier version.
	full, pane := b.get(q3.href), b.get(q3.href, "HX-Request: true")
	for _, r := range []response{full, pane} {
		if r.StatusCode != http.StatusOK {
			t.Fatalf("details: %d %s", r.StatusCode, r.body)
		}
		versions := texts(r.doc(t), "table.versions tbody td[data-label=Version]")
		if len(versions) != 2 || !strings.HasPrefix(versions[0], "Version 2") || !strings.HasPrefix(versions[1], "Version 1") {
			t.Errorf("versions: %v", versions)
		}
	}
	if strings.Contains(pane.body, "<html") {
		t.Error("the htmx pane is a whole page")
	}
	// A folder's second page, and the list alone for htmx.
	docsPage := od.open("Documents")
	if rows := docRowsOf(t, docsPage); len(rows) == 0 || rows[0].href == "" || !strings.Contains(rows[0].href, "/n/") {
		t.Errorf("folders do not come first: %+v", rows)
	}
	list := b.get(docsPage.Request.URL.Path, "HX-Request: true", "HX-Target: doc-list")
	if list.StatusCode != http.StatusOK || strings.Contains(list.body, "<html") || len(docRowsOf(t, list)) == 0 {
		t.Errorf("the list for htmx: %d", list.StatusCode)
	}
	for _, bad := range []string{"/n/nope", "/n/" + strings.Repeat("A", 40), "/d/root", "/d/%2e%2e"} {
		if r := b.get(od.base + bad); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", bad, r.StatusCode)
		}
	}
}

func TestBrowseSharePointSite(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	sid, _ := b.explore("sharepoint")
	site := b.openDocs(sid, "Sales and Marketing")
	got := texts(site.page.doc(t), "ul.containers a")
	for _, want := range []string{"Documents", "Announcements", fakeveeam.StoryVisitsList} {
		if !slices.Contains(got, want) {
			t.Errorf("the site has no %s: %v", want, got)
		}
	}
	lib := site.open("Documents/Campaigns/2026 spring")
	if got := texts(lib.doc(t), "nav.crumbs a, nav.crumbs [aria-current]"); !slices.Equal(got, []string{"Documents", "Campaigns", "2026 spring"}) {
		t.Errorf("crumbs = %v", got)
	}
	visits := site.open(fakeveeam.StoryVisitsList)
	if h := visits.doc(t).Find("table.doc-items th").Text(); !strings.Contains(h, "Title") || strings.Contains(h, "Size") {
		t.Errorf("a list's columns: %q", h)
	}
	var item docRow
	for _, r := range docRowsOf(t, visits) {
		if strings.Contains(r.href, "/d/") {
			item = r
		}
	}
	if item.href == "" {
		t.Fatalf("the list shows no item: %+v", docRowsOf(t, visits))
	}
	d := b.get(item.href).doc(t)
	if facts := d.Find("dl.facts").Text(); !strings.Contains(facts, "Title") || !strings.Contains(facts, "Version") {
		t.Errorf("an item's details: %s", facts)
	}
}

// TestRestoreEarlierVersionKeepBoth: Megan brings back the version of her
// spreadsheet from before she overwrote it, beside the current one.
func TestRestoreEarlierVersionKeepBoth(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(megan)
	sid, _ := b.explore("onedrive")
	od := b.openDocs(sid, "Megan Bowen")
	q3 := findDoc(t, od.open("Documents/Budget"), "Q3 budget.xlsx")
	detail := b.get(q3.href).doc(t)
	version := ""
	detail.Find("table.versions tbody tr").Each(func(_ int, r *goquery.Selection) {
		if strings.Contains(r.Find("td").First().Text(), "Version 2") {
			version = r.Find(`input[name="version"]`).First().AttrOr("value", "")
		}
	})
	if version != "2" {
		t.Fatalf("no version 2 to restore:\n%s", detail.Find("table.versions").Text())
	}
	sel := url.Values{"scope": {"selected"}, "item": {q3.key}, "version": {version}}
	wizard := b.openWizard(od.base, sel)
	w := wizard.doc(t)
	if note := w.Find(".note").Text(); !strings.Contains(note, "Version 2") {
		t.Errorf("the wizard does not say which version: %q", note)
	}
	if w.Find("#a-keep[checked]").Length() != 1 || w.Find("#v-last[checked]").Length() != 1 {
		t.Error("the defaults are not keep both and the chosen version")
	}
	r := od.restore(sel, url.Values{"action": {"keep"}, "versions": {"last"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/restores/") {
		t.Fatalf("restore: %d %s", r.StatusCode, r.body)
	}
	done := b.waitRestore(r.Header.Get("Location"))
	if status := done.doc(t).Find(".status").Text(); !strings.Contains(status, "Finished") {
		t.Errorf("status = %q\n%s", status, done.body)
	}
	prod := s.veeam.ProductionDocs(oneDriveOf(megan))
	orig, ok1 := productionDoc(prod, fakeveeam.StoryOverwrittenDoc)
	copy, ok2 := productionDoc(prod, "Documents/Budget/Q3 budget (restored).xlsx")
	if !ok1 || !ok2 {
		t.Fatalf("production has not both files: %v %v", ok1, ok2)
	}
	if orig.Version != fakeveeam.VersionKey(fakeveeam.StoryOverwrittenDoc, 4) || copy.Version != fakeveeam.VersionKey(fakeveeam.StoryOverwrittenDoc, 2) || !copy.Restored {
		t.Errorf("production: original %+v, copy %+v", orig, copy)
	}
	if facts := done.doc(t).Find("dl").Text(); !strings.Contains(facts, "Keep both when changed") {
		t.Errorf("the restore's page does not show the options: %s", facts)
	}
	if list := b.get("/restores").doc(t).Find("table.items tbody").Text(); !strings.Contains(list, "OneDrive: Megan Bowen") {
		t.Errorf("My restores: %s", list)
	}
}

// TestRestoreOverwriteFromAnOlderPoint restores the whole document as a
// restore point of last week held it, replacing the current one.
func TestRestoreOverwriteFromAnOlderPoint(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(megan)
	sid := b.exploreDaysAgo("onedrive", 6)
	od := b.openDocs(sid, "Megan Bowen")
	q3 := findDoc(t, od.open("Documents/Budget"), "Q3 budget.xlsx")
	if q3.size != "242 KB" {
		t.Errorf("last week's size = %q", q3.size)
	}
	r := od.restore(url.Values{"scope": {"selected"}, "item": {q3.key}}, url.Values{"action": {"overwrite"}})
	b.waitRestore(r.Header.Get("Location"))
	prod := s.veeam.ProductionDocs(oneDriveOf(megan))
	orig, _ := productionDoc(prod, fakeveeam.StoryOverwrittenDoc)
	if orig.Version != fakeveeam.VersionKey(fakeveeam.StoryOverwrittenDoc, 3) || orig.Versions != 5 {
		t.Errorf("after overwrite: %+v", orig)
	}
	if _, ok := productionDoc(prod, "Documents/Budget/Q3 budget (restored).xlsx"); ok {
		t.Error("overwrite kept a copy")
	}
}

// TestRestoreDeletedFolder brings back a folder deleted three days ago, with everything in it.
func TestRestoreDeletedFolder(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	if _, ok := productionDoc(s.veeam.ProductionDocs(oneDriveOf(adele)), fakeveeam.StoryDeletedFolder); ok {
		t.Fatal("the folder is in production before the restore")
	}
	sid := b.exploreDaysAgo("onedrive", 5)
	od := b.openDocs(sid, "Adele Vance")
	folder := findDoc(t, od.open("Documents"), path.Base(fakeveeam.StoryDeletedFolder))
	wizard := b.openWizard(od.base, url.Values{"scope": {"selected"}, "item": {folder.key}})
	if p := wizard.doc(t).Find("ul.preview").Text(); !strings.Contains(p, "Onboarding 2026 (folder)") {
		t.Errorf("preview: %q", p)
	}
	r := od.restore(url.Values{"scope": {"selected"}, "item": {folder.key}}, url.Values{"action": {"keep"}})
	done := b.waitRestore(r.Header.Get("Location"))
	if status := done.doc(t).Find(".status").Text(); !strings.Contains(status, "Finished") {
		t.Errorf("status = %q", status)
	}
	prod := s.veeam.ProductionDocs(oneDriveOf(adele))
	var back []string
	for _, d := range prod {
		if strings.HasPrefix(d.Path, fakeveeam.StoryDeletedFolder+"/") && !d.Folder {
			back = append(back, strings.TrimPrefix(d.Path, fakeveeam.StoryDeletedFolder+"/"))
		}
	}
	want := []string{"Buddy programme.pptx", "First week schedule.docx", "Forms/Equipment request.xlsx", "Forms/Expense claim form.docx",
		"IT checklist.xlsx", "Office map.png", "Welcome pack.pdf"}
	if !slices.Equal(back, want) {
		t.Errorf("restored %v, want %v", back, want)
	}
}

// TestRestoreDeletedListItemWithAttachments: Lee brings back a deleted
// customer visit with its attachments, and must say why (a site is shared data).
func TestRestoreDeletedListItemWithAttachments(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_RESTORE_REASON": "others"}})
	b := s.signedIn(lee)
	siteID := salesSite
	if got := listTitles(s.veeam.ProductionList(siteID, fakeveeam.StoryVisitsList)); slices.Contains(got, fakeveeam.StoryDeletedListItem) {
		t.Fatalf("the item is in production before the restore: %v", got)
	}
	sid := b.exploreDaysAgo("sharepoint", 4)
	site := b.openDocs(sid, "Sales and Marketing")
	item := findDoc(t, site.open(fakeveeam.StoryVisitsList), fakeveeam.StoryDeletedListItem)
	d := b.get(item.href).doc(t)
	if a := d.Find("ul.attachments").Text(); !strings.Contains(a, "Fabrikam visit notes.docx") || !strings.Contains(a, "Whiteboard photo.jpg") {
		t.Errorf("attachments: %q", a)
	}
	sel := url.Values{"scope": {"selected"}, "item": {item.key}}
	// Without a reason, the wizard comes back with the choices kept.
	r := site.restore(sel, url.Values{"target": {"original"}, "missing": {"1"}, "last": {"overwrite"}, "permissions": {"1"}})
	back := b.refusedWizard(r)
	if !strings.Contains(back.doc(t).Find("#reason-error").Text(), "reason is required") {
		t.Fatalf("no reason: %s", back.doc(t).Find("main").Text())
	}
	w := back.doc(t)
	if w.Find("#o-missing[checked]").Length() != 1 || w.Find("#o-changed[checked]").Length() != 0 || w.Find("#l-over[checked]").Length() != 1 {
		t.Error("the wizard lost the choices")
	}
	r = site.restore(sel, url.Values{"target": {"original"}, "missing": {"1"}, "changed": {"1"}, "permissions": {"1"},
		"reason": {"Deleted by mistake, ticket 4711"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore: %d %s", r.StatusCode, r.body)
	}
	done := b.waitRestore(r.Header.Get("Location"))
	if status := done.doc(t).Find(".status").Text(); !strings.Contains(status, "Finished") {
		t.Errorf("status = %q", status)
	}
	got := s.veeam.ProductionList(siteID, fakeveeam.StoryVisitsList)
	i := slices.IndexFunc(got, func(d fakeveeam.ProductionDoc) bool { return d.Title == fakeveeam.StoryDeletedListItem })
	if i < 0 || !got[i].Restored || !slices.Equal(got[i].Attachments, []string{"Fabrikam visit notes.docx", "Whiteboard photo.jpg"}) {
		t.Errorf("production after the restore: %v", got)
	}
	if facts := done.doc(t).Find("dl").Text(); !strings.Contains(facts, "Deleted by mistake, ticket 4711") {
		t.Errorf("the restore's page lacks the reason: %s", facts)
	}
	told := false
	for _, rs := range s.veeam.RestoreSessions(demotenant.ID("user", lee)) {
		told = told || (rs.Restore && rs.Reason == "Deleted by mistake, ticket 4711")
	}
	if !told {
		t.Errorf("VB365 was not told the reason: %+v", s.veeam.RestoreSessions(demotenant.ID("user", lee)))
	}
}

func listTitles(docs []fakeveeam.ProductionDoc) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.Title)
	}
	return out
}

// TestRestoreToAnotherList restores a library's documents into a new library.
func TestRestoreToAnotherList(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	sid, _ := b.explore("sharepoint")
	site := b.openDocs(sid, "Sales and Marketing")
	rows := docRowsOf(t, site.open("Documents/Templates"))
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.key)
	}
	sel := url.Values{"scope": {"selected"}, "item": keys}
	if back := b.refusedWizard(site.restore(sel, url.Values{"target": {"list"}, "list_name": {" "}})); !strings.Contains(back.doc(t).Find("#list-name-error").Text(), "Give the new library or list a name") {
		t.Errorf("no list name: %s", back.doc(t).Find("main").Text())
	}
	r := site.restore(sel, url.Values{"target": {"list"}, "list_name": {"Templates restored"}})
	b.waitRestore(r.Header.Get("Location"))
	got := s.veeam.ProductionList(salesSite, "Templates restored")
	if len(got) < len(rows) {
		t.Errorf("the new library holds %d documents, want %d", len(got), len(rows))
	}
}

func TestDocSearch(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(megan)
	sid, _ := b.explore("onedrive")
	od := b.openDocs(sid, "Megan Bowen")
	search := func(q url.Values) response { return b.get(od.base + "/search?" + q.Encode()) }
	hit := search(url.Values{"q": {"Q3 budget"}})
	x := findDoc(t, hit, "Q3 budget.xlsx")
	if loc := hit.doc(t).Find("span.location").First().Text(); !strings.Contains(loc, "Budget") {
		t.Errorf("the result does not say where it is: %q", loc)
	}
	// Dates are days of the user's zone: a zone where the change's day is
	// not its UTC day.
	changed, err := time.Parse(time.RFC3339, x.when)
	if err != nil {
		t.Fatal(err)
	}
	zone := "Pacific/Kiritimati"
	if changed.UTC().Hour() < 11 {
		zone = "Pacific/Pago_Pago"
	}
	loc, _ := time.LoadLocation(zone)
	b.post("/preferences/timezone", url.Values{"tz": {zone}})
	local, utc := changed.In(loc).Format("2006-01-02"), changed.UTC().Format("2006-01-02")
	findDoc(t, search(url.Values{"name": {"Q3 budget"}, "after": {local}, "before": {local}}), "Q3 budget.xlsx")
	for _, r := range docRowsOf(t, search(url.Values{"name": {"Q3 budget"}, "after": {utc}, "before": {utc}})) {
		if r.name == "Q3 budget.xlsx" {
			t.Errorf("a search of %s in %s found a document changed on %s there", utc, zone, local)
		}
	}
	// File type and author; folders only.
	for _, r := range docRowsOf(t, search(url.Values{"ext": {"xlsx"}, "person": {"Megan"}})) {
		if !strings.HasSuffix(r.name, ".xlsx") {
			t.Errorf("a search for xlsx found %q", r.name)
		}
	}
	folders := docRowsOf(t, search(url.Values{"q": {"Onboarding"}, "type": {"Folders"}}))
	for _, r := range folders {
		if !strings.Contains(r.href, "/n/") {
			t.Errorf("a folders-only search found %q", r.name)
		}
	}
	// Only in the open folder.
	budget := od.open("Documents/Budget")
	in := budget.doc(t).Find(`form.search-form input[name="in"]`).AttrOr("value", "")
	if in == "" {
		t.Fatal("the folder's search form cannot search only the folder")
	}
	for _, r := range docRowsOf(t, search(url.Values{"q": {"xlsx"}, "in": {in}})) {
		if r.name == "" || !strings.Contains(r.href, "/d/") {
			t.Errorf("in the folder: %+v", r)
		}
	}
	for _, c := range []struct {
		q    url.Values
		want string
	}{
		{url.Values{"q": {" "}}, "Type words to look for"},
		{url.Values{"q": {"x"}, "after": {"2026-02-30"}}, "not valid"},
		{url.Values{"advanced": {"filename:(report"}}, "did not accept this search"},
		{url.Values{"q": {"x"}, "type": {"Everything"}}, "Choose what to look for"},
		{url.Values{"q": {"x"}, "in": {"bm9wZQ"}}, "folder"},
	} {
		r := search(c.q)
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, c.want) || r.doc(t).Find("form.search-form").Length() != 1 {
			t.Errorf("%v: %d, want 400 with %q and the form:\n%s", c.q, r.StatusCode, c.want, r.doc(t).Find("main").Text())
		}
	}
}

func TestSharePointSearchInAList(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(lee)
	sid := b.exploreDaysAgo("sharepoint", 4)
	site := b.openDocs(sid, "Sales and Marketing")
	visits := site.open(fakeveeam.StoryVisitsList)
	in := visits.doc(t).Find(`form.search-form input[name="in"]`).AttrOr("value", "")
	r := b.get(site.base + "/search?" + url.Values{"q": {"Fabrikam"}, "in": {in}, "type": {"Items"}}.Encode())
	findDoc(t, r, fakeveeam.StoryDeletedListItem)
}

func TestLargeLibraryPagesToTheEnd(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{LargeLibrarySite: "Sales Proposals", LargeLibraryDocs: 2_345}})
	b := s.signedIn(lee)
	sid, _ := b.explore("sharepoint")
	site := b.openDocs(sid, "Sales Proposals")
	s.veeam.ResetRequests()
	first := site.open(fakeveeam.LargeLibraryName)
	if n := len(docRowsOf(t, first)); n != 100 {
		t.Errorf("the first page has %d rows", n)
	}
	last := first.doc(t).Find(`nav.pager a`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), "Last page")
	}).AttrOr("href", "")
	if last == "" {
		t.Fatalf("no last page link:\n%s", first.doc(t).Find("nav.pager").Text())
	}
	end := b.get(last)
	if pages, probes := listCalls(s, "/documents", lastPageCall(s).Get("parentId")); pages != 2 || probes > 10 {
		t.Errorf("the first page and the last: %d calls for pages, %d probes for the end (one search is 10)", pages, probes)
	}
	rows := docRowsOf(t, end)
	if len(rows) == 0 || rows[len(rows)-1].name != "Proposal 002345.docx" {
		t.Errorf("the last page ends with %v", rows)
	}
	if summary := end.doc(t).Find("nav.pager").Text(); !strings.Contains(summary, "2,345") {
		t.Errorf("pager: %q", summary)
	}
}

func TestDocDownloadsStreamIntact(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(megan)
	sid, _ := b.explore("onedrive")
	od := b.openDocs(sid, "Megan Bowen")
	check := func(r response, kind, ctype, name string, size int64) {
		t.Helper()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", name, r.StatusCode, r.body)
		}
		if got := r.Header.Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q", name, got)
		}
		cd := r.Header.Get("Content-Disposition")
		if m := filenameStar.FindStringSubmatch(cd); m == nil {
			t.Errorf("%s: Content-Disposition %q", name, cd)
		} else if got, _ := url.PathUnescape(m[1]); got != name {
			t.Errorf("file name %q, want %q", got, name)
		}
		downloads := s.veeam.Downloads()
		last := downloads[len(downloads)-1]
		sum := sha256.Sum256([]byte(r.body))
		if last.Kind != kind || hex.EncodeToString(sum[:]) != last.SHA256 || int64(len(r.body)) != last.Size || (size > 0 && last.Size != size) {
			t.Errorf("%s: got %d bytes %x, VB365 sent %+v", name, len(r.body), sum[:4], last)
		}
	}
	budget := od.open("Documents/Budget")
	q3 := findDoc(t, budget, "Q3 budget.xlsx")
	check(b.post(q3.href+"/download", nil), "file", "application/octet-stream", "Q3 budget.xlsx", 241_907)
	check(b.post(q3.href+"/download", url.Values{"version": {"1"}}), "file", "application/octet-stream", "Q3 budget (version 1).xlsx", 182_340)
	rows := docRowsOf(t, budget)
	check(b.post(od.base+"/download", url.Values{"item": {rows[0].key, rows[1].key}}), "zip", "application/zip", "Megan Bowen - 2 items.zip", 0)
	folderForm := budget.doc(t).Find(`form[action$="/download"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.AttrOr("action", ""), "/n/")
	}).AttrOr("action", "")
	check(b.post(folderForm, nil), "zip", "application/zip", "Budget.zip", 0)
	// Downloads a user cannot mix, and bad versions.
	docsPage := od.open("Documents")
	drows := docRowsOf(t, docsPage)
	var folder, file string
	for _, r := range drows {
		if strings.Contains(r.href, "/n/") && folder == "" {
			folder = r.key
		} else if strings.Contains(r.href, "/d/") && file == "" {
			file = r.key
		}
	}
	if r := b.post(od.base+"/download", url.Values{"item": {folder, file}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("folders and documents together: %d", r.StatusCode)
	}
	if r := b.post(q3.href+"/download", url.Values{"version": {"0"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("version 0: %d", r.StatusCode)
	}
	// A list item's attachments, one and all.
	lb := s.signedIn(lee)
	site := lb.openDocs(lb.exploreDaysAgo("sharepoint", 4), "Sales and Marketing")
	item := findDoc(t, site.open(fakeveeam.StoryVisitsList), fakeveeam.StoryDeletedListItem)
	att := lb.get(item.href).doc(t).Find(`input[name="attachment"]`).First().AttrOr("value", "")
	b = lb
	check(lb.post(item.href+"/download", url.Values{"attachment": {att}}), "file", "application/octet-stream", "Fabrikam visit notes.docx", 0)
	check(lb.post(item.href+"/download", nil), "zip", "application/zip", "Fabrikam HQ visit attachments.zip", 0)
	lib := site.page.doc(t).Find(`ul.containers a`).First().AttrOr("href", "")
	libForm := lb.get(lib).doc(t).Find(`form[action$="/download"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.AttrOr("action", ""), "/n/")
	}).AttrOr("action", "")
	check(lb.post(libForm, nil), "zip", "application/zip", "Documents.zip", 0)
}

func TestDownloadsFollowTheDocActions(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{DenyDownloads: func(string) bool { return true }}})
	b := s.signedIn(megan)
	sid, _ := b.explore("onedrive")
	od := b.openDocs(sid, "Megan Bowen")
	budget := od.open("Documents/Budget")
	if budget.doc(t).Find(`form[action$="/download"], button[formaction$="/download"]`).Length() != 0 {
		t.Error("the folder offers downloads the operator may not make")
	}
	q3 := findDoc(t, budget, "Q3 budget.xlsx")
	if b.get(q3.href).doc(t).Find(`form[action$="/download"]`).Length() != 0 {
		t.Error("the document offers downloads")
	}
	if r := b.post(q3.href+"/download", nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("a refused download: %d", r.StatusCode)
	}
	if len(s.veeam.Downloads()) != 0 {
		t.Error("VB365 sent a file")
	}
}

// TestOtherOneDrivesAndSitesAreNotFound: keys from outside the user's scope
// or another session lead nowhere, and a helpdesk restore of someone else's
// OneDrive is marked as such.
func TestOtherOneDrivesAndSitesAreNotFound(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	lb := s.signedIn(lee)
	lsid, _ := lb.explore("onedrive")
	other := lb.openDocs(lsid, "Megan Bowen")
	if other.page.doc(t).Find(".badge").Length() != 1 {
		t.Error("Megan's OneDrive is not marked as someone else's for Lee")
	}
	spSid, _ := lb.explore("sharepoint")
	site := lb.openDocs(spSid, "Sales and Marketing")

	b := s.signedIn(adele)
	sid, _ := b.explore("onedrive")
	mine := b.openDocs(sid, "Adele Vance")
	meganKey := other.base[strings.LastIndex(other.base, "/")+1:]
	siteKey := site.base[strings.LastIndex(site.base, "/")+1:]
	mySP, _ := b.explore("sharepoint")
	for _, p := range []string{
		"/sessions/" + sid + "/onedrives/" + meganKey, // not in Adele's scope
		"/sessions/" + sid + "/onedrives/" + meganKey + "/n/root",
		"/sessions/" + mySP + "/sites/" + siteKey, // Sales and Marketing: not Adele's
		other.base,                               // Lee's session
		"/sessions/" + sid + "/sites/" + siteKey, // a OneDrive session
		mine.base + "/n/" + strings.TrimPrefix(findDoc(t, other.open("Documents"), "Budget").href[strings.LastIndex(findDoc(t, other.open("Documents"), "Budget").href, "/")+1:], ""),
	} {
		if r := b.get(p); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	if r := b.openWizard(other.base, url.Values{"scope": {"selected"}, "item": {docRowsOf(t, other.open("Documents"))[0].key}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("restore in Lee's session: %d", r.StatusCode)
	}
}

func TestHostileFileNamesRenderAsText(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(megan)
	sid, _ := b.explore("onedrive")
	od := b.openDocs(sid, "Megan Bowen")
	downloads := od.open("Downloads")
	rows := docRowsOf(t, downloads)
	pages := []response{downloads}
	var keys []string
	for _, r := range rows {
		pages = append(pages, b.get(r.href), b.get(r.href, "HX-Request: true"))
		keys = append(keys, r.key)
	}
	pages = append(pages, b.get(od.base+"/search?"+url.Values{"q": {"script"}}.Encode()),
		b.openWizard(od.base, url.Values{"scope": {"selected"}, "item": keys}))
	b.post(od.base+"/restore-list", url.Values{"item": keys})
	pages = append(pages, b.get("/restore-list"))
	r := od.restore(url.Values{"scope": {"selected"}, "item": keys}, url.Values{"reason": {`"><img src=x onerror=alert(1)>`}})
	pages = append(pages, b.waitRestore(r.Header.Get("Location")), b.get("/restores"))
	text := ""
	for i, p := range pages {
		if p.StatusCode != http.StatusOK {
			t.Errorf("page %d: %d", i, p.StatusCode)
		}
		checkNoInjectedMarkup(t, i, p.body)
		text += p.doc(t).Text()
	}
	found := 0
	for _, r := range rows {
		if strings.ContainsAny(r.name, "<>\"'") {
			found++
		}
		if !strings.Contains(text, r.name) {
			t.Errorf("%q is not shown as text", r.name)
		}
	}
	if found < 3 {
		t.Errorf("only %d hostile names in Downloads", found)
	}
}

// TestDocRestoreFailuresArePerDocument: one document of a folder fails
// upstream; the rest come back and the page says which did not.
func TestDocRestoreFailuresArePerDocument(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(adele)
	s.veeam.FailRestoreOf("Welcome pack")
	sid := b.exploreDaysAgo("onedrive", 5)
	od := b.openDocs(sid, "Adele Vance")
	folder := findDoc(t, od.open("Documents"), path.Base(fakeveeam.StoryDeletedFolder))
	r := od.restore(url.Values{"scope": {"selected"}, "item": {folder.key}}, url.Values{"action": {"keep"}})
	d := b.waitRestore(r.Header.Get("Location")).doc(t)
	if st := d.Find(".status").Text(); !strings.Contains(st, "some items were not restored") {
		t.Errorf("status = %q", st)
	}
	body := strings.Join(strings.Fields(d.Find("#restore-progress").Text()), " ")
	for _, want := range []string{"1 failed", "Welcome pack.pdf", "over its storage quota"} {
		if !strings.Contains(body, want) {
			t.Errorf("the results lack %q: %s", want, body)
		}
	}
	prod := s.veeam.ProductionDocs(oneDriveOf(adele))
	if _, ok := productionDoc(prod, fakeveeam.StoryDeletedFolder+"/Welcome pack.pdf"); ok {
		t.Error("the failed document was restored")
	}
	if _, ok := productionDoc(prod, fakeveeam.StoryDeletedFolder+"/IT checklist.xlsx"); !ok {
		t.Error("the others were not restored")
	}
}

// TestRestoreEverythingHereAndAllResults restores a whole folder from its
// page and every result of a search, as the lists' second buttons do.
func TestRestoreEverythingHereAndAllResults(t *testing.T) {
	t.Parallel()
	s := startStack(t, quick)
	b := s.signedIn(megan)
	sid, _ := b.explore("onedrive")
	od := b.openDocs(sid, "Megan Bowen")
	hidden := func(r response) url.Values {
		form := url.Values{"scope": {"all"}}
		r.doc(t).Find(`form.item-form input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
			if name := s.AttrOr("name", ""); name != "csrf_token" {
				form.Add(name, s.AttrOr("value", ""))
			}
		})
		return form
	}
	budget := od.open("Documents/Budget")
	all := hidden(budget)
	if all.Get("all_node") == "" {
		t.Fatalf("the folder's list cannot restore everything: %v", all)
	}
	wizard := b.openWizard(od.base, all)
	if p := wizard.doc(t).Find("ul.preview").Text(); !strings.Contains(p, "Budget (folder)") {
		t.Errorf("everything in Budget: %q", p)
	}
	results := b.get(od.base + "/search?" + url.Values{"name": {"budget"}, "type": {"Documents"}}.Encode())
	sel := hidden(results)
	if sel.Get("all_search") != "1" || sel.Get("s_name") != "budget" {
		t.Fatalf("the results cannot be restored at once: %v", sel)
	}
	wizard = b.openWizard(od.base, sel)
	if got, want := wizard.doc(t).Find("ul.preview li").Length(), min(len(docRowsOf(t, results)), 5); got < 1 || got > want+1 {
		t.Errorf("the wizard previews %d results of %d", got, len(docRowsOf(t, results)))
	}
	r := od.restore(sel, url.Values{"action": {"keep"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore all results: %d %s", r.StatusCode, r.body)
	}
	b.waitRestore(r.Header.Get("Location"))
	if _, ok := productionDoc(s.veeam.ProductionDocs(oneDriveOf(megan)), "Documents/Budget/Q3 budget (restored).xlsx"); !ok {
		t.Error("the search's results were not restored")
	}
	// A search that no longer parses is refused, and nothing starts.
	bad := url.Values{"scope": {"all"}, "all_search": {"1"}, "s_after": {"2026-13-01"}, "s_q": {"x"}}
	if r := b.openWizard(od.base, bad); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad search: %d", r.StatusCode)
	}
}
