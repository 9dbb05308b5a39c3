package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakevbazure"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/spectest"
	"github.com/openrestore/portal/internal/wait"
)

func checkSecurityHeaders(t *testing.T, what string, r response) {
	t.Helper()
	h := r.Header
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: CSP %q lacks %s", what, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows unsafe sources: %s", what, csp)
	}
	want := map[string]string{
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s: %s = %q, want %q", what, k, h.Get(k), v)
		}
	}
	for _, k := range []string{"Server", "X-Powered-By", "X-XSS-Protection"} {
		if h.Get(k) != "" {
			t.Errorf("%s: %s = %q", what, k, h.Get(k))
		}
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	anon := s.browser()
	b := s.signedIn(adele)
	id, _ := b.explore("exchange")
	m := b.openMailbox(id, "Adele Vance")
	x := rowsOf(t, m.page)[0]
	odID, _ := b.explore("onedrive")
	od := b.openDocs(odID, "Adele Vance")
	docsFolder := od.open("Documents")
	doc := docRowsOf(t, docsFolder)[len(docRowsOf(t, docsFolder))-1]
	big := url.Values{"workload": {strings.Repeat("x", 1<<20)}}
	admin := s.signedIn(nestor)
	cases := []struct {
		name   string
		r      func() response
		status int
		static bool
	}{
		{"landing", func() response { return anon.get("/") }, 200, false},
		{"signed out", func() response { return anon.get("/signed-out") }, 200, false},
		{"health", func() response { return anon.get("/healthz") }, 200, false},
		{"ready", func() response { return anon.get("/readyz") }, 200, false},
		{"metrics", func() response { return anon.get("/metrics") }, 200, false},
		{"head", func() response { return anon.send(http.MethodHead, "/", nil) }, 200, false},
		{"stylesheet", func() response { return anon.get("/static/css/app.css?v=1") }, 200, true},
		{"script", func() response { return anon.get("/static/js/htmx.min.js") }, 200, true},
		{"static directory", func() response { return anon.get("/static/js/") }, 404, true},
		{"static traversal", func() response { return anon.get("/static/../go.mod") }, 404, true},
		{"unknown page", func() response { return anon.get("/nope") }, 404, false},
		{"wrong method", func() response { return anon.send(http.MethodPut, "/", nil) }, 405, false},
		{"trace", func() response { return anon.send("TRACE", "/", nil) }, 405, false},
		{"login", func() response { return anon.get("/auth/login") }, 302, false},
		{"bad callback", func() response { return anon.get("/auth/callback?state=x&code=y") }, 400, false},
		{"cross-site post", func() response {
			return b.send(http.MethodPost, "/explore", url.Values{}, "Sec-Fetch-Site: cross-site")
		}, 403, false},
		{"oversized body", func() response {
			return b.send(http.MethodPost, "/explore", big, "Sec-Fetch-Site: same-origin")
		}, 413, false},
		{"home", func() response { return b.get("/") }, 200, false},
		{"partial", func() response { return b.get("/?workload=teams", "HX-Request: true") }, 200, false},
		{"session", func() response { return b.get("/sessions/" + id) }, 200, false},
		{"not yours", func() response { return b.get("/sessions/0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40") }, 404, false},
		{"folder", func() response { return b.get(m.page.Request.URL.Path) }, 200, false},
		{"item", func() response { return b.get(x.href, "HX-Request: true") }, 200, false},
		{"search", func() response { return m.search(url.Values{"q": {"plan"}}) }, 200, false},
		{"bad search", func() response { return m.search(url.Values{"advanced": {"("}}) }, 400, false},
		{"wizard", func() response { return b.openWizard(m.base, url.Values{"item": {x.key}}) }, 200, false},
		{"onedrive folder", func() response { return b.get(docsFolder.Request.URL.Path) }, 200, false},
		{"document", func() response { return b.get(doc.href, "HX-Request: true") }, 200, false},
		{"document search", func() response { return b.get(od.base + "/search?q=plan") }, 200, false},
		{"bad document search", func() response { return b.get(od.base + "/search?advanced=(") }, 400, false},
		{"document wizard", func() response { return b.openWizard(od.base, url.Values{"item": {doc.key}}) }, 200, false},
		{"no such node", func() response { return b.get(od.base + "/n/bm9wZQ") }, 404, false},
		{"no such wizard", func() response { return b.get(m.base + "/restore/0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40") }, 404, false},
		{"nothing chosen", func() response { return b.post(m.base+"/restore/new", url.Values{"scope": {"selected"}}) }, 400, false},
		{"restores", func() response { return b.get("/restores") }, 200, false},
		{"audit, not an auditor", func() response { return b.get("/audit") }, 403, false},
		{"scope", func() response { return b.get("/scope?q=a") }, 200, false},
		{"restore list", func() response { return b.get("/restore-list") }, 200, false},
		{"restore list runs", func() response { return b.get("/restore-list/runs", "HX-Request: true") }, 286, false},
		{"audit CSV, not an auditor", func() response { return b.get("/audit.csv") }, 403, false},
		{"no such restore", func() response { return b.get("/restores/0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40") }, 404, false},
		{"Azure users, not an administrator", func() response { return b.get("/admin/azure") }, 403, false},
		{"Azure connect form", func() response { return admin.get("/admin/azure") }, 200, false},
		{"Azure users", func() response { admin.connectAzure(); return admin.get("/admin/azure?q=a") }, 200, false},
		{"Azure new user", func() response { return admin.get("/admin/azure/users/new?kind=entra&people=meg") }, 200, false},
		{"Azure user", func() response { return admin.get(admin.azureUserURL("LeeG")) }, 200, false},
		{"Azure removal", func() response { return admin.get(admin.azureUserURL("LeeG") + "/remove") }, 200, false},
		{"Azure MFA", func() response { return admin.get("/admin/azure/mfa") }, 200, false},
		{"Azure password", func() response { return admin.get("/admin/azure/password") }, 200, false},
		{"Azure no such user", func() response { return admin.get("/admin/azure/users/nope") }, 404, false},
	}
	for _, c := range cases {
		r := c.r()
		if r.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, r.StatusCode, c.status)
		}
		checkSecurityHeaders(t, c.name, r)
		if cc := r.Header.Get("Cache-Control"); !c.static && !strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q", c.name, cc)
		}
	}
	// Versioned static files are cached for a year.
	if cc := anon.get("/static/css/app.css?v=1").Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("static Cache-Control %q", cc)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.browser()
	// A sign-in in progress is a cookie of its own, gone in ten minutes;
	// a visitor has no session.
	r := b.get("/auth/login")
	var logins int
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, "__Host-login-") {
			t.Errorf("unexpected cookie %s before sign-in", c.Name)
			continue
		}
		logins++
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || len(c.Value) < 100 || c.MaxAge != 600 {
			t.Errorf("login cookie %s", c)
		}
	}
	if logins != 1 {
		t.Errorf("%d login cookies for one sign-in", logins)
	}
	r = b.signIn(adele, "/auth/login")
	var found bool
	for _, c := range r.Cookies() {
		switch {
		case strings.HasPrefix(c.Name, "__Host-login-"):
			if c.MaxAge >= 0 {
				t.Errorf("the finished sign-in's cookie stays: %s", c)
			}
		case c.Name == "__Host-session":
			found = true
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || len(c.Value) < 22 {
				t.Errorf("session cookie %s", c)
			}
			if c.MaxAge != 0 || !c.Expires.IsZero() {
				t.Errorf("the session cookie outlives the browser: %s", c)
			}
		default:
			t.Errorf("unexpected cookie %s", c.Name)
		}
	}
	if !found {
		t.Error("no session cookie after sign-in")
	}
}

