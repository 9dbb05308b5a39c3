package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	"github.com/openrestore/portal/fakevbazure"
	"github.com/openrestore/portal/fakeveeam"
	"github.com/openrestore/portal/internal/clock"
	"github.com/openrestore/portal/internal/wait"
)

// The people of the demo tenant the tests sign in as.
const (
	adele  = "AdeleV@contoso.onmicrosoft.com"
	megan  = "MeganB@contoso.onmicrosoft.com"
	lee    = "LeeG@contoso.onmicrosoft.com"
	nestor = "NestorW@contoso.onmicrosoft.com"
)

// stack is the portal, run as main runs it, against both fakes, all on one clock.
type stack struct {
	t     testing.TB
	clock *clock.Clock
	entra *fakeentra.Server
	veeam *fakeveeam.Server
	azure *fakevbazure.Server
	url   string
	env   map[string]string
	logs  *syncBuffer
	stop  func() error
	pid   int // the portal's process, when it runs as one (benchmarks)
}

type stackOptions struct {
	// clock is the stack's clock; default clock.ForTests. The fakes run on
	// it unless their options name another.
	clock *clock.Clock
	entra fakeentra.Options
	veeam fakeveeam.Options
	azure fakevbazure.Options
	env   map[string]string
}

// testClock is the clock a test stack starts on (PORTAL_TEST_NOW, or clock.TestStart).
func testClock(t testing.TB) *clock.Clock {
	t.Helper()
	c, err := clock.ForTests(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// now is the stack's time: what its data is built around.
func (s *stack) now() time.Time { return s.clock.Now() }

// restart stops the portal and starts it again on the same address, data
// directory and fakes, as a service restart does.
func (s *stack) restart() {
	s.t.Helper()
	if err := s.stop(); err != nil {
		s.t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	env["PORTAL_ADDR"] = strings.TrimPrefix(s.url, "http://")
	s.launch(env)
}

// syncBuffer collects the portal's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testEnv is what every portal under test runs with unless its test says
// otherwise: no drain delay (no load balancer waits), and no rate limits
// (every test browser comes from one address and signs in often; the
// limits have tests of their own).
var testEnv = map[string]string{
	"PORTAL_DRAIN_DELAY": "0s",
	"PORTAL_RATE_SIGNIN": "off", "PORTAL_RATE_SEARCH": "off", "PORTAL_RATE_DOWNLOAD": "off", "PORTAL_RATE_RESTORE": "off",
}

func startStack(t testing.TB, o stackOptions) *stack {
	t.Helper()
	s := startFakes(t, o)
	env := map[string]string{
		"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_VEEAM_URL": s.veeam.URL(), "PORTAL_CLIENT_SECRET": s.entra.ClientSecret(),
		"PORTAL_DATA_DIR": t.TempDir(), "PORTAL_LOG_FORMAT": "json", "PORTAL_LOG_LEVEL": "debug",
		"PORTAL_VBAZURE_URL": s.azure.URL(), "PORTAL_GRAPH_URL": s.entra.URL(), "PORTAL_ADMINS": demotenant.AdminRole,
		"PORTAL_VBAZURE_ACCOUNT": fakevbazure.DemoServiceName, "PORTAL_VBAZURE_PASSWORD": fakevbazure.DemoServicePassword,
		"PORTAL_VBAZURE_TOTP_SECRET": fakevbazure.DemoServiceSecret,
	}
	for k, v := range testEnv {
		env[k] = v
	}
	for k, v := range o.env {
		env[k] = v
	}
	s.env = env
	s.launch(env)
	return s
}

// startFakes starts the stack's fakes on its clock, without a portal.
func startFakes(t testing.TB, o stackOptions) *stack {
	t.Helper()
	if o.clock == nil {
		o.clock = testClock(t)
	}
	if o.entra.Now == nil {
		o.entra.Now = o.clock.Now
	}
	if o.veeam.Now == nil {
		o.veeam.Now = o.clock.Now
	}
	entra, err := fakeentra.Start("127.0.0.1:0", o.entra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { entra.Close() })
	o.veeam.EntraAuthority = entra.Authority()
	veeam, err := fakeveeam.Start("127.0.0.1:0", o.veeam)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { veeam.Close() })
	if o.azure.Now == nil {
		o.azure.Now = o.clock.Now
	}
	azure, err := fakevbazure.Start("127.0.0.1:0", o.azure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { azure.Close() })
	return &stack{t: t, clock: o.clock, entra: entra, veeam: veeam, azure: azure, env: o.env}
}

// launch runs the portal with env until stop.
func (s *stack) launch(env map[string]string) {
	t := s.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, logs, s.clock.Now) }()
	s.logs, s.url = logs, ""
	var once sync.Once
	var stopErr error
	stopped := make(chan struct{}) // closed when run returned, its error in stopErr
	go func() { stopErr = <-done; close(stopped) }()
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case <-stopped:
			case <-time.After(wait.Deadline):
				t.Error("the portal did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { s.stop() })
	wait.For(t, "the portal to start", func() bool {
		select {
		case <-stopped:
			return true
		default:
		}
		s.url = listeningURL(logs.String())
		return s.url != ""
	})
	if s.url == "" {
		<-stopped
		t.Fatalf("the portal stopped: %v\n%s", stopErr, logs)
	}
}

// listeningURL is the public URL the portal's "listening" log line names, if any yet.
func listeningURL(logs string) string { return listening(logs).PublicURL }

// listeningLine is what the portal says when it is ready.
type listeningLine struct {
	Msg       string `json:"msg"`
	Addr      string `json:"addr"`
	PublicURL string `json:"public_url"`
	Replica   string `json:"replica"`
}

// listening is the portal's "listening" log line, if it wrote it yet.
func listening(logs string) listeningLine {
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line listeningLine
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			return line
		}
	}
	return listeningLine{}
}

