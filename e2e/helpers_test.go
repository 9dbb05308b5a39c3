package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"
)

// cspWatch records every CSP violation a page reports.
const cspWatch = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});`

var expect = playwright.NewPlaywrightAssertions(10000)

// tabCount numbers the tabs of the run, for their screenshots.
var tabCount atomic.Int64

// tab is a page in a fresh browser context (its own cookies), in the given time zone.
type tab struct {
	t    *testing.T
	ctx  playwright.BrowserContext
	page playwright.Page
	zone *time.Location // the browser's
	base string         // the portal's address

	mu      sync.Mutex
	pending map[playwright.Request]time.Time // requests not finished yet
}

// daysAgo is the day days days ago on the stack's clock, in the browser's zone.
func (tb *tab) daysAgo(days int) time.Time {
	return stack.now().In(tb.zone).AddDate(0, 0, -days)
}

func newTab(t *testing.T, timeZone string) *tab {
	t.Helper()
	stack.tracked.Do(func() {
		if err := trackSources(stack.root); err != nil {
			t.Fatal(err)
		}
	})
	ctx, err := stack.browser.NewContext(playwright.BrowserNewContextOptions{
		TimezoneId: playwright.String(timeZone), Locale: playwright.String("en-GB"),
		Viewport: &playwright.Size{Width: 1280, Height: 900},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.AddInitScript(playwright.Script{Content: playwright.String(cspWatch)}); err != nil {
		t.Fatal(err)
	}
	page, err := ctx.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	zone, err := time.LoadLocation(timeZone)
	if err != nil {
		t.Fatal(err)
	}
	tb := &tab{t: t, ctx: ctx, page: page, zone: zone, base: stack.portalURL, pending: map[playwright.Request]time.Time{}}
	// Requests still open are named when a test fails: a page whose load
	// event never comes waits on one of them.
	page.On("request", func(r playwright.Request) { tb.mu.Lock(); tb.pending[r] = time.Now(); tb.mu.Unlock() })
	done := func(r playwright.Request) { tb.mu.Lock(); delete(tb.pending, r); tb.mu.Unlock() }
	page.On("requestfinished", done)
	page.On("requestfailed", done)
	t.Cleanup(func() {
		if t.Failed() {
			tb.mu.Lock()
			for r, at := range tb.pending {
				t.Logf("still open after %s: %s %s", time.Since(at).Round(time.Millisecond), r.Method(), r.URL())
			}
			tb.mu.Unlock()
			os.MkdirAll(stack.artifacts, 0o755)
			// One file per tab: a journey of several people keeps each one's last page.
			name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name()+"_"+timeZone+"_"+strconv.FormatInt(tabCount.Add(1), 10), "_")
			path := filepath.Join(stack.artifacts, name+".png")
			if _, err := page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(path), FullPage: playwright.Bool(true)}); err == nil {
				t.Logf("screenshot: %s (at %s)", path, page.URL())
			}
		}
		ctx.Close()
	})
	return tb
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	if _, err := tb.page.Goto(tb.base + path); err != nil {
		tb.t.Fatal(err)
	}
}

func (tb *tab) role(role *playwright.AriaRole, name string) playwright.Locator {
	return tb.page.GetByRole(*role, playwright.PageGetByRoleOptions{Name: name})
}

func (tb *tab) click(role *playwright.AriaRole, name string) {
	tb.t.Helper()
	if err := tb.role(role, name).Click(); err != nil {
		tb.t.Fatalf("click %s %q: %v", *role, name, err)
	}
}

// waitForURL waits until the page is at a URL matching pattern and its
// document has loaded. It asks the document itself (readyState) rather than
// Playwright's record of the load event, which now and then misses the
// event of a page reached through redirects, and then waits its whole
// timeout on a page that loaded long ago.
func (tb *tab) waitForURL(pattern string) {
	tb.t.Helper()
	if err := tb.page.WaitForURL(regexp.MustCompile(pattern), playwright.PageWaitForURLOptions{WaitUntil: playwright.WaitUntilStateCommit}); err != nil {
		tb.t.Fatalf("waiting for %s: %v (at %s)", pattern, err, tb.page.URL())
	}
	if _, err := tb.page.WaitForFunction(`() => document.readyState === "complete"`, nil); err != nil {
		tb.t.Fatalf("waiting for %s to load: %v (at %s)", pattern, err, tb.page.URL())
	}
}

// markPage marks the document in the tab, so that stayedOnPage can tell a
// swap into the page from the browser loading a page anew.
func (tb *tab) markPage() {
	tb.t.Helper()
	if _, err := tb.page.Evaluate(`() => { window.__marked = true }`); err != nil {
		tb.t.Fatal(err)
	}
}

// stayedOnPage fails the test when the document marked by markPage is gone.
func (tb *tab) stayedOnPage(what string) {
	tb.t.Helper()
	marked, err := tb.page.Evaluate(`() => window.__marked === true`)
	if err != nil {
		tb.t.Fatal(err)
	}
	if marked != true {
		tb.t.Errorf("%s loaded a page anew instead of opening beside the list", what)
	}
}

func (tb *tab) see(loc playwright.Locator, text string) {
	tb.t.Helper()
	if err := expect.Locator(loc).ToContainText(text); err != nil {
		tb.t.Fatalf("expected %q: %v", text, err)
	}
}

// audit runs axe-core on the page and fails on any violation, and on any CSP
// violation the page reported. Every page a journey visits is audited.
func (tb *tab) audit() {
	tb.t.Helper()
	if _, err := tb.page.Evaluate(stack.axe); err != nil {
		tb.t.Fatalf("inject axe-core: %v", err)
	}
	raw, err := tb.page.Evaluate(`async () => JSON.stringify((await axe.run(document, {resultTypes: ["violations"]})).violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)})))`)
	if err != nil {
		tb.t.Fatalf("axe.run: %v", err)
	}
	var violations []map[string]any
	json.Unmarshal([]byte(raw.(string)), &violations)
	for _, v := range violations {
		tb.t.Errorf("axe on %s: %v (%v): %v at %v", tb.page.URL(), v["id"], v["impact"], v["help"], v["nodes"])
	}
	csp, err := tb.page.Evaluate(`() => (window.__cspViolations || []).join("\n")`)
	if err != nil {
		tb.t.Fatal(err)
	}
	if s, _ := csp.(string); s != "" {
		tb.t.Errorf("CSP violations on %s:\n%s", tb.page.URL(), s)
	}
}

// signIn goes through the fake Entra sign-in page, choosing the account of
// person, and audits that page too.
func (tb *tab) signIn(person string) {
	tb.t.Helper()
	tb.waitForURL(`/oauth2/v2\.0/authorize`)
	tb.see(tb.role(playwright.AriaRoleHeading, "Pick an account"), "Pick an account")
	tb.audit()
	tb.click(playwright.AriaRoleButton, person)
	tb.waitForURL("^" + regexp.QuoteMeta(tb.base))
}

// startSignedIn opens the landing page, audits it, and signs in as person.
func startSignedIn(t *testing.T, person, timeZone string) *tab {
	t.Helper()
	return startSignedInAt(t, person, timeZone, stack.portalURL)
}

// startSignedInAt is startSignedIn on the portal at base.
func startSignedInAt(t *testing.T, person, timeZone, base string) *tab {
	t.Helper()
	tb := newTab(t, timeZone)
	tb.base = base
	tb.open("/")
	tb.see(tb.role(playwright.AriaRoleHeading, "Get back what you lost"), "Get back what you lost")
	tb.audit()
	tb.click(playwright.AriaRoleLink, "Sign in with Microsoft")
	tb.signIn(person)
	tb.see(tb.role(playwright.AriaRoleHeading, "Welcome"), "Welcome, "+person)
	return tb
}

// rows returns the names in the root listing.
func (tb *tab) rows() []string {
	tb.t.Helper()
	loc := tb.page.Locator("table.items tbody td strong")
	if err := expect.Locator(loc.First()).ToBeVisible(); err != nil {
		tb.t.Fatalf("no listing: %v", err)
	}
	texts, err := loc.AllTextContents()
	if err != nil {
		tb.t.Fatal(err)
	}
	for i := range texts {
		texts[i] = strings.TrimSpace(texts[i])
	}
	return texts
}

// screenshot saves the page as docs/<name>.png when E2E_SCREENSHOTS names a
// directory (`make screenshots`), for the README.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	dir := os.Getenv("E2E_SCREENSHOTS")
	if dir == "" {
		return
	}
	if _, err := tb.page.Screenshot(playwright.PageScreenshotOptions{Path: playwright.String(filepath.Join(dir, name+".png"))}); err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
	}
}