// csrfRoute is a state-changing route, the form it is sent, and who sends
// it (nil: a newly signed-in browser each time).
type csrfRoute struct {
	path string
	form url.Values
	as   *browser
}

// csrfMatrix sends each route every combination of Sec-Fetch-Site, Origin
// and token: only same-origin requests (or requests without fetch
// metadata from the portal's origin or none) carrying the right token get
// through.
func csrfMatrix(t *testing.T, s *stack, routes []csrfRoute, fresh func() *browser) {
	t.Helper()
	sites := []string{"same-origin", "same-site", "cross-site", "none", ""}
	origins := []string{s.url, "https://evil.example", "null", ""}
	tokens := []string{"valid", "wrong", "missing"}
	for _, route := range routes {
		fixed := ""
		if route.as != nil {
			fixed = route.as.csrf()
		}
		for _, site := range sites {
			for _, origin := range origins {
				for _, tok := range tokens {
					browser, token := route.as, fixed
					if browser == nil {
						browser = fresh()
						token = browser.csrf()
					}
					form := url.Values{}
					for k, v := range route.form {
						form[k] = v
					}
					switch tok {
					case "valid":
						form.Set("csrf_token", token)
					case "wrong":
						wrong := "A" + token[1:]
						if token[0] == 'A' { // 1 in 64 tokens: make sure it differs
							wrong = "B" + token[1:]
						}
						form.Set("csrf_token", wrong)
					}
					var headers []string
					if site != "" {
						headers = append(headers, "Sec-Fetch-Site: "+site)
					}
					if origin != "" {
						headers = append(headers, "Origin: "+origin)
					}
					r := browser.send(http.MethodPost, route.path, form, headers...)
					want := (site == "same-origin" || (site == "" && (origin == s.url || origin == ""))) && tok == "valid"
					if got := r.StatusCode != http.StatusForbidden; got != want {
						t.Errorf("POST %s site=%q origin=%q token=%s: status %d, want pass=%v", route.path, site, origin, tok, r.StatusCode, want)
					}
				}
			}
		}
	}
}