// loopbackJar keeps Secure cookies for http://127.0.0.1, as browsers do for
// loopback addresses (Go's cookiejar sends them over https only).
type loopbackJar struct{ inner *cookiejar.Jar }

func secureURL(u *url.URL) *url.URL {
	c := *u
	c.Scheme = "https"
	return &c
}

func (j loopbackJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.inner.SetCookies(secureURL(u), cs) }
func (j loopbackJar) Cookies(u *url.URL) []*http.Cookie        { return j.inner.Cookies(secureURL(u)) }

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	s *stack
	c *http.Client
}

func (s *stack) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{s: s, c: &http.Client{
		Jar: loopbackJar{jar}, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	body string
}

func (r response) doc(t testing.TB) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (b *browser) do(req *http.Request) response {
	b.s.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp, string(body)}
}

// get requests a portal path (or an absolute URL) with optional headers ("Name: value").
func (b *browser) get(path string, headers ...string) response {
	b.s.t.Helper()
	return b.send(http.MethodGet, path, nil, headers...)
}

func (b *browser) send(method, path string, form url.Values, headers ...string) response {
	b.s.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = b.s.url + path
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	return b.do(req)
}

// post sends a form as the portal's own pages do: same-origin, with the CSRF token.
func (b *browser) post(path string, form url.Values) response {
	b.s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", b.csrf())
	return b.send(http.MethodPost, path, form, "Origin: "+b.s.url, "Sec-Fetch-Site: same-origin")
}

// csrf reads the anti-forgery token from the start page, as a page's forms carry it.
func (b *browser) csrf() string {
	b.s.t.Helper()
	r := b.get("/")
	v, _ := r.doc(b.s.t).Find(`form[action="/auth/logout"] input[name="csrf_token"]`).Attr("value")
	if v == "" {
		b.s.t.Fatalf("no CSRF token on the start page (status %d)", r.StatusCode)
	}
	return v
}

// signIn goes through sign-in as upn starting at path and returns the portal's final redirect.
func (b *browser) signIn(upn, path string) response {
	b.s.t.Helper()
	chosen, _ := b.pickAccount(upn, path)
	if chosen.StatusCode != http.StatusFound {
		b.s.t.Fatalf("choosing %s: %d", upn, chosen.StatusCode)
	}
	return b.get(chosen.Header.Get("Location"))
}

