package authn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeentra"
	testclock "github.com/openrestore/portal/internal/clock"
	"github.com/openrestore/portal/internal/wait"
	"github.com/openrestore/portal/sessionstore"
)

const (
	adele = "AdeleV@contoso.onmicrosoft.com"
	megan = "MeganB@contoso.onmicrosoft.com"
)

// clock is a settable clock shared by the issuer and the Authenticator.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// clockStore is an scs store that keeps time on the test's clock, as the
// portal's own store does on the portal's.
type clockStore struct {
	now  func() time.Time
	mu   sync.Mutex
	rows map[string]storedSession
}

type storedSession struct {
	data   []byte
	expiry time.Time
}

func (s *clockStore) Find(token string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[token]
	if !ok || s.now().After(r.expiry) { // as scs's own stores: valid up to its expiry
		return nil, false, nil
	}
	return r.data, true, nil
}

func (s *clockStore) Commit(token string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[token] = storedSession{data: b, expiry: expiry}
	return nil
}

func (s *clockStore) Delete(token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rows, token)
	return nil
}

func (s *clockStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows)
}

func testSealer(t *testing.T) *sessionstore.SealedCodec {
	c, err := sessionstore.NewSealedCodec(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stubVeeam is an Exchanger that checks the assertions it gets and counts calls.
type stubVeeam struct {
	t   *testing.T
	now func() time.Time

	mu                            sync.Mutex
	exchanges, refreshes, logouts int
	exchangeErr, refreshErr       error
	refreshGate                   chan struct{}
	issued                        int
	loggedOut                     []string
}

func (s *stubVeeam) grant() Grant {
	s.issued++
	n := s.issued
	return Grant{AccessToken: fmt.Sprintf("veeam-at-%d", n), RefreshToken: fmt.Sprintf("veeam-rt-%d", n),
		Expiry: s.now().Add(time.Hour), Lifetime: time.Hour}
}

func (s *stubVeeam) Exchange(_ context.Context, oid, tid, assertion string) (Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exchanges++
	var claims struct {
		Aud string `json:"aud"`
		Scp string `json:"scp"`
		OID string `json:"oid"`
		TID string `json:"tid"`
	}
	parts := strings.Split(assertion, ".")
	if len(parts) == 3 {
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		json.Unmarshal(b, &claims)
	}
	if claims.Aud != demotenant.ApplicationID || claims.Scp != "access_as_user" || claims.OID != oid || claims.TID != tid {
		s.t.Errorf("the assertion is not an access token for the Restore Portal API of %s.%s: %+v", oid, tid, claims)
	}
	if s.exchangeErr != nil {
		return Grant{}, s.exchangeErr
	}
	return s.grant(), nil
}

func (s *stubVeeam) Refresh(ctx context.Context, rt string) (Grant, error) {
	s.mu.Lock()
	s.refreshes++
	gate := s.refreshGate
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refreshErr != nil {
		return Grant{}, s.refreshErr
	}
	return s.grant(), nil
}

func (s *stubVeeam) Logout(_ context.Context, at string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logouts++
	s.loggedOut = append(s.loggedOut, at)
	return nil
}

func (s *stubVeeam) counts() (exchanges, refreshes, logouts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges, s.refreshes, s.logouts
}

type harness struct {
	t        *testing.T
	entra    *fakeentra.Server
	auth     *Authenticator
	sessions *scs.SessionManager
	store    *clockStore
	records  *memRecords
	sealer   *sessionstore.SealedCodec
	veeam    *stubVeeam
	clock    *clock
	srv      *httptest.Server
}

func newHarness(t *testing.T, users ...fakeentra.User) *harness {
	t.Helper()
	clk := &clock{now: testclock.TestStart}
	entra, err := fakeentra.Start("127.0.0.1:0", fakeentra.Options{Now: clk.Now, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { entra.Close() })
	sealer := testSealer(t)
	h := &harness{t: t, entra: entra, clock: clk, store: &clockStore{now: clk.Now, rows: map[string]storedSession{}},
		records: newMemRecords(), sealer: sealer}
	h.veeam = &stubVeeam{t: t, now: clk.Now}
	h.auth, h.sessions, h.srv = h.replica()
	return h
}

// replica starts another portal process of the harness's: its own
// Authenticator and server, on the same sessions, records and keys.
func (h *harness) replica() (*Authenticator, *scs.SessionManager, *httptest.Server) {
	t := h.t
	sessions := scs.New()
	sessions.Store = h.store
	sessions.Codec = h.sealer
	sessions.Cookie.Name = "__Host-session"
	sessions.Cookie.Secure = true
	sessions.Cookie.Persist = false // as the portal has it: the cookie holds no expiry of the portal's clock
	sessions.Lifetime = 8 * time.Hour

	var auth *Authenticator
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		to, err := auth.Begin(w, r, r.URL.Query().Get("return_to"), r.URL.Query().Get("note"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
	mux.HandleFunc("GET /auth/callback", func(w http.ResponseWriter, r *http.Request) {
		done, err := auth.Finish(w, r)
		var le *LoginError
		if errors.As(err, &le) {
			http.Error(w, le.Reason, le.Status)
			return
		}
		w.Header().Set("X-Note", done.Note)
		http.Redirect(w, r, done.ReturnTo, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /peek", func(w http.ResponseWriter, r *http.Request) {
		if _, err := auth.Peek(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		u, err := auth.User(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %s %s", u.OID, u.TenantID, u.UPN)
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		// As the portal does on every request: who is it (which counts as use), then the token.
		if _, err := auth.User(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		tok, err := auth.Token(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, tok)
	})
	mux.HandleFunc("GET /detached", func(w http.ResponseWriter, r *http.Request) {
		g, err := auth.DetachedGrant(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, g.AccessToken)
	})
	mux.HandleFunc("GET /tokenfor", func(w http.ResponseWriter, r *http.Request) {
		tok, err := auth.TokenFor(r.Context(), r.URL.Query().Get("scope"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, tok)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, auth.SignOut(r.Context()), http.StatusSeeOther)
	})
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	var err error
	auth, err = New(Config{
		Discover: func(context.Context) (string, string, error) {
			return h.entra.ApplicationID(), h.entra.Authority(), nil
		},
		ClientSecret: h.entra.ClientSecret(), RedirectURL: srv.URL + "/auth/callback",
		PostLogoutRedirectURL: srv.URL + "/signed-out",
		HTTPClient:            &http.Client{Timeout: 10 * time.Second}, Now: h.clock.Now,
		IdleTimeout: 30 * time.Minute, Lifetime: 8 * time.Hour,
		Records: h.records, Sealer: h.sealer,
		Logger: slog.New(slog.DiscardHandler),
	}, sessions, h.veeam)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = auth.Remember(sessions.LoadAndSave(mux))
	return auth, sessions, srv
}

// loopbackJar keeps Secure cookies for http://127.0.0.1 as browsers do for
// loopback addresses (Go's cookiejar only sends them over https).
type loopbackJar struct{ inner *cookiejar.Jar }

func secureURL(u *url.URL) *url.URL {
	c := *u
	c.Scheme = "https"
	return &c
}

func (j loopbackJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.inner.SetCookies(secureURL(u), cs) }
func (j loopbackJar) Cookies(u *url.URL) []*http.Cookie        { return j.inner.Cookies(secureURL(u)) }

type browser struct {
	h *harness
	c *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, c: &http.Client{
		Jar: loopbackJar{jar}, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) get(raw string) *http.Response {
	b.h.t.Helper()
	resp, err := b.c.Get(raw)
	if err != nil {
		b.h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (b *browser) body(raw string) (int, string) {
	b.h.t.Helper()
	resp, err := b.c.Get(raw)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(data))
}

func (b *browser) sessionCookie() string {
	for _, c := range b.c.Jar.Cookies(mustParse(b.h.srv.URL)) {
		if c.Name == "__Host-session" {
			return c.Value
		}
	}
	return ""
}

func mustParse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}

// authorize starts a sign-in and returns Entra's authorize URL.
func (b *browser) authorize(returnTo string) *url.URL {
	b.h.t.Helper()
	resp := b.get(b.h.srv.URL + "/login?return_to=" + url.QueryEscape(returnTo))
	if resp.StatusCode != http.StatusFound {
		b.h.t.Fatalf("login: %d", resp.StatusCode)
	}
	return mustParse(resp.Header.Get("Location"))
}

// pick chooses an account on the sign-in page and returns the callback URL Entra redirects to.
func (b *browser) pick(authURL *url.URL, upn string) *url.URL {
	b.h.t.Helper()
	form := authURL.Query()
	form.Set("account", demotenant.ID("user", upn))
	resp, err := b.c.PostForm(authURL.Scheme+"://"+authURL.Host+authURL.Path, form)
	if err != nil {
		b.h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b.h.t.Fatalf("pick: %d", resp.StatusCode)
	}
	return mustParse(resp.Header.Get("Location"))
}

func (b *browser) signIn(upn, returnTo string) *http.Response {
	b.h.t.Helper()
	return b.get(b.pick(b.authorize(returnTo), upn).String())
}

func (b *browser) whoami() (int, string) { return b.body(b.h.srv.URL + "/me") }

func TestSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	// An attacker planted a session id in the browser before the sign-in.
	planted := "planted-session-id-0123456789abcdefghijklmnop"
	b.c.Jar.SetCookies(mustParse(h.srv.URL), []*http.Cookie{{Name: "__Host-session", Value: planted, Path: "/"}})
	auth := b.authorize("/sessions/x")
	if n := h.store.count(); n != 0 {
		t.Errorf("starting a sign-in stored %d sessions", n)
	}
	resp := b.get(b.pick(auth, adele).String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sessions/x" {
		t.Fatalf("callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	status, me := b.whoami()
	want := demotenant.ID("user", adele) + " " + demotenant.TenantID + " " + adele
	if status != 200 || me != want {
		t.Errorf("whoami = %d %q, want %q", status, me, want)
	}
	// Fixation: the id in use after sign-in is new.
	if b.sessionCookie() == planted || b.sessionCookie() == "" {
		t.Error("the session id was not renewed at sign-in")
	}
	if h.store.count() != 1 || h.records.count() != 1 {
		t.Errorf("%d sessions, %d records after one sign-in", h.store.count(), h.records.count())
	}
	for _, c := range b.c.Jar.Cookies(mustParse(h.srv.URL)) {
		if strings.HasPrefix(c.Name, loginCookie) {
			t.Errorf("the finished sign-in's cookie is left: %s", c.Name)
		}
	}
	if ex, _, _ := h.veeam.counts(); ex != 1 {
		t.Errorf("operator grants = %d, want 1", ex)
	}
}

func TestAuthorizeRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seen := map[string]bool{}
	for i := range 1000 {
		w := httptest.NewRecorder()
		raw, err := h.auth.Begin(w, httptest.NewRequest(http.MethodGet, "/login", nil), "/", "")
		if err != nil {
			t.Fatal(err)
		}
		q := mustParse(raw).Query()
		if i == 0 {
			if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
				len(q.Get("code_challenge")) != 43 || q.Get("response_mode") == "form_post" ||
				!strings.Contains(q.Get("scope"), "api://"+demotenant.ApplicationID+"/access_as_user") {
				t.Fatalf("authorize URL = %s", raw)
			}
		}
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			v := q.Get(k)
			if len(v) < 22 || seen[k+v] {
				t.Fatalf("%s %q is short or repeated", k, v)
			}
			seen[k+v] = true
		}
	}
}

func TestBadCallbacksRedeemNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	other := h.browser()
	foreign := other.pick(other.authorize("/"), megan)

	tests := []struct {
		name   string
		mangle func(q url.Values)
		before func(b *browser)
		status int
	}{
		{"missing state", func(q url.Values) { q.Del("state") }, nil, 400},
		{"empty state", func(q url.Values) { q.Set("state", "") }, nil, 400},
		{"mismatched state", func(q url.Values) { q.Set("state", "not-the-state") }, nil, 400},
		{"tampered state", func(q url.Values) { q.Set("state", flipLast(q.Get("state"))) }, nil, 400},
		{"foreign session's state", func(q url.Values) {
			q.Set("state", foreign.Query().Get("state"))
			q.Set("code", foreign.Query().Get("code"))
		}, nil, 400},
		{"expired transaction", nil, func(*browser) { h.clock.Advance(11 * time.Minute) }, 400},
		{"missing code", func(q url.Values) { q.Del("code") }, nil, 400},
		{"no login cookie", nil, func(b *browser) { b.c.Jar, _ = cookiejar.New(nil) }, 400},
		{"another browser's login cookie", nil, func(b *browser) {
			b.c.Jar = other.c.Jar // the state and code are this browser's
		}, 400},
		{"entra error", func(q url.Values) {
			q.Del("code")
			q.Set("error", "invalid_request")
			q.Set("error_description", "<script>alert(1)</script>")
		}, nil, 400},
		{"user declined", func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }, nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := h.browser()
			cb := b.pick(b.authorize("/"), adele)
			q := cb.Query()
			if tt.mangle != nil {
				tt.mangle(q)
			}
			cb.RawQuery = q.Encode()
			if tt.before != nil {
				tt.before(b)
			}
			calls := h.entra.TokenRequests()
			resp := b.get(cb.String())
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if n := h.entra.TokenRequests() - calls; n != 0 {
				t.Errorf("the token endpoint got %d calls", n)
			}
			for _, c := range resp.Cookies() {
				if c.Name == "__Host-session" && c.Value != "" && c.MaxAge >= 0 {
					t.Errorf("a session cookie was set: %v", c)
				}
			}
			if status, _ := b.whoami(); status != http.StatusUnauthorized {
				t.Error("a session exists after the failed sign-in")
			}
		})
		// Undo the time travel of the expiry case.
		h.clock.mu.Lock()
		h.clock.now = testclock.TestStart
		h.clock.mu.Unlock()
	}
}

func flipLast(s string) string {
	if strings.HasSuffix(s, "A") {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

func TestReplayedCallbackIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	cb := b.pick(b.authorize("/"), adele)
	if resp := b.get(cb.String()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback: %d", resp.StatusCode)
	}
	calls := h.entra.TokenRequests()
	if resp := b.get(cb.String()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback: %d, want 400", resp.StatusCode)
	}
	if h.entra.TokenRequests() != calls {
		t.Error("the replayed code was sent to the token endpoint")
	}
}

func TestCodeReuseAndWrongVerifier(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	first := b.pick(b.authorize("/"), adele)
	second := b.authorize("/") // another tab: a second transaction with its own verifier
	// The first code presented with the second transaction's state: its verifier does not match.
	q := first.Query()
	q.Set("state", second.Query().Get("state"))
	forged := *first
	forged.RawQuery = q.Encode()
	if resp := b.get(forged.String()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("code with another transaction's verifier: %d, want 400", resp.StatusCode)
	}
	if status, _ := b.whoami(); status != http.StatusUnauthorized {
		t.Error("signed in with a mismatched verifier")
	}
	// The code was spent by that attempt; the genuine callback cannot reuse it.
	if resp := b.get(first.String()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("reused code: %d, want 400", resp.StatusCode)
	}
}

func TestTamperedIDTokensAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tamper := range []fakeentra.Tamper{
		fakeentra.TamperIssuer, fakeentra.TamperAudience, fakeentra.TamperExtraAudience, fakeentra.TamperExpired,
		fakeentra.TamperNotYetValid, fakeentra.TamperAlgNone, fakeentra.TamperHS256, fakeentra.TamperUnknownKey,
		fakeentra.TamperSignature, fakeentra.TamperNoNonce, fakeentra.TamperNonce, fakeentra.TamperTenant,
	} {
		t.Run(string(tamper), func(t *testing.T) {
			b := h.browser()
			cb := b.pick(b.authorize("/"), adele)
			h.entra.TamperNextIDToken(tamper)
			status, reason := b.body(cb.String())
			if status != http.StatusBadRequest || reason != ReasonBadToken {
				t.Errorf("got %d %q, want 400 %s", status, reason, ReasonBadToken)
			}
			if status, _ := b.whoami(); status != http.StatusUnauthorized {
				t.Error("signed in with a tampered ID token")
			}
		})
	}
	if ex, _, _ := h.veeam.counts(); ex != 0 {
		t.Errorf("%d operator grants for tampered sign-ins", ex)
	}
}

func TestVeeamRefusalCreatesNoSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.veeam.exchangeErr = fmt.Errorf("%w: not an operator", ErrRejected)
	b := h.browser()
	if status, reason := b.body(b.pick(b.authorize("/"), adele).String()); status != http.StatusForbidden || reason != ReasonNotPermitted {
		t.Errorf("got %d %s", status, reason)
	}
	h.veeam.exchangeErr = errors.New("connection refused")
	if status, reason := b.body(b.pick(b.authorize("/"), adele).String()); status != http.StatusBadGateway || reason != ReasonUnavailable {
		t.Errorf("got %d %s", status, reason)
	}
	if status, _ := b.whoami(); status != http.StatusUnauthorized {
		t.Error("a session exists")
	}
}

func TestIdentityIsTheObjectID(t *testing.T) {
	t.Parallel()
	// Two accounts with the same address but different object ids are two people.
	h := newHarness(t,
		fakeentra.User{OID: demotenant.ID("user", "one"), Name: "One", UPN: "shared@contoso.onmicrosoft.com"},
		fakeentra.User{OID: demotenant.ID("user", "two"), Name: "Two", UPN: "shared@contoso.onmicrosoft.com"},
	)
	var oids []string
	for _, key := range []string{"one", "two"} {
		b := h.browser()
		auth := b.authorize("/")
		form := auth.Query()
		form.Set("account", demotenant.ID("user", key))
		resp, err := b.c.PostForm(auth.Scheme+"://"+auth.Host+auth.Path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		b.get(resp.Header.Get("Location"))
		_, me := b.whoami()
		oids = append(oids, strings.Fields(me)[0])
	}
	if oids[0] == oids[1] {
		t.Errorf("both accounts got identity %s", oids[0])
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(adele, "/")
	id := b.sessionCookie()
	// Use keeps the session alive past the idle timeout...
	for range 4 {
		h.clock.Advance(20 * time.Minute)
		if status, _ := b.whoami(); status != 200 {
			t.Fatalf("session ended while in use")
		}
	}
	// ...idleness ends it, and the store forgets it.
	h.clock.Advance(31 * time.Minute)
	if status, _ := b.whoami(); status != http.StatusUnauthorized {
		t.Errorf("idle session still valid")
	}
	if _, found, _ := h.store.Find(id); found {
		t.Error("the expired session is still stored")
	}

	// Background polls do not count as use.
	b = h.browser()
	b.signIn(adele, "/")
	for range 2 {
		h.clock.Advance(12 * time.Minute)
		if status, _ := b.body(b.h.srv.URL + "/peek"); status != 200 {
			t.Fatal("a poll within the idle timeout was refused")
		}
	}
	h.clock.Advance(10 * time.Minute) // 34 minutes after the last use, 10 after the last poll
	if status, _ := b.whoami(); status != http.StatusUnauthorized {
		t.Errorf("polling kept an idle session alive")
	}

	// The absolute lifetime ends even a busy session.
	b = h.browser()
	b.signIn(adele, "/")
	for range 16 {
		h.clock.Advance(29 * time.Minute)
		b.whoami()
	}
	h.clock.Advance(30 * time.Minute) // 8 h 14 min after sign-in
	if status, _ := b.whoami(); status != http.StatusUnauthorized {
		t.Errorf("session valid after its lifetime")
	}
}

func TestTokenRenewal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(adele, "/")
	token := func() (int, string) { return b.body(h.srv.URL + "/token") }

	if status, tok := token(); status != 200 || tok != "veeam-at-1" {
		t.Fatalf("token = %d %s", status, tok)
	}
	// Near expiry: renewed with VB365's refresh token before it runs out.
	h.clock.Advance(28 * time.Minute)
	b.whoami()
	h.clock.Advance(27 * time.Minute)
	if status, tok := token(); status != 200 || tok != "veeam-at-2" {
		t.Fatalf("renewed token = %d %s", status, tok)
	}
	if _, refreshes, _ := h.veeam.counts(); refreshes != 1 {
		t.Errorf("refreshes = %d", refreshes)
	}

	// A passing failure keeps the session and says so.
	h.clock.Advance(25 * time.Minute)
	token()
	h.clock.Advance(30 * time.Minute)
	h.veeam.refreshErr = errors.New("502 from the backup server")
	if status, _ := token(); status != http.StatusUnauthorized {
		t.Errorf("transient failure: status %d", status)
	}
	if status, _ := b.whoami(); status != 200 {
		t.Error("a transient failure ended the session")
	}

	// The Entra tokens are renewed when due (55 minutes into their hour),
	// whether VB365 needs them or not: by the requests above, at 55 and 110
	// minutes.
	if n := h.entra.TokenRequests(); n != 3 {
		t.Errorf("Entra token calls = %d, want the sign-in's and two renewals", n)
	}

	// VB365 refuses its refresh token: a new grant for the current Entra token.
	h.veeam.refreshErr = fmt.Errorf("%w: invalid_grant", ErrRejected)
	if status, tok := token(); status != 200 || tok != "veeam-at-3" {
		t.Fatalf("after the fallback: %d %s", status, tok)
	}
	if ex, _, _ := h.veeam.counts(); ex != 2 {
		t.Errorf("operator grants = %d, want 2", ex)
	}

	// Entra no longer lets her in (her sessions revoked): the session ends
	// at her first request after the Entra access token is due, within its
	// lifetime, whatever VB365 says.
	h.veeam.refreshErr = nil
	h.entra.RevokeRefreshTokens(demotenant.ID("user", adele))
	ended := false
	for range 3 { // an hour and a half of use: the Entra token falls due
		h.clock.Advance(29 * time.Minute)
		if status, _ := b.whoami(); status == http.StatusUnauthorized {
			ended = true
			break
		}
	}
	if !ended {
		t.Error("the session outlived Entra's refusal by more than an access token's lifetime")
	}
	if status, _ := token(); status != http.StatusUnauthorized {
		t.Error("the session outlived its tokens")
	}
}

// TestConcurrentRenewalsShareOneCall: requests of one session find the
// token due at once, on one replica or spread over two; VB365 sees one
// refresh, and every request gets the renewed token.
func TestConcurrentRenewalsShareOneCall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ requests, replicas int }{{5, 1}, {50, 1}, {20, 2}} {
		t.Run(fmt.Sprintf("%d requests, %d replicas", tc.requests, tc.replicas), func(t *testing.T) {
			h := newHarness(t)
			servers := []*httptest.Server{h.srv}
			for range tc.replicas - 1 {
				_, _, srv := h.replica()
				servers = append(servers, srv)
			}
			b := h.browser()
			b.signIn(adele, "/")
			h.clock.Advance(29 * time.Minute)
			b.whoami()
			h.clock.Advance(29 * time.Minute) // the VB365 token is due for renewal
			gate := make(chan struct{})
			h.veeam.mu.Lock()
			h.veeam.refreshGate = gate
			h.veeam.mu.Unlock()
			var wg sync.WaitGroup
			results := make(chan string, tc.requests)
			for i := range tc.requests {
				wg.Go(func() {
					_, tok := b.body(servers[i%len(servers)].URL + "/token")
					results <- tok
				})
			}
			wait.For(t, "a renewal to reach VB365", func() bool { _, refreshes, _ := h.veeam.counts(); return refreshes == 1 })
			close(gate)
			wg.Wait()
			close(results)
			for tok := range results {
				if tok != "veeam-at-2" {
					t.Errorf("a request got %q", tok)
				}
			}
			if _, refreshes, _ := h.veeam.counts(); refreshes != 1 {
				t.Errorf("%d refreshes, want 1", refreshes)
			}
		})
	}
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(adele, "/")
	id := b.sessionCookie()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/logout?post_logout_redirect_uri=https://evil.example", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := mustParse(resp.Header.Get("Location"))
	if loc.Host != mustParse(h.entra.URL()).Host || loc.Path != "/"+demotenant.TenantID+"/oauth2/v2.0/logout" ||
		loc.Query().Get("post_logout_redirect_uri") != h.srv.URL+"/signed-out" || loc.Query().Get("client_id") != demotenant.ApplicationID {
		t.Errorf("sign-out goes to %s", loc)
	}
	if _, _, logouts := h.veeam.counts(); logouts != 1 || h.veeam.loggedOut[0] != "veeam-at-1" {
		t.Errorf("VB365 logouts = %v", h.veeam.loggedOut)
	}
	if _, found, _ := h.store.Find(id); found {
		t.Error("the session is still stored")
	}
	// Replaying the old cookie gets nothing.
	jar, _ := cookiejar.New(nil)
	replay := &browser{h: h, c: &http.Client{Jar: loopbackJar{jar}}}
	replay.c.Jar.SetCookies(mustParse(h.srv.URL), []*http.Cookie{{Name: "__Host-session", Value: id, Path: "/"}})
	if status, _ := replay.whoami(); status != http.StatusUnauthorized {
		t.Error("the old cookie still works")
	}
}

func TestUnreachableIssuer(t *testing.T) {
	t.Parallel()
	clk := &clock{now: testclock.TestStart}
	a, err := New(Config{
		ClientID: demotenant.ApplicationID, Authority: "http://127.0.0.1:1/" + demotenant.TenantID,
		ClientSecret: "s", RedirectURL: "http://127.0.0.1:8080/auth/callback", PostLogoutRedirectURL: "http://127.0.0.1:8080/",
		HTTPClient: &http.Client{Timeout: time.Second}, Now: clk.Now,
		Records: newMemRecords(), Sealer: testSealer(t),
	}, scs.New(), &stubVeeam{t: t, now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Begin(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/login", nil), "/", ""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Begin = %v", err)
	}
	if a.Ready(context.Background()) {
		t.Error("ready without an issuer")
	}
}

func TestCheckAuthority(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw string
		ok  bool
	}{
		{"https://login.microsoftonline.com/" + demotenant.TenantID, true},
		{"https://login.microsoftonline.com/" + demotenant.TenantID + "/", true},
		{"http://127.0.0.1:9000/" + demotenant.TenantID, true},
		{"https://login.microsoftonline.com/common", false},
		{"https://login.microsoftonline.com/organizations", false},
		{"https://login.microsoftonline.com/consumers", false},
		{"https://login.microsoftonline.com/contoso.onmicrosoft.com", false},
		{"http://login.microsoftonline.com/" + demotenant.TenantID, false},
		{"login.microsoftonline.com/" + demotenant.TenantID, false},
	}
	for _, tt := range tests {
		if _, err := CheckAuthority(tt.raw); (err == nil) != tt.ok {
			t.Errorf("CheckAuthority(%q) = %v, want ok=%v", tt.raw, err, tt.ok)
		}
	}
}

// TestDetachedGrant: a grant the session does not hold, for the watcher; the
// session's own pair is untouched, an Entra token due for renewal is renewed
// first, and without a session there is none.
func TestDetachedGrant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	if status, _ := b.body(h.srv.URL + "/detached"); status != http.StatusUnauthorized {
		t.Errorf("signed out: %d", status)
	}
	b.signIn(adele, "/")
	_, own := b.body(h.srv.URL + "/token")
	status, detached := b.body(h.srv.URL + "/detached")
	if status != http.StatusOK || detached == "" || detached == own {
		t.Errorf("detached grant: %d %q (the session's is %q)", status, detached, own)
	}
	if _, again := b.body(h.srv.URL + "/token"); again != own {
		t.Errorf("the session's token changed to %q", again)
	}
	if ex, _, _ := h.veeam.counts(); ex != 2 {
		t.Errorf("operator grants = %d, want 2", ex)
	}
	// The Entra token is due for renewal: renewed first, then exchanged.
	h.clock.Advance(28 * time.Minute)
	b.whoami()
	h.clock.Advance(28 * time.Minute)
	entraCalls := h.entra.TokenRequests()
	if status, _ := b.body(h.srv.URL + "/detached"); status != http.StatusOK || h.entra.TokenRequests() != entraCalls+1 {
		t.Errorf("with the Entra token due: %d, %d Entra calls", status, h.entra.TokenRequests()-entraCalls)
	}
}

// TestVisitorsLeaveNothingOnTheServer: starting sign-ins, in several tabs,
// stores no session; each tab's sign-in completes, and the note comes back.
func TestVisitorsLeaveNothingOnTheServer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	var tabs []*url.URL
	for i := range maxPending + 2 {
		resp := b.get(h.srv.URL + "/login?return_to=/tab/" + fmt.Sprint(i) + "&note=Europe/Berlin")
		tabs = append(tabs, mustParse(resp.Header.Get("Location")))
	}
	if h.store.count() != 0 || h.records.count() != 0 {
		t.Errorf("visitors stored %d sessions and %d records", h.store.count(), h.records.count())
	}
	logins := 0
	for _, c := range b.c.Jar.Cookies(mustParse(h.srv.URL)) {
		if strings.HasPrefix(c.Name, loginCookie) {
			logins++
		}
	}
	if logins != maxPending {
		t.Errorf("%d sign-ins kept in cookies, want the last %d", logins, maxPending)
	}
	// The oldest tab's sign-in made room; the newest completes.
	if resp := b.get(b.pick(tabs[0], adele).String()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the oldest tab's callback: %d", resp.StatusCode)
	}
	resp := b.get(b.pick(tabs[len(tabs)-1], adele).String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != fmt.Sprintf("/tab/%d", len(tabs)-1) ||
		resp.Header.Get("X-Note") != "Europe/Berlin" {
		t.Errorf("the newest tab's callback: %d to %q, note %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("X-Note"))
	}
}

// TestARenewalClaimOfADeadReplicaRunsOut: a replica claimed the renewal
// and died; after the claim runs out, another renews.
func TestARenewalClaimOfADeadReplicaRunsOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(adele, "/")
	h.clock.Advance(29 * time.Minute)
	b.whoami()
	h.clock.Advance(29 * time.Minute)
	var sid string
	h.records.mu.Lock()
	for k := range h.records.rows {
		sid = k
	}
	h.records.mu.Unlock()
	if ok, _ := h.records.Claim(t.Context(), sid, 1, h.clock.Now().Add(renewTimeout), h.clock.Now()); !ok {
		t.Fatal("no claim")
	}
	loads := h.records.loaded()
	done := make(chan string, 1)
	go func() { _, tok := b.body(h.srv.URL + "/token"); done <- tok }()
	// It looks again and again for the other replica's renewal.
	wait.For(t, "the request to wait for the dead replica's renewal", func() bool { return h.records.loaded() > loads+5 })
	select {
	case tok := <-done:
		t.Fatalf("answered %q while the claim held", tok)
	default:
	}
	if _, refreshes, _ := h.veeam.counts(); refreshes != 0 {
		t.Fatalf("%d refreshes while another replica's claim held", refreshes)
	}
	h.clock.Advance(renewTimeout)
	if tok := <-done; tok != "veeam-at-2" {
		t.Errorf("after the claim ran out: %q", tok)
	}
}

// TestTokenForAnotherAPI: a Graph token from the session's refresh token,
// asked of Entra once while it lasts; the session's own tokens stay.
func TestTokenForAnotherAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	graph := h.srv.URL + "/tokenfor?scope=" + url.QueryEscape(fakeentra.GraphScope)
	if status, _ := b.body(graph); status != http.StatusUnauthorized {
		t.Errorf("signed out: %d", status)
	}
	b.signIn(adele, "/")
	_, own := b.body(h.srv.URL + "/token")
	calls := h.entra.TokenRequests()
	status, tok := b.body(graph)
	if status != http.StatusOK || tok == "" {
		t.Fatalf("a Graph token: %d %q", status, tok)
	}
	if _, again := b.body(graph); again != tok || h.entra.TokenRequests() != calls+1 {
		t.Errorf("asked Entra %d times for one token", h.entra.TokenRequests()-calls)
	}
	if _, now := b.body(h.srv.URL + "/token"); now != own {
		t.Error("the session's own token changed")
	}
	h.clock.Advance(28 * time.Minute)
	b.whoami()
	h.clock.Advance(28 * time.Minute)
	if _, renewed := b.body(graph); renewed == tok {
		t.Error("a Graph token near its expiry was handed out")
	}
}
