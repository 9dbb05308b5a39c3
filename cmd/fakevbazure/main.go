// Command fakevbazure runs the fake Veeam Backup for Microsoft Azure REST API
// server on its own, with the demo's users:
//
//	go run ./cmd/fakevbazure -addr 127.0.0.1:9003
//
// Failures are injected with -fail (repeatable) and latency with -latency;
// the pace of file-level restores with -flr-ready, -flr-idle,
// -restore-item-time, -search-time and -retrieval-time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openrestore/portal/fakevbazure"
	"github.com/openrestore/portal/internal/fakehttp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fakevbazure:", err)
		}
		os.Exit(1)
	}
}

// run serves until ctx is done. started, if not nil, receives the server once it listens.
func run(ctx context.Context, args []string, out io.Writer, started chan<- *fakevbazure.Server) error {
	fs := flag.NewFlagSet("fakevbazure", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:9003", "listen address")
	access := fs.Duration("token-lifetime", time.Hour, "access token lifetime")
	refresh := fs.Duration("refresh-lifetime", 14*24*time.Hour, "refresh token lifetime")
	latency := fs.Duration("latency", 0, "added to every request")
	ready := fs.Duration("flr-ready", 20*time.Second, "how long an FLR session's worker takes to start")
	idle := fs.Duration("flr-idle", 30*time.Minute, "an FLR session nobody uses stops after this long")
	item := fs.Duration("restore-item-time", 2*time.Second, "how long restoring one file or folder takes")
	search := fs.Duration("search-time", time.Second, "how long a search prepares its first page")
	retrieval := fs.Duration("retrieval-time", 20*time.Minute, "how long retrieving an archived restore point takes (a quarter at High priority)")
	var faults []fakehttp.Fault
	fs.Func("fail", `inject a failure, repeatable: "METHOD PATH WHAT [times=N]", WHAT a status (503), hang, reset, garbage, delay=2s or cut=BYTES; METHOD * for any`, func(v string) error {
		f, err := fakehttp.ParseFault(v)
		faults = append(faults, f)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := fakevbazure.Start(*addr, fakevbazure.Options{AccessLifetime: *access, RefreshLifetime: *refresh, Latency: *latency,
		FLRReadyAfter: *ready, FLRIdleTimeout: *idle, RestoreItemTime: *item, SearchTime: *search, RetrievalTime: *retrieval})
	if err != nil {
		return err
	}
	defer s.Close()
	for _, f := range faults {
		s.Inject(f)
	}
	fmt.Fprintf(out, "fake Veeam Backup for Microsoft Azure %s (API %v)\n", s.URL(), fakevbazure.Versions)
	fmt.Fprintf(out, "Default Admin: %s / %s\n", fakevbazure.DemoAdminName, fakevbazure.DemoAdminPassword)
	fmt.Fprintf(out, "with MFA:      %s / %s, TOTP secret %s\n", fakevbazure.DemoOperatorName, fakevbazure.DemoOperatorPassword, fakevbazure.DemoMFASecret)
	fmt.Fprintf(out, "the portal's:  %s / %s, TOTP secret %s\n", fakevbazure.DemoServiceName, fakevbazure.DemoServicePassword, fakevbazure.DemoServiceSecret)
	if started != nil {
		started <- s
	}
	<-ctx.Done()
	return nil
}
