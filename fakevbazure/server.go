// Package fakevbazure is a fake Veeam Backup for Microsoft Azure REST API
// server (v8 and v8.1) for tests and the demo: its sign-in (with MFA), the
// administration of its users, and the file-level restore of Azure VMs, as
// the official OpenAPI document describes them
// (../shared/vb365/vbaz_rest_v8.1.json) and the product applies them:
// RFC 7807 problem documents, the documented token lifetimes, the
// product's name and password rules, a Default Admin that cannot be
// removed, real TOTP (RFC 6238) with scratch codes that work once, only a
// Portal Administrator managing users; subscriptions, resource groups and
// VMs with restore points whose files drift from day to day, FLR sessions
// that take a while to start and stop when left idle, restores that change
// the VM's live files (see flr.go). Failures and latency can be injected
// (Inject, Options.Latency).
package fakevbazure

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/openrestore/portal/internal/fakehttp"
)

// Options configures the server. Zero values give the demo's users.
type Options struct {
	// BaseURL is scheme://host[:port] of this server; Start fills it from the listener.
	BaseURL string
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Users are the accounts it starts with. Default: DemoUsers().
	Users []SeedUser
	// AccessLifetime is the access token's lifetime (the document: 60 minutes).
	AccessLifetime time.Duration
	// RefreshLifetime is the refresh token's (the document: 14 days).
	RefreshLifetime time.Duration
	// MFALifetime is how long the token of a sign-in waiting for its code lasts. Default 5 minutes.
	MFALifetime time.Duration
	// Latency is added to every request.
	Latency time.Duration

	// Infrastructure is what it protects. Default: DemoInfrastructure(Now()).
	Infrastructure *Infrastructure
	// FLRReadyAfter is how long an FLR session's worker takes to start. Default 20s.
	FLRReadyAfter time.Duration
	// FLRIdleTimeout stops an FLR session nobody used for that long. Default 30 minutes.
	FLRIdleTimeout time.Duration
	// RestoreItemTime is how long restoring one item takes. Default 2s.
	RestoreItemTime time.Duration
	// SearchTime is how long a search takes to prepare its first page. Default 1s.
	SearchTime time.Duration
	// RetrievalTime is how long retrieving an archived point takes at
	// Normal priority (a quarter at High). Default 20 minutes.
	RetrievalTime time.Duration
}

// SeedUser is an account the server starts with.
type SeedUser struct {
	Name        string
	Description string
	Role        string
	Type        string // Internal or IdentityProvider
	// IdentityProviderEntityID is an IdentityProvider user's Entra object id.
	IdentityProviderEntityID string
	Password                 string
	// MFASecret (base32) turns MFA on, with ScratchCodes.
	MFASecret    string
	ScratchCodes []string
	Default      bool
}

// Server is a running fake.
type Server struct {
	opts Options
	srv  *http.Server
	// Front adds latency and injected faults, and logs the requests
	// (Inject, ClearFaults, Requests, InFlight, ResetRequests).
	*fakehttp.Front
	handler http.Handler

	mu      sync.Mutex
	users   map[string]*user // by id
	order   []string         // ids, in the order added
	access  map[string]*grant
	refresh map[string]*grant
	mfa     map[string]*mfaSignIn
	setups  map[string]*mfaSetup // by setup token
	issued  []string             // every token handed out, for leak tests

	tenantID       string
	subscriptions  []*azSubscription
	resourceGroups []*azResourceGroup
	vms            []*azVM
	accounts       []*azServiceAccount
	jobs           []*jobSession // in the order started
}

// grant is an access and refresh token pair of a user.
type grant struct {
	userID         string
	access         string
	refresh        string
	accessExpires  time.Time
	refreshExpires time.Time
}

// mfaSignIn is a password sign-in waiting for its MFA code.
type mfaSignIn struct {
	userID  string
	expires time.Time
	tries   int
}

// mfaSetup is an enableMfa waiting for its acceptMfa.
type mfaSetup struct {
	userID  string
	secret  string
	scratch []string
	expires time.Time
}

