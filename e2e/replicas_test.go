package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/internal/balancer"
	"github.com/openrestore/portal/internal/pgtest"
	"github.com/openrestore/portal/internal/wait"
)

// startReplicas runs two more portals as production runs several: on one
// PostgreSQL database, with one key file, behind a load balancer without
// sticky sessions. It returns the balancer and its address, the portals'
// public URL.
func startReplicas(t *testing.T) (*balancer.Balancer, string) {
	t.Helper()
	pg := pgtest.Shared(t)
	dbURL, pwFile := pg.WithoutPassword(pg.Database(t))
	dir := t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)
	keyFile := filepath.Join(dir, "session.key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front := "http://" + ln.Addr().String()
	var addrs []string
	for i := range 2 {
		// A file, not a pipe: see runAll.
		logFile := filepath.Join(dir, fmt.Sprintf("replica-%d.log", i))
		out, err := os.Create(logFile)
		if err != nil {
			t.Fatal(err)
		}
		output := func() string { b, _ := os.ReadFile(logFile); return string(b) }
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, stack.bin)
		cmd.Env = append(os.Environ(),
			"PORTAL_ADDR=127.0.0.1:0", "PORTAL_PUBLIC_URL="+front, "PORTAL_VEEAM_URL="+stack.veeam.URL(),
			"PORTAL_CLIENT_SECRET="+stack.entra.ClientSecret(), "PORTAL_DATA_DIR="+filepath.Join(dir, "data", string(rune('a'+i))),
			"PORTAL_DATABASE_URL="+dbURL, "PORTAL_DATABASE_PASSWORD_FILE="+pwFile, "PORTAL_SESSION_KEY_FILE="+keyFile,
			"PORTAL_LOG_FORMAT=json", "PORTAL_DRAIN_DELAY=0s", "PORTAL_RATE_SIGNIN=off", "PORTAL_RATE_SEARCH=off", "PORTAL_RATE_DOWNLOAD=off", "PORTAL_RATE_RESTORE=off", "PORTAL_AUDITORS="+demotenant.AuditorRole,
			"PORTAL_CLOCK_START="+stack.now().Format(time.RFC3339Nano))
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 10 * time.Second
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cancel()
			cmd.Wait()
			out.Close()
			if t.Failed() {
				t.Logf("replica %d:\n%s", i, output())
			}
		})
		var addr string
		wait.For(t, "the replica to start", func() bool {
			addr, _ = listening(output())
			return addr != ""
		})
		addrs = append(addrs, addr)
	}
	lb := balancer.New(addrs...)
	srv := &http.Server{Handler: lb}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return lb, front
}

// TestAJourneyThroughTwoReplicas: Henrietta uses a portal of two replicas
// behind a load balancer that sends each request to the next one: she
// signs in, opens her mailbox, puts two messages on the restore list,
// restores them and sees them in My restores. Every page is audited.
func TestAJourneyThroughTwoReplicas(t *testing.T) {
	lb, front := startReplicas(t)
	tb := startSignedInAt(t, "Henrietta Mueller", "Europe/Vienna", front)
	p := tb.page
	tb.click(playwright.AriaRoleButton, "Open the latest")
	tb.waitForURL(`/sessions/[0-9a-f-]{36}$`)
	tb.audit()
	tb.openMailbox("Henrietta Mueller")
	tb.audit()
	messages := p.Locator(`table.mail-items tbody tr`)
	for i := range 2 {
		if err := messages.Nth(i).Locator(`input[type="checkbox"]`).Check(); err != nil {
			t.Fatal(err)
		}
	}
	tb.clickExact(playwright.AriaRoleButton, "Add to restore list")
	tb.waitForURL(`/restore-list\?added=2$`)
	tb.see(p.Locator("section.list-group h2"), "Exchange: Henrietta Mueller")
	tb.audit()
	tb.clickExact(playwright.AriaRoleButton, "Restore 2 items")
	tb.waitForURL(`/restore-list$`)
	if err := expect.Locator(p.Locator("#list-runs tbody tr .pill").First()).ToContainText("Finished",
		playwright.LocatorAssertionsToContainTextOptions{Timeout: playwright.Float(20000)}); err != nil {
		t.Errorf("the restore did not finish: %v", err)
	}
	tb.see(p.Locator("main"), "The list is empty")
	tb.audit()
	tb.clickExact(playwright.AriaRoleLink, "My restores")
	tb.waitForURL(`/restores$`)
	tb.see(p.Locator("table.items tbody tr").First(), "Henrietta Mueller")
	tb.audit()
	if lb.Served(0) < 5 || lb.Served(1) < 5 {
		t.Errorf("the replicas served %d and %d requests: both should have served the journey", lb.Served(0), lb.Served(1))
	}
}
