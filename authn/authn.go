package authn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// Config configures an Authenticator.
type Config struct {
	// ClientID and Authority identify the Entra application and tenant
	// (https://login.microsoftonline.com/<tenant id>). When either is empty,
	// Discover supplies them at first use.
	ClientID  string
	Authority string
	// Discover returns the application id and authority, typically from
	// VB365's Restore Portal settings. It is retried until it succeeds.
	Discover func(ctx context.Context) (clientID, authority string, err error)
	// ClientSecret is the application's secret.
	ClientSecret string
	// Credential, when set, gives the application's credential at each
	// token request instead (a secret or a certificate, read again when
	// their files change).
	Credential func() (Credential, error)
	// GraphURL is Microsoft Graph, where the groups of a person in more
	// groups than a token holds (the overage) are read; "" not to.
	GraphURL string
	// APIScope is the scope of VB365's API the portal asks for; default
	// api://<client id>/access_as_user (set it when the application's ID
	// URI is another).
	APIScope string
	// RedirectURL is the registered callback, <public URL>/auth/callback.
	RedirectURL string
	// PostLogoutRedirectURL is where Entra returns the browser after sign-out;
	// it must be registered as a redirect URI too.
	PostLogoutRedirectURL string
	// HTTPClient reaches Entra (discovery, keys, token endpoint). It needs a timeout.
	HTTPClient *http.Client
	// IdleTimeout ends a session unused for this long; Lifetime ends any session
	// this long after sign-in. Defaults: 30 min and 8 h.
	IdleTimeout time.Duration
	Lifetime    time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Records keeps what a signed-in session holds that changes after
	// sign-in (its tokens, its idle deadline), where every replica sees it.
	Records Records
	// Sealer seals the tokens in Records and the login transactions the
	// browser carries between Begin and Finish.
	Sealer Sealer
	// Logger receives security events (authn_login_success, authn_login_fail,
	// session_expired, session_logout, ...). Tokens and codes are never logged.
	Logger *slog.Logger
}

// Exchanger turns Entra access tokens into VB365 operator tokens. Errors that
// mean "refused for good" (bad assertion, unknown or revoked refresh token)
// must wrap ErrRejected; anything else counts as a passing failure.
type Exchanger interface {
	Exchange(ctx context.Context, userID, tenantID, assertion string) (Grant, error)
	Refresh(ctx context.Context, refreshToken string) (Grant, error)
	Logout(ctx context.Context, accessToken string) error
}

// Record is a signed-in session as Records keeps it: its tokens, sealed,
// with a version that counts their changes.
type Record struct {
	SID      string
	TenantID string
	UserOID  string
	Sealed   []byte
	Version  int64
	// Expires is the idle deadline (never after Ends); Ends, the end of
	// the session's lifetime.
	Expires time.Time
	Ends    time.Time
}

// Records keeps signed-in sessions' Records for every replica, and
// decides between replicas that renew a session's tokens at once.
type Records interface {
	Create(ctx context.Context, r Record) error
	// Load returns the session's Record, unless it expired at now.
	Load(ctx context.Context, sid string, now time.Time) (Record, bool, error)
	// Touch moves the idle deadline (never past the end).
	Touch(ctx context.Context, sid string, expires time.Time) error
	// Claim reserves the renewal of the tokens of this version until
	// until; false if they changed or another claim that has not run out
	// at now holds them.
	Claim(ctx context.Context, sid string, version int64, until, now time.Time) (bool, error)
	// Replace stores renewed tokens over this version and lets go of the
	// claim; false if the tokens are no longer of this version.
	Replace(ctx context.Context, sid string, version int64, sealed []byte) (bool, error)
	// Release lets go of a claim without a change.
	Release(ctx context.Context, sid string, version int64) error
	// End removes the Record and what the portal keeps under the session.
	End(ctx context.Context, sid string) error
}

// Sealer encrypts and authenticates values for a purpose: a value sealed
// for one purpose does not open for another.
type Sealer interface {
	Seal(plain []byte, purpose string) ([]byte, error)
	Open(sealed []byte, purpose string) ([]byte, error)
}

// Grant is a VB365 operator token pair.
type Grant struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	Lifetime     time.Duration
}