// New returns a server that is not listening (use it as an http.Handler).
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AccessLifetime == 0 {
		opts.AccessLifetime = 60 * time.Minute
	}
	if opts.RefreshLifetime == 0 {
		opts.RefreshLifetime = 14 * 24 * time.Hour
	}
	if opts.MFALifetime == 0 {
		opts.MFALifetime = 5 * time.Minute
	}
	if opts.Users == nil {
		opts.Users = DemoUsers()
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&opts.FLRReadyAfter, 20 * time.Second}, {&opts.FLRIdleTimeout, 30 * time.Minute}, {&opts.RestoreItemTime, 2 * time.Second},
		{&opts.SearchTime, time.Second}, {&opts.RetrievalTime, 20 * time.Minute}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if opts.Infrastructure == nil {
		in := DemoInfrastructure(opts.Now())
		opts.Infrastructure = &in
	}
	s := &Server{opts: opts, users: map[string]*user{}, access: map[string]*grant{}, refresh: map[string]*grant{},
		mfa: map[string]*mfaSignIn{}, setups: map[string]*mfaSetup{}}
	defaults := 0
	for _, su := range opts.Users {
		u := &user{id: newUUID(), name: su.Name, description: su.Description, role: su.Role, typ: su.Type,
			idpEntityID: su.IdentityProviderEntityID, isDefault: su.Default, mfaSecret: su.MFASecret,
			scratch: append([]string(nil), su.ScratchCodes...)}
		if u.typ == "" {
			u.typ = typeInternal
		}
		if su.Password != "" {
			u.setPassword(su.Password)
		}
		if su.Default {
			defaults++
		}
		if problems := u.check(); len(problems) > 0 {
			return nil, fmt.Errorf("fakevbazure: seed user %q: %v", su.Name, problems)
		}
		s.users[u.id] = u
		s.order = append(s.order, u.id)
	}
	if defaults != 1 {
		return nil, fmt.Errorf("fakevbazure: %d Default Admins among the seed users, want one", defaults)
	}
	s.loadInfrastructure(*opts.Infrastructure)
	s.routes()
	return s, nil
}

// Start listens on addr and serves until Close.
func Start(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "http://" + ln.Addr().String()
	}
	s, err := New(opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.opts.BaseURL }

// Close stops the server.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// ServeHTTP implements http.Handler: latency, injected faults, the request log, then the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Fault describes a failure to inject into matching requests (Inject).
type Fault = fakehttp.Fault

// Request is one request the server received, for tests (Requests).
type Request = fakehttp.Request

// Versions are the API versions served: the document's and the v8 reference's.
var Versions = []string{"v8", "v8.1"}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/oauth2/token", s.token)
	m.HandleFunc("DELETE /api/oauth2/token", s.authed(s.logout))
	for _, v := range Versions {
		p := "/api/" + v + "/users"
		m.HandleFunc("GET "+p, s.authed(s.admin(s.listUsers)))
		m.HandleFunc("POST "+p, s.authed(s.admin(s.createUser)))
		m.HandleFunc("POST "+p+"/export", s.authed(s.admin(s.exportUsers)))
		m.HandleFunc("POST "+p+"/changePassword", s.authed(s.changeOwnPassword))
		m.HandleFunc("GET "+p+"/{id}", s.authed(s.getUser))
		m.HandleFunc("PUT "+p+"/{id}", s.authed(s.admin(s.updateUser)))
		m.HandleFunc("DELETE "+p+"/{id}", s.authed(s.admin(s.deleteUser)))
		m.HandleFunc("POST "+p+"/{id}/changePassword", s.authed(s.admin(s.changeUsersPassword)))
		m.HandleFunc("POST "+p+"/{id}/enableMfa", s.authed(s.enableMFA))
		m.HandleFunc("POST "+p+"/{id}/acceptMfa", s.authed(s.acceptMFA))
		m.HandleFunc("POST "+p+"/{id}/disableMfa", s.authed(s.disableMFA))

		a := "/api/" + v
		m.HandleFunc("GET "+a+"/cloudInfrastructure/subscriptions", s.authed(s.listSubscriptions))
		m.HandleFunc("GET "+a+"/cloudInfrastructure/resourceGroups", s.authed(s.listResourceGroups))
		m.HandleFunc("GET "+a+"/accounts/azure/service", s.authed(s.listAccounts))
		m.HandleFunc("GET "+a+"/virtualMachines", s.authed(s.listVMs))
		m.HandleFunc("GET "+a+"/virtualMachines/{id}", s.authed(s.getVM))
		m.HandleFunc("GET "+a+"/protectedItem/virtualMachines", s.authed(s.listProtectedVMs))
		m.HandleFunc("GET "+a+"/restorePoints/virtualMachines", s.authed(s.listPoints))
		m.HandleFunc("GET "+a+"/restorePoints/virtualMachines/{restorePointId}", s.authed(s.getPoint))
		m.HandleFunc("POST "+a+"/restorePoints/virtualMachines/{restorePointId}/restoreFile", s.authed(s.restorer(s.startFLR)))
		m.HandleFunc("POST "+a+"/restorePoints/virtualMachines/{restorePointId}/retrieveData", s.authed(s.restorer(s.retrieveData)))
		m.HandleFunc("GET "+a+"/jobSessions", s.authed(s.listJobs))
		m.HandleFunc("GET "+a+"/jobSessions/{sessionId}", s.authed(s.getJob))
		m.HandleFunc("GET "+a+"/jobSessions/{sessionId}/log", s.authed(s.jobLog))
		m.HandleFunc("POST "+a+"/jobSessions/{sessionId}/stop", s.authed(s.restorer(s.stopJob)))
		f := a + "/flr/{flrSessionId}"
		m.HandleFunc("POST "+f+"/browse", s.authed(s.restorer(s.inFLR(s.browse))))
		m.HandleFunc("POST "+f+"/search/start", s.authed(s.restorer(s.inFLR(s.searchStart))))
		m.HandleFunc("GET "+f+"/search/{searchTaskId}/results", s.authed(s.restorer(s.inFLR(s.searchResults))))
		m.HandleFunc("POST "+f+"/search/{searchTaskId}/nextPage", s.authed(s.restorer(s.inFLR(s.searchNextPage))))
		m.HandleFunc("POST "+f+"/search/{searchTaskId}/stop", s.authed(s.restorer(s.inFLR(s.searchStop))))
		m.HandleFunc("POST "+f+"/restore", s.authed(s.restorer(s.inFLR(s.restoreStart))))
		m.HandleFunc("GET "+f+"/restore/{restoreTaskId}/status", s.authed(s.restorer(s.inFLR(s.restoreStatus))))
		m.HandleFunc("POST "+f+"/restore/{restoreTaskId}/logs", s.authed(s.restorer(s.inFLR(s.restoreLogs))))
		m.HandleFunc("POST "+f+"/restore/{restoreTaskId}/stop", s.authed(s.restorer(s.inFLR(s.restoreStop))))
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "Not Found", fmt.Sprintf("No resource matches %s %s.", r.Method, r.URL.Path))
	})
	s.Front = &fakehttp.Front{Latency: s.opts.Latency, Owner: s.bearerName,
		WriteError: func(w http.ResponseWriter, status int, _, message string) {
			problem(w, status, http.StatusText(status), message)
		}}
	s.handler = s.Front.Wrap(m)
}

