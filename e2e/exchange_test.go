package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

// exact finds an element by role and exact accessible name.
func (tb *tab) exact(role *playwright.AriaRole, name string) playwright.Locator {
	return tb.page.GetByRole(*role, playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
}

func (tb *tab) clickExact(role *playwright.AriaRole, name string) {
	tb.t.Helper()
	if err := tb.exact(role, name).Click(); err != nil {
		tb.t.Fatalf("click %s %q: %v", *role, name, err)
	}
}

// openMailbox opens a mailbox from the session page and lands in its Inbox.
func (tb *tab) openMailbox(name string) {
	tb.t.Helper()
	tb.clickExact(playwright.AriaRoleLink, name)
	tb.waitForURL(`/mailboxes/[0-9a-f-]{36}/folders/[A-Za-z0-9_-]+$`)
	tb.see(tb.page.Locator("h1"), name)
	tb.see(tb.page.Locator("#list-heading"), "Inbox")
}

// waitFinished waits on the restore page until it reports the end, as it
// updates itself.
func (tb *tab) waitFinished() {
	tb.t.Helper()
	if err := expect.Locator(tb.page.Locator("#restore-progress .status")).ToContainText("Finished", playwright.LocatorAssertionsToContainTextOptions{Timeout: playwright.Float(20000)}); err != nil {
		tb.t.Fatalf("the restore did not finish: %v", err)
	}
}

func (tb *tab) noSidewaysScroll(what string) {
	tb.t.Helper()
	wide, err := tb.page.Evaluate(`() => document.documentElement.scrollWidth > window.innerWidth + 1`)
	if err != nil {
		tb.t.Fatal(err)
	}
	if wide.(bool) {
		tb.t.Errorf("%s scrolls sideways on a phone", what)
	}
}

// Adele deleted a message last week. She opens a restore point from before,
// finds it by words of its subject and the days it arrived (in her own time
// zone), restores it to where it was, and watches the restore finish; her
// live mailbox has it back.
func TestAdeleRestoresTheMessageSheDeleted(t *testing.T) {
	const zone = "America/Los_Angeles"
	loc, _ := time.LoadLocation(zone)
	adele := fakeveeam.MailboxID(demotenant.ID("user", "AdeleV@contoso.onmicrosoft.com"), false)
	for _, it := range stack.veeam.ProductionItems(adele) {
		if it.Subject == fakeveeam.StoryDeletedSubject {
			t.Fatalf("the message is in her mailbox before the restore: %+v", it)
		}
	}
	tb := startSignedIn(t, "Adele Vance", zone)
	p := tb.page
	if err := p.SetViewportSize(1520, 1000); err != nil { // a desktop: the mailbox shows three panes
		t.Fatal(err)
	}

	// A restore point from a week ago, before she deleted it.
	lastWeek := tb.daysAgo(7).Format("2006-01-02")
	tb.open("/?workload=exchange&day=" + lastWeek)
	if err := p.Locator(".point-list button").First().Click(); err != nil {
		t.Fatal(err)
	}
	tb.waitForURL(`/sessions/[0-9a-f-]{36}$`)
	tb.openMailbox("Adele Vance")
	tb.audit()

	// Search: words of the subject, and the days around when it arrived, in her zone.
	received := stack.veeam.Anchor().Add(-9*24*time.Hour - 3*time.Hour).In(loc)
	if err := p.GetByLabel("Search words").Fill("floor plan"); err != nil {
		t.Fatal(err)
	}
	if err := p.Locator("summary", playwright.PageLocatorOptions{HasText: "More filters"}).Click(); err != nil {
		t.Fatal(err)
	}
	p.GetByLabel("Received from").Fill(received.AddDate(0, 0, -1).Format("2006-01-02"))
	p.GetByLabel("Received until").Fill(received.AddDate(0, 0, 1).Format("2006-01-02"))
	tb.see(p.Locator("form.search-form"), "Dates are days in "+zone)
	tb.clickExact(playwright.AriaRoleButton, "Search")
	tb.waitForURL(`/search\?`)
	tb.see(p.Locator("#list-heading"), "Search results")
	link := tb.exact(playwright.AriaRoleLink, fakeveeam.StoryDeletedSubject)
	tb.see(link, fakeveeam.StoryDeletedSubject)
	// The list shows when it arrived, in her zone.
	tb.see(p.Locator("table.mail-items tr", playwright.PageLocatorOptions{HasText: fakeveeam.StoryDeletedSubject}).Locator("time"),
		received.Format("Mon 2 Jan 2006"))
	tb.audit()

	// Its details open beside the list, with the item's own address.
	tb.markPage()
	if err := link.Click(); err != nil {
		t.Fatal(err)
	}
	detail := p.Locator("#item-detail")
	tb.see(detail, "Store 42 floor plan final.pdf")
	tb.see(detail, "Megan Bowen")
	tb.waitForURL(`/items/[A-Za-z0-9_-]+$`)
	tb.stayedOnPage("a message's link")
	if err := expect.Locator(p.Locator("#detail-heading")).ToBeFocused(); err != nil {
		t.Errorf("focus did not move to the details: %v", err)
	}
	tb.audit()
	tb.screenshot("exchange-search")
	// Ctrl- or ⌘-click opens the message as a page of its own in a new tab.
	tabOfItsOwn, err := p.Context().ExpectPage(func() error {
		return link.Click(playwright.LocatorClickOptions{Modifiers: []playwright.KeyboardModifier{*playwright.KeyboardModifierControlOrMeta}})
	})
	if err != nil {
		t.Fatalf("Ctrl-click on a message opened no tab: %v", err)
	}
	if err := expect.Locator(tabOfItsOwn.Locator("#item-detail")).ToContainText("Store 42 floor plan final.pdf"); err != nil {
		t.Errorf("the message's own tab: %v (at %s)", err, tabOfItsOwn.URL())
	}
	tabOfItsOwn.Close()
	if err := p.BringToFront(); err != nil {
		t.Fatal(err)
	}

	// Restore it to where it was.
	tb.clickExact(playwright.AriaRoleButton, "Restore this item…")
	tb.waitForURL(`/restore/[0-9a-f-]{36}$`)
	tb.see(p.Locator("h1"), "Restore 1 item")
	tb.see(p.Locator("ul.preview"), fakeveeam.StoryDeletedSubject)
	for _, label := range []string{"Back where they were", "Restore missing items (deleted from the mailbox since the restore point)"} {
		if err := expect.Locator(p.GetByLabel(label)).ToBeChecked(); err != nil {
			t.Errorf("%q is not chosen by default: %v", label, err)
		}
	}
	tb.audit()
	tb.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	tb.waitForURL(`/restores/[0-9a-f-]{36}$`)
	tb.see(p.Locator("h1"), "Restore of 1 item from Adele Vance")
	tb.audit() // while it runs
	tb.waitFinished()
	tb.screenshot("exchange-restore")
	tb.see(p.Locator("#restore-progress tbody"), "Restored")
	tb.see(p.Locator("#restore-progress tbody"), fakeveeam.StoryDeletedSubject)
	tb.audit()

	var back []fakeveeam.ProductionItem
	for _, it := range stack.veeam.ProductionItems(adele) {
		if it.Subject == fakeveeam.StoryDeletedSubject {
			back = append(back, it)
		}
	}
	if len(back) != 1 || back[0].Folder != "Inbox" || !back[0].Restored {
		t.Errorf("her mailbox after the restore: %+v", back)
	}

	// My restores lists it.
	tb.clickExact(playwright.AriaRoleLink, "My restores")
	tb.waitForURL(`/restores$`)
	tb.see(p.Locator("table.items tbody"), "Adele Vance")
	tb.see(p.Locator("table.items tbody"), "Finished")
	tb.audit()
}

// Megan restores two messages into a new folder, marked unread, and the
// mailbox pages work on her phone.
func TestRestoreIntoANewFolderMarkedUnread(t *testing.T) {
	tb := startSignedIn(t, "Megan Bowen", "Europe/Paris")
	p := tb.page
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/`)
	tb.openMailbox("Megan Bowen")
	inbox := p.URL()
	boxes := p.Locator(`table.mail-items tbody input[type="checkbox"]`)
	var subjects []string
	for i := range 2 {
		label, _ := boxes.Nth(i).GetAttribute("aria-label")
		subjects = append(subjects, strings.TrimPrefix(label, "Select "))
		if err := boxes.Nth(i).Check(); err != nil {
			t.Fatal(err)
		}
	}
	tb.clickExact(playwright.AriaRoleButton, "Restore selected…")
	tb.see(p.Locator("h1"), "Restore 2 items")
	if err := p.GetByLabel("Into a new folder of the mailbox").Check(); err != nil {
		t.Fatal(err)
	}
	p.GetByLabel("New folder's name").Fill("Restored by Megan")
	if err := p.GetByLabel("Mark restored items as unread").Check(); err != nil {
		t.Fatal(err)
	}
	tb.audit()
	tb.screenshot("exchange-wizard")
	tb.clickExact(playwright.AriaRoleButton, "Restore 2 items")
	tb.waitForURL(`/restores/`)
	tb.see(p.Locator("dl.facts"), "New folder “Restored by Megan”")
	tb.waitFinished()
	tb.audit()
	copies := map[string]fakeveeam.ProductionItem{}
	for _, it := range stack.veeam.ProductionItems(fakeveeam.MailboxID(demotenant.ID("user", "MeganB@contoso.onmicrosoft.com"), false)) {
		if it.CopyOf != "" {
			copies[it.Subject] = it
		}
	}
	for _, s := range subjects {
		if c, ok := copies[s]; !ok || c.Folder != "Restored by Megan" || !c.Unread {
			t.Errorf("the copy of %q: %+v", s, c)
		}
	}

	// On a phone.
	if err := p.SetViewportSize(390, 844); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{inbox, "/restores"} {
		if !strings.HasPrefix(path, "http") {
			path = stack.portalURL + path
		}
		if _, err := p.Goto(path); err != nil {
			t.Fatal(err)
		}
		tb.noSidewaysScroll(path)
		tb.audit()
		if path == inbox {
			tb.screenshot("exchange-phone")
		}
	}
}

// Lee Gu, helpdesk for the Sales group, restores a message of Miriam's. As
// the portal is configured to want a reason when restoring others' data, the
// form does not go without one, and the reason reaches the backup server.
func TestHelpdeskRestoresForASalesUserWithAReason(t *testing.T) {
	tb := startSignedIn(t, "Lee Gu", "America/New_York")
	p := tb.page
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/`)
	tb.openMailbox("Miriam Graham")
	tb.audit()
	first := p.Locator("table.mail-items tbody tr").First()
	if err := first.Locator(`input[type="checkbox"]`).Check(); err != nil {
		t.Fatal(err)
	}
	tb.clickExact(playwright.AriaRoleButton, "Restore selected…")
	tb.see(p.Locator(`label[for="reason"]`), "(required)")
	tb.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	// The browser keeps the form: the reason is required.
	if strings.Contains(p.URL(), "/restores/") {
		t.Fatal("the restore started without a reason")
	}
	const reason = "Ticket INC-2207: Miriam's manager asked for it back"
	if err := p.GetByLabel("Reason (required)").Fill(reason); err != nil {
		t.Fatal(err)
	}
	tb.audit()
	tb.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	tb.waitForURL(`/restores/`)
	tb.see(p.Locator("dl.facts"), reason)
	tb.waitFinished()
	found := false
	for _, s := range stack.veeam.RestoreSessions(demotenant.ID("user", "LeeG@contoso.onmicrosoft.com")) {
		found = found || (s.Restore && s.Reason == reason)
	}
	if !found {
		t.Error("the backup server did not get the reason")
	}
}

