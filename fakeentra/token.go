package fakeentra

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	acrs     []string
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
			return s.accessToken(u, s.opts.Now(), randomUUID(), nil)
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
	case f.Get("client_assertion_type") != "" || f.Get("client_assertion") != "":
		if f.Get("client_assertion_type") != clientAssertionType {
			oauthError(w, http.StatusBadRequest, "invalid_request", 50027, "Invalid client_assertion_type.", now)
			return
		}
		if err := s.checkAssertion(f.Get("client_assertion"), clientID, now); err != nil {
			var ae *assertionError
			errors.As(err, &ae)
			oauthError(w, http.StatusUnauthorized, "invalid_client", ae.code, ae.msg, now)
			return
		}
		secret = "" // authenticated by certificate: the secret's failures do not apply
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1:
		oauthError(w, http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.", now)
		return
	}
	failure := s.failing()
	if failure.Delay > 0 {
		t := time.NewTimer(failure.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch {
	case failure.ExpiredSecret && secret != "":
		oauthError(w, http.StatusUnauthorized, "invalid_client", 7000222,
			fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app.", s.opts.ApplicationID), now)
		return
	case failure.Unavailable:
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.", now)
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
	if s.isDisabled(c.oid) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled.", now)
		return
	}
	u, _ := s.user(c.oid)
	s.issue(w, u, c.req.Scope, c.req.Nonce, c.authTime, c.sid, c.acrs, now)
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
	s.mu.Lock()
	challenge := s.failure.InteractionRequired && !s.challenged[g.oid]
	s.mu.Unlock()
	switch code, aadsts, msg := s.checkScopes(strings.Fields(scope)); {
	case s.isDisabled(g.oid):
		oauthError(w, http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled.", now)
		return
	case code != "":
		oauthError(w, http.StatusBadRequest, code, aadsts, msg, now)
		return
	case s.unconsented(strings.Fields(scope)) != "":
		oauthError(w, http.StatusBadRequest, "consent_required", 65001,
			"The user or administrator has not consented to use the application with ID '"+s.opts.ApplicationID+"'. Send an interactive authorization request for this user and resource.", now)
		return
	case challenge:
		interactionError(w, now)
		return
	}
	u, _ := s.user(g.oid)
	s.issue(w, u, scope, "", g.authTime, g.sid, g.acrs, now)
}

// issue answers a successful grant: an access token for the requested API
// (or Microsoft Graph), an ID token when openid was asked, and a refresh token
// when offline_access was asked.
func (s *Server) issue(w http.ResponseWriter, u User, scope, nonce string, authTime time.Time, sid string, acrs []string, now time.Time) {
	scopes := strings.Fields(scope)
	resp := map[string]any{"token_type": "Bearer"}
	var apiScopes []string
	for _, sc := range scopes {
		if resource, _ := s.resourceOf(sc); resource == "api" {
			apiScopes = append(apiScopes, sc)
		}
	}
	var access string
	var err error
	if len(apiScopes) > 0 {
		access, err = s.accessToken(u, now, sid, acrs)
		resp["scope"] = strings.Join(apiScopes, " ")
	} else {
		graphScope := "openid profile email User.Read"
		for _, sc := range scopes {
			if _, name := s.resourceOf(sc); name == "User.ReadBasic.All" {
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
		id, err := s.idToken(u, nonce, authTime, sid, acrs, now)
		if err != nil {
			http.Error(w, "signing failed", http.StatusInternalServerError)
			return
		}
		resp["id_token"] = id
	}
	if slices.Contains(scopes, "offline_access") {
		rt := randomString(64)
		s.mu.Lock()
		s.refresh[rt] = &refreshGrant{oid: u.OID, scope: scope, issued: now, expires: now.Add(s.opts.RefreshTokenLifetime), authTime: authTime, sid: sid, acrs: acrs}
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

func (s *Server) idToken(u User, nonce string, authTime time.Time, sid string, acrs []string, now time.Time) (string, error) {
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
	if len(acrs) > 0 {
		claims["acrs"] = acrs
	}
	if len(u.Roles) > 0 {
		claims["roles"] = u.Roles
	}
	s.addGroups(claims, u)
	// The optional claim login_hint, which the application asks for to
	// send back as logout_hint.
	claims["login_hint"] = base64.RawURLEncoding.EncodeToString([]byte(`{"oid":"` + u.OID + `","tid":"` + s.opts.TenantID + `"}`))
	s.mu.Lock()
	t := s.tamperID
	s.tamperID = TamperNone
	s.mu.Unlock()
	return s.sign(claims, t)
}

// accessToken is a token for the application's API, of the version its
// registration asks for.
func (s *Server) accessToken(u User, now time.Time, sid string, acrs []string) (string, error) {
	claims := map[string]any{
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.opts.AccessTokenLifetime).Unix(),
		"name": u.Name, "oid": u.OID, "scp": "access_as_user",
		"sub": s.pairwiseSub(u.OID), "tid": s.opts.TenantID, "sid": sid, "uti": randomString(16),
	}
	if s.opts.AccessTokenVersion == 1 {
		claims["aud"], claims["iss"], claims["ver"] = "api://"+s.opts.ApplicationID, s.IssuerV1(), "1.0"
		claims["appid"], claims["appidacr"], claims["upn"], claims["unique_name"] = s.opts.ApplicationID, "1", u.UPN, u.UPN
	} else {
		claims["aud"], claims["iss"], claims["ver"] = s.opts.ApplicationID, s.Issuer(), "2.0"
		claims["azp"], claims["azpacr"], claims["preferred_username"] = s.opts.ApplicationID, "1", u.UPN
	}
	if len(acrs) > 0 {
		claims["acrs"] = acrs
	}
	s.addGroups(claims, u)
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
		s.graph[tok] = graphGrant{expires: now.Add(s.opts.AccessTokenLifetime), scope: scope, oid: u.OID}
		s.mu.Unlock()
	}
	return tok, err
}

// addGroups puts the user's groups in a token, or, past the overage limit,
// the overage claims that send the application to Microsoft Graph.
func (s *Server) addGroups(claims map[string]any, u User) {
	switch {
	case len(u.Groups) > s.opts.OverageLimit:
		claims["_claim_names"] = map[string]string{"groups": "src1"}
		claims["_claim_sources"] = map[string]any{"src1": map[string]string{
			"endpoint": "https://graph.windows.net/" + s.opts.TenantID + "/users/" + u.OID + "/getMemberObjects"}}
	case len(u.Groups) > 0:
		claims["groups"] = u.Groups
	}
}
