package fakevbazure_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openrestore/portal/fakevbazure"
	"github.com/openrestore/portal/internal/clock"
	"github.com/openrestore/portal/internal/spectest"
)

// fixture is a fake on a settable clock, and a client whose every exchange
// is checked against the VBAzure document.
type fixture struct {
	t     *testing.T
	s     *fakevbazure.Server
	clock *clock.Clock
	hc    *http.Client
}

func start(t *testing.T, checkRequests bool) *fixture {
	t.Helper()
	return startWith(t, checkRequests, fakevbazure.Options{})
}

func startWith(t *testing.T, checkRequests bool, opts fakevbazure.Options) *fixture {
	t.Helper()
	spec := spectest.LoadVBAzure(t)
	c := clock.Starting(clock.TestStart)
	opts.Now = c.Now
	s, err := fakevbazure.Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rt := spec.Transport(t, http.DefaultTransport)
	if !checkRequests {
		rt = spec.ResponseTransport(t, http.DefaultTransport)
	}
	return &fixture{t: t, s: s, clock: c, hc: &http.Client{Transport: rt}}
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("%d %s: %v", a.status, a.body, err)
	}
}

// problem is the RFC 7807 document of a failure answer.
func (a answer) problem(t *testing.T) (detail string, errs map[string][]string) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("a %d answer of type %q", a.status, ct)
	}
	var p struct {
		Status int                 `json:"status"`
		Detail string              `json:"detail"`
		Errors map[string][]string `json:"errors"`
	}
	a.json(t, &p)
	if p.Status != a.status {
		t.Errorf("the problem says %d, the answer is %d", p.Status, a.status)
	}
	return p.Detail, p.Errors
}

func (f *fixture) do(method, path, token string, body any, headers ...string) answer {
	f.t.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		r, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, _ := json.Marshal(b)
		r, ct = bytes.NewReader(raw), "application/json"
	}
	req, _ := http.NewRequest(method, f.s.URL()+path, r)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

type login struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	MFAEnabled   bool   `json:"mfa_enabled"`
	MFAToken     string `json:"mfa_token"`
	UserID       string `json:"userId"`
	RoleName     string `json:"roleName"`
}

func (f *fixture) signIn(name, password string) login {
	f.t.Helper()
	a := f.do("POST", "/api/oauth2/token", "", url.Values{"grant_type": {"Password"}, "username": {name}, "password": {password}})
	if a.status != http.StatusOK {
		f.t.Fatalf("sign in as %s: %d %s", name, a.status, a.body)
	}
	var l login
	a.json(f.t, &l)
	return l
}

// admin signs in as the Default Admin.
func (f *fixture) admin() string {
	return f.signIn(fakevbazure.DemoAdminName, fakevbazure.DemoAdminPassword).AccessToken
}

type userRep struct {
	ID                       string  `json:"id"`
	Name                     string  `json:"name"`
	Description              string  `json:"description"`
	Role                     string  `json:"role"`
	Type                     string  `json:"type"`
	IdentityProviderEntityID *string `json:"identityProviderEntityId"`
	MFAEnabled               bool    `json:"mfaEnabled"`
	IsDefault                bool    `json:"isDefault"`
}

func (f *fixture) users(token, query string) (list []userRep, total int) {
	f.t.Helper()
	a := f.do("GET", "/api/v8.1/users"+query, token, nil)
	if a.status != http.StatusOK {
		f.t.Fatalf("list: %d %s", a.status, a.body)
	}
	var page struct {
		TotalCount int       `json:"totalCount"`
		Results    []userRep `json:"results"`
	}
	a.json(f.t, &page)
	return page.Results, page.TotalCount
}

func (f *fixture) find(token, name string) userRep {
	f.t.Helper()
	list, _ := f.users(token, "?NameFilter="+url.QueryEscape(name))
	for _, u := range list {
		if u.Name == name {
			return u
		}
	}
	f.t.Fatalf("no user %s", name)
	return userRep{}
}

