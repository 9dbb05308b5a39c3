package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v5"
	"golang.org/x/sync/singleflight"

	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/directory"
	"github.com/openrestore/portal/internal/breaker"
	"github.com/openrestore/portal/metrics"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/vbazure"
	"github.com/openrestore/portal/veeamapi"
)

// Config is what the handlers need to know about the deployment.
type Config struct {
	// PublicURL is the portal's address as browsers see it (scheme://host[:port]).
	PublicURL *url.URL
	// Demo shows the DEMO banner and the demo hints.
	Demo bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// BodyLimit caps request bodies; default 1 MiB.
	BodyLimit int64
	// RestoreReason says when a restore needs a reason.
	RestoreReason restore.Policy
	// Auditors are the Entra app roles (values) or group object ids whose
	// members may read the audit trail.
	Auditors []string
	// Admins are the Entra app roles or group object ids of the portal's
	// administrators: they manage the users of Veeam Backup for Microsoft Azure.
	Admins []string
	// Now is the clock of what the portal records and shows. Default: time.Now.
	Now func() time.Time
	// Replica names this process to the store: the owner of the restores
	// it watches. Default: a new random name.
	Replica string
	// FLRIdle is how long a file-level restore session of an Azure VM may
	// go unused before the portal stops it. Default 30 minutes.
	FLRIdle time.Duration
	// VMRulesFile names the deployment's file of Azure VM rules, if any,
	// for the rules page to say where those rules are changed.
	VMRulesFile string
	// Limits are the rate limits; zero Limits are none.
	Limits Limits
	// ServeMetrics serves /metrics on the portal's own address (when no
	// separate metrics address is configured).
	ServeMetrics bool
}

// Deps are the services the handlers use.
type Deps struct {
	Auth     *authn.Authenticator
	Sessions *scs.SessionManager
	Veeam    *veeamapi.Client
	// Azure is Veeam Backup for Microsoft Azure; nil when it is not configured.
	Azure *vbazure.Client
	// Directory looks people up in Entra ID (the Azure user picker); nil without it.
	Directory *directory.Client
	// AzureVMs is VBAzure as the portal's service account sees it, for
	// restores of Azure VMs' files; nil when they are not configured.
	AzureVMs *vbazure.Account
	Store    store.Store
	// Sealer seals what the store keeps of users' tokens (the watcher's grants).
	Sealer Sealer
	Static fs.FS
	Log    *slog.Logger
	// Metrics records what Prometheus is told; nil records nothing.
	Metrics *metrics.Metrics
	// Circuits are the breakers towards the backup servers, for /readyz.
	Circuits []Circuit
}

// Circuit is a circuit breaker towards a backup server, by its name.
type Circuit struct {
	Service string // "VB365", "VBAzure"
	Breaker *breaker.Breaker
}

// Sealer seals data for a purpose, and opens it again.
type Sealer interface {
	Seal(plain []byte, purpose string) ([]byte, error)
	Open(sealed []byte, purpose string) ([]byte, error)
}

// Handler holds the dependencies of every route.
type Handler struct {
	cfg       Config
	auth      *authn.Authenticator
	veeam     *veeamapi.Client
	azure     *vbazure.Client
	vms       *vbazure.Account
	directory *directory.Client
	store     store.Store
	sealer    Sealer
	browse    *browseCache
	// lastPages remembers where lists end, and finds it ahead.
	lastPages *lastPages
	// azureCache keeps VBAzure's answers about VMs briefly (azureCacheTTL).
	azureCache *browseCache
	log        *slog.Logger
	metrics    *metrics.Metrics
	circuits   []Circuit
	static     fs.FS
	assets     map[string]string // static file → versioned URL

	// replica names this process to the store: the restores it holds.
	replica     string
	grantFlight singleflight.Group

	shuttingDown atomic.Bool
	// background ends the work requests leave running (ShutDown).
	background     context.Context
	endBackground  context.CancelFunc
	readiness      readinessCache // VB365's
	azureReadiness readinessCache
	azureFlight    singleflight.Group // renewals of administrators' VBAzure tokens
	zones          sync.Map           // zone name → *time.Location
}