// TestCSRFMatrix sends every state-changing route every combination of
// Sec-Fetch-Site, Origin and token: only same-origin requests (or requests
// without fetch metadata from the portal's origin or none) carrying the
// right token get through. Origin does not count when Sec-Fetch-Site is
// there: under Referrer-Policy no-referrer browsers send "Origin: null" for
// the portal's own forms.
func TestCSRFMatrix(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	x := rowsOf(t, m.page)[0]
	export := m.page.doc(t).Find(`form[action$="/export"]`).AttrOr("action", "")
	odID, _ := b.explore("onedrive")
	od := b.openDocs(odID, "Adele Vance")
	budget := od.open("Documents/Budget")
	doc := findDoc(t, budget, "Q3 budget.xlsx")
	folderPath := budget.Request.URL.Path
	mailWizard := wizardAction(t, b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {x.key}}))
	docWizard := wizardAction(t, b.openWizard(od.base, url.Values{"scope": {"selected"}, "item": {doc.key}}))
	routes := []struct {
		path string
		form url.Values
	}{
		{"/explore", url.Values{"workload": {"exchange"}, "point": {"latest"}}},
		{"/preferences/timezone", url.Values{"tz": {"Europe/Paris"}}},
		{"/scope", url.Values{"type": {"User"}, "id": {demotenant.ID("user", adele)}}},
		{"/scope/clear", url.Values{}},
		{m.base + "/restore-list", url.Values{"item": {x.key}}},
		{od.base + "/restore-list", url.Values{"item": {doc.key}}},
		{"/restore-list/remove", url.Values{"all": {"1"}}},
		{"/restore-list/run", url.Values{"reason": {"csrf"}}},
		{"/sessions/" + sid + "/teams/bm9wZQ/c/bm9wZQ/export", url.Values{"post": {"1"}}},
		{"/sessions/" + sid + "/teams/bm9wZQ/c/bm9wZQ/restore/new", url.Values{"kind": {"channel"}}},
		{"/sessions/" + sid + "/teams/bm9wZQ/restore/new", url.Values{}},
		{"/sessions/" + sid + "/teams/bm9wZQ/tabs/restore/new", url.Values{"tab": {"bm9wZQ"}}},
		{m.base + "/restore/new", url.Values{"scope": {"selected"}, "item": {x.key}}},
		{mailWizard, url.Values{"target": {"folder"}, "folder_name": {"CSRF"}, "confirm": {"1"}}},
		{x.href + "/download", url.Values{"kind": {"msg"}}},
		{m.base + "/download", url.Values{"kind": {"zip"}, "item": {x.key}}},
		{export, url.Values{}},
		{od.base + "/restore/new", url.Values{"scope": {"selected"}, "item": {doc.key}}},
		{docWizard, url.Values{"action": {"keep"}, "confirm": {"1"}}},
		{doc.href + "/download", url.Values{}},
		{folderPath + "/download", url.Values{}},
		{od.base + "/download", url.Values{"item": {doc.key}}},
		{"/auth/logout", url.Values{}},
	}
	// The administrators' routes, as Nestor.
	admin := s.signedIn(nestor)
	for _, r := range azureRoutes("0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40") {
		if r.method == http.MethodPost {
			routes = append(routes, struct {
				path string
				form url.Values
			}{r.path, url.Values{}})
		}
	}
	var guarded []csrfRoute
	for _, r := range routes {
		cr := csrfRoute{path: r.path, form: r.form, as: b}
		switch {
		case r.path == "/auth/logout":
			cr.as = nil // a passing logout ends its session: a new one each time
		case strings.HasPrefix(r.path, "/admin/"):
			cr.as = admin
		}
		guarded = append(guarded, cr)
	}
	csrfMatrix(t, s, guarded, func() *browser { return s.signedIn(adele) })
	if !strings.Contains(s.logs.String(), "malicious_csrf") {
		t.Error("refused forgeries are not logged")
	}
	// The header carries the token too (htmx and fetch).
	r := b.send(http.MethodPost, "/preferences/timezone", url.Values{"tz": {"UTC"}}, "X-CSRF-Token: "+b.csrf(), "Sec-Fetch-Site: same-origin")
	if r.StatusCode != http.StatusNoContent {
		t.Errorf("token in the header: %d", r.StatusCode)
	}
}