// Errors.
var (
	// ErrRejected marks an Exchanger error as final: the grant was refused.
	ErrRejected = errors.New("authn: grant rejected")
	// ErrNoSession: nobody is signed in.
	ErrNoSession = errors.New("authn: not signed in")
	// ErrSessionExpired: the session ran out (idle or absolute timeout).
	ErrSessionExpired = errors.New("authn: session expired")
	// ErrReauthenticate: the tokens can no longer be renewed; the session is
	// ended and the user must sign in again.
	ErrReauthenticate = errors.New("authn: sign-in required")
	// ErrUnavailable: Entra ID cannot be reached or answered wrongly.
	ErrUnavailable = errors.New("authn: identity provider unavailable")
	// ErrStore: the sessions' Records cannot be read or written.
	ErrStore = errors.New("authn: session store unavailable")
)

// Authenticator signs users in and holds their tokens. It is safe for concurrent use.
type Authenticator struct {
	cfg      Config
	sessions *scs.SessionManager
	veeam    Exchanger
	log      *slog.Logger

	mu          sync.Mutex
	prov        *provider
	lastTry     time.Time
	lastErr     error
	renewFlight singleflight.Group
	others      map[string]graphMemo // tokens for other APIs, by session and scope
}

// New returns an Authenticator storing its state in sessions.
func New(cfg Config, sessions *scs.SessionManager, veeam Exchanger) (*Authenticator, error) {
	var problems []string
	if cfg.ClientSecret == "" && cfg.Credential == nil {
		problems = append(problems, "a client secret or certificate is required")
	}
	if _, err := url.ParseRequestURI(cfg.RedirectURL); err != nil || cfg.RedirectURL == "" {
		problems = append(problems, "the redirect URL must be absolute")
	}
	if cfg.PostLogoutRedirectURL == "" {
		problems = append(problems, "the post-logout redirect URL is required")
	}
	if (cfg.ClientID == "" || cfg.Authority == "") && cfg.Discover == nil {
		problems = append(problems, "either the client id and authority or a Discover function are required")
	}
	if cfg.Authority != "" {
		if _, err := CheckAuthority(cfg.Authority); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if cfg.APIScope != "" {
		if err := CheckAPIScope(cfg.APIScope); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if cfg.HTTPClient == nil || cfg.HTTPClient.Timeout == 0 {
		problems = append(problems, "an HTTP client with a timeout is required")
	}
	if cfg.Records == nil || cfg.Sealer == nil {
		problems = append(problems, "the session records and a sealer are required")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("authn: %s", strings.Join(problems, "; "))
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = 8 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Authenticator{cfg: cfg, sessions: sessions, veeam: veeam, log: cfg.Logger, others: map[string]graphMemo{}}, nil
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// NormalizeAuthority writes an authority as the issuer is built from it:
// no spaces, lower-case scheme, host and tenant, and none of the suffixes
// people copy along (/, /v2.0, /oauth2/v2.0/authorize, the discovery
// document's path).
func NormalizeAuthority(raw string) string {
	s := strings.TrimSpace(raw)
	for _, suffix := range []string{"/", "/.well-known/openid-configuration", "/", "/v2.0", "/oauth2/v2.0/authorize", "/oauth2/v2.0/token", "/"} {
		s = strings.TrimSuffix(s, suffix)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	u.Scheme, u.Host, u.Path = strings.ToLower(u.Scheme), strings.ToLower(u.Host), strings.ToLower(u.Path)
	return u.String()
}

// CheckAuthority validates a tenant-specific Entra authority (normalised
// first) and returns its tenant id. Multi-tenant authorities (common,
// organizations, consumers) are refused: the issuer must be pinned to one
// tenant.
func CheckAuthority(raw string) (tenantID string, err error) {
	u, err := url.Parse(NormalizeAuthority(raw))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("the authority %q is not an absolute URL", raw)
	}
	host := u.Hostname()
	loopback := host == "localhost" || net.ParseIP(host).IsLoopback()
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return "", fmt.Errorf("the authority %q must use https", raw)
	}
	tenant := strings.TrimPrefix(u.Path, "/")
	switch strings.ToLower(tenant) {
	case "common", "organizations", "consumers":
		return "", fmt.Errorf("the authority %q is multi-tenant: use the tenant-specific authority https://login.microsoftonline.com/<tenant id>", raw)
	}
	if !guidPattern.MatchString(tenant) {
		return "", fmt.Errorf("the authority %q must end in the tenant id (a GUID), as in https://login.microsoftonline.com/<tenant id>", raw)
	}
	return strings.ToLower(tenant), nil
}

// provider is what discovery gives: the pinned issuer's endpoints and keys.
type provider struct {
	clientID   string
	tenantID   string
	issuer     string
	verifier   *oidc.IDTokenVerifier
	oauth      oauth2.Config
	endSession string
}

// retryDiscovery is how long a failed discovery is remembered before the next try.
const retryDiscovery = 5 * time.Second

// provider discovers the issuer once; until it succeeds, it retries at most
// every few seconds and reports ErrUnavailable in between.
func (a *Authenticator) provider(ctx context.Context) (*provider, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.prov != nil {
		return a.prov, nil
	}
	now := a.cfg.Now()
	if a.lastErr != nil && now.Sub(a.lastTry) < retryDiscovery {
		return nil, a.lastErr
	}
	a.lastTry = now
	p, err := a.discover(ctx)
	if err != nil {
		a.lastErr = fmt.Errorf("%w: %w", ErrUnavailable, err)
		return nil, a.lastErr
	}
	a.prov, a.lastErr = p, nil
	return p, nil
}

func (a *Authenticator) discover(ctx context.Context) (*provider, error) {
	clientID, authority := a.cfg.ClientID, a.cfg.Authority
	if clientID == "" || authority == "" {
		id, auth, err := a.cfg.Discover(ctx)
		if err != nil {
			return nil, fmt.Errorf("discover application: %w", err)
		}
		if clientID == "" {
			clientID = id
		}
		if authority == "" {
			authority = auth
		}
	}
	if !guidPattern.MatchString(clientID) {
		return nil, fmt.Errorf("the application id %q is not a GUID", clientID)
	}
	tenantID, err := CheckAuthority(authority)
	if err != nil {
		return nil, err
	}
	issuer := NormalizeAuthority(authority) + "/v2.0"
	// The key set outlives this request; the client's timeout bounds each fetch.
	op, err := oidc.NewProvider(oidc.ClientContext(context.Background(), a.cfg.HTTPClient), issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := op.Claims(&extra); err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	ep := op.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &provider{
		clientID: clientID, tenantID: tenantID, issuer: issuer, endSession: extra.EndSession,
		verifier: op.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{oidc.RS256}, Now: a.cfg.Now}),
		oauth: oauth2.Config{
			ClientID: clientID, ClientSecret: a.cfg.ClientSecret, Endpoint: ep, RedirectURL: a.cfg.RedirectURL,
			Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess, a.apiScope(clientID)},
		},
	}, nil
}

// apiScope is the scope of VB365's API that the portal asks for: the
// configured one, or access_as_user under the application's default
// application ID URI, api://<client id>.
func (a *Authenticator) apiScope(clientID string) string {
	if a.cfg.APIScope != "" {
		return a.cfg.APIScope
	}
	return "api://" + clientID + "/access_as_user"
}

// CheckAPIScope reports why s cannot be an API scope: it must be an
// application ID URI (api://…, https://…) followed by the scope's name.
func CheckAPIScope(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "api" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") == "" ||
		strings.ContainsAny(s, " \t\n") {
		return fmt.Errorf("%q is not an API scope such as api://<application id>/access_as_user", s)
	}
	return nil
}

// Ready reports whether the identity provider has been discovered, trying
// once more if it has not.
func (a *Authenticator) Ready(ctx context.Context) bool {
	_, err := a.provider(ctx)
	return err == nil
}

// httpContext makes the oauth2 library use the configured client.
func (a *Authenticator) httpContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
}

// AuthorityOrigin is the scheme and host of the Entra authority once it is
// known (configured or discovered), else "". The portal's CSP lets forms lead there.
func (a *Authenticator) AuthorityOrigin() string {
	authority := a.cfg.Authority
	a.mu.Lock()
	if a.prov != nil {
		authority = a.prov.issuer
	}
	a.mu.Unlock()
	u, err := url.Parse(authority)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
