package fakeentra

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	oid      string
	scope    string
	issued   time.Time
	expires  time.Time
	authTime time.Time
	sid      string
}

// AccessTokenFor mints an access token for the application's API as if the
// user with this UPN or OID had signed in. It is for tests of relying APIs.
func (s *Server) AccessTokenFor(user string) (string, error) {
	for _, u := range s.opts.Users {
		if u.OID == user || strings.EqualFold(u.UPN, user) {
			return s.accessToken(u, s.opts.Now(), randomUUID())
		}
	}
	return "", fmt.Errorf("fakeentra: no user %q", user)
}

// token is the token endpoint: authorization_code with PKCE, and refresh_token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokenCalls++
	s.mu.Unlock()
	now := s.opts.Now()
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body could not be read.", now)
		return
	}
	f := r.PostForm
	clientID, secret, basic := r.BasicAuth()
	if basic {
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = f.Get("client_id"), f.Get("client_secret")
	}
	switch {
	case clientID == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.", now)
		return
	case clientID != s.opts.ApplicationID:
		oauthError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, s.opts.TenantName), now)
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1:
		oauthError(w, http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.", now)
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		s.redeemCode(w, f, now)
	case "refresh_token":
		s.redeemRefresh(w, f, now)
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.", now)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.", now)
	}
}

func (s *Server) redeemCode(w http.ResponseWriter, f url.Values, now time.Time) {
	code := f.Get("code")
	s.mu.Lock()
	c, ok := s.codes[code]
	var redeemed bool
	if ok {
		redeemed = c.redeemed
		c.redeemed = true
	}
	s.mu.Unlock()
	switch {
	case code == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'code'.", now)
		return
	case !ok:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.", now)
		return
	case redeemed:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 54005,
			"OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.", now)
		return
	case now.After(c.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", 70008,
			"The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.", now)
		return
	case f.Get("redirect_uri") != c.req.RedirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 50011,
			"The redirect URI specified in the request does not match the redirect URI used to obtain the authorization code.", now)
		return
	case !pkceMatches(f.Get("code_verifier"), c.req.CodeChallenge):
		oauthError(w, http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.", now)
		return
	}
	u, _ := s.user(c.oid)
	s.issue(w, u, c.req.Scope, c.req.Nonce, c.authTime, c.sid, now)
}

// pkceMatches checks an S256 verifier (RFC 7636: 43 to 128 unreserved characters).
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (s *Server) redeemRefresh(w http.ResponseWriter, f url.Values, now time.Time) {
	rt := f.Get("refresh_token")
	s.mu.Lock()
	g, ok := s.refresh[rt]
	revoked := ok && g.issued.Before(s.revokedBefore[g.oid])
	s.mu.Unlock()
	switch {
	case rt == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'refresh_token'.", now)
		return
	case !ok:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.", now)
		return
	case revoked:
		oauthError(w, http.StatusBadRequest, "invalid_grant", 50173,
			"The provided grant has expired due to it being revoked, a fresh auth token is needed.", now)
		return
	case now.After(g.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", 700082,
			"The refresh token has expired due to inactivity.", now)
		return
	}
	scope := g.scope
	if asked := f.Get("scope"); asked != "" {
		scope = asked
	}
	u, _ := s.user(g.oid)
	s.issue(w, u, scope, "", g.authTime, g.sid, now)
}