// TestEveryOperation walks every operation of the Users section and the
// sign-in through both API versions, every exchange checked against the
// document.
func TestEveryOperation(t *testing.T) {
	t.Parallel()
	for _, v := range fakevbazure.Versions {
		t.Run(v, func(t *testing.T) {
			f := start(t, true)
			base := "/api/" + v + "/users"
			admin := f.admin()
			all, total := f.users(admin, "?Limit=-1")
			if total != len(all) || total < 6 {
				t.Fatalf("%d users of %d", len(all), total)
			}
			page, _ := f.users(admin, "?Offset=1&Limit=2")
			if len(page) != 2 || page[0].ID != all[1].ID {
				t.Errorf("a page: %+v", page)
			}
			def := f.find(admin, fakevbazure.DemoAdminName)
			if !def.IsDefault || def.Role != "PortalAdmin" || def.IdentityProviderEntityID != nil {
				t.Errorf("the Default Admin: %+v", def)
			}

			// Add an internal user and an Entra one.
			a := f.do("POST", base, admin, map[string]any{"name": "night-shift", "description": "Night shift, first line",
				"role": "RestoreOperator", "type": "Internal", "password": "Night-Shift-Pass7"})
			if a.status != http.StatusCreated {
				t.Fatalf("add: %d %s", a.status, a.body)
			}
			var night userRep
			a.json(t, &night)
			megan := "4f7a5e1c-2b3d-4c5e-8f9a-0b1c2d3e4f5a"
			if a := f.do("POST", base, admin, map[string]any{"name": "MeganB", "description": "Megan Bowen",
				"role": "RestoreOperator", "type": "IdentityProvider", "identityProviderEntityId": megan}); a.status != http.StatusCreated {
				t.Fatalf("add an Entra user: %d %s", a.status, a.body)
			}
			if u := f.find(admin, "MeganB"); u.Type != "IdentityProvider" || u.IdentityProviderEntityID == nil || *u.IdentityProviderEntityID != megan {
				t.Errorf("the Entra user: %+v", u)
			}
			var got userRep
			f.do("GET", base+"/"+night.ID, admin, nil).json(t, &got)
			if got.Name != "night-shift" || got.Role != "RestoreOperator" || got.MFAEnabled {
				t.Errorf("read back: %+v", got)
			}
			// Modify it, and reset its password with the Default Admin's.
			a = f.do("PUT", base+"/"+night.ID, admin, map[string]any{"role": "ReadOnlyUser", "description": "Night shift, reports"})
			if a.status != http.StatusOK {
				t.Fatalf("modify: %d %s", a.status, a.body)
			}
			if a := f.do("POST", base+"/"+night.ID+"/changePassword", admin, map[string]any{"newPassword": "Night-Shift-Pass8",
				"adminsPassword": fakevbazure.DemoAdminPassword}); a.status != http.StatusNoContent {
				t.Fatalf("reset password: %d %s", a.status, a.body)
			}
			own := f.signIn("night-shift", "Night-Shift-Pass8")
			if a := f.do("POST", base+"/changePassword", own.AccessToken, map[string]any{"currentPassword": "Night-Shift-Pass8",
				"newPassword": "Night-Shift-Pass9"}); a.status != http.StatusNoContent {
				t.Fatalf("own password: %d %s", a.status, a.body)
			}
			// MFA: set up on one's own account, then sign in with a code.
			a = f.do("POST", base+"/"+night.ID+"/enableMfa", own.AccessToken, map[string]any{"recreate": false})
			var setup struct {
				QRString, SecretKey, Token string
				ScratchCodes               []string
			}
			a.json(t, &setup)
			if a.status != http.StatusOK || !strings.HasPrefix(setup.QRString, "otpauth://totp/") || !strings.Contains(setup.QRString, setup.SecretKey) ||
				len(setup.ScratchCodes) != 5 {
				t.Fatalf("enable MFA: %d %s", a.status, a.body)
			}
			if a := f.do("POST", base+"/"+night.ID+"/acceptMfa", own.AccessToken, map[string]any{"code": fakevbazure.TOTP(setup.SecretKey, f.clock.Now()),
				"token": setup.Token}); a.status != http.StatusNoContent {
				t.Fatalf("accept MFA: %d %s", a.status, a.body)
			}
			f.clock.Advance(30 * time.Second)
			first := f.signIn("night-shift", "Night-Shift-Pass9")
			if !first.MFAEnabled || first.MFAToken == "" || first.AccessToken != "" {
				t.Fatalf("a sign-in with MFA: %+v", first)
			}
			a = f.do("POST", "/api/oauth2/token", "", url.Values{"grant_type": {"Mfa"}, "mfa_token": {first.MFAToken},
				"mfa_code": {fakevbazure.TOTP(setup.SecretKey, f.clock.Now())}})
			var second login
			a.json(t, &second)
			if a.status != http.StatusOK || second.AccessToken == "" || second.ExpiresIn != 3600 {
				t.Fatalf("the code: %d %s", a.status, a.body)
			}
			if a := f.do("POST", base+"/"+night.ID+"/disableMfa", admin, nil); a.status != http.StatusNoContent {
				t.Fatalf("disable MFA: %d %s", a.status, a.body)
			}
			// Export, as CSV and as XML.
			a = f.do("POST", base+"/export", admin, map[string]any{"nameFilter": "night"})
			rows, err := csv.NewReader(bytes.NewReader(a.body)).ReadAll()
			if a.status != http.StatusOK || err != nil || len(rows) != 2 || rows[1][0] != "night-shift" || rows[1][2] != "ReadOnlyUser" {
				t.Errorf("CSV: %d %q %v", a.status, a.body, err)
			}
			a = f.do("POST", base+"/export", admin, map[string]any{"userIds": []string{night.ID, def.ID}}, "Accept: application/xml")
			var x struct {
				Users []struct{ Name string } `xml:"User"`
			}
			if err := xml.Unmarshal(a.body, &x); a.status != http.StatusOK || err != nil || len(x.Users) != 2 {
				t.Errorf("XML: %d %s %v", a.status, a.body, err)
			}
			// Remove it: its sign-ins end.
			if a := f.do("DELETE", base+"/"+night.ID, admin, nil); a.status != http.StatusNoContent {
				t.Fatalf("remove: %d %s", a.status, a.body)
			}
			if a := f.do("GET", base+"/"+night.ID, admin, nil); a.status != http.StatusNotFound {
				t.Errorf("a removed user: %d", a.status)
			}
			if a := f.do("POST", base+"/changePassword", second.AccessToken, map[string]any{"currentPassword": "x", "newPassword": "y"}); a.status != http.StatusUnauthorized {
				t.Errorf("a removed user's token: %d", a.status)
			}
			// Refresh, then sign out.
			l := f.signIn(fakevbazure.DemoAdminName, fakevbazure.DemoAdminPassword)
			a = f.do("POST", "/api/oauth2/token", "", url.Values{"grant_type": {"Refresh_token"}, "refresh_token": {l.RefreshToken}})
			var renewed login
			a.json(t, &renewed)
			if a.status != http.StatusOK || renewed.AccessToken == l.AccessToken {
				t.Fatalf("refresh: %d %s", a.status, a.body)
			}
			if a := f.do("DELETE", "/api/oauth2/token", renewed.AccessToken, nil); a.status != http.StatusNoContent {
				t.Fatalf("sign out: %d", a.status)
			}
			if a := f.do("GET", base, renewed.AccessToken, nil); a.status != http.StatusUnauthorized {
				t.Errorf("a signed-out token: %d", a.status)
			}
		})
	}
}