func TestGETRoutesChangeNothingUpstream(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(lee)
	id, _ := b.explore("sharepoint")
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Megan Bowen")
	x := rowsOf(t, m.page)[0]
	folder := m.page.Request.URL.Path
	page := m.restore([]string{x.key}, url.Values{"target": {"folder"}, "folder_name": {"GET"}})
	wizard := wizardAction(t, b.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {x.key}}))
	b.waitRestore(page)
	site := b.openDocs(id, "Sales and Marketing")
	lib := site.open("Documents/Campaigns")
	doc := docRowsOf(t, lib)[len(docRowsOf(t, lib))-1]
	odID, _ := b.explore("onedrive")
	od := b.openDocs(odID, "Megan Bowen")
	tmSid, _ := b.explore("teams")
	team := b.openTeam(tmSid, "Sales and Marketing")
	channel := linkNamed(t, team, "table.channel-items a", "General")
	s.veeam.ResetRequests()
	for _, p := range []string{"/", "/?workload=teams", "/?workload=onedrive&month=2026-10", "/sessions/" + id, "/sessions/" + id + "?offset=50",
		"/signed-out", "/readyz", m.base, folder, folder + "?offset=last", folder + "/subfolders", x.href, m.base + "/search?q=rota",
		"/restores", page, site.base, lib.Request.URL.Path, lib.Request.URL.Path + "?offset=last", doc.href, site.base + "/search?q=plan",
		od.base, od.base + "/n/root", od.base + "/search?q=budget&type=Folders", "/audit", "/audit.csv", "/scope", "/scope?q=sales&offset=0", "/restore-list", "/restore-list/runs", "/notices", "/metrics",
		team.Request.URL.Path, channel, channel + "?view=files", channel + "?view=tabs", wizard} {
		got := b.get(p)
		b.get(p, "HX-Request: true")
		// HEAD is answered like GET, without a body.
		if head := b.send(http.MethodHead, p, nil); head.StatusCode != got.StatusCode || head.body != "" ||
			head.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("HEAD %s: %d with %d bytes, GET: %d", p, head.StatusCode, len(head.body), got.StatusCode)
		}
	}
	for _, r := range s.veeam.Requests() {
		// VB365 searches with POST; a search changes nothing.
		if r.Method != http.MethodGet && !strings.HasSuffix(r.Path, "/search") {
			t.Errorf("a GET page caused %s %s", r.Method, r.Path)
		}
	}
}

