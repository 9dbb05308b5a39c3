package fakeentra_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/internal/clock"
)

const redirectURI = "http://127.0.0.1:8080/auth/callback"

func start(t *testing.T, opts fakeentra.Options) *fakeentra.Server {
	t.Helper()
	s, err := fakeentra.Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
}

func config(s *fakeentra.Server) *oauth2.Config {
	return &oauth2.Config{
		ClientID: s.ApplicationID(), ClientSecret: s.ClientSecret(), RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.Authority() + "/oauth2/v2.0/authorize",
			TokenURL:  s.Authority() + "/oauth2/v2.0/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess, "api://" + s.ApplicationID() + "/access_as_user"},
	}
}

// signIn drives the account picker for upn and returns the code and state it redirects with.
func signIn(t *testing.T, s *fakeentra.Server, authURL, upn string) url.Values {
	t.Helper()
	c := noRedirects()
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), upn) {
		t.Fatalf("picker: status %d, body lacks %s", resp.StatusCode, upn)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("account", demotenant.ID("user", upn))
	resp, err = c.PostForm(s.Authority()+"/oauth2/v2.0/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("choose account: status %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), redirectURI) {
		t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

func TestDiscoveryIsTenantSpecific(t *testing.T) {
	t.Parallel()
	s := start(t, fakeentra.Options{})
	p, err := oidc.NewProvider(t.Context(), s.Issuer())
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	var claims struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&claims); err != nil || claims.EndSession != s.Authority()+"/oauth2/v2.0/logout" {
		t.Errorf("end_session_endpoint = %q, %v", claims.EndSession, err)
	}
	resp, err := http.Get(s.URL() + "/common/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("another tenant's discovery: status %d, want 400", resp.StatusCode)
	}
}

func TestCodeFlowWithPKCE(t *testing.T) {
	t.Parallel()
	s := start(t, fakeentra.Options{})
	cfg := config(s)
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))
	got := signIn(t, s, authURL, "AdeleV@contoso.onmicrosoft.com")
	if got.Get("state") != "state-1" || got.Get("code") == "" {
		t.Fatalf("callback query = %v", got)
	}
	ctx := t.Context()
	tok, err := cfg.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	p, err := oidc.NewProvider(ctx, s.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.ApplicationID()}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("verify id token: %v", err)
	}
	var claims map[string]any
	idt.Claims(&claims)
	want := map[string]any{
		"oid": demotenant.ID("user", "AdeleV@contoso.onmicrosoft.com"), "tid": demotenant.TenantID, "name": "Adele Vance",
		"preferred_username": "AdeleV@contoso.onmicrosoft.com", "ver": "2.0", "nonce": "nonce-1",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("id token %s = %v, want %v", k, claims[k], v)
		}
	}
	// The access token is for the Restore Portal API.
	at, err := p.Verifier(&oidc.Config{ClientID: s.ApplicationID()}).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	var ac map[string]any
	at.Claims(&ac)
	if ac["scp"] != "access_as_user" || ac["oid"] != want["oid"] {
		t.Errorf("access token claims = %v", ac)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}

	// The code is single-use.
	_, err = cfg.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	assertOAuthError(t, err, "invalid_grant", "AADSTS54005")

	// Refresh gives a new pair; revocation ends it.
	fresh, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || fresh.AccessToken == "" {
		t.Fatalf("refresh: %v", err)
	}
	s.RevokeRefreshTokens(want["oid"].(string))
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token()
	assertOAuthError(t, err, "invalid_grant", "AADSTS50173")
}

func assertOAuthError(t *testing.T, err error, code, aadsts string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v, want an OAuth error", err)
	}
	if re.ErrorCode != code || !strings.Contains(re.ErrorDescription, aadsts) {
		t.Errorf("error = %s %s, want %s %s", re.ErrorCode, re.ErrorDescription, code, aadsts)
	}
}

func TestTokenRefusals(t *testing.T) {
	t.Parallel()
	s := start(t, fakeentra.Options{})
	ctx := t.Context()
	tests := []struct {
		name   string
		mutate func(cfg *oauth2.Config, verifier *string)
		code   string
		aadsts string
	}{
		{"wrong secret", func(c *oauth2.Config, _ *string) { c.ClientSecret = "nope" }, "invalid_client", "AADSTS7000215"},
		{"wrong verifier", func(_ *oauth2.Config, v *string) { *v = oauth2.GenerateVerifier() }, "invalid_grant", "AADSTS501481"},
		{"wrong redirect uri", func(c *oauth2.Config, _ *string) { c.RedirectURL = "http://127.0.0.1:9/other" }, "invalid_grant", "AADSTS50011"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(s)
			verifier := oauth2.GenerateVerifier()
			got := signIn(t, s, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n")), "AlexW@contoso.onmicrosoft.com")
			tt.mutate(cfg, &verifier)
			_, err := cfg.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
			assertOAuthError(t, err, tt.code, tt.aadsts)
		})
	}
}

