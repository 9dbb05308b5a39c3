package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

// inList finds a link of the document list by its exact name.
func (tb *tab) inList(name string) playwright.Locator {
	return tb.page.Locator("table.doc-items").GetByRole(*playwright.AriaRoleLink, playwright.LocatorGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
}

// inTree finds a link of the folder tree by its exact name.
func (tb *tab) inTree(name string) playwright.Locator {
	return tb.page.Locator("nav.folder-tree").GetByRole(*playwright.AriaRoleLink, playwright.LocatorGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
}

// openFolders opens a path of folders: the first from the tree, the rest from the list.
func (tb *tab) openFolders(p string) {
	tb.t.Helper()
	parts := strings.Split(p, "/")
	if err := tb.inTree(parts[0]).Click(); err != nil {
		tb.t.Fatalf("open %s: %v", parts[0], err)
	}
	tb.see(tb.page.Locator("#list-heading"), parts[0])
	for _, name := range parts[1:] {
		if err := tb.inList(name).Click(); err != nil {
			tb.t.Fatalf("open %s: %v", name, err)
		}
		tb.see(tb.page.Locator("#list-heading"), name)
	}
}

// openPointOfDay opens the latest restore point of the workload taken on
// day (in the tab's zone) or, when that day has none, on the closest day before.
func (tb *tab) openPointOfDay(workload string, day time.Time) {
	tb.t.Helper()
	for i := range 5 {
		tb.open("/?workload=" + workload + "&day=" + day.AddDate(0, 0, -i).Format("2006-01-02"))
		buttons := tb.page.Locator(".point-list button")
		if n, _ := buttons.Count(); n > 0 {
			if err := buttons.Last().Click(); err != nil {
				tb.t.Fatal(err)
			}
			tb.waitForURL(`/sessions/[0-9a-f-]{36}$`)
			return
		}
	}
	tb.t.Fatalf("no %s restore point in the five days up to %s", workload, day.Format("2006-01-02"))
}

// lastTuesday is the Tuesday before today, in the browser's zone.
func (tb *tab) lastTuesday() time.Time {
	now := tb.daysAgo(0)
	back := (int(now.Weekday()) - int(time.Tuesday) + 7) % 7
	if back == 0 {
		back = 7
	}
	return now.AddDate(0, 0, -back)
}

func productionPaths(docs []fakeveeam.ProductionDoc) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.Path)
	}
	return out
}