// TestTheRules: what the product refuses, with a problem document that
// says which field and why.
func TestTheRules(t *testing.T) {
	t.Parallel()
	f := start(t, false)
	admin := f.admin()
	add := func(body map[string]any) (int, map[string][]string) {
		a := f.do("POST", "/api/v8.1/users", admin, body)
		if a.status == http.StatusCreated {
			return a.status, nil
		}
		_, errs := a.problem(t)
		return a.status, errs
	}
	good := func(changes map[string]any) map[string]any {
		b := map[string]any{"name": "rule-test", "description": "Rules", "role": "ReadOnlyUser", "type": "Internal", "password": "Good-Pass-Word7"}
		for k, v := range changes {
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"a name of 33 characters", good(map[string]any{"name": strings.Repeat("a", 33)}), "name"},
		{"a name with a dot", good(map[string]any{"name": "rule.test"}), "name"},
		{"a name with a space", good(map[string]any{"name": "rule test"}), "name"},
		{"an empty name", good(map[string]any{"name": ""}), "name"},
		{"a name taken (other case)", good(map[string]any{"name": "VBAZURE-ADMIN"}), "name"},
		{"a description with a semicolon", good(map[string]any{"description": "a; b"}), "description"},
		{"a short password", good(map[string]any{"password": "Ab1-xyz"}), "password"},
		{"a password without digits", good(map[string]any{"password": "Only-Letters-Here"}), "password"},
		{"a password without capitals", good(map[string]any{"password": "lower-case-only7"}), "password"},
		{"a password with a run", good(map[string]any{"password": "Pass-1234-Word"}), "password"},
		{"a password with a falling run", good(map[string]any{"password": "Pass-dcba-Word7"}), "password"},
		{"no password", good(map[string]any{"password": nil}), "password"},
		{"a product role", good(map[string]any{"role": "VeeamUpdater"}), "role"},
		{"an Entra user without its id", good(map[string]any{"type": "IdentityProvider", "password": nil}), "identityProviderEntityId"},
		{"an Entra user with a password", good(map[string]any{"type": "IdentityProvider", "identityProviderEntityId": "4f7a5e1c-2b3d-4c5e-8f9a-0b1c2d3e4f5a"}), "password"},
	} {
		if status, errs := add(tc.body); status != http.StatusBadRequest || len(errs[tc.field]) == 0 {
			t.Errorf("%s: %d %v", tc.name, status, errs)
		}
	}
	if status, errs := add(good(nil)); status != http.StatusCreated {
		t.Fatalf("a good user: %d %v", status, errs)
	}
	if a := f.do("POST", "/api/v8.1/users", admin, "not an object"); a.status != http.StatusBadRequest {
		t.Errorf("a body that is no user: %d", a.status)
	}
	a := f.do("POST", "/api/v8.1/users", admin, nil)
	if a.status != http.StatusUnsupportedMediaType {
		t.Errorf("no JSON: %d", a.status)
	}
	def := f.find(admin, fakevbazure.DemoAdminName)
	if a := f.do("DELETE", "/api/v8.1/users/"+def.ID, admin, nil); a.status != http.StatusBadRequest {
		t.Errorf("removing the Default Admin: %d", a.status)
	} else if d, _ := a.problem(t); !strings.Contains(d, "Default Admin") {
		t.Errorf("why: %q", d)
	}
	if a := f.do("PUT", "/api/v8.1/users/"+def.ID, admin, map[string]any{"role": "ReadOnlyUser"}); a.status != http.StatusBadRequest {
		t.Errorf("demoting the Default Admin: %d", a.status)
	}
	helpdesk := f.find(admin, "helpdesk-restore")
	if a := f.do("POST", "/api/v8.1/users/"+helpdesk.ID+"/changePassword", admin, map[string]any{"newPassword": "Fresh-Pass-Word5",
		"adminsPassword": "not-it"}); a.status != http.StatusBadRequest {
		t.Errorf("a wrong Default Admin password: %d", a.status)
	} else if _, errs := a.problem(t); len(errs["adminsPassword"]) == 0 {
		t.Errorf("the field: %v", errs)
	}
	lee := f.find(admin, "LeeG")
	if a := f.do("POST", "/api/v8.1/users/"+lee.ID+"/changePassword", admin, map[string]any{"newPassword": "Fresh-Pass-Word5",
		"adminsPassword": fakevbazure.DemoAdminPassword}); a.status != http.StatusBadRequest {
		t.Errorf("a password for an Entra user: %d", a.status)
	}
	if a := f.do("GET", "/api/v8.1/users/not-an-id", admin, nil); a.status != http.StatusNotFound {
		t.Errorf("an unknown id: %d", a.status)
	}
	if a := f.do("GET", "/api/v8.1/users?Limit=-2", admin, nil); a.status != http.StatusBadRequest {
		t.Errorf("a bad limit: %d", a.status)
	}
}