func TestExpiredCode(t *testing.T) {
	t.Parallel()
	now := clock.TestStart
	s := start(t, fakeentra.Options{Now: func() time.Time { return now }})
	cfg := config(s)
	verifier := oauth2.GenerateVerifier()
	got := signIn(t, s, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "AlexW@contoso.onmicrosoft.com")
	now = now.Add(11 * time.Minute)
	_, err := cfg.Exchange(t.Context(), got.Get("code"), oauth2.VerifierOption(verifier))
	assertOAuthError(t, err, "invalid_grant", "AADSTS70008")
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	s := start(t, fakeentra.Options{RedirectURIs: []string{"https://portal.example.com/auth/callback", "http://127.0.0.1/auth/callback"}})
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	base := url.Values{
		"client_id": {s.ApplicationID()}, "response_type": {"code"}, "redirect_uri": {redirectURI},
		"scope": {"openid profile"}, "state": {"xyz"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	tests := []struct {
		name     string
		change   url.Values
		status   int
		wantErr  string // error param on the redirect; empty for an error page
		wantPage string
	}{
		{"registered https redirect", url.Values{"redirect_uri": {"https://portal.example.com/auth/callback"}}, http.StatusOK, "", "Pick an account"},
		{"registered loopback redirect, any port", url.Values{"redirect_uri": {"http://127.0.0.1:4711/auth/callback"}}, http.StatusOK, "", "Pick an account"},
		{"loopback redirect on another path", url.Values{"redirect_uri": {"http://127.0.0.1:4711/cb"}}, http.StatusBadRequest, "", "AADSTS50011"},
		{"unregistered loopback host", url.Values{"redirect_uri": {"http://localhost:4711/auth/callback"}}, http.StatusBadRequest, "", "AADSTS50011"},
		{"two resources", url.Values{"scope": {"openid api://" + s.ApplicationID() + "/access_as_user User.Read"}}, http.StatusFound, "invalid_scope", ""},
		{"undefined API scope", url.Values{"scope": {"openid api://" + s.ApplicationID() + "/everything"}}, http.StatusFound, "invalid_scope", ""},
		{"unknown resource", url.Values{"scope": {"openid https://unknown.example.com/read"}}, http.StatusFound, "invalid_resource", ""},
		{"bad prompt", url.Values{"prompt": {"always"}}, http.StatusFound, "invalid_request", ""},
		{"unknown client", url.Values{"client_id": {"11111111-2222-3333-4444-555555555555"}}, http.StatusBadRequest, "", "AADSTS700016"},
		{"unregistered redirect", url.Values{"redirect_uri": {"https://evil.example.net/cb"}}, http.StatusBadRequest, "", "AADSTS50011"},
		{"missing pkce", url.Values{"code_challenge": {""}}, http.StatusFound, "invalid_request", ""},
		{"plain pkce", url.Values{"code_challenge_method": {"plain"}}, http.StatusFound, "invalid_request", ""},
		{"token response type", url.Values{"response_type": {"token"}}, http.StatusFound, "unsupported_response_type", ""},
		{"silent sign-in", url.Values{"prompt": {"none"}}, http.StatusFound, "login_required", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			for k, v := range tt.change {
				q[k] = v
			}
			resp, err := noRedirects().Get(s.Authority() + "/oauth2/v2.0/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.wantPage != "" && !strings.Contains(string(body), tt.wantPage) {
				t.Errorf("page lacks %q", tt.wantPage)
			}
			if tt.wantErr != "" {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if loc.Query().Get("error") != tt.wantErr || loc.Query().Get("state") != "xyz" {
					t.Errorf("redirect = %s, want error=%s with the state", loc, tt.wantErr)
				}
			}
		})
	}
}

func TestCancelReturnsAccessDenied(t *testing.T) {
	t.Parallel()
	s := start(t, fakeentra.Options{})
	cfg := config(s)
	u, _ := url.Parse(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	form := u.Query()
	form.Set("action", "cancel")
	resp, err := noRedirects().PostForm(s.Authority()+"/oauth2/v2.0/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("error") != "access_denied" {
		t.Errorf("cancel redirected to %s", loc)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	s := start(t, fakeentra.Options{})
	for _, tt := range []struct {
		target   string
		redirect bool
	}{
		{"http://127.0.0.1:8080/signed-out", true},
		{"https://evil.example.net/", false},
	} {
		q := url.Values{"client_id": {s.ApplicationID()}, "post_logout_redirect_uri": {tt.target}}
		resp, err := noRedirects().Get(s.Authority() + "/oauth2/v2.0/logout?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location") == tt.target; got != tt.redirect {
			t.Errorf("logout to %s: status %d, Location %q", tt.target, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := len(s.Logouts()); n != 2 {
		t.Errorf("recorded %d logouts, want 2", n)
	}
}

func TestTamperedTokensFailVerification(t *testing.T) {
	t.Parallel()
	s := start(t, fakeentra.Options{})
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, s.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	verifier := p.Verifier(&oidc.Config{ClientID: s.ApplicationID()})
	for _, tamper := range []fakeentra.Tamper{
		fakeentra.TamperIssuer, fakeentra.TamperAudience, fakeentra.TamperExpired, fakeentra.TamperNotYetValid,
		fakeentra.TamperAlgNone, fakeentra.TamperHS256, fakeentra.TamperUnknownKey, fakeentra.TamperSignature,
	} {
		s.TamperNextAccessToken(tamper)
		tok, err := s.AccessTokenFor("MeganB@contoso.onmicrosoft.com")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := verifier.Verify(ctx, tok); err == nil {
			t.Errorf("%s: token verified", tamper)
		}
	}
	tok, _ := s.AccessTokenFor("MeganB@contoso.onmicrosoft.com")
	if _, err := verifier.Verify(ctx, tok); err != nil {
		t.Errorf("untampered token: %v", err)
	}
	// The JWKS keeps a rotated-out key so tokens signed before rotation still verify.
	if err := s.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.Authority() + "/discovery/v2.0/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []map[string]any }
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) != 2 {
		t.Errorf("JWKS after rotation has %d keys, want 2", len(set.Keys))
	}
}

// TestGraphDirectorySearch: a refresh token gets a Graph token for
// User.ReadBasic.All; Graph's /v1.0/users finds people by the start of a
// word of their name or address, with the header $search needs.
func TestGraphDirectorySearch(t *testing.T) {
	t.Parallel()
	s := start(t, fakeentra.Options{})
	cfg := config(s)
	verifier := oauth2.GenerateVerifier()
	got := signIn(t, s, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n")), "NestorW@contoso.onmicrosoft.com")
	ctx := t.Context()
	tok, err := cfg.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	graphToken := func(scope string) string {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {s.ApplicationID()},
			"client_secret": {s.ClientSecret()}, "scope": {scope}}
		resp, err := http.PostForm(s.Authority()+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ AccessToken, Scope string }
		json.NewDecoder(resp.Body).Decode(&struct {
			AccessToken *string `json:"access_token"`
			Scope       *string `json:"scope"`
		}{&body.AccessToken, &body.Scope})
		return body.AccessToken
	}
	search := func(token, query string, header bool) (int, []string) {
		req, _ := http.NewRequest("GET", s.URL()+"/v1.0/users?$search="+url.QueryEscape(query)+"&$top=5", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if header {
			req.Header.Set("ConsistencyLevel", "eventual")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct {
			Value []struct{ DisplayName string } `json:"value"`
		}
		json.NewDecoder(resp.Body).Decode(&page)
		var names []string
		for _, p := range page.Value {
			names = append(names, p.DisplayName)
		}
		return resp.StatusCode, names
	}
	graph := graphToken("openid " + fakeentra.GraphScope)
	if status, names := search(graph, `"displayName:meg" OR "mail:meg"`, true); status != http.StatusOK || len(names) != 1 || names[0] != "Megan Bowen" {
		t.Errorf("search: %d %v", status, names)
	}
	if status, names := search(graph, `"displayName:bowen"`, true); status != http.StatusOK || len(names) != 1 {
		t.Errorf("by the surname: %d %v", status, names)
	}
	if status, _ := search(graph, `"displayName:meg"`, false); status != http.StatusBadRequest {
		t.Errorf("without ConsistencyLevel: %d", status)
	}
	if status, _ := search(graphToken("openid profile"), `"displayName:meg"`, true); status != http.StatusForbidden {
		t.Errorf("a token without User.ReadBasic.All: %d", status)
	}
	if status, _ := search(tok.AccessToken, `"displayName:meg"`, true); status != http.StatusUnauthorized {
		t.Errorf("the portal's API token: %d", status)
	}
}