// problemDoc is an RFC 7807 problem document, as VBAzure writes them.
type problemDoc struct {
	Type    string              `json:"type,omitempty"`
	Title   string              `json:"title"`
	Status  int                 `json:"status"`
	Detail  string              `json:"detail,omitempty"`
	TraceID string              `json:"traceId,omitempty"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

// problem answers with a problem document in the shape the document gives
// its status: 401 and 403 carry no trace id, and 403 no detail (its title
// says why).
func problem(w http.ResponseWriter, status int, title, detail string) {
	p := problemDoc{Type: "https://tools.ietf.org/html/rfc9110#section-15", Title: title, Status: status, Detail: detail}
	switch status {
	case http.StatusForbidden:
		p.Title, p.Detail = detail, ""
	case http.StatusUnauthorized:
	default:
		p.TraceID = newToken()[:16]
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p problemDoc) {
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(p.Status)
	w.Write(b)
}

// invalid answers 400 with what is wrong with each field.
func invalid(w http.ResponseWriter, errs map[string][]string) {
	writeProblem(w, problemDoc{Type: "https://tools.ietf.org/html/rfc9110#section-15.5.1", Title: "One or more validation errors occurred.",
		Status: http.StatusBadRequest, TraceID: newToken()[:16], Errors: errs})
}

func badRequest(w http.ResponseWriter, detail string) {
	problem(w, http.StatusBadRequest, "Bad Request", detail)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		problem(w, http.StatusInternalServerError, "Internal Server Error", "encoding failed")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// readJSON decodes a JSON body, refusing other media types (415) and
// unknown fields, as the document's schemas do (additionalProperties: false).
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeProblem(w, problemDoc{Type: "https://tools.ietf.org/html/rfc9110#section-15.5.16", Title: "Unsupported Media Type",
			Status: http.StatusUnsupportedMediaType, TraceID: newToken()[:16]})
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		invalid(w, map[string][]string{"$": {"The JSON value could not be read: " + err.Error()}})
		return false
	}
	return true
}

// caller is the signed-in user of a request.
type caller struct {
	user  *user
	grant *grant
}

type callerKey struct{}

// authed lets only requests with a valid access token through (401).
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.bearer(r)
		if !ok {
			problem(w, http.StatusUnauthorized, "Unauthorized", "The access token is missing, expired or revoked.")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	}
}

// admin lets only Portal Administrators through (403).
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if callerOf(r).user.role != RolePortalAdmin {
			problem(w, http.StatusForbidden, "Forbidden", "Only a Portal Administrator manages users.")
			return
		}
		h(w, r)
	}
}

// restorer lets only the roles that restore through (403): not a Read-Only User.
func (s *Server) restorer(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if callerOf(r).user.role == RoleReadOnlyUser {
			problem(w, http.StatusForbidden, "Forbidden", "A Read-Only User cannot restore.")
			return
		}
		h(w, r)
	}
}

func callerOf(r *http.Request) caller { return r.Context().Value(callerKey{}).(caller) }

func (s *Server) bearer(r *http.Request) (caller, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return caller{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.access[tok]
	if g == nil || !s.opts.Now().Before(g.accessExpires) {
		return caller{}, false
	}
	u := s.users[g.userID]
	if u == nil {
		return caller{}, false
	}
	return caller{user: u, grant: g}, true
}

// bearerName names the user of a request's token, for the request log.
func (s *Server) bearerName(r *http.Request) string {
	if c, ok := s.bearer(r); ok {
		return c.user.name
	}
	return ""
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