// TestNoTokenLeaves runs a whole journey and looks for every token and code
// the fakes issued, and the client secret, in what the portal sent the
// browser and in its logs.
func TestNoTokenLeaves(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	var seen []string
	record := func(r response) {
		seen = append(seen, r.body)
		for k, vs := range r.Header {
			seen = append(seen, k+": "+strings.Join(vs, ", "))
		}
	}
	b := s.browser()
	record(b.get("/"))
	signIn := b.get("/auth/login")
	record(signIn)
	auth := mustParse(signIn.Header.Get("Location"))
	form := auth.Query()
	form.Set("account", demotenant.ID("user", adele))
	chosen := b.send(http.MethodPost, auth.Scheme+"://"+auth.Host+auth.Path, form)
	record(b.get(chosen.Header.Get("Location"))) // the callback: the browser's URL holds the code, the answer must not
	record(b.get("/"))
	record(b.get("/?workload=teams", "HX-Request: true"))
	id, page := b.explore("exchange")
	record(page)
	record(b.get("/sessions/"+id, "HX-Request: true"))
	s.veeam.ExpireAccessTokens()
	record(b.get("/"))
	record(b.post("/auth/logout", nil))
	// An administrator connected to VBAzure: its tokens, MFA token, password and code stay on the server too.
	n := s.signedIn(nestor)
	record(n.post("/admin/azure/connect", url.Values{"name": {fakevbazure.DemoOperatorName}, "password": {fakevbazure.DemoOperatorPassword}}))
	record(n.get("/admin/azure/connect/code"))
	record(n.post("/admin/azure/connect/code", url.Values{"code": {fakevbazure.TOTP(fakevbazure.DemoMFASecret, s.clock.Now())}}))
	record(n.get("/admin/azure"))
	record(n.get("/admin/azure/users/new?kind=entra&people=meg"))
	record(n.post("/auth/logout", nil))
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	secrets := append(s.entra.IssuedTokens(), s.veeam.IssuedTokens()...)
	secrets = append(append(secrets, s.azure.IssuedTokens()...), s.entra.ClientSecret(), fakevbazure.DemoOperatorPassword)
	if len(secrets) < 6 {
		t.Fatalf("only %d tokens to look for", len(secrets))
	}
	logs := s.logs.String()
	for _, sec := range secrets {
		for _, text := range seen {
			if strings.Contains(text, sec) {
				t.Errorf("a response carries a token or code: %.40s…", sec)
			}
		}
		if strings.Contains(logs, sec) {
			t.Errorf("the logs carry a token or code: %.40s…", sec)
		}
	}
	for _, marker := range []string{"Bearer ", "Authorization", "code=", "state=", "id_token_hint", "__Host-session="} {
		if strings.Contains(logs, marker) {
			t.Errorf("the logs contain %q", marker)
		}
	}
}

// hostile are names that try to become markup, script or htmx attributes.
var hostile = []string{
	`<script>alert(1)</script>`,
	`"><svg onload=alert(1)>`,
	`' onmouseover='alert(1)`,
	`<div hx-get="/x" hx-trigger="load">x</div>`,
	`javascript:alert(1)`,
	`{{7*7}} ${7*7}`,
	"\u202Eevil\u202C",
	`<img src=x onerror=alert(1)>`,
	`</title><script>alert(1)</script>`,
}

