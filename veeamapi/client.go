package veeamapi

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/openrestore/portal/internal/rest"
)

// Defaults for a Client.
const (
	DefaultTimeout      = 15 * time.Second // one API call, retries included
	DefaultTokenTimeout = 10 * time.Second // one /token call
)

// Client talks to one VB365 server. It is safe for concurrent use.
type Client struct {
	base         *url.URL
	rest         *rest.Client
	timeout      time.Duration
	tokenTimeout time.Duration
	backoff      time.Duration
	now          func() time.Time
	wait         func(ctx context.Context, d time.Duration) error // between retries
	userAgent    string
	rootCAs      *x509.CertPool
	transport    http.RoundTripper
	hooks        rest.Hooks
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

// WithHooks guards and watches every call: a circuit breaker, an observer
// of each attempt (metrics), a transport wrapper (tracing).
func WithHooks(h rest.Hooks) Option {
	return func(c *Client) error { c.hooks = h; return nil }
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
	return rest.CheckBaseURL(raw, "https://vb365.example.com:4443")
}

// IsLoopback reports whether host is localhost or a loopback IP address.
func IsLoopback(host string) bool { return rest.IsLoopback(host) }

// New returns a client for the VB365 server at baseURL (scheme://host:port).
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := CheckBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("veeamapi: server URL %q %w", baseURL, err)
	}
	c := &Client{
		base: base, timeout: DefaultTimeout, tokenTimeout: DefaultTokenTimeout,
		backoff: 200 * time.Millisecond, now: time.Now, wait: nil, userAgent: "vb365-restore-portal",
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("veeamapi: %w", err)
		}
	}
	c.rest = rest.New(rest.Config{Name: "veeamapi", Base: base, RootCAs: c.rootCAs, Transport: c.transport,
		UserAgent: c.userAgent, Backoff: c.backoff, Now: c.now, Wait: c.wait, Check: checkResponse, Unavailable: ErrUnavailable, Hooks: c.hooks})
	return c, nil
}

// pathf builds a request path, escaping each argument as one path segment.
func pathf(format string, args ...string) string { return rest.Pathf(format, args...) }

// request describes one call.
type request = rest.Request

// send performs r, retrying idempotent requests on transient failures, and
// returns a 2xx response whose body the caller must close.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	return c.rest.Send(ctx, r)
}

// call performs r and decodes a JSON answer into out (unless out is nil).
func (c *Client) call(ctx context.Context, timeout time.Duration, r request, out any) error {
	return c.rest.Call(ctx, timeout, r, out)
}
