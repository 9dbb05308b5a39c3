package e2e

import (
	"encoding/csv"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"
)

// Isaiah downloads a message; Joni, the auditor, finds the download in the
// audit trail by his name and downloads the trail as CSV. Isaiah cannot open
// the audit page.
func TestAuditorFindsADownload(t *testing.T) {
	isaiah := startSignedIn(t, "Isaiah Langer", "Europe/London")
	p := isaiah.page
	isaiah.click(playwright.AriaRoleButton, "Open the latest")
	isaiah.waitForURL(`/sessions/`)
	isaiah.openMailbox("Isaiah Langer")
	if err := p.Locator("table.mail-items tbody tr").First().Locator("td a").First().Click(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ExpectDownload(func() error { return isaiah.exact(playwright.AriaRoleButton, "Download (.msg)").Click() }); err != nil {
		t.Fatal(err)
	}
	if n, _ := p.Locator(`nav.site-nav a[href="/audit"]`).Count(); n != 0 {
		t.Error("Isaiah is offered the audit page")
	}
	resp, err := p.Goto(stack.portalURL + "/audit")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status() != 403 {
		t.Errorf("Isaiah at /audit: %d", resp.Status())
	}
	isaiah.see(p.Locator("h1"), "Only auditors can read the audit trail")
	isaiah.audit()

	joni := startSignedIn(t, "Joni Sherman", "America/Chicago")
	q := joni.page
	joni.clickExact(playwright.AriaRoleLink, "Audit")
	joni.waitForURL(`/audit$`)
	joni.see(q.Locator("h1"), "Audit trail")
	joni.audit()
	if err := q.GetByLabel("Who (name, account or id)").Fill("Isaiah"); err != nil {
		t.Fatal(err)
	}
	joni.clickExact(playwright.AriaRoleButton, "Filter")
	joni.waitForURL(`/audit\?`)
	rows := q.Locator("table.audit-events tbody tr")
	joni.see(rows.First(), "Isaiah Langer")
	joni.see(rows.First(), "Exchange download")
	joni.see(rows.First(), "Succeeded")
	joni.audit()
	joni.screenshot("audit")
	d, err := q.ExpectDownload(func() error { return joni.exact(playwright.AriaRoleLink, "Download as CSV").Click() })
	if err != nil {
		t.Fatal(err)
	}
	path, err := d.Path()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil || len(records) < 2 {
		t.Fatalf("the CSV: %v, %d rows", err, len(records))
	}
	for _, r := range records[1:] {
		if !strings.Contains(strings.Join(r, ","), "Isaiah") {
			t.Errorf("the CSV has a row of someone else: %v", r)
		}
	}
}

// Lee Gu switches to Megan Bowen's data, puts a message and a OneDrive
// document of hers on the restore list, restores both with one submit and a
// reason under a banner that says whose data is on screen, watches both
// finish, and goes back to his own data. Joni, the auditor, finds both
// restores under Megan's name and downloads them as CSV; Adele cannot open
// the audit page.
func TestLeeRestoresForMeganFromTheRestoreList(t *testing.T) {
	lee := startSignedIn(t, "Lee Gu", "Europe/Dublin")
	p := lee.page
	lee.clickExact(playwright.AriaRoleLink, "Restore for…")
	lee.waitForURL(`/scope$`)
	lee.audit()
	if err := p.GetByLabel("Name or address").Fill("megan"); err != nil {
		t.Fatal(err)
	}
	lee.clickExact(playwright.AriaRoleButton, "Search")
	lee.waitForURL(`/scope\?q=megan`)
	lee.clickExact(playwright.AriaRoleButton, "Restore for Megan Bowen")
	lee.waitForURL(`/$`)
	lee.see(p.Locator(".acting-banner"), "Restoring for Megan Bowen")
	lee.audit()

	// A message.
	lee.click(playwright.AriaRoleButton, "Open the latest")
	lee.waitForURL(`/sessions/`)
	if got := lee.rows(); strings.Join(got, "|") != "Megan Bowen|In-Place Archive - Megan Bowen" {
		t.Errorf("the session holds %v", got)
	}
	lee.openMailbox("Megan Bowen")
	subject, _ := p.Locator(`table.mail-items tbody tr td[data-label="Subject"] a`).First().TextContent()
	if err := p.Locator(`table.mail-items tbody tr`).First().Locator(`input[type="checkbox"]`).Check(); err != nil {
		t.Fatal(err)
	}
	lee.clickExact(playwright.AriaRoleButton, "Add to restore list")
	lee.waitForURL(`/restore-list\?added=1$`)
	lee.see(p.Locator("section.list-group"), strings.TrimSpace(subject))

	// A document.
	lee.openPointOfDay("onedrive", lee.daysAgo(0))
	lee.clickExact(playwright.AriaRoleLink, "Megan Bowen")
	lee.waitForURL(`/n/root$`)
	lee.openFolders("Documents/Budget")
	if err := p.GetByLabel("Select Q3 budget.xlsx", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}).Check(); err != nil {
		t.Fatal(err)
	}
	lee.clickExact(playwright.AriaRoleButton, "Add to restore list")
	lee.waitForURL(`/restore-list\?added=1$`)
	// A Teams file.
	lee.openPointOfDay("teams", lee.daysAgo(0))
	lee.clickExact(playwright.AriaRoleLink, "Sales and Marketing")
	lee.clickExact(playwright.AriaRoleLink, "General")
	lee.clickExact(playwright.AriaRoleLink, "Files")
	lee.waitForURL(`view=files`)
	if err := p.GetByLabel("Select Read me.txt", playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}).Check(); err != nil {
		t.Fatal(err)
	}
	lee.clickExact(playwright.AriaRoleButton, "Add to restore list")
	lee.waitForURL(`/restore-list\?added=1$`)
	groups := p.Locator("section.list-group h2")
	lee.see(groups.Nth(0), "Exchange: Megan Bowen")
	lee.see(groups.Nth(1), "OneDrive: Megan Bowen")
	lee.see(groups.Nth(2), "Teams: Sales and Marketing")
	lee.audit()
	lee.screenshot("restore-list")

	// One submit, with a reason.
	const reason = "INC-5150: Megan asked for them back"
	lee.clickExact(playwright.AriaRoleButton, "Restore 3 items") // the reason is required: the browser keeps the form
	if !strings.HasSuffix(p.URL(), "/restore-list?added=1") {    // still the page the last add ended on
		t.Errorf("the list was sent without a reason: %s", p.URL())
	}
	if err := p.GetByLabel("Reason (required)").Fill(reason); err != nil {
		t.Fatal(err)
	}
	lee.clickExact(playwright.AriaRoleButton, "Restore 3 items")
	lee.waitForURL(`/restore-list$`)
	runs := p.Locator("#list-runs tbody tr")
	for i := range 3 {
		if err := expect.Locator(runs.Nth(i).Locator(".pill")).ToContainText("Finished", playwright.LocatorAssertionsToContainTextOptions{Timeout: playwright.Float(20000)}); err != nil {
			t.Errorf("restore %d did not finish: %v", i, err)
		}
	}
	lee.see(p.Locator("main"), "The list is empty")
	lee.see(p.Locator(".acting-banner"), "Megan Bowen")
	lee.audit()
	lee.clickExact(playwright.AriaRoleButton, "Back to my own data")
	lee.waitForURL(`/$`)
	if n, _ := p.Locator(".acting-banner").Count(); n != 0 {
		t.Error("the banner stayed after going back")
	}

	joni := startSignedIn(t, "Joni Sherman", "Europe/Dublin")
	q := joni.page
	joni.open("/audit?actor=Lee&workload=teams")
	joni.see(q.Locator("table.audit-events tbody tr").First(), "Read me.txt")
	joni.open("/audit?subject=Megan&actor=Lee&outcome=started")
	rows := q.Locator("table.audit-events tbody tr")
	if err := expect.Locator(rows).ToHaveCount(2); err != nil {
		t.Errorf("the trail: %v", err)
	}
	joni.see(rows.Nth(0), "OneDrive restore")
	joni.see(rows.Nth(0), "Q3 budget.xlsx")
	joni.see(rows.Nth(1), "Exchange restore")
	joni.see(rows.Nth(1), strings.TrimSpace(subject))
	joni.see(rows.Nth(1), reason)
	d, err := q.ExpectDownload(func() error { return joni.exact(playwright.AriaRoleLink, "Download as CSV").Click() })
	if err != nil {
		t.Fatal(err)
	}
	path, _ := d.Path()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil || len(records) != 3 {
		t.Errorf("the CSV: %v, %d rows", err, len(records))
	}

	adele := startSignedIn(t, "Adele Vance", "Europe/Dublin")
	resp, err := adele.page.Goto(stack.portalURL + "/audit")
	if err != nil || resp.Status() != 403 {
		t.Errorf("Adele at /audit: %v %v", resp, err)
	}
}

