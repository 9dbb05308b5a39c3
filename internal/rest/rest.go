// Package rest is the HTTP core the portal's Veeam clients share (veeamapi
// for VB365, vbazure for Veeam Backup for Microsoft Azure): requests to one
// configured server only, deadlines on every call, retries of idempotent
// requests on transient failures with jittered backoff and Retry-After,
// bounded JSON answers. Each client turns failure answers into its own
// errors.
package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openrestore/portal/internal/jsonread"

	"github.com/openrestore/portal/internal/breaker"
)

const (
	maxRetries    = 2
	maxRetryAfter = 5 * time.Second // a longer Retry-After is not waited for
	maxJSONBody   = 32 << 20
)

// Config configures a Client.
type Config struct {
	// Name prefixes the client's errors ("veeamapi").
	Name string
	// Base is the server: scheme://host[:port].
	Base *url.URL
	// RootCAs verifies the server's certificate instead of the system roots.
	RootCAs *x509.CertPool
	// Transport replaces the pinned transport (tests).
	Transport http.RoundTripper
	// UserAgent is sent with every request.
	UserAgent string
	// Backoff is the first retry's delay ceiling; it doubles each retry.
	Backoff time.Duration
	// Now is the clock Retry-After dates are read against.
	Now func() time.Time
	// Wait waits between retries; default: a timer bounded by ctx.
	Wait func(ctx context.Context, d time.Duration) error
	// Check turns a non-2xx answer into the client's error.
	Check func(*http.Response) error
	// Unavailable is the client's error for a server that cannot be
	// reached or answers what cannot be read.
	Unavailable error
	Hooks
}

// Hooks let the portal guard and watch a client's calls.
type Hooks struct {
	// Breaker, when set, is asked before every attempt and told how it
	// went: while it is open, calls fail at once with ErrCircuitOpen.
	Breaker *breaker.Breaker
	// Observe, when set, hears of every attempt.
	Observe func(Attempt)
	// Wrap, when set, wraps the transport (tracing).
	Wrap func(http.RoundTripper) http.RoundTripper
}

// Attempt is one attempt at a request, for Hooks.Observe.
type Attempt struct {
	Method string
	Path   string // as sent, ids and all: observers template it
	// Status is the answer's status, 0 when there was none (Err says why).
	Status   int
	Err      error
	Duration time.Duration
	// Retry marks an attempt after the first.
	Retry bool
	// Refused marks an attempt the open breaker did not let through.
	Refused bool
}

// ErrCircuitOpen is returned (with the client's Unavailable) while the
// breaker is open: the server failed too often to be asked again yet.
var ErrCircuitOpen = errors.New("the server failed repeatedly; not asking it again for a while")

// Client sends requests to one server. It is safe for concurrent use.
type Client struct {
	cfg Config
	hc  *http.Client
}

// New returns a client.
func New(cfg Config) *Client {
	if cfg.Wait == nil {
		cfg.Wait = sleep
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	rt := cfg.Transport
	if rt == nil {
		rt = pinnedTransport(cfg.Base, cfg.RootCAs)
	}
	if cfg.Wrap != nil {
		rt = cfg.Wrap(rt)
	}
	return &Client{cfg: cfg, hc: &http.Client{
		Transport: rt,
		// Never follow a redirect: the client talks to the configured server only.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// CheckBaseURL reports why raw cannot be a server address: it must be an
// absolute https URL with no path, query or credentials; plain http is
// accepted only for a loopback host (a local fake or a tunnel). example
// shows a good one in the messages.
func CheckBaseURL(raw, example string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, errors.New("must be an absolute http(s) URL such as " + example)
	case u.User != nil:
		return nil, errors.New("must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("must not have a query or fragment")
	case u.Path != "" && u.Path != "/":
		return nil, errors.New("must not have a path: the portal adds the API's")
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		return nil, errors.New("must use https; plain http is accepted only for a loopback address")
	}
	u.Path = ""
	return u, nil
}

// IsLoopback reports whether host is localhost or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// pinnedTransport dials only the configured host and port, with timeouts on every phase.
func pinnedTransport(base *url.URL, roots *x509.CertPool) *http.Transport {
	port := base.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[base.Scheme]
	}
	allowed := net.JoinHostPort(base.Hostname(), port)
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != allowed {
				return nil, fmt.Errorf("refusing to dial %s: only %s is allowed", addr, allowed)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   32,
		ForceAttemptHTTP2:     true,
	}
}

// Pathf builds a request path, escaping each argument as one path segment.
func Pathf(format string, args ...string) string {
	escaped := make([]any, len(args))
	for i, a := range args {
		escaped[i] = url.PathEscape(a)
	}
	return fmt.Sprintf(format, escaped...)
}

// Request describes one call.
type Request struct {
	Method string
	Path   string // escaped, from the root
	Query  url.Values
	Body   any // JSON-encoded unless it is url.Values (a form)
	Token  string
	// Accept is the answer's media type; default application/json.
	Accept string
	// Header holds more request headers.
	Header http.Header
	// Idempotent marks a POST that only reads (a search), so it may be retried.
	Idempotent bool
}

func (c *Client) newRequest(ctx context.Context, r Request) (*http.Request, error) {
	ref, err := url.Parse(r.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: bad path %q: %w", c.cfg.Name, r.Path, err)
	}
	u := c.cfg.Base.ResolveReference(ref)
	u.RawQuery = r.Query.Encode()
	var body io.Reader
	contentType := ""
	switch b := r.Body.(type) {
	case nil:
	case url.Values:
		body, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("%s: encode %s body: %w", c.cfg.Name, r.Path, err)
		}
		body, contentType = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.Name, err)
	}
	accept := r.Accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	return req, nil
}

// Send performs r, retrying idempotent requests on transient failures, and
// returns a 2xx response whose body the caller must close.
// The breaker is asked once per call and told how its last attempt went:
// a call that failed after its retries is one failure.
func (c *Client) Send(ctx context.Context, r Request) (*http.Response, error) {
	idempotent := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Idempotent
	if b := c.cfg.Breaker; b != nil {
		if !b.Allow() {
			c.observe(Attempt{Method: r.Method, Path: r.Path, Refused: true, Err: ErrCircuitOpen})
			return nil, fmt.Errorf("%s: %s %s: %w: %w", c.cfg.Name, r.Method, r.Path, c.cfg.Unavailable, ErrCircuitOpen)
		}
		last := breaker.Abandoned
		defer func() { b.Done(last) }()
		ctx = context.WithValue(ctx, lastOutcomeKey{}, &last)
	}
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, r)
		if err != nil {
			return nil, err
		}
		resp, err := c.do(ctx, req, attempt > 0)
		retry := idempotent && attempt < maxRetries
		if err != nil {
			if ctx.Err() != nil || !retry {
				return nil, fmt.Errorf("%s: %s %s: %w: %w", c.cfg.Name, r.Method, req.URL.Path, c.cfg.Unavailable, err)
			}
			if err := c.cfg.Wait(ctx, c.jitter(attempt)); err != nil {
				return nil, fmt.Errorf("%s: %s %s: %w: %w", c.cfg.Name, r.Method, req.URL.Path, c.cfg.Unavailable, err)
			}
			continue
		}
		if retry && transientStatus(resp.StatusCode) {
			delay, ok := retryAfter(resp.Header.Get("Retry-After"), c.cfg.Now())
			if !ok {
				delay = c.jitter(attempt)
			}
			if delay <= maxRetryAfter {
				Drain(resp)
				if err := c.cfg.Wait(ctx, delay); err != nil {
					return nil, fmt.Errorf("%s: %s %s: %w: %w", c.cfg.Name, r.Method, req.URL.Path, c.cfg.Unavailable, err)
				}
				continue
			}
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			err := c.cfg.Check(resp)
			Drain(resp)
			return nil, err
		}
		return resp, nil
	}
}