// Megan overwrote her Q3 budget this morning. She opens last Tuesday's
// restore point, finds the spreadsheet as it was then, and restores it with
// "keep both": her OneDrive holds her current file and the restored one.
func TestMeganRestoresLastTuesdaysBudgetKeepingBoth(t *testing.T) {
	const zone = "Europe/Berlin"
	oneDrive := fakeveeam.OneDriveID(demotenant.ID("user", "MeganB@contoso.onmicrosoft.com"))
	tb := startSignedIn(t, "Megan Bowen", zone)
	p := tb.page
	if err := p.SetViewportSize(1520, 1000); err != nil {
		t.Fatal(err)
	}
	tb.openPointOfDay("onedrive", tb.lastTuesday())
	tb.clickExact(playwright.AriaRoleLink, "Megan Bowen")
	tb.waitForURL(`/onedrives/[A-Za-z0-9_-]+/n/root$`)
	tb.see(p.Locator("h1"), "Megan Bowen")
	tb.audit()
	tb.openFolders("Documents/Budget")
	tb.see(p.Locator("nav.crumbs"), "Documents")
	row := p.Locator("table.doc-items tr", playwright.PageLocatorOptions{HasText: "Q3 budget.xlsx"})
	tb.see(row, "242 KB")
	tb.audit()

	tb.markPage()
	if err := tb.inList("Q3 budget.xlsx").Click(); err != nil {
		t.Fatal(err)
	}
	detail := p.Locator("#doc-detail")
	tb.see(detail.Locator("dl.facts"), "Megan Bowen")
	tb.see(detail.Locator("table.versions"), "Version 1.0")
	tb.stayedOnPage("a document's link")
	if err := expect.Locator(p.Locator("#detail-heading")).ToBeFocused(); err != nil {
		t.Errorf("focus did not move to the details: %v", err)
	}
	tb.audit()
	tb.screenshot("onedrive-versions")

	if err := detail.GetByRole(*playwright.AriaRoleButton, playwright.LocatorGetByRoleOptions{Name: "Restore…", Exact: playwright.Bool(true)}).Click(); err != nil {
		t.Fatal(err)
	}
	tb.waitForURL(`/restore/[0-9a-f-]{36}$`)
	tb.see(p.Locator("h1"), "Restore 1 item")
	tb.see(p.Locator("ul.preview"), "Q3 budget.xlsx")
	for _, label := range []string{`Keep both: restore it beside the current one, with "(restored)" in its name`, "Only the version chosen"} {
		if err := expect.Locator(p.GetByLabel(label)).ToBeChecked(); err != nil {
			t.Errorf("%q is not chosen by default: %v", label, err)
		}
	}
	tb.audit()
	tb.screenshot("onedrive-restore-wizard")
	tb.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	tb.waitForURL(`/restores/[0-9a-f-]{36}$`)
	tb.see(p.Locator("h1"), "Megan Bowen")
	tb.see(p.Locator("dl.facts"), "Keep both when changed")
	tb.waitFinished()
	tb.see(p.Locator("#restore-progress tbody"), "Q3 budget.xlsx")
	tb.audit()

	prod := stack.veeam.ProductionDocs(oneDrive)
	paths := productionPaths(prod)
	for _, want := range []string{fakeveeam.StoryOverwrittenDoc, "Documents/Budget/Q3 budget (restored).xlsx"} {
		if !slices.Contains(paths, want) {
			t.Errorf("her OneDrive has no %s: %v", want, paths)
		}
	}
	for _, d := range prod {
		switch d.Path {
		case fakeveeam.StoryOverwrittenDoc:
			if d.Version != fakeveeam.VersionKey(fakeveeam.StoryOverwrittenDoc, 4) {
				t.Errorf("the current file changed: %+v", d)
			}
		case "Documents/Budget/Q3 budget (restored).xlsx":
			if d.Version != fakeveeam.VersionKey(fakeveeam.StoryOverwrittenDoc, 3) {
				t.Errorf("the restored file is not Tuesday's version: %+v", d)
			}
		}
	}
}

// Diego deleted the Onboarding 2026 folder three days ago. On his phone he
// opens a restore point from before, restores the folder, and it is back with
// everything in it. He signs out when done.
func TestDiegoRestoresADeletedFolder(t *testing.T) {
	const zone = "Europe/London"
	oneDrive := fakeveeam.OneDriveID(demotenant.ID("user", "DiegoS@contoso.onmicrosoft.com"))
	tb := startSignedIn(t, "Diego Siciliani", zone)
	p := tb.page
	if err := p.SetViewportSize(390, 844); err != nil {
		t.Fatal(err)
	}
	tb.openPointOfDay("onedrive", tb.daysAgo(5))
	tb.clickExact(playwright.AriaRoleLink, "Diego Siciliani")
	tb.waitForURL(`/n/root$`)
	tb.openFolders("Documents/" + path.Base(fakeveeam.StoryDeletedFolder))
	tb.see(p.Locator("table.doc-items"), "Welcome pack.pdf")
	tb.noSidewaysScroll("a folder")
	tb.audit()

	// Up one level, tick the folder and restore it.
	if err := p.Locator("nav.crumbs").GetByRole(*playwright.AriaRoleLink, playwright.LocatorGetByRoleOptions{Name: "Documents", Exact: playwright.Bool(true)}).Click(); err != nil {
		t.Fatal(err)
	}
	tb.see(p.Locator("#list-heading"), "Documents")
	if err := p.GetByLabel("Select "+path.Base(fakeveeam.StoryDeletedFolder), playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}).Check(); err != nil {
		t.Fatal(err)
	}
	tb.clickExact(playwright.AriaRoleButton, "Restore selected…")
	tb.waitForURL(`/restore/[0-9a-f-]{36}$`)
	tb.see(p.Locator("ul.preview"), "Onboarding 2026 (folder)")
	tb.noSidewaysScroll("the restore wizard")
	tb.audit()
	tb.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	tb.waitForURL(`/restores/[0-9a-f-]{36}$`)
	tb.waitFinished()
	tb.noSidewaysScroll("the restore's progress")
	tb.audit()

	var back []string
	for _, d := range stack.veeam.ProductionDocs(oneDrive) {
		if strings.HasPrefix(d.Path, fakeveeam.StoryDeletedFolder+"/") && !d.Folder {
			back = append(back, strings.TrimPrefix(d.Path, fakeveeam.StoryDeletedFolder+"/"))
		}
	}
	want := []string{"Buddy programme.pptx", "First week schedule.docx", "Forms/Equipment request.xlsx", "Forms/Expense claim form.docx",
		"IT checklist.xlsx", "Office map.png", "Welcome pack.pdf"}
	if !slices.Equal(back, want) {
		t.Errorf("his OneDrive got back %v, want %v", back, want)
	}
	tb.click(playwright.AriaRoleButton, "Sign out")
	tb.waitForURL(`/signed-out$`)
}

