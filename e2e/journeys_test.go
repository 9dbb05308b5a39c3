package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/demotenant"
)

// An employee signs in, sees who she is, what she may restore and when her
// backups ran in her own time zone, then opens the latest Exchange restore
// point and finds her mailbox and archive, and nobody else's.
func TestEndUserOpensHerLatestExchangePoint(t *testing.T) {
	tb := startSignedIn(t, "Adele Vance", "Europe/Berlin")
	p := tb.page
	tb.see(p.Locator("dl.facts"), "End user (self-service)")
	tb.see(p.Locator(`section[aria-labelledby="scope-heading"]`), "Your own data")
	// The latest point, in Berlin's time (CET or CEST), the zone the browser chose at sign-in.
	latest := p.Locator(".latest time")
	at, _ := latest.GetAttribute("datetime")
	when, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatalf("the latest point's time %q: %v", at, err)
	}
	tb.see(latest, when.In(tb.zone).Format("15:04 MST"))
	if err := expect.Locator(p.Locator("body")).ToHaveAttribute("data-tz", "Europe/Berlin"); err != nil {
		t.Error(err)
	}
	tb.audit()

	// Pick a day on the calendar: htmx swaps in its points and updates the address.
	day := p.Locator(".calendar td a").Last()
	label, _ := day.GetAttribute("aria-label")
	if err := day.Click(); err != nil {
		t.Fatal(err)
	}
	tb.waitForURL(`[?&]day=\d{4}-\d{2}-\d{2}`)
	heading := p.Locator(".points-layout h3")
	tb.see(heading, strings.Split(label, ",")[0])
	if err := expect.Locator(heading).ToBeFocused(); err != nil {
		t.Errorf("focus did not move to the day's points: %v", err)
	}
	if n, _ := p.Locator(".point-list li").Count(); n == 0 {
		t.Error("the chosen day shows no points")
	}
	tb.audit()

	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/[0-9a-f-]{36}$`)
	tb.see(p.Locator("h1"), "Exchange")
	if got := tb.rows(); !cmp.Equal(got, []string{"Adele Vance", "In-Place Archive - Adele Vance"}) {
		t.Errorf("mailboxes = %v", got)
	}
	tb.audit()
}

// Helpdesk staff see the mailboxes of the Sales group they restore for.
func TestHelpdeskSeesTheSalesMailboxes(t *testing.T) {
	tb := startSignedIn(t, "Lee Gu", "America/New_York")
	p := tb.page
	tb.see(p.Locator("dl.facts"), "Restore operator")
	scope := p.Locator(`section[aria-labelledby="scope-heading"]`)
	for _, want := range []string{"Sales", "Megan Bowen", "Sales Proposals", "Sales and Marketing"} {
		tb.see(scope, want)
	}
	tb.audit()
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/`)
	got := tb.rows()
	for _, want := range []string{"Megan Bowen", "Alex Wilber", "Isaiah Langer", "Miriam Graham"} {
		if !slices.Contains(got, want) {
			t.Errorf("mailboxes %v lack %s", got, want)
		}
	}
	if slices.Contains(got, "Adele Vance") {
		t.Errorf("mailboxes %v include someone outside the Sales group", got)
	}
	tb.audit()

	// The other workloads' roots through the tabs on the start page.
	tb.open("/")
	tb.click(playwright.AriaRoleLink, "SharePoint")
	tb.waitForURL(`workload=sharepoint`)
	tb.see(p.Locator(".latest"), "SharePoint")
	tb.audit()
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/`)
	if got := tb.rows(); !cmp.Equal(got, []string{"Sales and Marketing", "Sales Proposals", "Proposals Archive"}) {
		t.Errorf("sites = %v", got)
	}
}

// A signed-out user following a deep link signs in and lands on it; the page
// then follows the browser's time zone, though no landing page asked for it.
func TestDeepLinkSurvivesSignIn(t *testing.T) {
	tb := newTab(t, "Asia/Tokyo")
	today := stack.now().UTC().Format("2006-01-02")
	deep := "/?day=" + today + "&workload=teams"
	tb.open(deep)
	tb.signIn("Megan Bowen")
	tb.waitForURL(regexp.QuoteMeta(deep) + "$")
	p := tb.page
	if err := expect.Locator(p.Locator(`.workload-tabs a[aria-current="page"]`)).ToHaveText("Teams"); err != nil {
		t.Error(err)
	}
	// The page script reports the browser's zone and the page redraws in it.
	if err := expect.Locator(p.Locator("body")).ToHaveAttribute("data-tz", "Asia/Tokyo"); err != nil {
		t.Error(err)
	}
	tb.see(p.Locator(".latest time"), "JST")
	tb.audit()
}

// Sign-out ends everything: the backup server's token and restore sessions,
// the portal session and the browser's copy of the site's data.
func TestSignOutEndsTheSession(t *testing.T) {
	tb := startSignedIn(t, "Diego Siciliani", "Europe/London")
	p := tb.page
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/`)
	sessionURL := p.URL()
	tb.rows()

	tb.click(playwright.AriaRoleButton, "Sign out")
	tb.waitForURL(`/signed-out$`)
	tb.see(p.Locator(".alert"), "You have signed out")
	tb.audit()

	diego := demotenant.ID("user", "DiegoS@contoso.onmicrosoft.com")
	if !stack.veeam.LoggedOut(diego) {
		t.Error("the backup server token is still valid")
	}
	for _, s := range stack.veeam.RestoreSessions(diego) {
		// The sessions he browsed in; a restore he started runs on.
		if !s.Restore && s.State != "Stopped" {
			t.Errorf("restore session %s is still %s", s.ID, s.State)
		}
	}
	cookies, err := tb.ctx.Cookies(stack.portalURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c.Name == "__Host-session" {
			t.Errorf("the session cookie survived sign-out")
		}
	}

	// Back shows no restore data: the page is fetched again and needs a sign-in.
	if _, err := p.GoBack(); err != nil {
		t.Fatal(err)
	}
	if n, _ := p.Locator("table.items").Count(); n != 0 && strings.HasPrefix(p.URL(), sessionURL) {
		t.Error("the mailbox list is shown after sign-out")
	}
	if _, err := p.Goto(sessionURL); err != nil {
		t.Fatal(err)
	}
	tb.waitForURL(`/oauth2/v2\.0/authorize`)
}