// issue answers a successful grant: an access token for the requested API
// (or Microsoft Graph), an ID token when openid was asked, and a refresh token
// when offline_access was asked.
func (s *Server) issue(w http.ResponseWriter, u User, scope, nonce string, authTime time.Time, sid string, now time.Time) {
	scopes := strings.Fields(scope)
	resp := map[string]any{"token_type": "Bearer"}
	api := "api://" + s.opts.ApplicationID + "/"
	var apiScopes []string
	for _, sc := range scopes {
		if strings.HasPrefix(sc, api) {
			apiScopes = append(apiScopes, sc)
		}
	}
	var access string
	var err error
	if len(apiScopes) > 0 {
		access, err = s.accessToken(u, now, sid)
		resp["scope"] = strings.Join(apiScopes, " ")
	} else {
		graphScope := "openid profile email User.Read"
		for _, sc := range scopes {
			if sc == GraphScope {
				graphScope += " User.ReadBasic.All"
			}
		}
		access, err = s.graphToken(u, now, graphScope)
		resp["scope"] = graphScope
	}
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	lifetime := int(s.opts.AccessTokenLifetime.Seconds())
	resp["access_token"], resp["expires_in"], resp["ext_expires_in"] = access, lifetime, lifetime
	if slices.Contains(scopes, "openid") {
		id, err := s.idToken(u, nonce, authTime, sid, now)
		if err != nil {
			http.Error(w, "signing failed", http.StatusInternalServerError)
			return
		}
		resp["id_token"] = id
	}
	if slices.Contains(scopes, "offline_access") {
		rt := randomString(64)
		s.mu.Lock()
		s.refresh[rt] = &refreshGrant{oid: u.OID, scope: scope, issued: now, expires: now.Add(s.opts.RefreshTokenLifetime), authTime: authTime, sid: sid}
		s.mu.Unlock()
		resp["refresh_token"] = rt
	}
	id, _ := resp["id_token"].(string)
	rt, _ := resp["refresh_token"].(string)
	s.record(access, id, rt)
	writeJSON(w, http.StatusOK, resp)
}

// pairwiseSub is Entra's subject: unique to the user and the application.
func (s *Server) pairwiseSub(oid string) string {
	sum := sha256.Sum256([]byte(oid + "/" + s.opts.ApplicationID))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:43]
}

func (s *Server) idToken(u User, nonce string, authTime time.Time, sid string, now time.Time) (string, error) {
	claims := map[string]any{
		"aud": s.opts.ApplicationID, "iss": s.Issuer(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.opts.IDTokenLifetime).Unix(),
		"auth_time": authTime.Unix(),
		"name":      u.Name, "oid": u.OID, "preferred_username": u.UPN, "sub": s.pairwiseSub(u.OID),
		"tid": s.opts.TenantID, "ver": "2.0", "sid": sid, "uti": randomString(16), "rh": randomString(24),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if len(u.Roles) > 0 {
		claims["roles"] = u.Roles
	}
	if len(u.Groups) > 0 {
		claims["groups"] = u.Groups
	}
	s.mu.Lock()
	t := s.tamperID
	s.tamperID = TamperNone
	s.mu.Unlock()
	return s.sign(claims, t)
}

func (s *Server) accessToken(u User, now time.Time, sid string) (string, error) {
	claims := map[string]any{
		"aud": "api://" + s.opts.ApplicationID, "iss": s.Issuer(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.opts.AccessTokenLifetime).Unix(),
		"azp": s.opts.ApplicationID, "azpacr": "1",
		"name": u.Name, "oid": u.OID, "preferred_username": u.UPN, "scp": "access_as_user",
		"sub": s.pairwiseSub(u.OID), "tid": s.opts.TenantID, "ver": "2.0", "sid": sid, "uti": randomString(16),
	}
	s.mu.Lock()
	t := s.tamperAccess
	s.tamperAccess = TamperNone
	s.mu.Unlock()
	return s.sign(claims, t)
}

// graphToken is a Microsoft Graph token: the fake's Graph (/v1.0) takes
// it; relying APIs must refuse it.
func (s *Server) graphToken(u User, now time.Time, scope string) (string, error) {
	claims := map[string]any{
		"aud": "00000003-0000-0000-c000-000000000000", "iss": s.Issuer(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.opts.AccessTokenLifetime).Unix(),
		"name": u.Name, "oid": u.OID, "scp": scope, "tid": s.opts.TenantID, "ver": "2.0",
	}
	tok, err := s.sign(claims, TamperNone)
	if err == nil {
		s.mu.Lock()
		s.graph[tok] = graphGrant{expires: now.Add(s.opts.AccessTokenLifetime), scope: scope}
		s.mu.Unlock()
	}
	return tok, err
}