// TestOnlyAPortalAdministratorManagesUsers: every user route refuses
// other roles (403) and everyone without a token (401).
func TestOnlyAPortalAdministratorManagesUsers(t *testing.T) {
	t.Parallel()
	f := start(t, false)
	admin := f.admin()
	helpdesk := f.find(admin, "helpdesk-restore")
	reports := f.find(admin, "backup-reports")
	operator := f.signIn("helpdesk-restore", "Helpdesk-Contoso-Fix8").AccessToken
	body := map[string]any{}
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v8.1/users"}, {"POST", "/api/v8.1/users"}, {"POST", "/api/v8.1/users/export"},
		{"GET", "/api/v8.1/users/" + reports.ID}, {"PUT", "/api/v8.1/users/" + reports.ID}, {"DELETE", "/api/v8.1/users/" + reports.ID},
		{"POST", "/api/v8.1/users/" + reports.ID + "/changePassword"}, {"POST", "/api/v8.1/users/" + reports.ID + "/disableMfa"},
		{"POST", "/api/v8.1/users/" + reports.ID + "/enableMfa"}, {"POST", "/api/v8.1/users/" + reports.ID + "/acceptMfa"},
	} {
		if a := f.do(r.method, r.path, operator, body); a.status != http.StatusForbidden {
			t.Errorf("%s %s as a Restore Operator: %d", r.method, r.path, a.status)
		} else {
			a.problem(t)
		}
		if a := f.do(r.method, r.path, "", body); a.status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d", r.method, r.path, a.status)
		}
	}
	// One's own user, and one's own MFA, are anyone's.
	if a := f.do("GET", "/api/v8.1/users/"+helpdesk.ID, operator, nil); a.status != http.StatusOK {
		t.Errorf("one's own user: %d", a.status)
	}
	if a := f.do("POST", "/api/v8.1/users/"+helpdesk.ID+"/enableMfa", operator, map[string]any{}); a.status != http.StatusOK {
		t.Errorf("one's own MFA: %d", a.status)
	}
	// An administrator sets up no one else's MFA: the secret would be theirs.
	if a := f.do("POST", "/api/v8.1/users/"+helpdesk.ID+"/enableMfa", admin, map[string]any{}); a.status != http.StatusForbidden {
		t.Errorf("another's MFA set up by an administrator: %d", a.status)
	}
}

