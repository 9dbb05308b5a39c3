package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/directory"
	"github.com/openrestore/portal/handlers"
	"github.com/openrestore/portal/internal/breaker"
	"github.com/openrestore/portal/internal/rest"
	"github.com/openrestore/portal/metrics"
	"github.com/openrestore/portal/sessionstore"
	"github.com/openrestore/portal/static"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/store/postgres"
	"github.com/openrestore/portal/store/sqlite"
	"github.com/openrestore/portal/vbazure"
	"github.com/openrestore/portal/veeamapi"
)

// portal is the wired application.
type portal struct {
	replica   string // this process's name among replicas
	metrics   *metrics.Metrics
	handler   *handlers.Handler
	http      http.Handler
	closers   []func()
	log       *slog.Logger
	publicURL *url.URL
}

func (p *portal) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
}

// watchTick is how often the watcher looks for restores that are due.
const watchTick = 250 * time.Millisecond

// build wires the portal: the VB365 client, the store, sign-in, the handlers and the watcher.
func build(ctx context.Context, c *config, publicURL *url.URL, log *slog.Logger, now func() time.Time) (_ *portal, err error) {
	p := &portal{log: log, publicURL: publicURL, metrics: metrics.New()}
	defer func() {
		if err != nil {
			p.close() // what was opened before the failure
		}
	}()
	tr, err := startTracing(c.otlpTraces, c.serviceName)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	p.closers = append(p.closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tr.shutdown(sctx) // sends the spans still waiting
	})
	vb365Circuit := handlers.Circuit{Service: "VB365", Breaker: newBreaker(c, now, p.metrics, "vb365", log)}
	opts := []veeamapi.Option{veeamapi.WithClock(now), veeamapi.WithHooks(rest.Hooks{
		Breaker: vb365Circuit.Breaker, Observe: p.metrics.Upstream("vb365"), Wrap: tr.transport})}
	if c.veeamCAs != nil {
		opts = append(opts, veeamapi.WithRootCAs(c.veeamCAs))
	}
	veeam, err := veeamapi.New(c.VeeamURL, opts...)
	if err != nil {
		return nil, err
	}

	sessions := scs.New()
	sessions.Lifetime = c.SessionLifetime
	sessions.Cookie.Name = "__Host-session"
	sessions.Cookie.Path = "/"
	sessions.Cookie.HttpOnly = true
	sessions.Cookie.Secure = true
	sessions.Cookie.SameSite = http.SameSiteLaxMode
	sessions.Cookie.Persist = false // gone when the browser closes
	// With PostgreSQL every replica must read the same keys: none is made here.
	keys, created, err := sessionstore.LoadKeys(c.sessionKeyFile(), c.databaseDSN == "")
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("session_key_created", "file", c.sessionKeyFile())
	}
	codec, err := sessionstore.NewSealedCodec(keys...)
	if err != nil {
		return nil, err
	}
	sessions.Codec = codec
	replica := newReplicaName()
	p.replica = replica
	st, err := openStore(ctx, c, replica, now)
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, func() { st.Close() })
	sessions.Store = st.Sessions()
	sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		if errors.Is(err, sessionstore.ErrUnreadable) {
			// Sealed with a retired key, or tampered: forget it and start afresh.
			http.SetCookie(w, &http.Cookie{Name: sessions.Cookie.Name, Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		log.Error("session_store_failed", "error", err)
		http.Error(w, "The portal cannot read its sessions right now. Try again in a minute.", http.StatusServiceUnavailable)
	}

	entraHTTP := &http.Client{Timeout: 10 * time.Second, Transport: tr.transport(&http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	})}
	auth, err := authn.New(authn.Config{
		ClientID: c.ClientID, Authority: c.Authority, ClientSecret: c.ClientSecret, APIScope: c.APIScope, GraphURL: c.GraphURL,
		Credential:            (&credentials{secret: c.ClientSecret, secretFile: c.ClientSecretFile, certFile: c.ClientCertFile, keyFile: c.ClientKeyFile}).Current,
		Discover:              discoverFrom(veeam, log),
		RedirectURL:           publicURL.String() + "/auth/callback",
		PostLogoutRedirectURL: publicURL.String() + "/signed-out",
		HTTPClient:            entraHTTP,
		IdleTimeout:           c.IdleTimeout, Lifetime: c.SessionLifetime,
		Records: records{st}, Sealer: codec,
		Now: now, Logger: log,
	}, sessions, veeamTokens{c: veeam, r: veeamapi.NewRefresher(veeam)})
	if err != nil {
		return nil, err
	}
	circuits := []handlers.Circuit{vb365Circuit}
	var azureHooks rest.Hooks
	if c.VBAzureURL != "" {
		azureCircuit := handlers.Circuit{Service: "VBAzure", Breaker: newBreaker(c, now, p.metrics, "vbazure", log)}
		circuits = append(circuits, azureCircuit)
		azureHooks = rest.Hooks{Breaker: azureCircuit.Breaker, Observe: p.metrics.Upstream("vbazure"), Wrap: tr.transport}
	}
	azure, dir, err := azureClients(c, now, azureHooks)
	if err != nil {
		return nil, err
	}
	var vms *vbazure.Account
	if azure != nil && c.VBAzureAccount != "" {
		tokens, err := azure.ServiceTokens(vbazure.Login{Name: c.VBAzureAccount, Password: c.VBAzurePassword, TOTPSecret: c.VBAzureTOTP})
		if err != nil {
			return nil, err
		}
		vms = azure.As(tokens)
		p.closers = append(p.closers, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			tokens.SignOut(sctx)
		})
	}
	h, root, err := handlers.New(
		handlers.Config{PublicURL: publicURL, Demo: c.Demo, TrustedProxies: c.proxies, RestoreReason: c.reason,
			Auditors: c.auditors(), Admins: c.admins(), Now: now, Replica: replica, FLRIdle: c.FLRIdle, VMRulesFile: c.VMRulesFile,
			Limits: c.limits, ServeMetrics: c.MetricsAddr == ""},
		handlers.Deps{Auth: auth, Sessions: sessions, Veeam: veeam, Azure: azure, AzureVMs: vms, Directory: dir, Store: st, Sealer: codec,
			Static: static.FS, Log: log, Metrics: p.metrics, Circuits: circuits})
	if err != nil {
		return nil, err
	}
	if err := seedRules(ctx, c, h, log); err != nil {
		return nil, err
	}
	p.handler, p.http = h, tr.handler(root)
	if counter, ok := st.(interface {
		CountSignIns(context.Context) (int, error)
	}); ok {
		p.metrics.ActiveSessions(func() (int, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			return counter.CountSignIns(ctx)
		})
	}
	// Try discovery now, so the first visitor does not wait for it; failures are retried on use.
	go auth.Ready(ctx)
	// The watcher follows restores to their end until the portal closes
	// (after in-flight requests, which may start restores, are done).
	wctx, stopWatching := context.WithCancel(context.WithoutCancel(ctx))
	watching := make(chan struct{})
	go func() { defer close(watching); h.Watch(wctx, watchTick) }()
	sweeping := make(chan struct{})
	go func() { defer close(sweeping); h.SweepFLR(wctx, c.FLRSweep) }()
	p.closers = append(p.closers, func() {
		stopWatching()
		<-watching
		<-sweeping
		// The last replica to go stops the file-level restore sessions
		// still open: their workers cost money.
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		h.StopFLRAtShutdown(sctx)
	})
	return p, nil
}

