package e2e

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

// Lee Gu browses the Sales and Marketing team: its channels, a twelve-post
// conversation in order, the channel's files and a file's versions, and its
// tabs; hostile subjects show as text.
func TestLeeBrowsesATeam(t *testing.T) {
	tb := startSignedIn(t, "Lee Gu", "America/New_York")
	p := tb.page
	dialogs := 0
	p.OnDialog(func(d playwright.Dialog) { dialogs++; d.Dismiss() })
	tb.open("/?workload=teams")
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/[0-9a-f-]{36}$`)
	tb.clickExact(playwright.AriaRoleLink, "Sales and Marketing")
	tb.waitForURL(`/teams/[A-Za-z0-9_-]+$`)
	tb.see(p.Locator("table.channel-items"), "Partners")
	tb.audit()
	// Search the team's posts.
	if err := p.GetByLabel("Search words").Fill("pricing"); err != nil {
		t.Fatal(err)
	}
	tb.clickExact(playwright.AriaRoleButton, "Search")
	tb.waitForURL(`/search\?`)
	tb.see(p.Locator("ul.hits"), fakeveeam.StoryThread)
	tb.audit()
	if _, err := p.GoBack(); err != nil {
		t.Fatal(err)
	}
	tb.clickExact(playwright.AriaRoleLink, "Tabs of every channel")
	tb.waitForURL(`/tabs$`)
	tb.see(p.Locator("table.team-tabs"), "General")
	tb.audit()
	if _, err := p.GoBack(); err != nil {
		t.Fatal(err)
	}
	tb.clickExact(playwright.AriaRoleButton, "Restore the whole team…")
	tb.waitForURL(`/restore/[0-9a-f-]{36}$`)
	tb.audit()
	if _, err := p.GoBack(); err != nil {
		t.Fatal(err)
	}
	tb.clickExact(playwright.AriaRoleLink, "General")
	tb.waitForURL(`/c/[A-Za-z0-9_-]+$`)
	tb.see(p.Locator("#list-heading"), "General")
	tb.audit()
	for {
		thread := p.Locator("ul.posts article", playwright.PageLocatorOptions{HasText: fakeveeam.StoryThread})
		if n, _ := thread.Count(); n > 0 {
			if err := thread.GetByRole(*playwright.AriaRoleLink, playwright.LocatorGetByRoleOptions{Name: "Open the conversation"}).Click(); err != nil {
				t.Fatal(err)
			}
			break
		}
		if err := tb.exact(playwright.AriaRoleLink, "Next page ›").Click(); err != nil {
			t.Fatalf("no story thread: %v", err)
		}
	}
	tb.waitForURL(`/p/[0-9]+$`)
	if err := expect.Locator(p.Locator("ol.replies > li")).ToHaveCount(fakeveeam.StoryThreadPosts - 1); err != nil {
		t.Error(err)
	}
	tb.audit()
	tb.screenshot("teams-conversation")
	// The conversation as one HTML file, in order; the one-time code stays on the server.
	d, err := p.ExpectDownload(func() error { return tb.exact(playwright.AriaRoleButton, "Export the conversation (.html)").Click() })
	if err != nil {
		t.Fatal(err)
	}
	path, err := d.Path()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), `<article class="post"`); n != fakeveeam.StoryThreadPosts {
		t.Errorf("%d posts in the export", n)
	}
	times := regexp.MustCompile(`<time datetime="([^"]+)"`).FindAllStringSubmatch(string(raw), -1)
	for i := 1; i < len(times); i++ {
		if times[i][1] < times[i-1][1] {
			t.Errorf("post %d out of order", i)
		}
	}
	if !strings.HasSuffix(d.SuggestedFilename(), ".html") {
		t.Errorf("file name %q", d.SuggestedFilename())
	}
	html, _ := p.Content()
	for _, code := range stack.veeam.AuthCodesIssued() {
		if strings.Contains(html, code) {
			t.Error("a one-time code is in the page")
		}
	}
	tb.clickExact(playwright.AriaRoleLink, "‹ Back to General")
	tb.clickExact(playwright.AriaRoleLink, "Files")
	tb.waitForURL(`view=files`)
	tb.audit()
	if err := p.Locator(`table.team-files td[data-label="Name"] a`).First().Click(); err != nil {
		t.Fatal(err)
	}
	tb.waitForURL(`folder=`)
	if err := p.Locator(`table.team-files td[data-label="Name"] a`).First().Click(); err != nil {
		t.Fatal(err)
	}
	tb.waitForURL(`/f/[A-Za-z0-9_-]+$`)
	tb.see(p.Locator("table.versions"), "Version 1.0")
	tb.audit()
	tb.clickExact(playwright.AriaRoleLink, "‹ Back to the files of General")
	tb.clickExact(playwright.AriaRoleLink, "Tabs")
	tb.waitForURL(`view=tabs`)
	if n, _ := p.Locator("table.team-tabs tbody tr").Count(); n == 0 {
		t.Error("no tabs")
	}
	tb.audit()
	if dialogs != 0 {
		t.Errorf("%d dialogs opened", dialogs)
	}
}