// Lee Gu, for the sales team, restores a customer visit someone deleted from
// the Sales and Marketing site's list, with its attachments; a site is
// everyone's data, so he gives a reason.
func TestLeeRestoresADeletedListItemWithItsAttachment(t *testing.T) {
	const zone = "America/New_York"
	site := demotenant.ID("site", "https://contoso.sharepoint.com/sites/SalesAndMarketing")
	tb := startSignedIn(t, "Lee Gu", zone)
	p := tb.page
	if err := p.SetViewportSize(1520, 1000); err != nil {
		t.Fatal(err)
	}
	tb.openPointOfDay("sharepoint", tb.daysAgo(4))
	tb.clickExact(playwright.AriaRoleLink, "Sales and Marketing")
	tb.waitForURL(`/sites/[A-Za-z0-9_-]+$`)
	tb.see(p.Locator("ul.containers"), fakeveeam.StoryVisitsList)
	tb.audit()
	if err := p.Locator("ul.containers").GetByRole(*playwright.AriaRoleLink, playwright.LocatorGetByRoleOptions{Name: fakeveeam.StoryVisitsList, Exact: playwright.Bool(true)}).Click(); err != nil {
		t.Fatal(err)
	}
	tb.see(p.Locator("#list-heading"), fakeveeam.StoryVisitsList)
	if err := tb.inList(fakeveeam.StoryDeletedListItem).Click(); err != nil {
		t.Fatal(err)
	}
	detail := p.Locator("#doc-detail")
	tb.see(detail.Locator("ul.attachments"), "Fabrikam visit notes.docx")
	tb.see(detail.Locator("ul.attachments"), "Whiteboard photo.jpg")
	tb.audit()
	d, err := p.ExpectDownload(func() error {
		return tb.exact(playwright.AriaRoleButton, "Download the attachments (.zip)").Click()
	})
	if err != nil || d.SuggestedFilename() != fakeveeam.StoryDeletedListItem+" attachments.zip" {
		t.Errorf("the attachments' download: %v", err)
	}
	tb.screenshot("sharepoint-list-item")
	if err := detail.GetByRole(*playwright.AriaRoleButton, playwright.LocatorGetByRoleOptions{Name: "Restore…", Exact: playwright.Bool(true)}).Click(); err != nil {
		t.Fatal(err)
	}
	tb.waitForURL(`/restore/[0-9a-f-]{36}$`)
	tb.see(p.Locator(`label[for="reason"]`), "(required)")
	for _, label := range []string{"Back where they were", "Restore missing items (deleted since the restore point)", "Restore permissions"} {
		if err := expect.Locator(p.GetByLabel(label)).ToBeChecked(); err != nil {
			t.Errorf("%q is not chosen by default: %v", label, err)
		}
	}
	tb.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	if strings.Contains(p.URL(), "/restores/") {
		t.Fatal("the restore started without a reason")
	}
	const reason = "INC-3141: Fabrikam visit deleted by mistake"
	if err := p.GetByLabel("Reason (required)").Fill(reason); err != nil {
		t.Fatal(err)
	}
	tb.audit()
	tb.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	tb.waitForURL(`/restores/[0-9a-f-]{36}$`)
	tb.see(p.Locator("dl.facts"), reason)
	tb.waitFinished()
	tb.audit()

	var got *fakeveeam.ProductionDoc
	list := stack.veeam.ProductionList(site, fakeveeam.StoryVisitsList)
	for i := range list {
		if list[i].Title == fakeveeam.StoryDeletedListItem {
			got = &list[i]
		}
	}
	if got == nil || !got.Restored || !slices.Contains(got.Attachments, "Fabrikam visit notes.docx") {
		t.Errorf("the list after the restore: %+v", got)
	}
}

