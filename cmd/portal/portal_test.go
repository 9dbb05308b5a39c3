package main

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/store/sqlite"
)

func TestLandingPage(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	r := s.browser().get("/")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	d := r.doc(t)
	link := d.Find(`a[data-signin]`)
	if strings.TrimSpace(link.Text()) != "Sign in with Microsoft" || link.AttrOr("href", "") != "/auth/login" {
		t.Errorf("sign-in link = %q → %q", link.Text(), link.AttrOr("href", ""))
	}
	if d.Find(".demo-banner").Length() != 0 {
		t.Error("DEMO banner outside demo mode")
	}
}

func TestEndUserSeesOwnScopeAndPoints(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	d := b.get("/").doc(t)
	if got := strings.TrimSpace(d.Find("h1").Text()); got != "Welcome, Adele Vance" {
		t.Errorf("heading = %q", got)
	}
	facts := strings.Join(strings.Fields(d.Find("dl.facts").Text()), " ")
	for _, want := range []string{adele, "End user (self-service)", "signed in as " + adele} {
		if !strings.Contains(facts, want) {
			t.Errorf("identity %q lacks %q", facts, want)
		}
	}
	if scope := d.Find(`section[aria-labelledby="scope-heading"]`).Text(); !strings.Contains(scope, "Your own data") ||
		!strings.Contains(scope, "Mark 8 Project Team") || strings.Contains(scope, "Megan") {
		t.Errorf("scope = %s", strings.Join(strings.Fields(scope), " "))
	}
	if got := texts(d, ".workload-tabs a"); !cmp.Equal(got, []string{"Exchange", "OneDrive", "SharePoint", "Teams"}) {
		t.Errorf("workloads = %v", got)
	}
	if d.Find(`.workload-tabs a[aria-current="page"]`).Text() != "Exchange" {
		t.Error("Exchange is not the current workload")
	}
	// The calendar shows the latest point's month: every day of it up to
	// that day has points (the demo's jobs missed no night in ten days).
	latest, err := time.Parse(time.RFC3339, d.Find(".latest time").AttrOr("datetime", ""))
	if err != nil {
		t.Fatal(err)
	}
	if n, want := d.Find(".calendar td a").Length(), min(10, latest.Day()); n < want {
		t.Errorf("%d days with restore points this month, want at least %d", n, want)
	}
	if d.Find(`form[action="/explore"] input[name="point"][value="latest"]`).Length() != 0 {
		t.Error("the latest point's form names 'latest' rather than the point")
	}
}

