// Package e2e drives the portal in a real browser: Debian's Chromium through
// playwright-go, against the portal binary (a black box, run as a separate
// process exactly as in production) and the two fakes, which run in this
// process so that tests can steer them and read their state through Go.
//
// `make e2e` (and `make test`) install what these tests need: Chromium, the
// playwright driver (npm playwright-core) and axe-core. Without them the tests
// skip, unless E2E_REQUIRED=1, which makes a missing piece a failure.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxschmitt/playwright-go"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakevbazure"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/clock"
	"github.com/openrestore/portal/internal/pgtest"
	"github.com/openrestore/portal/internal/wait"
)

// env is the stack and browser shared by the journeys.
type env struct {
	root      string // the repository
	tracked   sync.Once
	portalURL string
	bin       string // the portal's binary, for tests that start more of it
	entra     *fakeentra.Server
	veeam     *fakeveeam.Server
	azure     *fakevbazure.Server
	browser   playwright.Browser
	axe       string
	artifacts string
	// logFile holds the portal's output.
	logFile string
	// clock is what the portal and both fakes run on.
	clock *clock.Clock
}

// now is the stack's time.
func (e *env) now() time.Time { return e.clock.Now() }

var stack *env

// output is what the portal has written so far.
func (e *env) output() string {
	b, _ := os.ReadFile(e.logFile)
	return string(b)
}

func TestMain(m *testing.M) {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	skip := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("E2E_REQUIRED") == "1" {
			fmt.Fprintln(os.Stderr, "e2e: "+msg)
			os.Exit(1)
		}
		announceSkip("e2e: SKIPPED the browser tests: " + msg + "; `make test` (or `make e2e`) installs what they need and runs them")
		os.Exit(0)
	}
	chromium := envOr("CHROMIUM_PATH", "/usr/bin/chromium")
	driver := envOr("PLAYWRIGHT_DRIVER_PATH", filepath.Join(root, ".cache", "playwright-driver", "1.62.1"))
	axe := envOr("AXE_PATH", filepath.Join(root, ".cache", "playwright-driver", "1.62.1", "npm", "node_modules", "axe-core", "axe.min.js"))
	for _, p := range []string{chromium, filepath.Join(driver, "package", "cli.js"), axe} {
		if _, err := os.Stat(p); err != nil {
			skip("%s is missing", p)
		}
	}
	axeSource, err := os.ReadFile(axe)
	if err != nil {
		skip("read axe-core: %v", err)
	}
	code, err := runAll(m, root, chromium, driver, string(axeSource))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// announceSkip says why the browser tests did not run where a person
// running plain `go test ./...` sees it: go test shows a passing package's
// output only with -v, so the message also goes to the terminal itself, and
// the package's summary line ends in "[no tests to run]".
func announceSkip(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprintln(tty, msg)
		tty.Close()
	}
	fmt.Println("testing: warning: no tests to run")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// trackSources looks at every file the portal is built from. The browser
// tests build the portal as a program of its own, which go test's result
// cache does not see; what a test looks at while tests run, it does: a
// changed source file then runs the tests again instead of reporting a
// stale pass. Every test's first tab calls it (once).
func trackSources(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "data" || name == "bin" || name == "docs") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".templ", ".css", ".js", ".mod", ".sum", ".sql":
			_, err := os.Stat(path)
			return err
		}
		return nil
	})
}