func prodTeamChannel(team, name string) (fakeveeam.ProductionTeamChannel, bool) {
	for _, c := range stack.veeam.ProductionTeam(demotenant.ID("team", team)) {
		if c.Name == name {
			return c, true
		}
	}
	return fakeveeam.ProductionTeamChannel{}, false
}

// Lee Gu restores the private channel deleted two days ago, with its members;
// Isaiah restores the tab removed yesterday; Alex restores the channel file
// he overwrote this morning from last night's point.
func TestTeamsRestoresInTheBrowser(t *testing.T) {
	lee := startSignedIn(t, "Lee Gu", "Europe/Dublin")
	p := lee.page
	lee.openPointOfDay("teams", lee.daysAgo(4))
	lee.clickExact(playwright.AriaRoleLink, "Sales and Marketing")
	lee.clickExact(playwright.AriaRoleLink, fakeveeam.StoryDeletedChannel)
	lee.waitForURL(`/c/[A-Za-z0-9_-]+$`)
	lee.clickExact(playwright.AriaRoleButton, "Restore this channel…")
	lee.waitForURL(`/restore/[0-9a-f-]{36}$`)
	if err := expect.Locator(p.GetByLabel("The channel's members")).ToBeChecked(); err != nil {
		t.Error(err)
	}
	if err := p.GetByLabel("Reason (required)").Fill("INC-42: the deal desk channel was deleted by mistake"); err != nil {
		t.Fatal(err)
	}
	lee.audit()
	lee.clickExact(playwright.AriaRoleButton, "Restore the channel "+fakeveeam.StoryDeletedChannel)
	lee.waitForURL(`/restores/[0-9a-f-]{36}$`)
	lee.waitFinished()
	lee.audit()
	if ch, ok := prodTeamChannel("Sales and Marketing", fakeveeam.StoryDeletedChannel); !ok || len(ch.Members) == 0 {
		t.Errorf("the channel in production: %+v", ch)
	}

	isaiah := startSignedIn(t, "Isaiah Langer", "Europe/London")
	q := isaiah.page
	isaiah.openPointOfDay("teams", isaiah.daysAgo(2))
	isaiah.clickExact(playwright.AriaRoleLink, "Mark 8 Project Team")
	isaiah.clickExact(playwright.AriaRoleLink, "General")
	isaiah.clickExact(playwright.AriaRoleLink, "Tabs")
	isaiah.waitForURL(`view=tabs`)
	if err := q.GetByLabel("Select "+fakeveeam.StoryRemovedTab, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)}).Check(); err != nil {
		t.Fatal(err)
	}
	isaiah.clickExact(playwright.AriaRoleButton, "Restore selected tabs…")
	isaiah.waitForURL(`/restore/[0-9a-f-]{36}$`)
	q.GetByLabel("Reason (required)").Fill("the launch checklist tab disappeared")
	isaiah.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	isaiah.waitForURL(`/restores/`)
	isaiah.waitFinished()
	if g, _ := prodTeamChannel("Mark 8 Project Team", "General"); !slices.Contains(g.Tabs, fakeveeam.StoryRemovedTab) {
		t.Errorf("tabs now: %v", g.Tabs)
	}

	alex := startSignedIn(t, "Alex Wilber", "Europe/London")
	r := alex.page
	alex.openPointOfDay("teams", alex.daysAgo(0))
	alex.clickExact(playwright.AriaRoleLink, "Mark 8 Project Team")
	alex.clickExact(playwright.AriaRoleLink, "General")
	alex.clickExact(playwright.AriaRoleLink, "Files")
	alex.waitForURL(`view=files`)
	alex.clickExact(playwright.AriaRoleLink, fakeveeam.StoryChannelFile)
	alex.waitForURL(`/f/[A-Za-z0-9_-]+$`)
	alex.see(r.Locator("table.versions"), "Version 3.0")
	alex.audit()
	alex.clickExact(playwright.AriaRoleButton, "Restore this file…")
	alex.waitForURL(`/restore/[0-9a-f-]{36}$`)
	r.GetByLabel("Reason (required)").Fill("I overwrote the launch plan")
	alex.clickExact(playwright.AriaRoleButton, "Restore 1 item")
	alex.waitForURL(`/restores/`)
	alex.waitFinished()
	g, _ := prodTeamChannel("Mark 8 Project Team", "General")
	for _, f := range g.Files {
		if f.Name == fakeveeam.StoryChannelFile && f.Size == 2048 {
			t.Errorf("the file is still the overwritten one: %+v", f)
		}
	}
}