func TestCalendarInTheUsersTimeZone(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	r := b.post("/preferences/timezone", url.Values{"tz": {"Asia/Tokyo"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set zone: %d %s", r.StatusCode, r.body)
	}
	d := b.get("/").doc(t)
	latest := d.Find(".latest time")
	at, err := time.Parse(time.RFC3339, latest.AttrOr("datetime", ""))
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if want := at.In(tokyo).Format("Monday 2 January 2006, 15:04 JST"); strings.TrimSpace(latest.Text()) != want {
		t.Errorf("latest shown as %q, want %q", latest.Text(), want)
	}
	// A day's points are those of that day in Tokyo.
	day := at.In(tokyo).Format("2006-01-02")
	dd := b.get("/?workload=exchange&day="+day, "HX-Request: true").doc(t)
	if !strings.Contains(dd.Find("h3").Text(), at.In(tokyo).Format("2 January 2006")) {
		t.Errorf("day heading = %q", dd.Find("h3").Text())
	}
	for _, tm := range texts(dd, ".point-list time") {
		if len(tm) != 5 {
			t.Errorf("point time %q", tm)
		}
	}
	if dd.Find("html").Length() != 0 && dd.Find("body").Children().Length() > 1 {
		t.Error("the htmx request got a whole page")
	}
	if r := b.post("/preferences/timezone", url.Values{"tz": {"Mars/Olympus_Mons"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown zone: %d", r.StatusCode)
	}
	if r := b.post("/preferences/timezone", url.Values{"tz": {"../../etc/passwd"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("path as zone: %d", r.StatusCode)
	}
}

func TestSignInCarriesTheBrowserZone(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.browser()
	b.signIn(adele, "/auth/login?tz=America/New_York")
	d := b.get("/").doc(t)
	if got := d.Find("body").AttrOr("data-tz", ""); got != "America/New_York" {
		t.Errorf("zone after sign-in = %q", got)
	}
}

// TestPreferencesBelongToThePerson: a zone chosen by hand stays the
// person's after signing out, in another browser, and a browser's own zone
// does not override it; someone else keeps theirs.
func TestPreferencesBelongToThePerson(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	zone := func(b *browser) string { return b.get("/").doc(t).Find("body").AttrOr("data-tz", "") }
	b := s.signedIn(adele)
	if r := b.post("/preferences/timezone", url.Values{"tz": {"Asia/Tokyo"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set zone: %d", r.StatusCode)
	}
	b.post("/auth/logout", nil)
	other := s.browser()
	other.signIn(adele, "/auth/login?tz=Europe/Lisbon")
	if got := zone(other); got != "Asia/Tokyo" {
		t.Errorf("Adele's zone in another browser, after signing out: %q", got)
	}
	if got := zone(s.signedIn(megan)); got != "UTC" {
		t.Errorf("Megan's zone: %q", got)
	}
	// Following the browser again: the next sign-in's zone is hers.
	if r := other.post("/preferences/timezone", url.Values{"tz": {"Europe/Lisbon"}, "auto": {"1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("follow the browser: %d", r.StatusCode)
	}
	third := s.browser()
	third.signIn(adele, "/auth/login?tz=America/Chicago")
	if got := zone(third); got != "America/Chicago" {
		t.Errorf("the browser's zone at sign-in: %q", got)
	}
}

func TestEndUserExploresOwnMailbox(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	id, r := b.explore("exchange")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("session page: %d %s", r.StatusCode, r.body)
	}
	d := r.doc(t)
	if got := texts(d, "table.items tbody td strong"); !cmp.Equal(got, []string{"Adele Vance", "In-Place Archive - Adele Vance"}) {
		t.Errorf("mailboxes = %v", got)
	}
	if !strings.Contains(d.Find("table.items").Text(), "Archive") {
		t.Error("the archive is not marked")
	}
	// Opening the same point again reuses the session.
	again, _ := b.explore("exchange")
	if again != id {
		t.Errorf("second explore opened %s, want reuse of %s", again, id)
	}
	sessions := s.veeam.RestoreSessions(demotenant.ID("user", adele))
	if len(sessions) != 1 || sessions[0].Type != "Vex" {
		t.Errorf("VB365 sessions = %+v", sessions)
	}
	// Another user cannot open it: the portal says not found without asking VB365.
	other := s.signedIn(megan)
	before := len(s.veeam.Requests())
	if r := other.get("/sessions/" + id); r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "not yours") {
		t.Errorf("another user's session: %d", r.StatusCode)
	}
	if after := len(s.veeam.Requests()); after != before {
		t.Errorf("VB365 got %d requests for a session that is not the user's", after-before)
	}
}

func TestEveryWorkloadRoot(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(lee)
	tests := []struct {
		workload string
		want     []string
	}{
		{"exchange", []string{"Alex Wilber", "Isaiah Langer", "Lee Gu", "Megan Bowen", "In-Place Archive - Megan Bowen", "Miriam Graham", "In-Place Archive - Miriam Graham"}},
		{"onedrive", []string{"Alex Wilber", "Isaiah Langer", "Lee Gu", "Megan Bowen", "Miriam Graham"}},
		{"sharepoint", []string{"Sales and Marketing", "Sales Proposals", "Proposals Archive"}},
		{"teams", []string{"Sales and Marketing"}},
	}
	for _, tt := range tests {
		_, r := b.explore(tt.workload)
		if got := texts(r.doc(t), "table.items tbody td strong"); !cmp.Equal(got, tt.want) {
			t.Errorf("%s root = %v, want %v", tt.workload, got, tt.want)
		}
	}
}

func TestRootListPages(t *testing.T) {
	t.Parallel()
	// Nestor sees everyone but the excluded President: more than fits a page
	// when the organisation is larger; here the fake pages by 50 like the portal asks.
	s := startStack(t, stackOptions{})
	b := s.signedIn(nestor)
	id, r := b.explore("exchange")
	rows := r.doc(t).Find("table.items tbody tr").Length()
	if rows != 15+4 {
		t.Errorf("%d mailboxes", rows)
	}
	if r := b.get("/sessions/" + id + "?offset=-1"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("negative offset: %d", r.StatusCode)
	}
	if r := b.get("/sessions/"+id+"?offset=10", "HX-Request: true"); r.StatusCode != http.StatusOK ||
		r.doc(t).Find("table.items tbody tr").Length() != 9 || strings.Contains(r.body, "<html") {
		t.Errorf("second page: %d, %d rows", r.StatusCode, r.doc(t).Find("table.items tbody tr").Length())
	}
}

func TestStoppedSessionCanBeReopened(t *testing.T) {
	t.Parallel()
	c := testClock(t)
	var ahead atomic.Int64 // how far VB365's clock is ahead of the portal's
	s := startStack(t, stackOptions{clock: c, veeam: fakeveeam.Options{Now: func() time.Time { return c.Now().Add(time.Duration(ahead.Load())) }}})
	b := s.signedIn(adele)
	b.post("/explore", url.Values{"workload": {"teams"}, "point": {"latest"}})
	ahead.Store(int64(31 * time.Minute)) // VB365 stops restore sessions idle for 30 minutes
	sessions := s.veeam.RestoreSessions(demotenant.ID("user", adele))
	r := b.get("/sessions/" + sessions[0].ID)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "This restore session has ended") {
		t.Fatalf("stopped session page: %d", r.StatusCode)
	}
	id, _ := b.explore("teams")
	if id == sessions[0].ID {
		t.Error("a stopped session was reused")
	}
}

func TestExploreRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	for _, form := range []url.Values{
		{"workload": {"fax"}, "point": {"latest"}},
		{"workload": {"exchange"}, "point": {"<script>"}},
		{"workload": {"exchange"}},
	} {
		if r := b.post("/explore", form); r.StatusCode != http.StatusBadRequest {
			t.Errorf("explore %v: %d", form, r.StatusCode)
		}
	}
	if r := b.post("/explore", url.Values{"workload": {"exchange"}, "point": {"no-such-point"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown point: %d", r.StatusCode)
	}
	for _, q := range []string{"?workload=fax", "?month=2026-13", "?day=yesterday", "?workload=exchange&workload=teams"} {
		if r := b.get("/" + q); r.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /%s: %d", q, r.StatusCode)
		}
	}
}

func TestDeepLinkThroughSignIn(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.browser()
	deep := "/?day=" + s.now().UTC().Format("2006-01-02") + "&workload=teams"
	r := b.get(deep)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/auth/login?return_to="+url.QueryEscape(deep) {
		t.Fatalf("signed-out deep link: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := b.signIn(megan, deep); r.Header.Get("Location") != deep {
		t.Fatalf("after sign-in: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	d := b.get(deep).doc(t)
	if d.Find(`.workload-tabs a[aria-current="page"]`).Text() != "Teams" {
		t.Error("the deep link's workload is not shown")
	}
}

func TestSignOutEndsEverything(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(lee)
	id, _ := b.explore("exchange")
	b.explore("sharepoint")
	oldCookies := b.c.Jar.Cookies(mustParse(s.url))

	if r := b.get("/auth/logout"); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /auth/logout: %d, want 405", r.StatusCode)
	}
	r := b.post("/auth/logout?post_logout_redirect_uri=https://evil.example", nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d %s", r.StatusCode, r.body)
	}
	loc := mustParse(r.Header.Get("Location"))
	if loc.Host != mustParse(s.entra.URL()).Host || !strings.HasSuffix(loc.Path, "/oauth2/v2.0/logout") ||
		loc.Query().Get("post_logout_redirect_uri") != s.url+"/signed-out" || loc.Query().Get("client_id") != demotenant.ApplicationID {
		t.Errorf("sign-out goes to %s", loc)
	}
	if got := r.Header.Get("Clear-Site-Data"); got != `"cache", "cookies", "storage"` {
		t.Errorf("Clear-Site-Data = %q", got)
	}
	if !s.veeam.LoggedOut(demotenant.ID("user", lee)) {
		t.Error("the VB365 token was not revoked")
	}
	for _, rs := range s.veeam.RestoreSessions(demotenant.ID("user", lee)) {
		if rs.State != "Stopped" {
			t.Errorf("restore session %s (%s) is %s", rs.ID, rs.Type, rs.State)
		}
	}
	// Entra returns the browser to the signed-out page.
	back := b.get(loc.String())
	if back.Header.Get("Location") != s.url+"/signed-out" {
		t.Fatalf("Entra sent the browser to %q", back.Header.Get("Location"))
	}
	if p := b.get("/signed-out"); !strings.Contains(p.body, "You have signed out") {
		t.Error("no signed-out notice")
	}
	// The old cookie is worthless.
	replay := s.browser()
	replay.c.Jar.SetCookies(mustParse(s.url), oldCookies)
	if r := replay.get("/sessions/" + id); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/auth/login") {
		t.Errorf("old cookie after sign-out: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestHTMXRequestWithoutSessionGetsHXRedirect(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.browser()
	r := b.get("/?workload=teams", "HX-Request: true", "HX-Current-URL: "+s.url+"/?workload=exchange&month=2026-11")
	if r.StatusCode != http.StatusUnauthorized || r.Header.Get("Location") != "" {
		t.Fatalf("status %d, Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	want := "/auth/login?return_to=" + url.QueryEscape("/?month=2026-11&workload=exchange")
	if got := r.Header.Get("HX-Redirect"); got != want {
		t.Errorf("HX-Redirect = %q, want %q", got, want)
	}
}

func TestBackupServerDown(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	s.veeam.Inject(fakeveeam.Fault{Path: "/v8/Organization/LoggedInUser", Status: 503, ErrorCode: "ProxyOffline",
		Message: "secret internal detail"})
	r := b.get("/")
	if r.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d", r.StatusCode)
	}
	d := r.doc(t)
	if h := d.Find("h1").Text(); h != "The backup server is not answering" {
		t.Errorf("heading %q", h)
	}
	if d.Find(`a[href="/"]`).Length() == 0 || d.Find(`a.button:contains("Try again")`).AttrOr("href", "") != "/" {
		t.Error("no retry link")
	}
	if !strings.Contains(r.body, r.Header.Get("X-Request-ID")) {
		t.Error("the page does not show the request id")
	}
	if strings.Contains(r.body, "secret internal detail") || strings.Contains(r.body, "ProxyOffline") {
		t.Error("the backup server's error reached the page")
	}
	// htmx gets an alert swapped into the page's alert region.
	hx := b.get("/?workload=exchange", "HX-Request: true")
	if hx.StatusCode != http.StatusBadGateway || hx.Header.Get("HX-Retarget") != "#alerts" || !strings.Contains(hx.body, `class="alert error"`) {
		t.Errorf("htmx: %d, retarget %q", hx.StatusCode, hx.Header.Get("HX-Retarget"))
	}
	s.veeam.ClearFaults()
	// Those failures opened the circuit breaker: the portal asks again after its cooldown.
	s.clock.Advance(30 * time.Second)
	if r := b.get("/"); r.StatusCode != http.StatusOK {
		t.Errorf("after recovery: %d", r.StatusCode)
	}
}

func TestOneRefreshForParallelRequests(t *testing.T) {
	t.Parallel()
	for _, n := range []int{5, 50} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := startStack(t, stackOptions{})
			b := s.signedIn(adele)
			s.veeam.ExpireAccessTokens()
			var wg sync.WaitGroup
			statuses := make(chan int, n)
			for range n {
				wg.Go(func() { statuses <- b.get("/?workload=exchange", "HX-Request: true").StatusCode })
			}
			wg.Wait()
			close(statuses)
			for st := range statuses {
				if st != http.StatusOK {
					t.Errorf("a request got %d", st)
				}
			}
			if got := s.veeam.TokenRequests("refresh_token"); got != 1 {
				t.Errorf("%d parallel requests made %d refreshes, want 1", n, got)
			}
		})
	}
}

func TestRefusedRefreshFallsBackToEntra(t *testing.T) {
	t.Parallel()
	// Entra access tokens live 2 s here, so the fallback must refresh with Entra too.
	s := startStack(t, stackOptions{entra: fakeentra.Options{AccessTokenLifetime: 2 * time.Second}})
	b := s.signedIn(megan)
	s.veeam.ExpireAccessTokens()
	s.veeam.RevokeRefreshTokens()
	entraCalls, grants := s.entra.TokenRequests(), s.veeam.TokenRequests("operator")
	if r := b.get("/"); r.StatusCode != http.StatusOK {
		t.Fatalf("after VB365 refused its refresh token: %d", r.StatusCode)
	}
	// The Entra token, always due here, is renewed as the request begins
	// and again for the new grant.
	if n := s.entra.TokenRequests() - entraCalls; n < 1 || n > 2 || s.veeam.TokenRequests("operator") != grants+1 {
		t.Errorf("Entra refreshes %d, new grants %d; want 1 or 2, and 1", n, s.veeam.TokenRequests("operator")-grants)
	}

	// Now Entra refuses as well: the user is sent to sign in again, keeping the page.
	s.veeam.ExpireAccessTokens()
	s.veeam.RevokeRefreshTokens()
	s.entra.RevokeRefreshTokens(demotenant.ID("user", megan))
	r := b.get("/?workload=onedrive")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/auth/login?return_to="+url.QueryEscape("/?workload=onedrive") {
		t.Errorf("after both refused: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := b.get("/"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Sign in with Microsoft") {
		t.Error("the session survived")
	}
}

func TestTransientRefreshFailureKeepsTheSession(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	s.veeam.ExpireAccessTokens()
	remove := s.veeam.Inject(fakeveeam.Fault{Path: "/v8/token", Status: 503})
	if r := b.get("/"); r.StatusCode != http.StatusBadGateway {
		t.Errorf("refresh hit a 503: %d", r.StatusCode)
	}
	remove()
	if r := b.get("/"); r.StatusCode != http.StatusOK {
		t.Errorf("once VB365 is back: %d", r.StatusCode)
	}
}

func TestSessionsSurviveARestart(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	id, _ := b.explore("onedrive")
	s.restart()
	r := b.get("/sessions/" + id)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Adele Vance") {
		t.Errorf("after a restart: %d", r.StatusCode)
	}
}

func TestVeeamRefusesTheAccount(t *testing.T) {
	t.Parallel()
	// A tenant user unknown to VB365 signs in to Entra but gets no operator token.
	stranger := fakeentra.User{OID: demotenant.ID("user", "stranger"), Name: "Stranger", UPN: "stranger@contoso.onmicrosoft.com"}
	s := startStack(t, stackOptions{entra: fakeentra.Options{Users: []fakeentra.User{stranger}}})
	b := s.browser()
	r := b.get("/auth/login")
	auth := mustParse(r.Header.Get("Location"))
	form := auth.Query()
	form.Set("account", stranger.OID)
	chosen := b.send(http.MethodPost, auth.Scheme+"://"+auth.Host+auth.Path, form)
	cb := b.get(chosen.Header.Get("Location"))
	if cb.StatusCode != http.StatusForbidden || !strings.Contains(cb.body, "does not let this account restore") {
		t.Errorf("callback: %d", cb.StatusCode)
	}
	if r := b.get("/"); !strings.Contains(r.body, "Sign in with Microsoft") {
		t.Error("a session exists")
	}
}

func TestIDsFromOneSessionAreUselessInAnother(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	owners := map[string]*browser{adele: s.signedIn(adele), lee: s.signedIn(lee), nestor: s.signedIn(nestor)}
	ids := map[string]string{}
	for upn, b := range owners {
		ids[upn], _ = b.explore("exchange")
	}
	for upn, b := range owners {
		for other, id := range ids {
			if other == upn {
				continue
			}
			if r := b.get("/sessions/" + id); r.StatusCode != http.StatusNotFound {
				t.Errorf("%s opening %s's session: %d", upn, other, r.StatusCode)
			}
		}
	}
	// Every call VB365 received carried the token of the user it was made for.
	users := map[string]bool{}
	for _, r := range s.veeam.Requests() {
		if r.Path != "/v8/token" && r.Path != "/v8/RestorePortalSettings" {
			users[r.User] = true
			if r.User == "" {
				t.Errorf("%s %s carried no valid user token", r.Method, r.Path)
			}
		}
	}
	want := []string{demotenant.ID("user", adele), demotenant.ID("user", lee), demotenant.ID("user", nestor)}
	got := make([]string, 0, len(users))
	for u := range users {
		got = append(got, u)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !cmp.Equal(got, want) {
		t.Errorf("VB365 saw users %v", got)
	}
}

func mustParse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}

// TestIdleTimeoutIsExact: use keeps a session alive however short the idle
// timeout; a session unused for the idle timeout, or past its lifetime,
// ends, and the log says it expired, and why.
func TestIdleTimeoutIsExact(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: map[string]string{"PORTAL_IDLE_TIMEOUT": "1m", "PORTAL_SESSION_LIFETIME": "5m"}})
	signedIn := func(b *browser) bool { return strings.Contains(b.get("/").body, "Signed in as") }
	idle := s.signedIn(adele)
	active := s.signedIn(lee)
	for range 4 {
		s.clock.Advance(55 * time.Second)
		if !signedIn(active) {
			t.Fatalf("an active user was signed out:\n%s", grepLines(s.logs.String(), "sign_in"))
		}
	}
	if signedIn(idle) {
		t.Error("a session unused for over the idle timeout lives on")
	}
	if !strings.Contains(s.logs.String(), `"msg":"session_expired","oid":"`+demotenant.Contoso().Users[0].OID) ||
		!strings.Contains(s.logs.String(), `"idle":true`) {
		t.Errorf("the idle end is not logged as expired:\n%s", grepLines(s.logs.String(), "session_"))
	}
	// Past the lifetime (sign-in + 5 min), use does not help.
	for range 2 {
		s.clock.Advance(55 * time.Second)
		signedIn(active)
	}
	if signedIn(active) {
		t.Error("a session lives past its lifetime")
	}
	if !strings.Contains(s.logs.String(), `"idle":false`) {
		t.Errorf("the end of the lifetime is not logged as expired:\n%s", grepLines(s.logs.String(), "session"))
	}
}

// TestSignedOutVisitorsLeaveNoRows: pages seen before signing in, and
// sign-ins started but never finished, store nothing on the server.
func TestSignedOutVisitorsLeaveNoRows(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	for range 20 {
		b := s.browser()
		for _, p := range []string{"/", "/signed-out", "/restores", "/auth/login", "/auth/login?return_to=/restores", "/nope", "/static/css/app.css"} {
			b.get(p)
		}
	}
	s.stop()
	st, err := sqlite.Open(t.Context(), filepath.Join(s.env["PORTAL_DATA_DIR"], "portal.db"), s.now, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, err := st.CountSessions(t.Context()); err != nil || n != 0 {
		t.Errorf("signed-out visitors left %d session rows (%v)", n, err)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