// pickAccount starts a sign-in from path and chooses upn on Entra's
// picker; it returns Entra's answer to the choice (the redirect back, the
// consent page or an error page) and the authorize URL.
func (b *browser) pickAccount(upn, path string) (response, *url.URL) {
	b.s.t.Helper()
	r := b.get(path)
	for r.StatusCode == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/auth/login") {
		r = b.get(r.Header.Get("Location"))
	}
	if r.StatusCode != http.StatusFound {
		b.s.t.Fatalf("sign-in from %s: status %d, want a redirect to Entra", path, r.StatusCode)
	}
	auth, _ := url.Parse(r.Header.Get("Location"))
	picker := b.get(auth.String())
	if picker.StatusCode != http.StatusOK {
		b.s.t.Fatalf("sign-in page: %d", picker.StatusCode)
	}
	return b.submitEntraForm(picker, auth, url.Values{"account": {demotenant.ID("user", upn)}}), auth
}

// submitEntraForm posts one of Entra's pages' forms with the extra fields.
func (b *browser) submitEntraForm(page response, auth *url.URL, extra url.Values) response {
	b.s.t.Helper()
	form := url.Values{}
	page.doc(b.s.t).Find(`form input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		form.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	for k, v := range extra {
		form[k] = v
	}
	return b.send(http.MethodPost, auth.Scheme+"://"+auth.Host+auth.Path, form)
}

// signedIn returns a browser signed in as upn.
func (s *stack) signedIn(upn string) *browser {
	s.t.Helper()
	b := s.browser()
	if r := b.signIn(upn, "/auth/login"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		s.t.Fatalf("sign-in as %s ended with %d to %q: %s", upn, r.StatusCode, r.Header.Get("Location"), r.body)
	}
	return b
}

// explore opens the latest restore point of a workload and returns the session page.
func (b *browser) explore(workload string) (string, response) {
	b.s.t.Helper()
	r := b.post("/explore", url.Values{"workload": {workload}, "point": {"latest"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/sessions/") {
		b.s.t.Fatalf("explore %s: %d %q %s", workload, r.StatusCode, r.Header.Get("Location"), r.body)
	}
	loc := r.Header.Get("Location")
	return strings.TrimPrefix(loc, "/sessions/"), b.get(loc)
}

// texts returns the trimmed text of every element matching sel.
func texts(d *goquery.Document, sel string) []string {
	var out []string
	d.Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

// buildPortal builds the portal binary into a temporary directory.
func buildPortal(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// portalProcess is the portal run as its own process, as in production.
type portalProcess struct {
	cmd  *exec.Cmd
	url  string // its public URL
	addr string // where it listens
	// replica is its name among replicas, as the database knows it.
	replica string
	logs    *syncBuffer
	done    chan struct{}
}

// startProcess runs the binary against the stack's fakes with its data in
// dataDir, on the stack's clock from now on; pin keeps it on core 0.
func (s *stack) startProcess(bin, dataDir string, pin bool) *portalProcess {
	t := s.t
	t.Helper()
	cmd := exec.Command(bin)
	if taskset, err := exec.LookPath("taskset"); err == nil && pin {
		cmd = exec.Command(taskset, "-c", "0", bin)
	}
	cmd.Env = append(os.Environ(), "PORTAL_ADDR=127.0.0.1:0", "PORTAL_VEEAM_URL="+s.veeam.URL(), "PORTAL_CLIENT_SECRET="+s.entra.ClientSecret(),
		"PORTAL_DATA_DIR="+dataDir, "PORTAL_LOG_FORMAT=json", "PORTAL_LOG_LEVEL=debug", "PORTAL_CLOCK_START="+s.now().Format(time.RFC3339Nano))
	if s.azure != nil {
		cmd.Env = append(cmd.Env, "PORTAL_VBAZURE_URL="+s.azure.URL(), "PORTAL_GRAPH_URL="+s.entra.URL(), "PORTAL_ADMINS="+demotenant.AdminRole)
	}
	for k, v := range merge(testEnv, s.env) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &portalProcess{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop(t) })
	wait.For(t, "the portal process to start", func() bool {
		select {
		case <-p.done:
			t.Fatalf("the portal process ended:\n%s", p.logs)
		default:
		}
		l := listening(p.logs.String())
		p.url, p.addr, p.replica = l.PublicURL, l.Addr, l.Replica
		return p.url != ""
	})
	return p
}

// stop interrupts the process, as a service stop does, and waits for it.
func (p *portalProcess) stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(wait.Deadline):
		p.cmd.Process.Kill()
		t.Error("the portal process did not stop")
	}
}

// kill ends the process at once, as a crash or an OOM kill would.
func (p *portalProcess) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}