// A mailbox outside the user's scope, typed into the address, is "not
// found", and nothing of it shows.
func TestMailboxOutsideScopeIsNotFound(t *testing.T) {
	tb := startSignedIn(t, "Alex Wilber", "UTC")
	p := tb.page
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/[0-9a-f-]{36}$`)
	megan := fakeveeam.MailboxID(demotenant.ID("user", "MeganB@contoso.onmicrosoft.com"), false)
	resp, err := p.Goto(p.URL() + "/mailboxes/" + megan)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status() != 404 {
		t.Errorf("status %d, want 404", resp.Status())
	}
	tb.see(p.Locator("h1"), "Not found")
	html, _ := p.Content()
	for _, s := range []string{"Megan", "MeganB"} {
		if strings.Contains(html, s) {
			t.Errorf("the page shows %q", s)
		}
	}
	tb.audit()
}

// A folder of 100,000 messages pages to its very last message, by keyboard.
func TestHugeFolderPagesToItsLastItem(t *testing.T) {
	tb := startSignedIn(t, "Pradeep Gupta", "Asia/Kolkata")
	p := tb.page
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/`)
	tb.openMailbox("Pradeep Gupta")
	// Subfolders load when a folder is opened in the tree.
	toggle := tb.exact(playwright.AriaRoleButton, "Show the subfolders of Inbox")
	if err := toggle.Press("Enter"); err != nil {
		t.Fatal(err)
	}
	if err := expect.Locator(toggle).ToHaveAttribute("aria-expanded", "true"); err != nil {
		t.Error(err)
	}
	if err := p.Locator("nav.folder-tree").GetByRole(*playwright.AriaRoleLink, playwright.LocatorGetByRoleOptions{Name: "Notifications", Exact: playwright.Bool(true)}).Click(); err != nil {
		t.Fatal(err)
	}
	tb.see(p.Locator("#list-heading"), "Notifications")
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
	tb.see(p.Locator("nav.pager"), "Items 99,901 to 100,000")
	tb.see(p.Locator("table.mail-items tbody tr").Last(), "Notification 000001: build report")
	if err := expect.Locator(p.Locator("#item-list")).ToBeFocused(); err != nil {
		t.Errorf("focus did not move to the new page: %v", err)
	}
	tb.audit()
}

