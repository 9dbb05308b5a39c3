package fakeentra

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openrestore/portal/demotenant"
)

// User is an account of the tenant that the sign-in page offers.
type User struct {
	OID         string
	Name        string
	UPN         string
	Description string // shown under the name on the account picker, e.g. the person's role
	// Roles are app roles of the application, sent in the ID token's roles claim.
	Roles []string
	// Groups are the object ids of the security groups the person is in,
	// sent in the ID token's groups claim (the application asks for it).
	Groups []string
}

// Options configures the issuer. Zero values give the Contoso demo tenant.
type Options struct {
	// BaseURL is scheme://host[:port] under which the issuer is reachable; the
	// issuer is BaseURL/<TenantID>/v2.0. Start fills it from the listener.
	BaseURL string
	// TenantID is the tenant's GUID (the tid claim). Default: the demo tenant.
	TenantID string
	// TenantName is shown on the sign-in page.
	TenantName string
	// ApplicationID is the one registered application (the Restore Portal app).
	ApplicationID string
	// AccessTokenVersion is the version of the access tokens for the
	// application's API, as its manifest's accessTokenAcceptedVersion says:
	// 2 (aud = the application id, iss = the v2.0 issuer) or 1 (Entra's
	// default when the setting is null: aud = api://<application id>, iss =
	// https://sts.windows.net/<tenant>/, appid, upn). Default 2.
	AccessTokenVersion int
	// OverageLimit is how many groups fit in a token; a user in more gets
	// the overage claims (_claim_names, _claim_sources) instead. Default 200.
	OverageLimit int
	// ClientSecret is the application's secret. Default: a random one, see ClientSecret().
	ClientSecret string
	// RedirectURIs are the registered redirect URIs, for sign-in and for the
	// return after sign-out. As Entra does for localhost and 127.0.0.1, a
	// registered loopback URI matches on any port (its path must match).
	// Default: http://localhost/auth/callback, http://127.0.0.1/auth/callback
	// and the same with /signed-out, the portal's.
	RedirectURIs []string
	// Users are the accounts on the sign-in page. Default: the demo tenant's people.
	Users []User
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Lifetimes. Defaults as Entra's: access tokens 1 h (Entra picks between
	// 60 and 90 minutes; the fake keeps to the shortest, so tests know when
	// they fall due), ID tokens 1 h, refresh tokens 90 days, codes 10 min.
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration
	CodeLifetime         time.Duration
}

// Server is the fake issuer; it is an http.Handler.
type Server struct {
	opts Options
	mux  *http.ServeMux
	srv  *http.Server
	ln   net.Listener

	mu            sync.Mutex
	key           *rsa.PrivateKey
	kid           string
	retiredKeys   map[string]*rsa.PrivateKey // still published in the JWKS after RotateKeys
	codes         map[string]*authCode
	refresh       map[string]*refreshGrant
	revokedBefore map[string]time.Time // oid → refresh tokens issued before this are revoked
	tamperID      Tamper
	tamperAccess  Tamper
	tokenCalls    int
	failure       Failure
	certs         []*x509.Certificate // the application's registered certificates
	usedJTIs      map[string]bool     // client assertions already used
	disabled      map[string]bool     // oid → disabled
	consented     map[string]bool     // oid → consented (when consent is required)
	challenged    map[string]bool     // oid → a sign-in satisfied the claims challenge
	logouts       []Logout
	issued        []string
	graph         map[string]graphGrant // Graph tokens issued
}

// Logout records one end-session request.
type Logout struct {
	ClientID              string
	PostLogoutRedirectURI string
	LogoutHint            string
	IDTokenHint           bool
}