func TestHostileNamesRenderAsText(t *testing.T) {
	t.Parallel()
	tenant := demotenant.Contoso()
	me := &tenant.Users[0] // Adele
	me.DisplayName = hostile[0]
	tenant.Teams[0].DisplayName = hostile[1]
	tenant.Teams[0].Description = hostile[3]
	tenant.Teams[2].DisplayName = hostile[2]
	// Nestor sees everyone, so every hostile name appears on his pages.
	nestor := &tenant.Users[7]
	for i, h := range hostile[4:] {
		tenant.Users[8+i].DisplayName = h
	}
	tenant.Sites[0].Title = hostile[6]
	tenant.Groups[1].DisplayName = hostile[7]
	users := []fakeentra.User{{OID: me.OID, Name: me.DisplayName, UPN: me.UPN}, {OID: nestor.OID, Name: nestor.DisplayName, UPN: nestor.UPN}}
	s := startStack(t, stackOptions{veeam: fakeveeam.Options{Tenant: &tenant}, entra: fakeentra.Options{Users: users}})

	var pages []response
	for _, upn := range []string{me.UPN, nestor.UPN} {
		b := s.signedIn(upn)
		pages = append(pages, b.get("/"), b.get("/scope"))
		for _, w := range []string{"exchange", "onedrive", "sharepoint", "teams"} {
			_, p := b.explore(w)
			pages = append(pages, p)
		}
	}
	for i, p := range pages {
		checkNoInjectedMarkup(t, i, p.body)
	}
	// The names are there, as text.
	all := ""
	for _, p := range pages {
		all += p.doc(t).Text()
	}
	for _, h := range hostile {
		// Bidi controls are shown, neutralised, as [U+202E].
		h = strings.NewReplacer("\u202E", "[U+202E]", "\u202C", "[U+202C]").Replace(h)
		if !strings.Contains(all, h) {
			t.Errorf("the name %q is not shown", h)
		}
	}
}

// checkNoInjectedMarkup parses a page and fails on any script, event handler
// or htmx attribute that the portal's templates do not produce.
func checkNoInjectedMarkup(t *testing.T, page int, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "svg":
				// The templates' icons: decoration with a fixed set of attributes.
				for _, a := range n.Attr {
					if !slices.Contains([]string{"class", "viewBox", "width", "height", "aria-hidden", "focusable"}, a.Key) ||
						(a.Key == "class" && a.Val != "icon") {
						t.Errorf("page %d: injected <svg %s=%q>", page, a.Key, a.Val)
					}
				}
			case "img", "iframe", "object", "embed", "foreignobject", "use", "image", "a" + "nimate", "set":
				t.Errorf("page %d: injected <%s>", page, n.Data)
			case "script":
				src := ""
				for _, a := range n.Attr {
					if a.Key == "src" {
						src = a.Val
					}
				}
				if !strings.HasPrefix(src, "/static/js/") {
					t.Errorf("page %d: injected <script src=%q>", page, src)
				}
			}
			for _, a := range n.Attr {
				switch {
				case strings.HasPrefix(a.Key, "on"):
					t.Errorf("page %d: injected %s= on <%s>", page, a.Key, n.Data)
				case a.Key == "hx-trigger":
					// The folder tree's toggles and the restore progress poll.
					if !(a.Val == "click once" && n.Data == "button") && !(a.Val == "every 2s" && n.Data == "section") &&
						!(a.Val == "every 15s" && n.Data == "div") {
						t.Errorf("page %d: injected hx-trigger=%q on <%s>", page, a.Val, n.Data)
					}
				case strings.HasPrefix(a.Key, "hx-get") || a.Key == "href":
					if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") || (a.Val != "" && !strings.HasPrefix(a.Val, "/") && !strings.HasPrefix(a.Val, "#")) {
						t.Errorf("page %d: %s=%q on <%s>", page, a.Key, a.Val, n.Data)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

// TestOpenRedirectPayloadsEndAtHome signs in with each of oauth2-proxy's 559
// open-redirect payloads (raw and unescaped) as return_to: every sign-in must end at "/".
func TestOpenRedirectPayloadsEndAtHome(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(spectest.SharedDir(t), "security", "openredirects.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var payloads []string
	for _, p := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		payloads = append(payloads, p)
		if u, err := url.QueryUnescape(p); err == nil && u != p {
			payloads = append(payloads, u)
		}
	}
	s := startStack(t, stackOptions{})
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for p := range jobs {
				b := s.browser()
				r := b.get("/auth/login?return_to=" + url.QueryEscape(p))
				auth := mustParse(r.Header.Get("Location"))
				form := auth.Query()
				form.Set("account", demotenant.ID("user", adele))
				chosen := b.send(http.MethodPost, auth.Scheme+"://"+auth.Host+auth.Path, form)
				cb := b.get(chosen.Header.Get("Location"))
				if cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "/" {
					t.Errorf("return_to %q: %d to %q", p, cb.StatusCode, cb.Header.Get("Location"))
				}
			}
		})
	}
	for _, p := range payloads {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d payloads refused", len(payloads))
}

