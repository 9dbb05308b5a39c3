// Command fakeentra runs the fake Microsoft Entra ID issuer on its own, with
// the Contoso demo tenant and its Restore Portal application:
//
//	go run ./cmd/fakeentra -addr 127.0.0.1:9001 -client-secret S
//
// Like Entra for localhost, it accepts redirect URIs on loopback hosts; add
// others with -redirect-uri.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/openrestore/portal/fakeentra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fakeentra:", err)
		}
		os.Exit(1)
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run serves until ctx is done. started, if not nil, receives the server once it listens.
func run(ctx context.Context, args []string, out io.Writer, started chan<- *fakeentra.Server) error {
	fs := flag.NewFlagSet("fakeentra", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:9001", "listen address")
	secret := fs.String("client-secret", "", "the application's client secret (required)")
	base := fs.String("base-url", "", "the issuer's public base URL; default http://<addr>")
	var redirects listFlag
	fs.Var(&redirects, "redirect-uri", "a registered redirect URI besides loopback ones (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		return errors.New("-client-secret is required: the portal gets the same value in PORTAL_CLIENT_SECRET")
	}
	s, err := fakeentra.Start(*addr, fakeentra.Options{BaseURL: *base, ClientSecret: *secret, RedirectURIs: redirects})
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(out, "fake Entra ID issuer %s\napplication (client) id %s\ntenant %s\n", s.Issuer(), s.ApplicationID(), s.TenantID())
	if started != nil {
		started <- s
	}
	<-ctx.Done()
	return nil
}