// New returns an issuer for opts. BaseURL is required.
func New(opts Options) (*Server, error) {
	if opts.BaseURL == "" {
		return nil, errors.New("fakeentra: BaseURL is required")
	}
	if _, err := url.Parse(opts.BaseURL); err != nil {
		return nil, fmt.Errorf("fakeentra: BaseURL: %w", err)
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	demo := demotenant.Contoso()
	if opts.TenantID == "" {
		opts.TenantID = demo.ID
		if opts.TenantName == "" {
			opts.TenantName = demo.Name
		}
	}
	if opts.TenantName == "" {
		opts.TenantName = "Your organisation"
	}
	if opts.ApplicationID == "" {
		opts.ApplicationID = demo.ApplicationID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = randomString(30)
	}
	if len(opts.Users) == 0 {
		for _, u := range demo.Users {
			var groups []string
			for _, g := range demo.Groups {
				if slices.Contains(g.Members, u.OID) {
					groups = append(groups, g.ID)
				}
			}
			opts.Users = append(opts.Users, User{OID: u.OID, Name: u.DisplayName, UPN: u.UPN, Description: string(u.Role), Roles: u.AppRoles,
				Groups: groups})
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AccessTokenLifetime == 0 {
		opts.AccessTokenLifetime = time.Hour
	}
	if opts.IDTokenLifetime == 0 {
		opts.IDTokenLifetime = time.Hour
	}
	if opts.RefreshTokenLifetime == 0 {
		opts.RefreshTokenLifetime = 90 * 24 * time.Hour // Entra's, for web applications
	}
	if opts.CodeLifetime == 0 {
		opts.CodeLifetime = 10 * time.Minute
	}
	if opts.AccessTokenVersion == 0 {
		opts.AccessTokenVersion = 2
	}
	if opts.AccessTokenVersion != 1 && opts.AccessTokenVersion != 2 {
		return nil, fmt.Errorf("fakeentra: access token version %d: want 1 or 2", opts.AccessTokenVersion)
	}
	if opts.OverageLimit == 0 {
		opts.OverageLimit = 200
	}
	if len(opts.RedirectURIs) == 0 {
		for _, host := range []string{"localhost", "127.0.0.1"} {
			opts.RedirectURIs = append(opts.RedirectURIs, "http://"+host+"/auth/callback", "http://"+host+"/signed-out")
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("fakeentra: generate key: %w", err)
	}
	s := &Server{
		opts: opts, key: key, kid: randomString(16),
		retiredKeys:   map[string]*rsa.PrivateKey{},
		codes:         map[string]*authCode{},
		refresh:       map[string]*refreshGrant{},
		revokedBefore: map[string]time.Time{},
		graph:         map[string]graphGrant{},
		disabled:      map[string]bool{},
		consented:     map[string]bool{},
		challenged:    map[string]bool{},
		usedJTIs:      map[string]bool{},
	}
	s.routes()
	return s, nil
}

// Start listens on addr (for example "127.0.0.1:0") and serves the issuer
// until Close. An empty opts.BaseURL becomes http://<listen address>.
func Start(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fakeentra: listen: %w", err)
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "http://" + ln.Addr().String()
	}
	s, err := New(opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops a server started with Start.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// URL is the base URL (scheme://host:port).
func (s *Server) URL() string { return s.opts.BaseURL }

// Authority is the tenant-specific authority, <base>/<tid>, as MSAL names it.
func (s *Server) Authority() string { return s.opts.BaseURL + "/" + s.opts.TenantID }

// Issuer is the v2.0 issuer, <base>/<tid>/v2.0.
func (s *Server) Issuer() string { return s.Authority() + "/v2.0" }

// IssuerV1 is the issuer of version 1.0 access tokens, Entra's own
// address whatever the fake's: https://sts.windows.net/<tenant id>/.
func (s *Server) IssuerV1() string { return "https://sts.windows.net/" + s.opts.TenantID + "/" }

// TenantID is the tenant's GUID.
func (s *Server) TenantID() string { return s.opts.TenantID }

// ApplicationID is the registered application's client id.
func (s *Server) ApplicationID() string { return s.opts.ApplicationID }

// ClientSecret is the application's secret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// Users lists the accounts of the tenant.
func (s *Server) Users() []User { return append([]User(nil), s.opts.Users...) }

// TokenRequests counts the requests the token endpoint has received.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// IssuedTokens lists every token and code this issuer has handed out, for
// tests that scan pages, logs and URLs for leaks.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

func (s *Server) record(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tokens {
		if t != "" {
			s.issued = append(s.issued, t)
		}
	}
}

// Logouts lists the end-session requests received.
func (s *Server) Logouts() []Logout {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Logout(nil), s.logouts...)
}

// RevokeRefreshTokens revokes every refresh token issued so far to the user
// with this OID, as "Revoke sessions" does in the Entra admin centre.
func (s *Server) RevokeRefreshTokens(oid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokedBefore[oid] = s.opts.Now().Add(time.Second)
}

// RotateKeys starts signing with a new key; the old one stays in the JWKS.
func (s *Server) RotateKeys() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retiredKeys[s.kid] = s.key
	s.key, s.kid = key, randomString(16)
	return nil
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.tenant(s.discovery))
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.tenant(s.jwks))
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.tenant(s.authorize))
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/authorize", s.tenant(s.authorize))
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.tenant(s.token))
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/logout", s.tenant(s.logout))
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/logout", s.tenant(s.logout))
	mux.HandleFunc("GET /v1.0/users", s.graphUsers)
	mux.HandleFunc("POST /v1.0/me/getMemberObjects", s.memberObjects)
	s.mux = mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	s.mux.ServeHTTP(w, r)
}

// tenant refuses paths for any tenant but ours, as Entra does for an unknown tenant.
func (s *Server) tenant(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.PathValue("tenant"), s.opts.TenantID) {
			oauthError(w, http.StatusBadRequest, "invalid_tenant", 90002,
				fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID.", r.PathValue("tenant")), s.opts.Now())
			return
		}
		h(w, r)
	}
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	base := s.Authority()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.Issuer(),
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"request_uri_parameter_supported":       false,
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
			"at_hash", "c_hash", "email"},
		"tenant_region_scope":           "EU",
		"cloud_instance_name":           "microsoftonline.com",
		"cloud_graph_host_name":         "graph.windows.net",
		"msgraph_host":                  "graph.microsoft.com",
		"rbac_url":                      "https://pas.windows.net",
		"kerberos_endpoint":             base + "/kerberos",
		"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// oauthError writes an error in the shape of Entra's token endpoint.
func oauthError(w http.ResponseWriter, status int, code string, aadsts int, description string, now time.Time) {
	trace := randomUUID()
	writeJSON(w, status, map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			aadsts, description, trace, randomUUID(), now.UTC().Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{aadsts},
		"timestamp":      now.UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": randomUUID(),
		"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts),
	})
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// isLoopback reports whether u is an http(s) URL on a loopback host.
func isLoopback(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirectAllowed reports whether raw is a registered redirect URI: the
// same, or, for a loopback one, the same but for the port (Entra's
// localhost exception, RFC 8252 7.3).
func (s *Server) redirectAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Fragment != "" || u.User != nil {
		return false
	}
	for _, r := range s.opts.RedirectURIs {
		if r == raw {
			return true
		}
		reg, err := url.Parse(r)
		if err == nil && isLoopback(reg) && isLoopback(u) && reg.Scheme == u.Scheme && reg.Hostname() == u.Hostname() &&
			reg.Path == u.Path && reg.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}