// Alex starts a restore and goes back to the start page before it ends; a
// notice (a polite live region) tells him when it has, with a link to it.
func TestNoticeOfARestoreThatEndedElsewhere(t *testing.T) {
	alex := startSignedIn(t, "Alex Wilber", "Europe/London")
	p := alex.page
	alex.click(playwright.AriaRoleButton, "Open the latest")
	alex.waitForURL(`/sessions/`)
	alex.openMailbox("Alex Wilber")
	if err := p.Locator(`table.mail-items tbody tr`).First().Locator(`input[type="checkbox"]`).Check(); err != nil {
		t.Fatal(err)
	}
	alex.clickExact(playwright.AriaRoleButton, "Restore selected…")
	alex.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	alex.waitForURL(`/restores/[0-9a-f-]{36}$`)
	restore := p.URL()
	alex.clickExact(playwright.AriaRoleLink, "Home")
	alex.waitForURL(`/$`)
	notice := p.Locator("#notices p.notice a")
	if err := expect.Locator(notice).ToContainText("Your restore of 1 item from Alex Wilber", playwright.LocatorAssertionsToContainTextOptions{Timeout: playwright.Float(40000)}); err != nil {
		t.Fatalf("no notice: %v", err)
	}
	if live, _ := p.Locator("#notices").GetAttribute("aria-live"); live != "polite" {
		t.Errorf("the notices are not a polite live region: %q", live)
	}
	alex.audit()
	if err := notice.Click(); err != nil {
		t.Fatal(err)
	}
	alex.waitForURL(regexp.QuoteMeta(strings.TrimPrefix(restore, stack.portalURL)) + "$")
}