// TestMFASignIn: a wrong code, an old one, a used one, a scratch code
// twice, too many tries, an expired sign-in.
func TestMFASignIn(t *testing.T) {
	t.Parallel()
	f := start(t, false)
	withCode := func(tok, code string) int {
		return f.do("POST", "/api/oauth2/token", "", url.Values{"grant_type": {"mfa"}, "mfa_token": {tok}, "mfa_code": {code}}).status
	}
	nestor := func() string {
		l := f.signIn(fakevbazure.DemoOperatorName, fakevbazure.DemoOperatorPassword)
		if !l.MFAEnabled || l.MFAToken == "" || l.AccessToken != "" {
			t.Fatalf("Nestor's first step: %+v", l)
		}
		return l.MFAToken
	}
	now := f.clock.Now
	tok := nestor()
	if s := withCode(tok, "000000"); s != http.StatusUnauthorized {
		t.Errorf("a wrong code: %d", s)
	}
	if s := withCode(tok, fakevbazure.TOTP(fakevbazure.DemoMFASecret, now().Add(-90*time.Second))); s != http.StatusUnauthorized {
		t.Errorf("a code of three steps ago: %d", s)
	}
	code := fakevbazure.TOTP(fakevbazure.DemoMFASecret, now())
	if s := withCode(tok, code); s != http.StatusOK {
		t.Fatalf("the right code after two wrong ones: %d", s)
	}
	if s := withCode(tok, code); s != http.StatusUnauthorized {
		t.Errorf("a spent MFA token: %d", s)
	}
	if s := withCode(nestor(), code); s != http.StatusUnauthorized {
		t.Errorf("a code used before: %d", s)
	}
	if s := withCode(nestor(), "40271935"); s != http.StatusOK {
		t.Errorf("a scratch code: %d", s)
	}
	if s := withCode(nestor(), "40271935"); s != http.StatusUnauthorized {
		t.Errorf("a scratch code twice: %d", s)
	}
	tok = nestor()
	for range 5 {
		withCode(tok, "111111")
	}
	f.clock.Advance(30 * time.Second)
	if s := withCode(tok, fakevbazure.TOTP(fakevbazure.DemoMFASecret, now())); s != http.StatusUnauthorized {
		t.Errorf("after five wrong codes: %d", s)
	}
	tok = nestor()
	f.clock.Advance(5*time.Minute + time.Second)
	if s := withCode(tok, fakevbazure.TOTP(fakevbazure.DemoMFASecret, now())); s != http.StatusUnauthorized {
		t.Errorf("an expired sign-in: %d", s)
	}
	if a := f.do("POST", "/api/oauth2/token", "", url.Values{"grant_type": {"password"}, "username": {fakevbazure.DemoOperatorName},
		"password": {"wrong"}}); a.status != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d", a.status)
	} else if d, _ := a.problem(t); strings.Contains(d, "wrong") {
		t.Errorf("the problem repeats the password: %q", d)
	}
	if a := f.do("POST", "/api/oauth2/token", "", url.Values{"grant_type": {"password"}, "username": {"LeeG"}, "password": {"x"}}); a.status != http.StatusUnauthorized {
		t.Errorf("an Entra user with a password: %d", a.status)
	}
}