// newBreaker is the circuit breaker towards a backup server; its changes
// are logged and told to the metrics.
func newBreaker(c *config, now func() time.Time, m *metrics.Metrics, service string, log *slog.Logger) *breaker.Breaker {
	gauge := m.Circuit(service)
	return breaker.New(c.BreakerFailures, c.BreakerCooldown, now, func(s breaker.State) {
		gauge(s)
		level := slog.LevelInfo
		if s == breaker.Open {
			level = slog.LevelError
		}
		log.Log(context.Background(), level, "circuit_"+strings.ReplaceAll(s.String(), "-", ""), "service", service)
	})
}

// seedRules applies the rules file (or, in the demo, its rules) to the store.
func seedRules(ctx context.Context, c *config, h *handlers.Handler, log *slog.Logger) error {
	switch {
	case c.VMRulesFile != "":
		changed, err := h.SeedVMRules(ctx, "", c.vmRules)
		if err != nil {
			return err
		}
		log.Info("vm_rules_file", "file", c.VMRulesFile, "rules", len(c.vmRules), "changed", changed)
	case c.Demo && c.VBAzureAccount != "":
		added, err := h.SeedDemoRules(ctx, "", demoRules())
		if err != nil {
			return err
		}
		if added {
			log.Info("vm_rules_demo", "rules", len(demoRules()))
		}
	}
	return nil
}