func TestConfigurationProblemsAreAllListed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
		n    int // problems expected
	}{
		{"nothing set", map[string]string{"PORTAL_ADDR": "0.0.0.0:8080"},
			[]string{"PORTAL_PUBLIC_URL is required", "PORTAL_VEEAM_URL is required", "credential is required"}, 3},
		{"insecure and multi-tenant", map[string]string{
			"PORTAL_PUBLIC_URL": "http://restore.example.com", "PORTAL_VEEAM_URL": "http://vb365.example.com:4443",
			"PORTAL_CLIENT_SECRET": "s", "PORTAL_AUTHORITY": "https://login.microsoftonline.com/common",
			"PORTAL_CLIENT_ID": "not-a-guid", "PORTAL_IDLE_TIMEOUT": "forever", "PORTAL_SESSION_STORE": "redis",
			"PORTAL_TRUSTED_PROXIES": "10.0.0.0/33", "PORTAL_VEEAM_CA_FILE": "/nonexistent/ca.pem",
		}, []string{"PORTAL_PUBLIC_URL", "must use https", "PORTAL_VEEAM_URL", "multi-tenant", "PORTAL_CLIENT_ID",
			"PORTAL_IDLE_TIMEOUT", "PORTAL_SESSION_STORE", "PORTAL_TRUSTED_PROXIES", "PORTAL_VEEAM_CA_FILE"}, 8},
		{"two secrets", map[string]string{"PORTAL_VEEAM_URL": "https://vb365.example.com", "PORTAL_CLIENT_SECRET": "a", "PORTAL_CLIENT_SECRET_FILE": "/x"},
			[]string{"not both"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["PORTAL_DATA_DIR"] = t.TempDir()
			var out strings.Builder
			err := run(context.Background(), nil, func(k string) string { return tt.env[k] }, &out, time.Now)
			var ce errConfig
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not mention %q:\n%v", w, err)
				}
			}
			if len(ce) != tt.n {
				t.Errorf("%d problems listed, want %d:\n%v", len(ce), tt.n, err)
			}
		})
	}
}

func TestPrintConfigRedactsTheSecret(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	env := map[string]string{"PORTAL_VEEAM_URL": "https://vb365.example.com:4443", "PORTAL_CLIENT_SECRET": "super-secret-value", "PORTAL_DATA_DIR": t.TempDir()}
	if err := run(context.Background(), []string{"-print-config"}, func(k string) string { return env[k] }, &out, time.Now); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "super-secret-value") || !strings.Contains(out.String(), "(set, redacted)") {
		t.Errorf("printed:\n%s", out.String())
	}
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: map[string]string{"PORTAL_DRAIN_DELAY": "300ms"}})
	b := s.signedIn(adele)
	s.veeam.Inject(fakeveeam.Fault{Path: "/v8/Organization/LoggedInUser/EffectiveScope", Delay: 700 * time.Millisecond})
	var wg sync.WaitGroup
	var status int
	wg.Go(func() { status = b.get("/").StatusCode })
	wait.For(t, "the request to be in flight", func() bool { return s.veeam.InFlight("GET", "/v8/Organization/LoggedInUser/EffectiveScope") == 1 })
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	// While draining, readiness fails so that load balancers move away.
	wait.For(t, "/readyz to fail while shutting down", func() bool {
		return s.browser().get("/readyz").StatusCode == http.StatusServiceUnavailable
	})
	wg.Wait()
	if status != http.StatusOK {
		t.Errorf("the in-flight request got %d", status)
	}
	if err := <-stopped; err != nil {
		t.Errorf("run returned %v", err)
	}
}

func TestReadinessFollowsTheBackupServer(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	s.veeam.Inject(fakeveeam.Fault{Path: "/v8/RestorePortalSettings", Status: 503})
	r := s.browser().get("/readyz")
	if r.StatusCode != http.StatusServiceUnavailable || strings.TrimSpace(r.body) != "not ready" {
		t.Errorf("readyz with the backup server down: %d %q", r.StatusCode, r.body)
	}
	if r := s.browser().get("/healthz"); r.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", r.StatusCode)
	}
}

