package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mxschmitt/playwright-go"

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