// No Entra or Veeam token reaches the browser: not in pages, cookies or storage.
func TestTokensStayOnTheServer(t *testing.T) {
	tb := startSignedIn(t, "Isaiah Langer", "UTC")
	p := tb.page
	var pages []string
	collect := func() {
		html, err := p.Content()
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, html)
	}
	collect()
	tb.click(playwright.AriaRoleLink, "Teams")
	tb.waitForURL(`workload=teams`)
	collect()
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/`)
	tb.rows()
	collect()
	storage, err := p.Evaluate(`() => JSON.stringify({local: {...localStorage}, session: {...sessionStorage}, cookie: document.cookie})`)
	if err != nil {
		t.Fatal(err)
	}
	cookies, _ := tb.ctx.Cookies()
	for _, c := range cookies {
		pages = append(pages, c.Name+"="+c.Value)
	}
	pages = append(pages, storage.(string))
	secrets := append(stack.entra.IssuedTokens(), stack.veeam.IssuedTokens()...)
	for _, sec := range append(secrets, stack.entra.ClientSecret()) {
		for _, text := range pages {
			if strings.Contains(text, sec) {
				t.Errorf("a token reached the browser: %.30s…", sec)
			}
		}
	}
	if s := storage.(string); strings.Contains(s, "htmx-history-cache") {
		t.Error("htmx keeps page copies in localStorage")
	}
	if strings.Contains(stack.output(), "Bearer ") {
		t.Error("the portal logged a bearer token")
	}
}

// The start page works on a phone-sized screen: no horizontal scrolling.
func TestWorksOnAPhone(t *testing.T) {
	tb := startSignedIn(t, "Alex Wilber", "Europe/Paris")
	if err := tb.page.SetViewportSize(390, 844); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/?workload=onedrive"} {
		tb.open(path)
		wide, err := tb.page.Evaluate(`() => document.documentElement.scrollWidth > window.innerWidth + 1`)
		if err != nil {
			t.Fatal(err)
		}
		if wide.(bool) {
			t.Errorf("%s scrolls sideways on a phone", path)
		}
		tb.audit()
	}
}
