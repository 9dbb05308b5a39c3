package fakeentra

import (
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
}

// authCode is an issued authorization code.
type authCode struct {
	req      authRequest
	oid      string
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
		Prompt: f.Get("prompt"), LoginHint: f.Get("login_hint"),
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
	code := randomString(48)
	now := s.opts.Now()
	s.mu.Lock()
	s.codes[code] = &authCode{req: req, oid: oid, expires: now.Add(s.opts.CodeLifetime), authTime: now, sid: randomUUID()}
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
}

func (s *Server) picker(w http.ResponseWriter, r *http.Request, req authRequest, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	pickerTemplate.Execute(w, pickerView{
		Tenant: s.opts.TenantName, Action: r.URL.Path, Request: req, Users: s.opts.Users, Invalid: status != http.StatusOK,
	})
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

var pickerTemplate = template.Must(template.New("picker").Parse(`<!doctype html>
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
<input type="hidden" name="client_id" value="{{.Request.ClientID}}">
<input type="hidden" name="response_type" value="{{.Request.ResponseType}}">
<input type="hidden" name="response_mode" value="{{.Request.ResponseMode}}">
<input type="hidden" name="redirect_uri" value="{{.Request.RedirectURI}}">
<input type="hidden" name="scope" value="{{.Request.Scope}}">
<input type="hidden" name="state" value="{{.Request.State}}">
<input type="hidden" name="nonce" value="{{.Request.Nonce}}">
<input type="hidden" name="code_challenge" value="{{.Request.CodeChallenge}}">
<input type="hidden" name="code_challenge_method" value="{{.Request.CodeChallengeMethod}}">
<ul aria-label="Accounts">
{{range .Users}}<li><button class="account" type="submit" name="account" value="{{.OID}}"><span class="name">{{.Name}}</span><span class="upn">{{.UPN}}</span>{{if .Description}}<span class="role">{{.Description}}</span>{{end}}</button></li>
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
