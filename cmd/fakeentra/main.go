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
	"time"

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
	var redirects, fails, disabled listFlag
	fs.Var(&redirects, "redirect-uri", "a registered redirect URI (repeatable); loopback ones match on any port. Default: http://localhost and http://127.0.0.1 with /auth/callback and /signed-out")
	version := fs.Int("access-token-version", 2, "the version of the access tokens for the application's API, as its accessTokenAcceptedVersion: 1 (Entra's default) or 2")
	fs.Var(&fails, "fail", "a failure on demand (repeatable): consent (the consent page at sign-in), interaction (refreshes refused with interaction_required and a claims challenge), expired-secret, unavailable (503 from the token endpoint)")
	delay := fs.Duration("delay", 0, "hold every token endpoint answer this long")
	fs.Var(&disabled, "disable", "the UPN of an account that is disabled (repeatable)")
	overage := fs.Int("overage-limit", 200, "how many groups fit in a token before the overage claims replace them")
	rotate := fs.Duration("rotate-keys", 0, "roll the signing key over this often, retiring the replaced key one interval later, as Entra's key rollover does (0: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		return errors.New("-client-secret is required: the portal gets the same value in PORTAL_CLIENT_SECRET")
	}
	failure := fakeentra.Failure{Delay: *delay}
	for _, f := range fails {
		switch f {
		case "consent":
			failure.ConsentRequired = true
		case "interaction":
			failure.InteractionRequired = true
		case "expired-secret":
			failure.ExpiredSecret = true
		case "unavailable":
			failure.Unavailable = true
		default:
			return fmt.Errorf("-fail %q: want consent, interaction, expired-secret or unavailable", f)
		}
	}
	s, err := fakeentra.Start(*addr, fakeentra.Options{BaseURL: *base, ClientSecret: *secret, RedirectURIs: redirects,
		AccessTokenVersion: *version, OverageLimit: *overage})
	if err != nil {
		return err
	}
	defer s.Close()
	s.Fail(failure)
	for _, upn := range disabled {
		found := false
		for _, u := range s.Users() {
			if strings.EqualFold(u.UPN, upn) {
				s.DisableUser(u.OID)
				found = true
			}
		}
		if !found {
			return fmt.Errorf("-disable %q: no such account", upn)
		}
	}
	if *rotate > 0 {
		go rotateKeys(ctx, s, *rotate, out)
	}
	fmt.Fprintf(out, "fake Entra ID issuer %s\napplication (client) id %s\ntenant %s\n", s.Issuer(), s.ApplicationID(), s.TenantID())
	if started != nil {
		started <- s
	}
	<-ctx.Done()
	return nil
}

// rotateKeys rolls the signing key over every interval; a replaced key is
// published until the next rollover, then retired.
func rotateKeys(ctx context.Context, s *fakeentra.Server, every time.Duration, out io.Writer) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.RetireKeys()
			if err := s.RotateKeys(); err != nil {
				fmt.Fprintln(out, "rotate keys:", err)
			}
		}
	}
}