// lastOutcomeKey carries, in a call's context, where its attempts note
// how they went for the breaker.
type lastOutcomeKey struct{}

// do sends one attempt, notes its outcome for the breaker, and tells the hooks.
func (c *Client) do(ctx context.Context, req *http.Request, retry bool) (*http.Response, error) {
	a := Attempt{Method: req.Method, Path: req.URL.EscapedPath(), Retry: retry}
	start := time.Now()
	resp, err := c.hc.Do(req)
	a.Duration, a.Err = time.Since(start), err
	if resp != nil {
		a.Status = resp.StatusCode
	}
	if last, ok := ctx.Value(lastOutcomeKey{}).(*breaker.Outcome); ok {
		*last = outcome(ctx, resp, err)
	}
	c.observe(a)
	return resp, err
}

func (c *Client) observe(a Attempt) {
	if c.cfg.Observe != nil {
		c.cfg.Observe(a)
	}
}

// outcome judges an attempt for the breaker: no answer, or a gateway
// saying the server is not there, is a failure; any other answer, errors
// included, shows the server is up. A caller that gave up proves nothing.
func outcome(ctx context.Context, resp *http.Response, err error) breaker.Outcome {
	switch {
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		return breaker.Abandoned
	case err != nil:
		return breaker.Failed
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
		return breaker.Failed
	}
	return breaker.Succeeded
}

// Call performs r within timeout and decodes a JSON answer into out
// (unless out is nil).
func (c *Client) Call(ctx context.Context, timeout time.Duration, r Request, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.Send(ctx, r)
	if err != nil {
		return err
	}
	defer Drain(resp)
	if out == nil {
		return nil
	}
	// The answer is read whole into a pooled buffer and decoded from there:
	// a page of items is some 150 KB, and growing a fresh buffer for each
	// one is most of the garbage a page makes. Decoded strings are copies.
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // keep ordinary sizes only
			buf.Reset()
			bodyBuffers.Put(buf)
		}
	}()
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxJSONBody+1))
	if err == nil && n > maxJSONBody {
		err = fmt.Errorf("the answer is larger than %d bytes", maxJSONBody)
	}
	if err == nil {
		err = Decode(buf.Bytes(), out)
	}
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w: undecodable answer: %w", c.cfg.Name, r.Method, resp.Request.URL.Path, c.cfg.Unavailable, err)
	}
	return nil
}

// Decode reads an answer as encoding/json would, in a third of the time
// (see jsonread).
func Decode(b []byte, out any) error { return jsonread.Unmarshal(b, out) }

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func transientStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusBadGateway ||
		code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// jitter is full-jitter exponential backoff: a random delay up to backoff·2^attempt.
func (c *Client) jitter(attempt int) time.Duration {
	ceiling := c.cfg.Backoff << attempt
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Drain reads a little of what is left so the connection can be reused,
// then closes the body.
func Drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
