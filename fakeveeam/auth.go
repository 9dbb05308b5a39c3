package fakeveeam

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// grant is one operator token pair. Pairs refreshed from the same operator
// grant form a family; logging out revokes the whole family.
type grant struct {
	oid            string
	family         string
	access         string
	refresh        string
	accessExpires  time.Time
	refreshExpires time.Time
	antiforgery    bool // the pair was issued without disable_antiforgery_token=true
	revoked        bool
}

// caller is the authenticated operator of a request.
type caller struct {
	oid   string
	grant *grant
}

// tokenResponse is OAuthTokenResponse.
type tokenResponse struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    int64     `json:"expires_in"`
	UserName     string    `json:"userName,omitempty"`
	Issued       time.Time `json:".issued"`
	Expires      time.Time `json:".expires"`
}

// TokenRequests counts the /token requests of a grant type ("operator", "refresh_token").
func (s *Server) TokenRequests(grantType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenReq[grantType]
}

// IssuedTokens lists every access and refresh token issued so far, for tests
// that scan pages, logs and URLs for leaks.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, g := range s.access {
		out = append(out, g.access, g.refresh)
	}
	return out
}

// ExpireAccessTokens makes every access token issued so far expire now, as if
// the portal's notion of their lifetime were wrong; the next call with one gets 401.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for _, g := range s.access {
		if g.accessExpires.After(now) {
			g.accessExpires = now.Add(-time.Second)
		}
	}
}

// RevokeRefreshTokens makes every refresh token issued so far unusable.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for rt := range s.refresh {
		delete(s.refresh, rt)
	}
}

// LoggedOut reports whether the operator with this OID has logged out every
// token pair issued to them (and has had at least one).
func (s *Server) LoggedOut(oid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := false
	for _, g := range s.access {
		if g.oid == oid {
			seen = true
			if !g.revoked {
				return false
			}
		}
	}
	return seen
}

// tokenForm reads the /token body, which may be form-encoded or JSON.
func tokenForm(r *http.Request) (map[string]string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	out := map[string]string{}
	switch ct {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		for k, v := range r.PostForm {
			out[k] = v[0]
		}
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = fmt.Sprint(v)
		}
	default:
		return nil, fmt.Errorf("unsupported content type %q", ct)
	}
	return out, nil
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	f, err := tokenForm(r)
	if err != nil {
		badRequest(w, "The request body could not be read: "+err.Error())
		return
	}
	s.mu.Lock()
	s.tokenReq[f["grant_type"]]++
	s.mu.Unlock()
	switch f["grant_type"] {
	case "operator":
		s.operatorGrant(w, r, f)
	case "refresh_token":
		s.refreshGrant(w, f)
	case "":
		badRequest(w, "The grant_type parameter is required.")
	default:
		s.grantError(w, "unsupported_grant_type", fmt.Sprintf("The grant type '%s' is not available to Restore Portal operators.", f["grant_type"]))
	}
}

// grantError refuses a grant; the body shape is configurable (api-notes §1.1).
func (s *Server) grantError(w http.ResponseWriter, code, description string) {
	if s.opts.OAuthTokenErrors {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": description})
		return
	}
	writeError(w, http.StatusBadRequest, "", description)
}

func (s *Server) operatorGrant(w http.ResponseWriter, r *http.Request, f map[string]string) {
	if f["client_id"] == "" || f["assertion"] == "" {
		s.grantError(w, "invalid_request", "The client_id and assertion parameters are required for the operator grant type.")
		return
	}
	claims, err := s.verifyAssertion(r.Context(), f["assertion"])
	if err != nil {
		s.grantError(w, "invalid_grant", "The assertion is not valid: "+err.Error())
		return
	}
	if f["client_id"] != claims.OID+"."+claims.TID {
		s.grantError(w, "invalid_client", "The client_id does not match the user and tenant of the assertion.")
		return
	}
	if _, ok := s.dir.user(claims.OID); !ok {
		s.grantError(w, "invalid_grant", "The user is not a member of a backed-up organization.")
		return
	}
	noAntiforgery, _ := strconv.ParseBool(f["disable_antiforgery_token"])
	s.issue(w, &grant{oid: claims.OID, family: newID(), antiforgery: !noAntiforgery})
}

func (s *Server) refreshGrant(w http.ResponseWriter, f map[string]string) {
	now := s.opts.Now()
	s.mu.Lock()
	old, ok := s.refresh[f["refresh_token"]]
	if ok {
		// Refresh tokens are single-use: the old one dies with this request.
		delete(s.refresh, f["refresh_token"])
	}
	s.mu.Unlock()
	switch {
	case f["refresh_token"] == "":
		s.grantError(w, "invalid_request", "The refresh_token parameter is required.")
		return
	case !ok || old.revoked:
		s.grantError(w, "invalid_grant", "The refresh token is invalid.")
		return
	case now.After(old.refreshExpires):
		s.grantError(w, "invalid_grant", "The refresh token has expired.")
		return
	}
	s.issue(w, &grant{oid: old.oid, family: old.family, antiforgery: old.antiforgery})
}

