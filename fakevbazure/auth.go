package fakevbazure

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// login is the document's Login: the answer of POST /api/oauth2/token.
type login struct {
	AccessToken     string    `json:"access_token,omitempty"`
	TokenType       string    `json:"token_type,omitempty"`
	RefreshToken    string    `json:"refresh_token,omitempty"`
	ExpiresIn       int       `json:"expires_in"`
	Issued          time.Time `json:".issued,omitzero"`
	Expires         time.Time `json:".expires,omitzero"`
	UserID          string    `json:"userId"`
	Username        string    `json:"username"`
	RoleName        string    `json:"roleName"`
	UserType        string    `json:"userType"`
	LatestNewsShown bool      `json:"latestNewsShown"`
	MFAEnabled      bool      `json:"mfa_enabled"`
	MFAToken        string    `json:"mfa_token,omitempty"`
	ShortLived      bool      `json:"shortLived"`
}

// maxMFATries is how many wrong codes end a sign-in waiting for its code.
const maxMFATries = 5

// token handles POST /api/oauth2/token: Password (with MFA, a second
// request with Mfa), and Refresh_token. Grant types are read without
// regard to case, as the product does.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badRequest(w, "The request body is not a form.")
		return
	}
	f := r.PostForm
	switch strings.ToLower(f.Get("grant_type")) {
	case "password":
		s.passwordGrant(w, f.Get("username"), f.Get("password"))
	case "mfa":
		s.mfaGrant(w, f.Get("mfa_token"), f.Get("mfa_code"))
	case "refresh_token":
		s.refreshGrant(w, f.Get("refresh_token"))
	case "":
		invalid(w, map[string][]string{"grant_type": {"The grant_type field is required."}})
	default:
		badRequest(w, "The grant type "+f.Get("grant_type")+" is not supported here.")
	}
}

func signInRefused(w http.ResponseWriter, detail string) {
	writeProblem(w, problemDoc{Type: "https://tools.ietf.org/html/rfc9110#section-15.5.2", Title: "Unauthorized",
		Status: http.StatusUnauthorized, Detail: detail, TraceID: newToken()[:16]})
}

func (s *Server) passwordGrant(w http.ResponseWriter, name, password string) {
	if name == "" || password == "" {
		invalid(w, map[string][]string{"username": {"The user name and the password are required."}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName(name)
	if u == nil || u.typ != typeInternal || !u.passwordIs(password) {
		signInRefused(w, "The user name or password is incorrect.")
		return
	}
	if u.mfaSecret != "" {
		tok := newToken()
		s.mfa[tok] = &mfaSignIn{userID: u.id, expires: s.opts.Now().Add(s.opts.MFALifetime)}
		s.issued = append(s.issued, tok)
		writeJSON(w, http.StatusOK, login{UserID: u.id, Username: u.name, RoleName: u.role, UserType: u.typ, MFAEnabled: true, MFAToken: tok})
		return
	}
	writeJSON(w, http.StatusOK, s.issue(u))
}

func (s *Server) mfaGrant(w http.ResponseWriter, token, code string) {
	if token == "" || code == "" {
		invalid(w, map[string][]string{"mfa_code": {"The MFA token and the verification code are required."}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mfa[token]
	now := s.opts.Now()
	if m == nil || now.After(m.expires) {
		delete(s.mfa, token)
		signInRefused(w, "The MFA token is invalid or expired. Sign in again.")
		return
	}
	u := s.users[m.userID]
	if u == nil || !u.acceptCode(code, now) {
		if m.tries++; m.tries >= maxMFATries {
			delete(s.mfa, token)
		}
		signInRefused(w, "The verification code is incorrect.")
		return
	}
	delete(s.mfa, token)
	writeJSON(w, http.StatusOK, s.issue(u))
}

func (s *Server) refreshGrant(w http.ResponseWriter, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.refresh[token]
	if g == nil || !s.opts.Now().Before(g.refreshExpires) || s.users[g.userID] == nil {
		signInRefused(w, "The refresh token is invalid or expired.")
		return
	}
	// A refresh token works once: the pair it belongs to is replaced.
	delete(s.refresh, g.refresh)
	delete(s.access, g.access)
	writeJSON(w, http.StatusOK, s.issue(s.users[g.userID]))
}

// issue makes a token pair for u. The caller holds s.mu.
func (s *Server) issue(u *user) login {
	now := s.opts.Now()
	g := &grant{userID: u.id, access: newToken(), refresh: newToken(), accessExpires: now.Add(s.opts.AccessLifetime),
		refreshExpires: now.Add(s.opts.RefreshLifetime)}
	s.access[g.access], s.refresh[g.refresh] = g, g
	s.issued = append(s.issued, g.access, g.refresh)
	return login{AccessToken: g.access, TokenType: "bearer", RefreshToken: g.refresh, ExpiresIn: int(s.opts.AccessLifetime / time.Second),
		Issued: now.UTC(), Expires: g.accessExpires.UTC(), UserID: u.id, Username: u.name, RoleName: u.role, UserType: u.typ}
}

// logout handles DELETE /api/oauth2/token: the pair is revoked.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	g := callerOf(r).grant
	s.mu.Lock()
	delete(s.access, g.access)
	delete(s.refresh, g.refresh)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// revokeUser ends every sign-in of a user (removed, or password changed by
// someone else). The caller holds s.mu.
func (s *Server) revokeUser(id string) {
	for k, g := range s.access {
		if g.userID == id {
			delete(s.access, k)
			delete(s.refresh, g.refresh)
		}
	}
}

// SignedIn reports whether a user (by name) holds a valid access token:
// tests check that sign-out revoked it.
func (s *Server) SignedIn(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName(name)
	if u == nil {
		return false
	}
	now := s.opts.Now()
	return slices.ContainsFunc(mapValues(s.access), func(g *grant) bool { return g.userID == u.id && now.Before(g.accessExpires) })
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// IssuedTokens lists every access, refresh and MFA token issued so far,
// for tests that scan pages, logs and URLs for leaks.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}