func runAll(m *testing.M, root, chromium, driver, axe string) (int, error) {
	tmp, err := os.MkdirTemp("", "portal-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "portal")
	build := exec.Command("go", "build", "-o", bin, "./cmd/portal")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build the portal: %v\n%s", err, out)
	}

	c, err := clock.ForTests(os.Getenv)
	if err != nil {
		return 0, err
	}
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: c.Now})
	if err != nil {
		return 0, err
	}
	defer entra.Close()
	veeam, err := fakeveeam.Start("127.0.0.1:0", fakeveeam.Options{
		EntraAuthority: entra.Authority(), Now: c.Now,
		// Pradeep's Inbox/Notifications holds 100,000 messages.
		LargeMailbox: "PradeepG@contoso.onmicrosoft.com",
		// Sales Proposals has an Archive library of 50,000 documents.
		LargeLibrarySite: "Sales Proposals",
		// Slow enough to watch a restore progress, quick enough for tests.
		RestoreItemDuration: 300 * time.Millisecond,
	})
	if err != nil {
		return 0, err
	}
	defer veeam.Close()
	// Azure VMs' sessions start in seconds, and restore an item a second.
	azure, err := fakevbazure.Start("127.0.0.1:0", fakevbazure.Options{Now: c.Now, FLRReadyAfter: 5 * time.Second, RestoreItemTime: time.Second})
	if err != nil {
		return 0, err
	}
	defer azure.Close()

	// The portal writes to a file, never to a pipe this process must keep
	// reading: a reader that falls behind would block the portal's logging,
	// and with it every request.
	rules := filepath.Join(tmp, "vm-rules.json")
	if err := os.WriteFile(rules, []byte(vmRules), 0o600); err != nil {
		return 0, err
	}
	logFile := filepath.Join(tmp, "portal.log")
	logOut, err := os.Create(logFile)
	if err != nil {
		return 0, err
	}
	defer logOut.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(),
		"PORTAL_ADDR=127.0.0.1:0", "PORTAL_VEEAM_URL="+veeam.URL(), "PORTAL_CLIENT_SECRET="+entra.ClientSecret(),
		"PORTAL_DATA_DIR="+filepath.Join(tmp, "data"), "PORTAL_LOG_FORMAT=json", "PORTAL_DRAIN_DELAY=0s", "PORTAL_RATE_SIGNIN=off", "PORTAL_RATE_SEARCH=off", "PORTAL_RATE_DOWNLOAD=off", "PORTAL_RATE_RESTORE=off", "PORTAL_LOG_LEVEL=debug",
		"PORTAL_RESTORE_REASON=others", "PORTAL_AUDITORS="+demotenant.AuditorRole,
		"PORTAL_VBAZURE_URL="+azure.URL(), "PORTAL_GRAPH_URL="+entra.URL(), "PORTAL_ADMINS="+demotenant.AdminRole,
		"PORTAL_CLOCK_START="+c.Now().Format(time.RFC3339Nano),
		"PORTAL_VBAZURE_ACCOUNT="+fakevbazure.DemoServiceName, "PORTAL_VBAZURE_PASSWORD="+fakevbazure.DemoServicePassword,
		"PORTAL_VBAZURE_TOTP_SECRET="+fakevbazure.DemoServiceSecret, "PORTAL_VM_RULES_FILE="+rules,
	)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdout, cmd.Stderr = logOut, logOut
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cancel() // interrupts the portal, which shuts down gracefully
		<-exited
	}()
	readOutput := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	var portalURL string
	var stopped error
	wait.Until(30*time.Second, func() bool {
		select {
		case stopped = <-exited:
			return true
		default:
		}
		_, portalURL = listening(readOutput())
		return portalURL != ""
	})
	switch {
	case stopped != nil || portalURL == "" && len(exited) > 0:
		return 0, fmt.Errorf("the portal stopped at start: %v\n%s", stopped, readOutput())
	case portalURL == "":
		return 0, fmt.Errorf("the portal did not start:\n%s", readOutput())
	}

	// playwright-go applies its small driver patch here; with the driver in
	// place and browsers skipped, nothing is downloaded.
	opts := &playwright.RunOptions{DriverDirectory: driver, SkipInstallBrowsers: true, Stdout: io.Discard}
	if err := playwright.Install(opts); err != nil {
		return 0, fmt.Errorf("playwright driver: %w", err)
	}
	pw, err := playwright.Run(opts)
	if err != nil {
		return 0, fmt.Errorf("playwright: %w", err)
	}
	defer pw.Stop()
	browser, err := pw.Chromium.Launch(playwright.BrowserTypeLaunchOptions{
		ExecutablePath: playwright.String(chromium),
		Headless:       playwright.Bool(true),
		Args: []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync"},
	})
	if err != nil {
		return 0, fmt.Errorf("launch chromium: %w", err)
	}
	defer browser.Close()
	artifacts := envOr("E2E_ARTIFACTS", filepath.Join(root, ".cache", "e2e-artifacts"))
	stack = &env{root: root, portalURL: portalURL, bin: bin, entra: entra, veeam: veeam, azure: azure, browser: browser, axe: axe, artifacts: artifacts, logFile: logFile,
		clock: c}
	code := pgtest.Main(m)
	if code != 0 {
		select {
		case err := <-exited:
			fmt.Fprintf(os.Stderr, "the portal stopped during the tests: %v\n", err)
			exited <- err
		default:
		}
		fmt.Fprintf(os.Stderr, "portal output:\n%s\n", readOutput())
	}
	return code, nil
}

// listening is the address and public URL the portal's "listening" line
// names, or "" before it has written one.
func listening(output string) (addr, publicURL string) {
	for _, line := range strings.Split(output, "\n") {
		var l struct {
			Msg       string `json:"msg"`
			Addr      string `json:"addr"`
			PublicURL string `json:"public_url"`
		}
		if strings.Contains(line, `"listening"`) && json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
			return l.Addr, l.PublicURL
		}
	}
	return "", ""
}