// Downloads arrive in the browser exactly as the backup server sent them.
func TestDownloadsArriveIntact(t *testing.T) {
	tb := startSignedIn(t, "Isaiah Langer", "Europe/London")
	p := tb.page
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/`)
	tb.openMailbox("Isaiah Langer")
	check := func(kind string, click func() error, name *regexp.Regexp) {
		t.Helper()
		d, err := p.ExpectDownload(click)
		if err != nil {
			t.Fatalf("%s download: %v", kind, err)
		}
		path, err := d.Path()
		if err != nil {
			t.Fatalf("%s download: %v", kind, err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, _ := io.Copy(h, f)
		f.Close()
		all := stack.veeam.Downloads()
		var sent *fakeveeam.Download
		for i := range all {
			if all[i].SHA256 == hex.EncodeToString(h.Sum(nil)) {
				sent = &all[i]
			}
		}
		if sent == nil || sent.Kind != kind || sent.Size != n {
			t.Errorf("%s download of %d bytes matches nothing the backup server sent", kind, n)
		}
		if !name.MatchString(d.SuggestedFilename()) {
			t.Errorf("%s file name %q", kind, d.SuggestedFilename())
		}
	}
	row := p.Locator("table.mail-items tbody tr").First()
	if err := row.Locator("td a").First().Click(); err != nil {
		t.Fatal(err)
	}
	tb.see(p.Locator("#item-detail"), "Download (.msg)")
	tb.audit()
	check("msg", func() error { return tb.exact(playwright.AriaRoleButton, "Download (.msg)").Click() }, regexp.MustCompile(`^[^/\\<>:"|?*]+\.msg$`))
	for i := range 3 {
		p.Locator(`table.mail-items tbody input[type="checkbox"]`).Nth(i).Check()
	}
	check("zip", func() error { return tb.exact(playwright.AriaRoleButton, "Download selected (.zip)").Click() },
		regexp.MustCompile(`^Isaiah Langer - 3 items\.zip$`))
	check("pst", func() error { return tb.exact(playwright.AriaRoleButton, "Export folder to .pst").Click() },
		regexp.MustCompile(`^Isaiah Langer - Inbox\.pst$`))
	tb.audit()
}

// Backed-up names are hostile: the Junk Email folder holds subjects, senders
// and attachment names made of markup and script. They show as text; no
// script runs, no dialog opens and the CSP reports nothing.
func TestHostileMailShowsAsText(t *testing.T) {
	tb := startSignedIn(t, "Johanna Lorenz", "Europe/Madrid")
	p := tb.page
	dialogs := 0
	p.OnDialog(func(d playwright.Dialog) { dialogs++; d.Dismiss() })
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/`)
	tb.openMailbox("Johanna Lorenz")
	if err := p.Locator("nav.folder-tree").GetByRole(*playwright.AriaRoleLink, playwright.LocatorGetByRoleOptions{Name: "Junk Email", Exact: playwright.Bool(true)}).Click(); err != nil {
		t.Fatal(err)
	}
	tb.see(p.Locator("#list-heading"), "Junk Email")
	tb.see(p.Locator("table.mail-items"), `<script>alert("subject")</script>`)
	tb.audit()
	links := p.Locator(`table.mail-items td[data-label="Subject"] a`)
	n, _ := links.Count()
	for i := range n {
		if err := links.Nth(i).Click(); err != nil {
			t.Fatal(err)
		}
		if err := expect.Locator(p.Locator("#detail-heading")).ToBeFocused(); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	if err := tb.exact(playwright.AriaRoleLink, `<script>alert("subject")</script>`).Click(); err != nil {
		t.Fatal(err)
	}
	tb.see(p.Locator("#detail-heading"), `<script>alert("subject")</script>`)
	tb.see(p.Locator("#item-detail .attachments"), ".pdf")
	tb.audit()
	injected, err := p.Evaluate(`() => document.querySelectorAll("main script, main img, main iframe, main [onerror], main [onmouseover]").length`)
	if err != nil {
		t.Fatal(err)
	}
	if injected.(int) != 0 || dialogs != 0 {
		t.Errorf("%v injected elements, %d dialogs", injected, dialogs)
	}
}