func (s *Server) issue(w http.ResponseWriter, g *grant) {
	now := s.opts.Now()
	g.access, g.refresh = randomToken(), randomToken()
	g.accessExpires, g.refreshExpires = now.Add(s.opts.TokenLifetime), now.Add(s.opts.RefreshTokenLifetime)
	s.mu.Lock()
	s.access[g.access], s.refresh[g.refresh] = g, g
	s.mu.Unlock()
	u, _ := s.dir.user(g.oid)
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: g.access, RefreshToken: g.refresh, TokenType: "bearer",
		ExpiresIn: int64(s.opts.TokenLifetime / time.Second), UserName: u.UPN,
		Issued: now.UTC(), Expires: g.accessExpires.UTC(),
	})
}

// assertionClaims are the access-token claims the operator grant relies on.
type assertionClaims struct {
	OID string          `json:"oid"`
	TID string          `json:"tid"`
	SCP string          `json:"scp"`
	Aud json.RawMessage `json:"aud"`
}

// verifyAssertion checks an Entra access token of either version, as the
// application's accessTokenAcceptedVersion makes Entra issue them:
// signature against the issuer's published keys, expiry, the version's
// issuer (v2.0: the tenant's v2.0 issuer; v1.0: https://sts.windows.net/
// <tenant>/) and audience (v2.0: the application id; v1.0: its ID URI
// api://<application id>, or the id), and the access_as_user scope.
func (s *Server) verifyAssertion(ctx context.Context, raw string) (*assertionClaims, error) {
	v2, v1, err := s.assertionVerifiers()
	if err != nil {
		return nil, err
	}
	v, audiences := v2, func(app string) []string { return []string{app} }
	if unverifiedVersion(raw) == "1.0" {
		v, audiences = v1, func(app string) []string { return []string{"api://" + app, app} }
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	app := s.dir.org.ApplicationID
	if len(tok.Audience) != 1 || !slices.Contains(audiences(app), tok.Audience[0]) {
		return nil, fmt.Errorf("the audience %v is not the Restore Portal application", tok.Audience)
	}
	var c assertionClaims
	if err := tok.Claims(&c); err != nil {
		return nil, err
	}
	if c.TID != s.dir.org.ID {
		return nil, fmt.Errorf("the token is for tenant %s, not %s", c.TID, s.dir.org.ID)
	}
	if !slices.Contains(strings.Fields(c.SCP), "access_as_user") {
		return nil, fmt.Errorf("the token lacks the access_as_user scope")
	}
	return &c, nil
}

// assertionVerifiers discovers the issuer once it is reachable and keeps
// its verifiers: of v2.0 tokens, and of v1.0 tokens (the same keys, the
// v1.0 issuer).
func (s *Server) assertionVerifiers() (v2, v1 *oidc.IDTokenVerifier, err error) {
	s.verifierMu.Lock()
	defer s.verifierMu.Unlock()
	if s.verifier != nil {
		return s.verifier, s.verifierV1, nil
	}
	// The key set outlives this request, so it gets a background context; the
	// HTTP client's timeout bounds each fetch.
	kctx := oidc.ClientContext(context.Background(), s.opts.HTTPClient)
	p, err := oidc.NewProvider(kctx, s.opts.EntraAuthority+"/v2.0")
	if err != nil {
		return nil, nil, fmt.Errorf("the identity provider cannot be reached: %w", err)
	}
	var d struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&d); err != nil || d.JWKS == "" {
		return nil, nil, fmt.Errorf("the identity provider publishes no keys: %v", err)
	}
	cfg := &oidc.Config{SkipClientIDCheck: true, Now: s.opts.Now}
	s.verifier = p.Verifier(cfg)
	s.verifierV1 = oidc.NewVerifier("https://sts.windows.net/"+s.dir.org.ID+"/", oidc.NewRemoteKeySet(kctx, d.JWKS), cfg)
	return s.verifier, s.verifierV1, nil
}

// unverifiedVersion reads a token's ver claim before it is verified, only
// to choose the verifier that then checks everything.
func unverifiedVersion(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Ver string `json:"ver"`
	}
	json.Unmarshal(b, &c)
	return c.Ver
}

// authed requires a valid operator bearer token.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		g := s.access[tok]
		s.mu.Unlock()
		if !ok || g == nil || g.revoked || !s.opts.Now().Before(g.accessExpires) {
			writeJSON(w, http.StatusUnauthorized, exceptionInfo{Message: "Authorization has been denied for this request."})
			return
		}
		if g.antiforgery {
			// Without disable_antiforgery_token=true the server wants its antiforgery
			// cookie and header, whose names are not public (api-notes §1.4).
			badRequest(w, "The required antiforgery cookie is not present.")
			return
		}
		h(w, r, &caller{oid: g.oid, grant: g})
	}
}

func (s *Server) bearerOwner(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.access[tok]; g != nil {
		return g.oid
	}
	return ""
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	for _, g := range s.access {
		if g.family == c.grant.family {
			g.revoked = true
		}
	}
	for rt, g := range s.refresh {
		if g.family == c.grant.family {
			delete(s.refresh, rt)
		}
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
