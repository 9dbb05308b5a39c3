// Command fakeveeam runs the fake VB365 REST API v8 server on its own, with
// the Contoso organisation, trusting a fake (or real) Entra ID issuer:
//
//	go run ./cmd/fakeveeam -addr 127.0.0.1:9002 -entra http://127.0.0.1:9001
//
// Its Restore Portal settings name the demo application and the issuer's
// authority, so the portal needs only its URL and the client secret.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/fakehttp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fakeveeam:", err)
		}
		os.Exit(1)
	}
}

// run serves until ctx is done. started, if not nil, receives the server once it listens.
func run(ctx context.Context, args []string, out io.Writer, started chan<- *fakeveeam.Server) error {
	fs := flag.NewFlagSet("fakeveeam", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:9002", "listen address")
	entra := fs.String("entra", "", "base URL of the Entra ID issuer (http://host:port of fakeentra), or its tenant authority (required)")
	tokenLifetime := fs.Duration("token-lifetime", time.Hour, "operator access token lifetime")
	idle := fs.Duration("session-idle-timeout", 30*time.Minute, "stop restore sessions idle this long")
	latency := fs.Duration("latency", 0, "added to every request")
	largeMailbox := fs.String("large-mailbox", "", `UPN whose mailbox gets the large folder Inbox/Notifications, e.g. "`+fakeveeam.DemoLargeMailbox+`" as in the demo`)
	largeFolder := fs.Int("large-folder-items", 100_000, "how many messages the large folder holds")
	largeSite := fs.String("large-library-site", "", `title of a site that gets the large document library "Archive", e.g. "`+fakeveeam.DemoLargeLibrarySite+`" as in the demo`)
	largeLibrary := fs.Int("large-library-docs", 50_000, "how many documents the large library holds")
	demoData := fs.Bool("demo-data", false, "the demo's data: the large folder in "+fakeveeam.DemoLargeMailbox+"'s mailbox and the large library on the "+fakeveeam.DemoLargeLibrarySite+" site")
	seed := fs.Uint64("fault-seed", 1, "seed of the random draws of faults with a rate, so that a run can be repeated")
	var faults []fakehttp.Fault
	fs.Func("fail", `inject a failure, repeatable: "METHOD PATH WHAT [times=N] [rate=R]", WHAT a status (503), hang, reset, garbage, delay=2s, cut=BYTES or stall=BYTES; METHOD * for any; rate=0.2 hits a fifth of the matching requests at random`, func(v string) error {
		f, err := fakehttp.ParseFault(v)
		faults = append(faults, f)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	authority, err := authorityOf(*entra)
	if err != nil {
		return err
	}
	if *demoData {
		*largeMailbox = cmp.Or(*largeMailbox, fakeveeam.DemoLargeMailbox)
		*largeSite = cmp.Or(*largeSite, fakeveeam.DemoLargeLibrarySite)
	}
	if *largeFolder < 0 || *largeLibrary < 0 {
		return errors.New("-large-folder-items and -large-library-docs cannot be negative")
	}
	s, err := fakeveeam.Start(*addr, fakeveeam.Options{
		EntraAuthority: authority, TokenLifetime: *tokenLifetime, SessionIdleTimeout: *idle, Latency: *latency,
		LargeMailbox: *largeMailbox, LargeFolderItems: *largeFolder, LargeLibrarySite: *largeSite, LargeLibraryDocs: *largeLibrary, FaultSeed: *seed,
	})
	if err != nil {
		return err
	}
	defer s.Close()
	for _, f := range faults {
		s.Inject(f)
	}
	fmt.Fprintf(out, "fake VB365 server %s\ntrusting Entra ID authority %s\n", s.URL(), authority)
	if started != nil {
		started <- s
	}
	<-ctx.Done()
	return nil
}

// authorityOf accepts the issuer's base URL (the demo tenant is appended) or a tenant authority.
func authorityOf(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("-entra is required, e.g. -entra http://127.0.0.1:9001")
	}
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("-entra %q is not a URL", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/v2.0")
	if u.Path == "" {
		u.Path = "/" + demotenant.TenantID
	}
	return u.String(), nil
}
