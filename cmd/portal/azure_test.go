package main

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakevbazure"
)

// connectAzure connects b's portal session to VBAzure as the demo's Nestor
// (a Portal Administrator with MFA), with the code of the stack's clock.
func (b *browser) connectAzure() {
	t := b.s.t
	t.Helper()
	r := b.post("/admin/azure/connect", url.Values{"name": {fakevbazure.DemoOperatorName}, "password": {fakevbazure.DemoOperatorPassword}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/azure/connect/code" {
		t.Fatalf("connect: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	code := fakevbazure.TOTP(fakevbazure.DemoMFASecret, b.s.clock.Now())
	if r := b.post("/admin/azure/connect/code", url.Values{"code": {code}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the code: %d %s", r.StatusCode, r.body)
	}
}

// azureUserURL finds a user's page on the list.
func (b *browser) azureUserURL(name string) string {
	t := b.s.t
	t.Helper()
	href := ""
	doc := b.get("/admin/azure?q=" + url.QueryEscape(name)).doc(t)
	doc.Find("table.azure-users td a").Each(func(_ int, a *goquery.Selection) {
		if strings.TrimSpace(a.Text()) == name {
			href = a.AttrOr("href", "")
		}
	})
	if href == "" {
		t.Fatalf("no user %s on the list", name)
	}
	return href
}

// TestAnAdministratorManagesAzureUsers: Nestor connects with MFA, adds an
// internal user and a person from the directory, changes a role, resets a
// password, turns off someone's MFA, removes a user, exports the list, sets
// up his own MFA anew and changes his password; every step is in the audit
// trail, and no password, code or secret is.
func TestAnAdministratorManagesAzureUsers(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole}})
	b := s.signedIn(nestor)
	if r := b.get("/"); r.doc(t).Find(`nav.site-nav a[href="/admin/azure"]`).Length() != 1 {
		t.Error("no link to the Azure backup users for an administrator")
	}
	page := b.get("/admin/azure")
	if page.StatusCode != http.StatusOK || page.doc(t).Find(`form[action="/admin/azure/connect"]`).Length() != 1 {
		t.Fatalf("not connected: %d %s", page.StatusCode, page.body)
	}
	// A wrong password: the form again, the name kept, the password not.
	r := b.post("/admin/azure/connect", url.Values{"name": {fakevbazure.DemoOperatorName}, "password": {"Wrong-Pass-Word9"}})
	if d := r.doc(t); r.StatusCode != http.StatusUnprocessableEntity || d.Find("#azure-name").AttrOr("value", "") != fakevbazure.DemoOperatorName ||
		!strings.Contains(d.Find("#azure-password-error").Text(), "refused") || strings.Contains(r.body, "Wrong-Pass-Word9") {
		t.Errorf("a wrong password: %d %s", r.StatusCode, d.Find("main").Text())
	}
	// The right one, then a wrong code, then the right code.
	b.post("/admin/azure/connect", url.Values{"name": {fakevbazure.DemoOperatorName}, "password": {fakevbazure.DemoOperatorPassword}})
	if r := b.post("/admin/azure/connect/code", url.Values{"code": {"000000"}}); r.StatusCode != http.StatusUnprocessableEntity ||
		r.doc(t).Find("#azure-code-error").Length() != 1 {
		t.Errorf("a wrong code: %d", r.StatusCode)
	}
	if r := b.post("/admin/azure/connect/code", url.Values{"code": {"12ab"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("not a code: %d", r.StatusCode)
	}
	code := fakevbazure.TOTP(fakevbazure.DemoMFASecret, s.clock.Now())
	if r := b.post("/admin/azure/connect/code", url.Values{"code": {code}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the code: %d %s", r.StatusCode, r.body)
	}
	list := b.get("/admin/azure").doc(t)
	if !strings.Contains(list.Find(".card.connected").Text(), fakevbazure.DemoOperatorName) ||
		list.Find("table.azure-users tbody tr").Length() != len(fakevbazure.DemoUsers()) {
		t.Fatalf("the list: %s", list.Find("main").Text())
	}

	// An internal user: a weak password is explained, nothing typed is lost but the passwords.
	add := url.Values{"kind": {"internal"}, "name": {"night-shift"}, "description": {"Night shift, first line"}, "role": {"RestoreOperator"},
		"password": {"weakpass"}, "confirm": {"weakpass"}}
	r = b.post("/admin/azure/users", add)
	if d := r.doc(t); r.StatusCode != http.StatusUnprocessableEntity || d.Find("#azure-name").AttrOr("value", "") != "night-shift" ||
		d.Find("#azure-password-error").Length() != 1 || d.Find(`#azure-role option[selected]`).AttrOr("value", "") != "RestoreOperator" ||
		strings.Contains(r.body, "weakpass") {
		t.Errorf("a weak password: %d %s", r.StatusCode, d.Find("main").Text())
	}
	add.Set("password", "Night-Shift-Pass7")
	add.Set("confirm", "Night-Shift-Pass7")
	if r := b.post("/admin/azure/users", add); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.StatusCode, r.body)
	}
	if r := b.post("/admin/azure/users", add); r.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(r.doc(t).Find("#azure-name-error").Text(), "exists") {
		t.Errorf("the same name again: %d", r.StatusCode)
	}

	// A person from the directory: searched, picked, added with their object id.
	search := b.post("/admin/azure/users", url.Values{"kind": {"entra"}, "people": {"meg"}, "search": {"1"}, "role": {"RestoreOperator"}})
	picked := search.doc(t).Find(`input[name="person"]`)
	if picked.Length() != 1 || !strings.Contains(search.doc(t).Find(".people").Text(), "Megan Bowen") {
		t.Fatalf("the search: %d %s", search.StatusCode, search.doc(t).Find("main").Text())
	}
	if r := b.post("/admin/azure/users", url.Values{"kind": {"entra"}, "people": {"meg"}, "role": {"RestoreOperator"},
		"person": {demotenant.ID("user", lee)}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an object id the search did not find: %d", r.StatusCode)
	}
	if r := b.post("/admin/azure/users", url.Values{"kind": {"entra"}, "people": {"meg"}, "role": {"RestoreOperator"},
		"person": {picked.AttrOr("value", "")}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add Megan: %d %s", r.StatusCode, r.body)
	}
	meganPage := b.get(b.azureUserURL("MeganB")).doc(t)
	if facts := meganPage.Find("dl.facts").Text(); !strings.Contains(facts, demotenant.ID("user", megan)) || !strings.Contains(facts, "Microsoft Entra ID") {
		t.Errorf("Megan's user: %s", facts)
	}

	// Change a role; reset a password (the Default Admin's password asked for).
	night := b.azureUserURL("night-shift")
	if r := b.post(night, url.Values{"role": {"ReadOnlyUser"}, "description": {"Night shift, reports"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %s", r.StatusCode, r.body)
	}
	if d := b.get(night).doc(t); !strings.Contains(d.Find("dl.facts").Text(), "Read-Only User") {
		t.Errorf("the new role: %s", d.Find("dl.facts").Text())
	}
	if r := b.post(night+"/password", url.Values{"password": {"Night-Shift-Pass8"}, "confirm": {"Night-Shift-Pass8"},
		"admin_password": {"not-the-admins"}}); r.StatusCode != http.StatusUnprocessableEntity ||
		r.doc(t).Find("#azure-admin-password-error").Length() != 1 {
		t.Errorf("a wrong Default Admin password: %d %s", r.StatusCode, r.doc(t).Find("main").Text())
	}
	if r := b.post(night+"/password", url.Values{"password": {"Night-Shift-Pass8"}, "confirm": {"Night-Shift-Pass8"},
		"admin_password": {fakevbazure.DemoAdminPassword}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", r.StatusCode, r.body)
	}

	// Turn off another user's MFA; remove a user, after the page that says what it means.
	reports := b.azureUserURL("backup-reports")
	if d := b.get(reports + "/mfa/disable").doc(t); d.Find(`form[action$="/mfa/disable"] button`).Length() != 1 {
		t.Errorf("the MFA confirmation: %s", d.Find("main").Text())
	}
	if r := b.post(reports+"/mfa/disable", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable MFA: %d %s", r.StatusCode, r.body)
	}
	if d := b.get(reports).doc(t); !strings.Contains(d.Find("dl.facts").Text(), "Off") {
		t.Errorf("MFA after turning it off: %s", d.Find("dl.facts").Text())
	}
	confirm := b.get(night + "/remove").doc(t)
	if !strings.Contains(confirm.Find("main").Text(), "can no longer sign in") {
		t.Errorf("the removal page: %s", confirm.Find("main").Text())
	}
	if r := b.post(night+"/remove", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", r.StatusCode, r.body)
	}
	if r := b.get(night); r.StatusCode != http.StatusNotFound {
		t.Errorf("a removed user's page: %d", r.StatusCode)
	}
	admin := b.azureUserURL(fakevbazure.DemoAdminName)
	if d := b.get(admin + "/remove").doc(t); d.Find(`form[action$="/remove"]`).Length() != 0 {
		t.Error("the Default Admin can be removed")
	}

	// Export, streamed: CSV and XML.
	r = b.post("/admin/azure/export", url.Values{"format": {"csv"}})
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if r.StatusCode != http.StatusOK || err != nil || len(rows) != len(fakevbazure.DemoUsers())+2 || // a header, Megan added, night-shift removed
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("CSV: %d %v %d rows %q", r.StatusCode, err, len(rows), r.Header)
	}
	if r := b.post("/admin/azure/export", url.Values{"format": {"xml"}, "q": {"MeganB"}}); r.StatusCode != http.StatusOK ||
		!strings.Contains(r.body, "<Name>MeganB</Name>") || strings.Contains(r.body, "nestor") {
		t.Errorf("XML: %d %s", r.StatusCode, r.body)
	}

	// His own MFA anew: a QR code drawn by the portal, the key, scratch codes, then a code.
	if r := b.post("/admin/azure/mfa", url.Values{"recreate": {"1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("start MFA: %d %s", r.StatusCode, r.body)
	}
	setup := b.get("/admin/azure/mfa").doc(t)
	secret := strings.ReplaceAll(setup.Find("code.secret").Text(), " ", "")
	if setup.Find("svg.qr path").AttrOr("d", "") == "" || len(secret) < 16 || setup.Find("ul.scratch li").Length() != 5 {
		t.Fatalf("the setup: %s", setup.Find("main").Text())
	}
	if !regexp.MustCompile(`^(M\d+ \d+h1v1h-1z)+$`).MatchString(setup.Find("svg.qr path").AttrOr("d", "")) {
		t.Error("the QR code is not the portal's drawing")
	}
	s.clock.Advance(30 * time.Second)
	if r := b.post("/admin/azure/mfa/accept", url.Values{"code": {fakevbazure.TOTP(secret, s.clock.Now())}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", r.StatusCode, r.body)
	}
	if d := b.get("/admin/azure/mfa").doc(t); d.Find("code.secret").Length() != 0 || !strings.Contains(d.Find("main").Text(), "On") {
		t.Errorf("after the setup: %s", d.Find("main").Text())
	}
	// His own password.
	if r := b.post("/admin/azure/password", url.Values{"current": {fakevbazure.DemoOperatorPassword}, "password": {"Nestor-Backup-Ops8"},
		"confirm": {"Nestor-Backup-Ops8"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("own password: %d %s", r.StatusCode, r.body)
	}

	// Signing out of the portal signs out of VBAzure.
	if !s.azure.SignedIn(fakevbazure.DemoOperatorName) {
		t.Fatal("not signed in to VBAzure")
	}
	b.post("/auth/logout", nil)
	if s.azure.SignedIn(fakevbazure.DemoOperatorName) {
		t.Error("signing out of the portal left the VBAzure sign-in")
	}

	// The audit trail has each step, with whom it was about.
	joni := s.signedIn("JoniS@contoso.onmicrosoft.com")
	var got []string
	for _, row := range auditRows(t, joni, url.Values{"workload": {"vbazure"}}) {
		got = append(got, row["action"]+"/"+row["on_behalf_of"]+"/"+row["outcome"])
	}
	for _, want := range []string{"connect/nestor-wilke/refused", "connect/nestor-wilke/succeeded", "user-add/night-shift/succeeded",
		"user-add/night-shift/refused", "user-add/MeganB/succeeded", "user-change/night-shift/succeeded", "user-password/night-shift/refused",
		"user-password/night-shift/succeeded", "user-mfa-off/backup-reports/succeeded", "user-remove/night-shift/succeeded",
		"export//succeeded", "own-mfa/nestor-wilke/succeeded", "own-password/nestor-wilke/succeeded"} {
		if !strings.Contains(strings.Join(got, " "), want) {
			t.Errorf("the trail lacks %s: %v", want, got)
		}
	}
	csvBody := joni.get("/audit.csv?workload=vbazure").body
	for _, secret := range []string{fakevbazure.DemoOperatorPassword, "Night-Shift-Pass", fakevbazure.DemoAdminPassword, fakevbazure.DemoMFASecret, secret, code} {
		if strings.Contains(csvBody, secret) || strings.Contains(s.logs.String(), secret) {
			t.Errorf("a secret (%.6s…) is in the trail or the logs", secret)
		}
	}
}

// TestOnlyAdministratorsReachTheAzurePages: every route refuses people who
// are not administrators, and does not exist without VBAzure.
func TestOnlyAdministratorsReachTheAzurePages(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	adeleB := s.signedIn(adele)
	id := "0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40"
	routes := azureRoutes(id)
	for _, r := range routes {
		var resp response
		if r.method == http.MethodGet {
			resp = adeleB.get(r.path)
		} else {
			resp = adeleB.post(r.path, url.Values{})
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s as Adele: %d", r.method, r.path, resp.StatusCode)
		}
	}
	if adeleB.get("/").doc(t).Find(`a[href="/admin/azure"]`).Length() != 0 {
		t.Error("a link to the Azure pages for someone who is not an administrator")
	}
	if n := strings.Count(s.logs.String(), `"resource":"vbazure_admin"`); n != len(routes) {
		t.Errorf("%d refusals logged, want %d", n, len(routes))
	}
	// Without VBAzure, the pages are not there at all.
	plain := startStack(t, stackOptions{env: map[string]string{"PORTAL_VBAZURE_URL": "", "PORTAL_VBAZURE_ACCOUNT": "",
		"PORTAL_VBAZURE_PASSWORD": "", "PORTAL_VBAZURE_TOTP_SECRET": ""}})
	n := plain.signedIn(nestor)
	if r := n.get("/admin/azure"); r.StatusCode != http.StatusNotFound {
		t.Errorf("without VBAzure: %d", r.StatusCode)
	}
	if n.get("/").doc(t).Find(`a[href="/admin/azure"]`).Length() != 0 {
		t.Error("a link to the Azure pages without VBAzure")
	}
}

// azureRoute is a route of the Azure administration.
type azureRoute struct{ method, path string }

// azureRoutes lists every route of the Azure administration, for the
// access, CSRF and header tests.
func azureRoutes(id string) []azureRoute {
	u := "/admin/azure/users/" + id
	return []azureRoute{
		{"GET", "/admin/azure"}, {"POST", "/admin/azure/connect"}, {"GET", "/admin/azure/connect/code"}, {"POST", "/admin/azure/connect/code"},
		{"POST", "/admin/azure/disconnect"}, {"GET", "/admin/azure/users/new"}, {"POST", "/admin/azure/users"},
		{"GET", u}, {"POST", u}, {"GET", u + "/password"}, {"POST", u + "/password"}, {"GET", u + "/remove"}, {"POST", u + "/remove"},
		{"GET", u + "/mfa/disable"}, {"POST", u + "/mfa/disable"}, {"GET", "/admin/azure/mfa"}, {"POST", "/admin/azure/mfa"},
		{"POST", "/admin/azure/mfa/accept"}, {"GET", "/admin/azure/password"}, {"POST", "/admin/azure/password"}, {"POST", "/admin/azure/export"},
		{"GET", "/admin/azure/rules"}, {"POST", "/admin/azure/rules"}, {"GET", "/admin/azure/rules/" + id}, {"POST", "/admin/azure/rules/" + id},
		{"POST", "/admin/azure/rules/" + id + "/remove"}, {"GET", "/admin/azure/sessions"}, {"POST", "/admin/azure/sessions/" + id + "/stop"},
	}
}

// TestAzureFailuresAreExplained: VBAzure down, its sign-in ended elsewhere.
func TestAzureFailuresAreExplained(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(nestor)
	b.connectAzure()
	remove := s.azure.Inject(fakevbazure.Fault{Path: "/api/v8.1/users", Status: http.StatusServiceUnavailable})
	r := b.get("/admin/azure")
	if r.StatusCode != http.StatusBadGateway || !strings.Contains(r.body, "not answering") {
		t.Errorf("VBAzure down: %d", r.StatusCode)
	}
	if r := s.browser().get("/readyz"); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readiness with VBAzure down: %d", r.StatusCode)
	}
	remove()
	// Its access token expires while Nestor works elsewhere in the portal: renewed without a word.
	for range 4 {
		s.clock.Advance(16 * time.Minute)
		b.get("/")
	}
	if r := b.get("/admin/azure"); r.StatusCode != http.StatusOK {
		t.Errorf("after the VBAzure token expired: %d", r.StatusCode)
	}
}

// TestAzureGETPagesChangeNothing: the administration's pages only read
// from VBAzure; every change is a POST of the portal's with its token.
func TestAzureGETPagesChangeNothing(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	b := s.signedIn(nestor)
	b.connectAzure()
	lee := b.azureUserURL("LeeG")
	s.azure.ResetRequests()
	for _, r := range azureRoutes(strings.TrimPrefix(lee, "/admin/azure/users/")) {
		if r.method == http.MethodGet {
			if resp := b.get(r.path); resp.StatusCode >= 500 {
				t.Errorf("GET %s: %d", r.path, resp.StatusCode)
			}
		}
	}
	b.get("/admin/azure/users/new?kind=entra&people=meg")
	for _, r := range s.azure.Requests() {
		// The portal's service account signs in when a page first needs it
		// (the VMs the rules match): that changes nothing at VBAzure.
		if r.Method != http.MethodGet && r.Path != "/api/oauth2/token" {
			t.Errorf("a GET page of the portal sent %s %s", r.Method, r.Path)
		}
	}
}