func TestDemoMode(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": t.TempDir(), "PORTAL_LOG_FORMAT": "json"}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-demo"}, func(k string) string { return env[k] }, logs, testClock(t).Now)
	}()
	defer func() { cancel(); <-done }()
	var portal string
	wait.For(t, "the whole demo banner", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if rest, ok := strings.CutPrefix(line, "Restore portal demo: open "); ok {
				portal = strings.TrimSpace(rest)
			}
		}
		return portal != "" && strings.Contains(logs.String(), "Press Ctrl+C to stop.")
	})
	for _, want := range []string{"Adele Vance", "Lee Gu", "Nestor Wilke", "Fake Entra ID issuer", "100,000 messages"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the banner lacks %q", want)
		}
	}
	s := &stack{t: t, url: portal}
	b := s.browser()
	d := b.get("/").doc(t)
	if d.Find(".demo-banner").Length() != 1 {
		t.Error("no DEMO banner")
	}
	r := b.get("/auth/login")
	if r.StatusCode != http.StatusFound || !strings.Contains(r.Header.Get("Location"), "/oauth2/v2.0/authorize") {
		t.Errorf("sign-in: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	picker := b.get(r.Header.Get("Location"))
	names := texts(picker.doc(t), "button.account .name")
	if len(names) < 7 {
		t.Errorf("the sign-in page lists %v", names)
	}
}

// TestAnswersGoWritesItself: net/http answers requests it cannot parse
// (400) and headers over MaxHeaderBytes (431) before any handler runs, so
// no middleware can add the security headers. This test shows why that is
// safe: the answers are constant plain text, reflect nothing of the
// request, and close the connection.
func TestAnswersGoWritesItself(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	addr := strings.TrimPrefix(s.url, "http://")
	hostile := "<script>alert(1)</script>"
	for _, c := range []struct {
		name, request, status, body string
	}{
		{"malformed request line", "GET /" + hostile + " HTTP/1.1 extra\r\nHost: x\r\n\r\n", "400 Bad Request", "400 Bad Request"},
		{"malformed header", "GET / HTTP/1.1\r\nHost: x\r\n" + hostile + "\r\n\r\n", "400 Bad Request", "400 Bad Request"},
		{"headers too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 128<<10) + "\r\n\r\n", "431 Request Header Fields Too Large", "431 Request Header Fields Too Large"},
		{"unknown transfer encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + "gzip" + "\r\n\r\n", "501 Not Implemented", "Unsupported transfer encoding"},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		conn.Write([]byte(c.request))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.Status != c.status || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || !resp.Close {
			t.Errorf("%s: %s, %q, close %v", c.name, resp.Status, resp.Header.Get("Content-Type"), resp.Close)
		}
		if string(body) != c.body {
			t.Errorf("%s: body %q", c.name, body)
		}
		if len(resp.Header) != 1 { // Content-Type; Connection: close is resp.Close
			t.Errorf("%s: headers %v", c.name, resp.Header)
		}
	}
}

// TestHalfOpenConnections: 500 connections that send half a request do
// not keep the portal from answering, and each is closed once
// ReadHeaderTimeout (5 s) is over.
func TestHalfOpenConnections(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	addr := strings.TrimPrefix(s.url, "http://")
	conns := make([]net.Conn, 0, 500)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 500 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "))
		conns = append(conns, c)
	}
	if r := s.browser().get("/healthz"); r.StatusCode != http.StatusOK {
		t.Errorf("with 500 half-open connections, /healthz: %d", r.StatusCode)
	}
	var closed sync.WaitGroup
	for _, c := range conns {
		closed.Go(func() {
			c.SetReadDeadline(time.Now().Add(wait.Deadline))
			io.Copy(io.Discard, c) // ends when the server closes it (or at the deadline, an error)
		})
	}
	done := make(chan struct{})
	go func() { closed.Wait(); close(done) }()
	wait.For(t, "the server to close the half-open connections", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	for _, c := range conns {
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a half-open connection is still open: %v", err)
		}
	}
}
