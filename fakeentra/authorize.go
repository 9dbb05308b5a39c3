package fakeentra

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// authRequest is an authorization request's parameters.
type authRequest struct {
	ClientID            string
	ResponseType        string
	ResponseMode        string
	RedirectURI         string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
	LoginHint           string
	Claims              string
}

// authCode is an issued authorization code.
type authCode struct {
	req      authRequest
	oid      string
	acrs     []string // the authentication contexts the sign-in satisfied
	expires  time.Time
	authTime time.Time
	redeemed bool
	sid      string
}

var challengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func parseAuthRequest(r *http.Request) authRequest {
	f := r.Form
	return authRequest{
		ClientID: f.Get("client_id"), ResponseType: f.Get("response_type"), ResponseMode: f.Get("response_mode"),
		RedirectURI: f.Get("redirect_uri"), Scope: f.Get("scope"), State: f.Get("state"), Nonce: f.Get("nonce"),
		CodeChallenge: f.Get("code_challenge"), CodeChallengeMethod: f.Get("code_challenge_method"),
		Prompt: f.Get("prompt"), LoginHint: f.Get("login_hint"), Claims: f.Get("claims"),
	}
}

// authorize shows the account picker (GET) and answers the choice (POST).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, 900144, "The request could not be read.")
		return
	}
	req := parseAuthRequest(r)
	// Until client and redirect URI are known good, Entra answers with its own
	// page: redirecting would hand the response to an unverified address.
	switch {
	case req.ClientID == "":
		s.errorPage(w, http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	case req.ClientID != s.opts.ApplicationID:
		s.errorPage(w, http.StatusBadRequest, 700016, fmt.Sprintf(
			"Application with identifier '%s' was not found in the directory '%s'.", req.ClientID, s.opts.TenantName))
		return
	case !s.redirectAllowed(req.RedirectURI):
		s.errorPage(w, http.StatusBadRequest, 50011, fmt.Sprintf(
			"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.",
			req.RedirectURI, req.ClientID))
		return
	}
	fail := func(code string, aadsts int, msg string) {
		redirectWith(w, r, req.RedirectURI, url.Values{
			"error": {code}, "error_description": {fmt.Sprintf("AADSTS%d: %s", aadsts, msg)}, "state": {req.State},
		})
	}
	switch {
	case req.ResponseType != "code":
		fail("unsupported_response_type", 700054, "response_type '"+req.ResponseType+"' is not enabled for the application.")
		return
	case req.ResponseMode != "" && req.ResponseMode != "query":
		fail("invalid_request", 900144, "This issuer answers with response_mode=query only.")
		return
	case req.CodeChallenge == "":
		fail("invalid_request", 9002325, "Proof Key for Code Exchange is required for this application.")
		return
	case req.CodeChallengeMethod != "S256" || !challengePattern.MatchString(req.CodeChallenge):
		fail("invalid_request", 50148, "The code_challenge_method must be S256 with a 43-character code_challenge.")
		return
	case !slices.Contains(strings.Fields(req.Scope), "openid"):
		fail("invalid_scope", 70011, "The provided request must include an 'openid' scope.")
		return
	case req.Prompt == "none":
		fail("login_required", 50058, "A silent sign-in request was sent but no user is signed in.")
		return
	case req.Prompt != "" && req.Prompt != "login" && req.Prompt != "select_account" && req.Prompt != "consent":
		fail("invalid_request", 90023, "Invalid prompt value '"+req.Prompt+"'.")
		return
	case req.Claims != "" && !json.Valid([]byte(req.Claims)):
		fail("invalid_request", 90014, "The claims parameter is not valid JSON.")
		return
	}
	if code, aadsts, msg := s.checkScopes(strings.Fields(req.Scope)); code != "" {
		fail(code, aadsts, msg)
		return
	}
	if r.Method == http.MethodGet {
		s.picker(w, r, req, http.StatusOK)
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		fail("access_denied", 65004, "User declined to consent to access the app.")
		return
	}
	oid := r.PostForm.Get("account")
	if !s.knownUser(oid) {
		s.picker(w, r, req, http.StatusBadRequest)
		return
	}
	if s.isDisabled(oid) {
		s.errorPage(w, http.StatusBadRequest, 50057, "The user account is disabled.")
		return
	}
	switch r.PostForm.Get("consent") {
	case "decline":
		fail("access_denied", 65004, "User declined to consent to access the app.")
		return
	case "accept":
		s.mu.Lock()
		s.consented[oid] = true
		s.mu.Unlock()
	default:
		s.mu.Lock()
		asks := (s.failure.ConsentRequired && !s.consented[oid]) || req.Prompt == "consent"
		s.mu.Unlock()
		if asks {
			s.consent(w, r, req, oid)
			return
		}
	}
	var acrs []string
	if satisfiesChallenge(req.Claims) {
		acrs = []string{"c1"}
		s.mu.Lock()
		s.challenged[oid] = true
		s.mu.Unlock()
	}
	code := randomString(48)
	now := s.opts.Now()
	s.mu.Lock()
	s.codes[code] = &authCode{req: req, oid: oid, acrs: acrs, expires: now.Add(s.opts.CodeLifetime), authTime: now, sid: randomUUID()}
	s.mu.Unlock()
	s.record(code)
	redirectWith(w, r, req.RedirectURI, url.Values{"code": {code}, "state": {req.State}, "session_state": {randomUUID()}})
}

