// Command portal is the self-service restore portal for Veeam Backup for
// Microsoft 365: users sign in with Microsoft Entra ID and browse and restore
// their backed-up data through the VB365 REST API, as restore operators.
//
// With -demo it runs against an in-process fake Entra ID and fake VB365
// server seeded with the Contoso organisation. Run with -h for the settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // time zones for users everywhere, also in a minimal container

	"github.com/openrestore/portal/handlers"
	"github.com/openrestore/portal/internal/clock"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, time.Now); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "portal:", err)
		}
		os.Exit(1)
	}
}

// defaultGOGC is the collector's setting unless GOGC is set: the heap may
// grow to five times what is live before a collection. A page leaves about
// a megabyte of garbage once it is sent; at Go's default (100) collecting
// it took 4-5 % of the portal's CPU. The price is memory: about 90 MB
// resident instead of 55 MB serving the Inbox page (BENCHMARKS.md).
const defaultGOGC = 400

// run starts the portal and serves until ctx is done, then shuts down
// gracefully. now is the clock of what the portal records and shows (tests
// pass the clock their fakes run on); PORTAL_CLOCK_START replaces it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, now func() time.Time) error {
	cfg, problems, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	if start, err := clock.ParseStart(cfg.ClockStart); err == nil && !start.IsZero() {
		now = clock.Starting(start).Now
	}
	if cfg.LogFormat == "" {
		cfg.LogFormat = "json"
		if cfg.Demo {
			cfg.LogFormat = "text"
		}
	}
	log := newLogger(stdout, cfg.LogFormat, cfg.LogLevel)
	var demo *demoStack
	if cfg.Demo && len(problems) == 0 {
		if demo, err = startDemo(cfg, now); err != nil {
			return err
		}
		defer demo.close()
	}
	if problems = append(problems, cfg.validate()...); len(problems) > 0 {
		return errConfig(problems)
	}
	if cfg.PrintConfig {
		cfg.print(stdout)
		return nil
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	publicURL := cfg.publicURL
	if publicURL == nil {
		publicURL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	}
	p, err := build(ctx, cfg, publicURL, log, now)
	if err != nil {
		ln.Close()
		return err
	}
	defer p.close()

	// In-flight requests get a context that is cancelled only when the grace period is over.
	// Its cause tells a download cut there from one the browser left.
	base, cancelBase := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelBase(nil)
	// Requests still running when the server closes are waited for (a
	// little), so that what they record reaches the database before it closes.
	var inflight sync.WaitGroup
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inflight.Add(1)
			defer inflight.Done()
			p.http.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, p.metrics.Handler(), log)
		if err != nil {
			srv.Close()
			return err
		}
		defer stopMetrics()
	}
	log.Info("listening", "addr", ln.Addr().String(), "public_url", publicURL.String(), "demo", cfg.Demo, "database", cfg.databaseShown(), "replica", p.replica)
	if demo != nil {
		demo.banner(stdout, publicURL.String())
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting_down", "drain_delay", cfg.DrainDelay.String(), "grace", cfg.ShutdownGrace.String())
	p.handler.ShutDown()
	if cfg.DrainDelay > 0 {
		time.Sleep(cfg.DrainDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		cancelBase(handlers.ErrShutdown)
		srv.Close()
		log.Warn("shutdown_cut_short", "error", err)
		finished := make(chan struct{})
		go func() { inflight.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			log.Error("requests_still_running_at_exit")
		}
	}
	log.Info("stopped")
	return nil
}

// serveMetrics serves /metrics alone on its own address, for a scraper
// that should not reach the portal's pages (or they it).
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	log.Info("metrics_listening", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
