package veeamapi

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
)

// Defaults for a Client.
const (
	DefaultTimeout      = 15 * time.Second // one API call, retries included
	DefaultTokenTimeout = 10 * time.Second // one /token call
	maxRetries          = 2
	maxRetryAfter       = 5 * time.Second // a longer Retry-After is not waited for
	maxJSONBody         = 32 << 20
)

// Client talks to one VB365 server. It is safe for concurrent use.
type Client struct {
	base         *url.URL
	hc           *http.Client
	timeout      time.Duration
	tokenTimeout time.Duration
	backoff      time.Duration
	now          func() time.Time
	wait         func(ctx context.Context, d time.Duration) error // between retries
	userAgent    string
	rootCAs      *x509.CertPool
	transport    http.RoundTripper
}

// Option configures a Client.
type Option func(*Client) error

// WithRootCAs verifies the server's certificate against pool instead of the
// system roots. Verification is never skipped.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *Client) error {
		if pool == nil {
			return errors.New("nil certificate pool")
		}
		c.rootCAs = pool
		return nil
	}
}

// WithTransport replaces the HTTP transport (tests wrap it to inspect traffic).
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Client) error { c.transport = rt; return nil }
}

// WithTimeout sets the deadline of one API call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error { c.timeout = d; return nil }
}

// WithTokenTimeout sets the deadline of one /token call.
func WithTokenTimeout(d time.Duration) Option {
	return func(c *Client) error { c.tokenTimeout = d; return nil }
}

// WithClock sets the clock used to compute token expiry.
func WithClock(now func() time.Time) Option {
	return func(c *Client) error { c.now = now; return nil }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error { c.userAgent = ua; return nil }
}

// withWait replaces the wait between retries (tests record it).
func withWait(wait func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) error { c.wait = wait; return nil }
}

// withBackoff sets the first retry delay (tests).
func withBackoff(d time.Duration) Option {
	return func(c *Client) error { c.backoff = d; return nil }
}

// CheckBaseURL reports why raw cannot be a VB365 server address: it must be
// an absolute https URL with no path, query or credentials; plain http is
// accepted only for a loopback host (a local fake or a tunnel).
func CheckBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, errors.New("must be an absolute http(s) URL such as https://vb365.example.com:4443")
	case u.User != nil:
		return nil, errors.New("must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("must not have a query or fragment")
	case u.Path != "" && u.Path != "/":
		return nil, errors.New("must not have a path: the client adds /v8/…")
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

// New returns a client for the VB365 server at baseURL (scheme://host:port).
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := CheckBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("veeamapi: server URL %q %w", baseURL, err)
	}
	c := &Client{
		base: base, timeout: DefaultTimeout, tokenTimeout: DefaultTokenTimeout,
		backoff: 200 * time.Millisecond, now: time.Now, wait: sleep, userAgent: "vb365-restore-portal",
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("veeamapi: %w", err)
		}
	}
	rt := c.transport
	if rt == nil {
		rt = c.newTransport()
	}
	c.hc = &http.Client{
		Transport: rt,
		// Never follow a redirect: the client talks to the configured server only.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// newTransport dials only the configured host and port, with timeouts on every phase.
func (c *Client) newTransport() *http.Transport {
	port := c.base.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[c.base.Scheme]
	}
	allowed := net.JoinHostPort(c.base.Hostname(), port)
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != allowed {
				return nil, fmt.Errorf("refusing to dial %s: only %s is allowed", addr, allowed)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: c.rootCAs},
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   32,
		ForceAttemptHTTP2:     true,
	}
}

// pathf builds a request path, escaping each argument as one path segment.
func pathf(format string, args ...string) string {
	escaped := make([]any, len(args))
	for i, a := range args {
		escaped[i] = url.PathEscape(a)
	}
	return fmt.Sprintf(format, escaped...)
}

// request describes one call.
type request struct {
	method string
	path   string // escaped, starting with /v8/
	query  url.Values
	body   any // JSON-encoded unless it is url.Values (a form)
	token  string
	// idempotent marks a POST that only reads (a search), so it may be retried.
	idempotent bool
}

func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	ref, err := url.Parse(r.path)
	if err != nil {
		return nil, fmt.Errorf("veeamapi: bad path %q: %w", r.path, err)
	}
	u := c.base.ResolveReference(ref)
	u.RawQuery = r.query.Encode()
	var body io.Reader
	contentType := ""
	switch b := r.body.(type) {
	case nil:
	case url.Values:
		body, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("veeamapi: encode %s body: %w", r.path, err)
		}
		body, contentType = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("veeamapi: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	return req, nil
}

// send performs r, retrying idempotent requests on transient failures, and
// returns a 2xx response whose body the caller must close.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	idempotent := r.method == http.MethodGet || r.method == http.MethodHead || r.idempotent
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, r)
		if err != nil {
			return nil, err
		}
		resp, err := c.hc.Do(req)
		retry := idempotent && attempt < maxRetries
		if err != nil {
			if ctx.Err() != nil || !retry {
				return nil, fmt.Errorf("veeamapi: %s %s: %w: %w", r.method, req.URL.Path, ErrUnavailable, err)
			}
			if err := c.wait(ctx, c.jitter(attempt)); err != nil {
				return nil, fmt.Errorf("veeamapi: %s %s: %w: %w", r.method, req.URL.Path, ErrUnavailable, err)
			}
			continue
		}
		if retry && transientStatus(resp.StatusCode) {
			delay, ok := retryAfter(resp.Header.Get("Retry-After"), c.now())
			if !ok {
				delay = c.jitter(attempt)
			}
			if delay <= maxRetryAfter {
				drain(resp)
				if err := c.wait(ctx, delay); err != nil {
					return nil, fmt.Errorf("veeamapi: %s %s: %w: %w", r.method, req.URL.Path, ErrUnavailable, err)
				}
				continue
			}
		}
		if err := checkResponse(resp); err != nil {
			drain(resp)
			return nil, err
		}
		return resp, nil
	}
}

// call performs r and decodes a JSON answer into out (unless out is nil).
func (c *Client) call(ctx context.Context, timeout time.Duration, r request, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer drain(resp)
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
		err = json.Unmarshal(buf.Bytes(), out)
	}
	if err != nil {
		return fmt.Errorf("veeamapi: %s %s: %w: undecodable answer: %w", r.method, resp.Request.URL.Path, ErrUnavailable, err)
	}
	return nil
}

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
	ceiling := c.backoff << attempt
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

// drain reads a little of what is left so the connection can be reused, then closes the body.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