// A 200 MiB recording arrives in the browser byte for byte.
func TestLargeDocumentDownloadArrivesIntact(t *testing.T) {
	tb := startSignedIn(t, "Alex Wilber", "Europe/London")
	p := tb.page
	tb.openPointOfDay("onedrive", tb.daysAgo(0))
	tb.clickExact(playwright.AriaRoleLink, "Alex Wilber")
	tb.waitForURL(`/n/root$`)
	tb.openFolders("Videos")
	if err := tb.inList(path.Base(fakeveeam.StoryLargeDoc)).Click(); err != nil {
		t.Fatal(err)
	}
	detail := p.Locator("#doc-detail")
	tb.see(detail.Locator("dl.facts"), "209.7 MB")
	d, err := p.ExpectDownload(func() error {
		return detail.Locator(".detail-actions").GetByRole(*playwright.AriaRoleButton, playwright.LocatorGetByRoleOptions{Name: "Download", Exact: playwright.Bool(true)}).Click()
	}, playwright.PageExpectDownloadOptions{Timeout: playwright.Float(60000)})
	if err != nil {
		t.Fatal(err)
	}
	file, err := d.Path()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, _ := io.Copy(h, f)
	sum := hex.EncodeToString(h.Sum(nil))
	found := false
	for _, sent := range stack.veeam.Downloads() {
		found = found || (sent.SHA256 == sum && sent.Size == n && sent.Kind == "file")
	}
	if n != fakeveeam.StoryLargeDocSize || !found {
		t.Errorf("got %d bytes (%s…), not what the backup server sent", n, sum[:8])
	}
	if d.SuggestedFilename() != path.Base(fakeveeam.StoryLargeDoc) {
		t.Errorf("file name %q", d.SuggestedFilename())
	}
}

// A library of 50,000 documents pages to its very last document, by keyboard.
func TestLargeLibraryPagesToTheEnd(t *testing.T) {
	tb := startSignedIn(t, "Lee Gu", "Asia/Tokyo")
	p := tb.page
	tb.openPointOfDay("sharepoint", tb.daysAgo(0))
	tb.clickExact(playwright.AriaRoleLink, "Sales Proposals")
	tb.waitForURL(`/sites/[A-Za-z0-9_-]+$`)
	if err := tb.inTree(fakeveeam.LargeLibraryName).Click(); err != nil {
		t.Fatal(err)
	}
	tb.see(p.Locator("nav.pager"), "Items 1 to 100")
	tb.audit()
	last := tb.exact(playwright.AriaRoleLink, "Last page »")
	if err := last.Focus(); err != nil {
		t.Fatal(err)
	}
	if err := p.Keyboard().Press("Enter"); err != nil {
		t.Fatal(err)
	}
	tb.waitForURL(`offset=last`)
	tb.see(p.Locator("nav.pager"), "Items 49,901 to 50,000")
	tb.see(p.Locator("table.doc-items tbody tr").Last(), "Proposal 050000.docx")
	if err := expect.Locator(p.Locator("#doc-list")).ToBeFocused(); err != nil {
		t.Errorf("focus did not move to the new page: %v", err)
	}
	tb.audit()
}

// Backed-up file names are hostile: they show as text, no script runs, no
// dialog opens and the CSP reports nothing.
func TestHostileFileNamesShowAsText(t *testing.T) {
	tb := startSignedIn(t, "Grady Archie", "Europe/Madrid")
	p := tb.page
	dialogs := 0
	p.OnDialog(func(d playwright.Dialog) { dialogs++; d.Dismiss() })
	tb.openPointOfDay("onedrive", tb.daysAgo(0))
	tb.clickExact(playwright.AriaRoleLink, "Grady Archie")
	tb.waitForURL(`/n/root$`)
	tb.openFolders("Downloads")
	tb.see(p.Locator("table.doc-items"), `<script>alert("subject")</script>.pdf`)
	tb.audit()
	links := p.Locator(`table.doc-items td[data-label="Name"] a`)
	n, _ := links.Count()
	for i := range n {
		if err := links.Nth(i).Click(); err != nil {
			t.Fatal(err)
		}
		tb.see(p.Locator("#doc-detail dl.facts"), "Modified")
		tb.audit()
	}
	if err := p.GetByLabel("Search words").Fill("<img"); err != nil {
		t.Fatal(err)
	}
	tb.clickExact(playwright.AriaRoleButton, "Search")
	tb.waitForURL(`/search\?`)
	tb.audit()
	if dialogs != 0 {
		t.Errorf("%d dialogs opened", dialogs)
	}
}