// azureClients are Veeam Backup for Microsoft Azure's client (nil when it
// is not configured) and Microsoft Graph's, where administrators look
// people up to add them to it.
func azureClients(c *config, now func() time.Time, hooks rest.Hooks) (*vbazure.Client, *directory.Client, error) {
	dir, err := directory.New(c.GraphURL, nil)
	if err != nil || c.VBAzureURL == "" {
		return nil, dir, err
	}
	opts := []vbazure.Option{vbazure.WithClock(now), vbazure.WithVersion(c.VBAzureVersion), vbazure.WithHooks(hooks)}
	if c.vbazureCAs != nil {
		opts = append(opts, vbazure.WithRootCAs(c.vbazureCAs))
	}
	azure, err := vbazure.New(c.VBAzureURL, opts...)
	return azure, dir, err
}

// openStore opens the database: PostgreSQL when PORTAL_DATABASE_URL names
// one (several replicas share it), else one SQLite file in the data
// directory.
func openStore(ctx context.Context, c *config, replica string, now func() time.Time) (store.Store, error) {
	const sweep = 5 * time.Minute
	if c.databaseDSN != "" {
		return postgres.Open(ctx, c.databaseDSN, now, postgres.Options{Replica: replica, Sweep: sweep})
	}
	return sqlite.Open(ctx, filepath.Join(c.DataDir, "portal.db"), now, sweep)
}

// newReplicaName names this process among the replicas: its host and a
// random part, so that logs and the database tell replicas apart.
func newReplicaName() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	rand.Read(b)
	return strings.Trim(host+"-"+hex.EncodeToString(b), "-")
}

// discoverFrom reads the Entra application and authority from VB365's Restore Portal settings.
func discoverFrom(veeam *veeamapi.Client, log *slog.Logger) func(context.Context) (string, string, error) {
	return func(ctx context.Context) (string, string, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := veeam.RestorePortalSettings(ctx)
		if err != nil {
			return "", "", fmt.Errorf("read the Restore Portal settings from the backup server: %w", err)
		}
		if !s.IsEnabled {
			log.Warn("restore_portal_disabled", "hint", "enable the Restore Portal on the VB365 server; operator sign-in may be refused")
		}
		if s.ApplicationID == "" || s.MSALAuthorityURI == "" {
			return "", "", errors.New("the backup server's Restore Portal settings name no application or authority: configure the Restore Portal on the VB365 server, or set PORTAL_CLIENT_ID and PORTAL_AUTHORITY")
		}
		return s.ApplicationID, s.MSALAuthorityURI, nil
	}
}

// veeamTokens lets authn obtain, refresh and revoke VB365 operator tokens.
type veeamTokens struct {
	c *veeamapi.Client
	r *veeamapi.Refresher
}

func (v veeamTokens) Exchange(ctx context.Context, userID, tenantID, assertion string) (authn.Grant, error) {
	tok, err := v.c.OperatorToken(ctx, userID, tenantID, assertion)
	return grant(tok), final(err)
}

func (v veeamTokens) Refresh(ctx context.Context, refreshToken string) (authn.Grant, error) {
	tok, err := v.r.Refresh(ctx, refreshToken)
	return grant(tok), final(err)
}

func (v veeamTokens) Logout(ctx context.Context, accessToken string) error {
	return v.c.Logout(ctx, accessToken)
}

func grant(t *veeamapi.Token) authn.Grant {
	if t == nil {
		return authn.Grant{}
	}
	return authn.Grant{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry, Lifetime: t.Lifetime}
}

// final marks a refused grant as final for authn.
func final(err error) error {
	if errors.Is(err, veeamapi.ErrGrantRejected) || errors.Is(err, veeamapi.ErrUnauthorized) || errors.Is(err, veeamapi.ErrForbidden) {
		return fmt.Errorf("%w: %w", authn.ErrRejected, err)
	}
	return err
}