// TestTokenLifetimes: an access token lasts 60 minutes, a refresh token 14
// days and one use.
func TestTokenLifetimes(t *testing.T) {
	t.Parallel()
	f := start(t, true)
	l := f.signIn(fakevbazure.DemoAdminName, fakevbazure.DemoAdminPassword)
	f.clock.Advance(59 * time.Minute)
	if a := f.do("GET", "/api/v8.1/users", l.AccessToken, nil); a.status != http.StatusOK {
		t.Errorf("at 59 minutes: %d", a.status)
	}
	f.clock.Advance(time.Minute)
	if a := f.do("GET", "/api/v8.1/users", l.AccessToken, nil); a.status != http.StatusUnauthorized {
		t.Errorf("at 60 minutes: %d", a.status)
	}
	refresh := func(tok string) (login, int) {
		a := f.do("POST", "/api/oauth2/token", "", url.Values{"grant_type": {"Refresh_token"}, "refresh_token": {tok}})
		var out login
		if a.status == http.StatusOK {
			a.json(t, &out)
		}
		return out, a.status
	}
	renewed, s := refresh(l.RefreshToken)
	if s != http.StatusOK {
		t.Fatalf("refresh: %d", s)
	}
	if _, s := refresh(l.RefreshToken); s != http.StatusUnauthorized {
		t.Errorf("a refresh token twice: %d", s)
	}
	f.clock.Advance(14*24*time.Hour + time.Second)
	if _, s := refresh(renewed.RefreshToken); s != http.StatusUnauthorized {
		t.Errorf("a refresh token after 14 days: %d", s)
	}
}

// TestConcurrentUse: many administrators at once, under the race detector.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	f := start(t, false)
	admin := f.admin()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("parallel-%d", i)
			f.do("POST", "/api/v8.1/users", admin, map[string]any{"name": name, "description": "x", "role": "ReadOnlyUser",
				"type": "Internal", "password": "Parallel-Pass-7x"})
			f.users(admin, "?NameFilter=parallel")
		})
	}
	wg.Wait()
	if _, total := f.users(admin, "?NameFilter=parallel"); total != 8 {
		t.Errorf("%d of 8 users added", total)
	}
}