func (s *Server) knownUser(oid string) bool {
	for _, u := range s.opts.Users {
		if u.OID == oid {
			return true
		}
	}
	return false
}

func (s *Server) user(oid string) (User, bool) {
	for _, u := range s.opts.Users {
		if u.OID == oid {
			return u, true
		}
	}
	return User{}, false
}

// redirectWith sends the browser to target with params added to its query.
func redirectWith(w http.ResponseWriter, r *http.Request, target string, params url.Values) {
	u, _ := url.Parse(target) // validated by redirectAllowed
	q := u.Query()
	for k, vs := range params {
		if len(vs) == 1 && vs[0] == "" {
			continue
		}
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

type pickerView struct {
	Tenant  string
	Action  string
	Request authRequest
	Users   []User
	Invalid bool
	Account User // on the consent page
}

func (s *Server) picker(w http.ResponseWriter, r *http.Request, req authRequest, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	pickerTemplate.Execute(w, pickerView{
		Tenant: s.opts.TenantName, Action: r.URL.Path, Request: req, Users: s.opts.Users, Invalid: status != http.StatusOK,
	})
}

// consent asks the person to consent to the application's permissions.
func (s *Server) consent(w http.ResponseWriter, r *http.Request, req authRequest, oid string) {
	u, _ := s.user(oid)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	consentTemplate.Execute(w, pickerView{Tenant: s.opts.TenantName, Action: r.URL.Path, Request: req, Account: u})
}

func (s *Server) errorPage(w http.ResponseWriter, status, aadsts int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	errorTemplate.Execute(w, map[string]any{"Code": fmt.Sprintf("AADSTS%d", aadsts), "Message": msg})
}

const pageStyle = `
body{font-family:"Segoe UI",system-ui,sans-serif;margin:0;background:#f2f2f2;color:#1b1b1b}
main{max-width:30rem;margin:2rem auto;background:#fff;padding:2rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.5rem;font-weight:600;margin:0 0 .5rem}
.note{color:#3b3b3b}
ul{list-style:none;padding:0;margin:1rem 0}
li{margin:0 0 .5rem}
button{font:inherit;cursor:pointer}
.account{display:block;width:100%;text-align:left;padding:.75rem 1rem;background:#fff;border:1px solid #8a8a8a;border-radius:2px;color:#1b1b1b}
.account:hover{background:#e6e6e6}
.account:focus-visible,.cancel:focus-visible{outline:3px solid #0f5ea8;outline-offset:2px}
.name{display:block;font-weight:600}
.upn,.role{display:block;color:#3b3b3b;font-size:.9rem}
.cancel{background:#fff;border:1px solid #8a8a8a;padding:.5rem 1.25rem;color:#1b1b1b}
.error{color:#a80000}
`

// requestFields carries the authorization request through the pages' forms.
const requestFields = `{{define "request"}}<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="response_type" value="{{.ResponseType}}">
<input type="hidden" name="response_mode" value="{{.ResponseMode}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="scope" value="{{.Scope}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="nonce" value="{{.Nonce}}">
<input type="hidden" name="code_challenge" value="{{.CodeChallenge}}">
<input type="hidden" name="code_challenge_method" value="{{.CodeChallengeMethod}}">
{{if .Prompt}}<input type="hidden" name="prompt" value="{{.Prompt}}">{{end}}
{{if .LoginHint}}<input type="hidden" name="login_hint" value="{{.LoginHint}}">{{end}}
{{if .Claims}}<input type="hidden" name="claims" value="{{.Claims}}">{{end}}
{{end}}`

var consentTemplate = template.Must(template.Must(template.New("consent").Parse(requestFields)).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Permissions requested</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>Permissions requested</h1>
<p class="note">{{.Account.UPN}}</p>
<p>The Restore Portal would like to: sign you in and read your profile; maintain access to data you have given it access to; access Veeam Backup for Microsoft 365 as you.</p>
<form method="post" action="{{.Action}}">
{{template "request" .Request}}
<input type="hidden" name="account" value="{{.Account.OID}}">
<button class="account" type="submit" name="consent" value="accept">Accept</button>
<button class="cancel" type="submit" name="consent" value="decline">Cancel</button>
</form>
</main>
</body>
</html>
`))

var pickerTemplate = template.Must(template.Must(template.New("picker").Parse(requestFields)).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to your account</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>Pick an account</h1>
<p class="note">Sign in to <strong>{{.Tenant}}</strong> to continue to the Restore Portal. This is the demo sign-in page of a fake Microsoft Entra ID: choose who you are, no password is asked.</p>
{{if .Invalid}}<p class="error" role="alert">That account is not in this directory. Choose one from the list.</p>{{end}}
<form method="post" action="{{.Action}}">
{{template "request" .Request}}
<ul aria-label="Accounts">
{{$hint := .Request.LoginHint}}{{range .Users}}<li><button class="account{{if eq $hint .UPN}} hinted{{end}}" type="submit" name="account" value="{{.OID}}"{{if eq $hint .UPN}} autofocus{{end}}><span class="name">{{.Name}}</span><span class="upn">{{.UPN}}</span>{{if .Description}}<span class="role">{{.Description}}</span>{{end}}</button></li>
{{end}}</ul>
<button class="cancel" type="submit" name="action" value="cancel">Cancel</button>
</form>
</main>
</body>
</html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to your account</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>Sorry, but we're having trouble signing you in.</h1>
<p class="error">{{.Code}}: {{.Message}}</p>
</main>
</body>
</html>
`))
