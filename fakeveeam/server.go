package fakeveeam

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/internal/fakehttp"
)

// Options configures the server. Zero values give the Contoso demo organisation.
type Options struct {
	// BaseURL is scheme://host[:port] of this server; Start fills it from the listener.
	BaseURL string
	// EntraAuthority is the tenant-specific authority of the Entra ID issuer,
	// <base>/<tid>; its issuer is <authority>/v2.0. RestorePortalSettings names it.
	EntraAuthority string
	// Tenant is the backed-up organisation. Default: demotenant.Contoso().
	Tenant *demotenant.Tenant
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// TokenLifetime is the operator access token lifetime. Default 60 min, as VB365's AuthTokenLifeTime.
	TokenLifetime time.Duration
	// AuthCodeLifetime is how long a one-time code of POST /v8/token/AuthCode
	// stays valid (default one minute).
	AuthCodeLifetime time.Duration
	// RefreshTokenLifetime is not documented for VB365 (api-notes §1.1); default 24 h.
	RefreshTokenLifetime time.Duration
	// SessionIdleTimeout stops a restore session nobody has used for this long. Default 30 min.
	SessionIdleTimeout time.Duration
	// Latency is added to every request.
	Latency time.Duration
	// OAuthTokenErrors makes /token answer failures OWIN-style,
	// {"error","error_description"}, instead of RESTExceptionInfo (api-notes §1.1).
	OAuthTokenErrors bool
	// HTTPClient fetches the issuer's discovery document and keys. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// LargeMailbox is the UPN of a user whose mailbox gets a folder,
	// Inbox/Notifications, of LargeFolderItems items (default 100,000), for scale tests.
	LargeMailbox     string
	LargeFolderItems int
	// RestoreItemDuration is how long restoring one item takes. Default 400 ms.
	RestoreItemDuration time.Duration
	// DenyDownloads reports whether the operator with this OID may not save or
	// export items: their items then carry no save or export actions, and the
	// endpoints refuse them. Default: everyone may.
	DenyDownloads func(oid string) bool
	// ExportPadding is added to the size of every PST export (benchmarks).
	ExportPadding int64
	// LargeLibrarySite is the title of a site that gets a document library,
	// "Archive", of LargeLibraryDocs documents (default 50,000), for scale tests.
	LargeLibrarySite string
	LargeLibraryDocs int
	// FaultSeed seeds the random draws of injected faults with a Rate.
	FaultSeed uint64
}

// The demo's large data: a folder of 100,000 messages in this mailbox and a
// library of 50,000 documents on this site.
const (
	DemoLargeMailbox     = "PradeepG@" + demotenant.Domain
	DemoLargeLibrarySite = "Sales Proposals"
)

// Server is the fake VB365 server; it is an http.Handler.
type Server struct {
	opts Options
	dir  *directory
	// anchor is when the data's history ends and production begins: the
	// stories ("deleted three days ago") are told from it.
	anchor time.Time
	mux    *http.ServeMux
	srv    *http.Server
	// Front adds latency and injected faults, and logs the requests
	// (Inject, ClearFaults, Requests, InFlight, ResetRequests).
	*fakehttp.Front
	handler http.Handler

	verifierMu sync.Mutex
	verifier   *oidc.IDTokenVerifier // of v2.0 access tokens
	verifierV1 *oidc.IDTokenVerifier // of v1.0 access tokens

	mail *exchangeData
	docs *docData
	// authCodes are the one-time codes handed out; exports the post export tasks.
	authCodes map[string]*authCode
	exports   map[string]*exportTask
	// teamsData is every team's channels, posts, files and tabs.
	teamsData *teamsData

	mu           sync.Mutex
	access       map[string]*grant
	refresh      map[string]*grant
	sessions     map[string]*restoreSession
	tokenReq     map[string]int
	searches     map[string]*searchSet
	docSearches  map[string]*docSearchSet
	failingNames []string // names (substrings) whose restore fails
	downloads    []Download
	inflight     sync.WaitGroup // downloads being written
}