// New returns the portal's complete HTTP handler: security headers, request
// logging, sessions, then the Echo routes.
func New(cfg Config, d Deps) (*Handler, http.Handler, error) {
	if cfg.PublicURL == nil || cfg.PublicURL.Host == "" {
		return nil, nil, errors.New("handlers: the public URL is required")
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if _, err := restore.ParsePolicy(string(cfg.RestoreReason)); err != nil {
		return nil, nil, fmt.Errorf("handlers: restore reason policy %w", err)
	}
	if cfg.RestoreReason == "" {
		cfg.RestoreReason = restore.Optional
	}
	if cfg.Replica == "" {
		cfg.Replica = newID()
	}
	if cfg.FLRIdle == 0 {
		cfg.FLRIdle = 30 * time.Minute
	}
	if d.Store == nil || d.Sealer == nil {
		return nil, nil, errors.New("handlers: a store and a sealer are required")
	}
	h := &Handler{cfg: cfg, auth: d.Auth, azure: d.Azure, vms: d.AzureVMs, directory: d.Directory, veeam: d.Veeam, store: d.Store, sealer: d.Sealer, log: d.Log, static: d.Static,
		metrics: d.Metrics, circuits: d.Circuits,
		browse: newBrowseCache(cfg.Now, browseCacheTTL), azureCache: newBrowseCache(cfg.Now, azureCacheTTL), replica: cfg.Replica}
	h.background, h.endBackground = context.WithCancel(context.Background())
	h.lastPages = newLastPages(h.background, cfg.Now)
	assets, err := versionAssets(d.Static)
	if err != nil {
		return nil, nil, err
	}
	h.assets = assets
	e := echo.NewWithConfig(echo.Config{Logger: d.Log, HTTPErrorHandler: h.errorHandler, Filesystem: d.Static})
	h.routes(e)
	var root http.Handler = headAsGet(e)
	root = d.Sessions.LoadAndSave(root)
	root = compressPages(root)
	root = d.Auth.Remember(root)
	root = h.logRequests(root)
	root = h.securityHeaders(root)
	return h, root, nil
}

// headAsGet answers HEAD on every GET route: the route runs as a GET and
// the server leaves out the body (it knows the request was a HEAD).
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
		}
		next.ServeHTTP(w, r)
	})
}

// ShutDown makes /readyz fail so load balancers stop sending new requests,
// and ends the work requests left running in the background.
func (h *Handler) ShutDown() {
	h.shuttingDown.Store(true)
	h.endBackground()
}

// ErrShutdown is the cause the server gives requests it cuts off because
// the shutdown grace period is over.
var ErrShutdown = errors.New("the portal shut down")

// versionAssets maps each static file to a URL carrying its content hash, so
// browsers may cache it for a year and still see every change.
func versionAssets(static fs.FS) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(static, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || precompressed(path) {
			return err
		}
		b, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = "/static/" + path + "?v=" + hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("handlers: static files: %w", err)
	}
	return out, nil
}

// asset returns the versioned URL of a static file.
func (h *Handler) asset(name string) string {
	if u, ok := h.assets[name]; ok {
		return u
	}
	return "/static/" + name
}

// operator is the VB365 API as the signed-in user sees it.
func (h *Handler) operator() *veeamapi.Operator { return h.veeam.Operator(h.auth) }

// readinessCache remembers the backup server's last health answer briefly,
// so probes do not load it.
type readinessCache struct {
	mu      sync.Mutex
	checked time.Time
	ok      bool
}

const readinessTTL = 10 * time.Second

// databaseAnswers pings the store: a replica that cannot reach it can
// neither sign anyone in nor record a restore. It is not cached: the ping
// is cheap, and a lost database must take the replica out at once.
func (h *Handler) databaseAnswers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.log.WarnContext(ctx, "database_unreachable", "error", err)
		return false
	}
	return true
}

// backupServerReachable asks VB365 for its (anonymous) Restore Portal
// settings and, when it is configured, VBAzure whether it answers.
func (h *Handler) backupServerReachable(ctx context.Context) bool {
	ok := h.readiness.check(ctx, h.cfg.Now(), func(ctx context.Context) bool {
		_, err := h.veeam.RestorePortalSettings(ctx)
		return err == nil
	})
	if h.azure != nil {
		ok = h.azureReadiness.check(ctx, h.cfg.Now(), h.azure.Reachable) && ok
	}
	return ok
}

// check answers from the last check if it is recent, else asks again.
func (r *readinessCache) check(ctx context.Context, now time.Time, ask func(context.Context) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.checked) < readinessTTL {
		return r.ok
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	r.checked, r.ok = now, ask(ctx)
	return r.ok
}