// New returns a server for opts.
func New(opts Options) (*Server, error) {
	if opts.BaseURL == "" {
		return nil, errors.New("fakeveeam: BaseURL is required")
	}
	if opts.EntraAuthority == "" {
		return nil, errors.New("fakeveeam: EntraAuthority is required")
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	opts.EntraAuthority = strings.TrimSuffix(strings.TrimSuffix(opts.EntraAuthority, "/"), "/v2.0")
	if opts.Tenant == nil {
		t := demotenant.Contoso()
		opts.Tenant = &t
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.RefreshTokenLifetime == 0 {
		opts.RefreshTokenLifetime = 24 * time.Hour
	}
	if opts.SessionIdleTimeout == 0 {
		opts.SessionIdleTimeout = 30 * time.Minute
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.LargeMailbox != "" && opts.LargeFolderItems == 0 {
		opts.LargeFolderItems = 100_000
	}
	if opts.LargeLibrarySite != "" && opts.LargeLibraryDocs == 0 {
		opts.LargeLibraryDocs = 50_000
	}
	if opts.AuthCodeLifetime == 0 {
		opts.AuthCodeLifetime = time.Minute
	}
	if opts.RestoreItemDuration == 0 {
		opts.RestoreItemDuration = 400 * time.Millisecond
	}
	if opts.DenyDownloads == nil {
		opts.DenyDownloads = func(string) bool { return false }
	}
	dir := newDirectory(*opts.Tenant)
	s := &Server{
		opts:        opts,
		dir:         dir,
		access:      map[string]*grant{},
		authCodes:   map[string]*authCode{},
		exports:     map[string]*exportTask{},
		refresh:     map[string]*grant{},
		sessions:    map[string]*restoreSession{},
		tokenReq:    map[string]int{},
		searches:    map[string]*searchSet{},
		docSearches: map[string]*docSearchSet{},
		downloads:   []Download{},
	}
	anchor := dataAnchor(opts.Now())
	s.anchor = anchor
	s.mail = newExchangeData(dir, &s.opts, anchor)
	s.docs = newDocData(dir, &s.opts, anchor)
	s.teamsData = newTeamsData(dir, anchor)
	s.routes()
	return s, nil
}

// Start listens on addr and serves until Close. An empty opts.BaseURL becomes http://<listen address>.
func Start(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fakeveeam: listen: %w", err)
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "http://" + ln.Addr().String()
	}
	s, err := New(opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops a server started with Start, cutting open connections.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Anchor is the moment the demo data's stories are told from ("deleted
// three days ago"): when the server started, on its clock.
func (s *Server) Anchor() time.Time { return s.anchor }

// URL is the server's base URL.
// Options returns what the server runs with, defaults filled in.
func (s *Server) Options() Options { return s.opts }

func (s *Server) URL() string { return s.opts.BaseURL }

// Tenant is the organisation the server backs up.
func (s *Server) Tenant() demotenant.Tenant { return s.dir.org }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /v8/RestorePortalSettings", s.restorePortalSettings)
	m.HandleFunc("POST /v8/token", s.token)
	m.HandleFunc("POST /v8/token/AuthCode", s.authed(s.newAuthCode))
	m.HandleFunc("POST /v8/token/logout", s.authed(s.logout))
	m.HandleFunc("GET /v8/Organization/LoggedInUser", s.authed(s.loggedInUser))
	m.HandleFunc("GET /v8/Organization/LoggedInUser/OperatorInfo", s.authed(s.operatorInfo))
	m.HandleFunc("GET /v8/Organization/LoggedInUser/EffectiveScope", s.authed(s.effectiveScope))
	m.HandleFunc("GET /v8/Organization/LoggedInUser/RestorePoints", s.authed(s.restorePoints))
	m.HandleFunc("POST /v8/Organization/OperatorExplore", s.authed(s.operatorExplore))
	m.HandleFunc("GET /v8/RestoreSessions/{restoreSessionId}", s.authed(s.getSession))
	m.HandleFunc("POST /v8/RestoreSessions/{restoreSessionId}/Stop", s.authed(s.stopSession))
	m.HandleFunc("GET /v8/RestoreSessions/{restoreSessionId}/Events", s.authed(s.sessionEvents))
	m.HandleFunc("GET /v8/RestoreSessions/{restoreSessionId}/organization/mailboxes", s.authed(s.inSession("Vex", s.mailboxes)))
	m.HandleFunc("GET /v8/RestoreSessions/{restoreSessionId}/Organization/OneDrives", s.authed(s.inSession("Veod", s.oneDrives)))
	m.HandleFunc("GET /v8/RestoreSessions/{restoreSessionId}/Organization/Sites", s.authed(s.inSession("Vesp", s.sites)))
	m.HandleFunc("GET /v8/RestoreSessions/{restoreSessionId}/organization/teams", s.authed(s.inSession("Vet", s.teams)))
	m.HandleFunc("GET /v8/RestoreSessions/{restoreSessionId}/Statistics", s.authed(s.sessionStatistics))
	// Each workload's routes, each table in the same style: a path under
	// the object the workload is about, and a handler given that object.
	s.exchangeRoutes(m)
	s.oneDriveRoutes(m)
	s.teamsRoutes(m)
	s.exportRoutes(m)
	s.teamsRestoreRoutes(m)
	s.sharePointRoutes(m)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, errResourceNotFound, fmt.Sprintf("No HTTP resource was found that matches the request URI '%s'.", r.URL.Path))
	})
	s.mux = m
	s.Front = &fakehttp.Front{Latency: s.opts.Latency, Seed: s.opts.FaultSeed, Owner: s.bearerOwner,
		WriteError: func(w http.ResponseWriter, status int, code, message string) { writeError(w, status, code, message) }}
	s.handler = s.Front.Wrap(m)
}

// ServeHTTP implements http.Handler: latency, injected faults, the request log, then the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Fault describes a failure to inject into matching requests (Inject).
type Fault = fakehttp.Fault

// Request is one request the server received, for tests (Requests).
type Request = fakehttp.Request

func (s *Server) restorePortalSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, restorePortalSettings{
		ApplicationID:    s.dir.org.ApplicationID,
		MSALAuthorityURI: s.opts.EntraAuthority,
		RestorePortalURI: s.opts.BaseURL + "/",
		IsEnabled:        true,
	})
}

type restorePortalSettings struct {
	ApplicationID    string `json:"applicationId"`
	MSALAuthorityURI string `json:"msalAuthorityUri"`
	RestorePortalURI string `json:"restorePortalUri"`
	IsEnabled        bool   `json:"isEnabled"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "", "encoding failed")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// stableID derives a UUID from names, so seeded objects keep their ids across runs.
func stableID(parts ...string) string {
	sum := sha1.Sum([]byte("fakeveeam/" + strings.Join(parts, "/")))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
