// Package vbazure is a typed client of the Veeam Backup for Microsoft Azure
// REST API (v8.1, or v8), in the shape of veeamapi: one request core
// (internal/rest: one server only, deadlines, retries of idempotent
// requests), typed errors that match sentinels with errors.Is, RFC 7807
// problem documents decoded, context on every call. It signs in with a
// password and, when the account has MFA, a six-digit code; refreshes
// tokens; signs out; and administers users.
//
// It never logs and never reads the environment.
package vbazure

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/openrestore/portal/internal/rest"
)

// Defaults for a Client.
const (
	DefaultVersion = "v8.1"
	DefaultTimeout = 15 * time.Second // one API call, retries included
)

// Versions are the API versions the client speaks.
var Versions = []string{"v8", "v8.1"}

// Client talks to one VBAzure server. It is safe for concurrent use.
type Client struct {
	rest      *rest.Client
	version   string
	timeout   time.Duration
	now       func() time.Time
	rootCAs   *x509.CertPool
	transport http.RoundTripper
	hooks     rest.Hooks
	wait      func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client) error

// WithRootCAs verifies the server's certificate against pool instead of
// the system roots. Verification is never skipped.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *Client) error {
		if pool == nil {
			return errors.New("nil certificate pool")
		}
		c.rootCAs = pool
		return nil
	}
}

// WithVersion chooses the API version, v8.1 (the default) or v8.
func WithVersion(v string) Option {
	return func(c *Client) error {
		for _, known := range Versions {
			if v == known {
				c.version = v
				return nil
			}
		}
		return fmt.Errorf("API version %q: the client speaks %s", v, strings.Join(Versions, " and "))
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

// WithTimeout sets the deadline of one call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error { c.timeout = d; return nil }
}

// WithClock sets the clock token expiries are computed on.
func WithClock(now func() time.Time) Option {
	return func(c *Client) error { c.now = now; return nil }
}

// withWait replaces the wait between retries (tests).
func withWait(wait func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) error { c.wait = wait; return nil }
}

// CheckBaseURL reports why raw cannot be a VBAzure server address.
func CheckBaseURL(raw string) (*url.URL, error) {
	return rest.CheckBaseURL(raw, "https://vbazure.example.com")
}

// New returns a client for the server at baseURL (scheme://host[:port]).
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := CheckBaseURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("vbazure: server URL %q %w", baseURL, err)
	}
	c := &Client{version: DefaultVersion, timeout: DefaultTimeout, now: time.Now}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("vbazure: %w", err)
		}
	}
	c.rest = rest.New(rest.Config{Name: "vbazure", Base: base, RootCAs: c.rootCAs, Transport: c.transport,
		UserAgent: "vbazure-restore-portal", Now: c.now, Wait: c.wait, Check: checkResponse, Unavailable: ErrUnavailable, Hooks: c.hooks})
	return c, nil
}

// Version is the API version the client speaks.
func (c *Client) Version() string { return c.version }

// path is an operation's path in the client's API version.
func (c *Client) path(format string, args ...string) string {
	return "/api/" + c.version + rest.Pathf(format, args...)
}

// Sentinel errors; *Problem and transport failures match them with errors.Is.
var (
	// ErrSignInRefused: the user name, password, code or refresh token was refused.
	ErrSignInRefused = errors.New("vbazure: sign-in refused")
	// ErrUnauthorized: the server refused the access token (401) even after a refresh.
	ErrUnauthorized = errors.New("vbazure: unauthorized")
	// ErrForbidden: the account's role does not allow it (403).
	ErrForbidden = errors.New("vbazure: forbidden")
	// ErrNotFound: no such object (404).
	ErrNotFound = errors.New("vbazure: not found")
	// ErrInvalid: the server refused what was sent (400, 415): Problem.Errors says which field.
	ErrInvalid = errors.New("vbazure: invalid request")
	// ErrUnavailable: the server could not be reached, timed out, answered
	// 5xx or 429, or sent something that is not the documented answer.
	ErrUnavailable = errors.New("vbazure: server unavailable")
)

// Problem is a failure answer: the server's RFC 7807 problem document.
type Problem struct {
	Method string
	Path   string
	Status int
	Title  string
	// Detail is the server's explanation.
	Detail string
	// Errors are the server's problems with each field of the request.
	Errors  map[string][]string
	TraceID string
}

func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vbazure: %s %s: %d", p.Method, p.Path, p.Status)
	if p.Title != "" {
		b.WriteString(" " + p.Title)
	}
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	fields := make([]string, 0, len(p.Errors))
	for f := range p.Errors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		fmt.Fprintf(&b, "; %s: %s", f, strings.Join(p.Errors[f], " "))
	}
	return b.String()
}

// Is matches the sentinel errors by status.
func (p *Problem) Is(target error) bool {
	if strings.HasSuffix(p.Path, "/oauth2/token") && p.Method == http.MethodPost &&
		(p.Status == http.StatusUnauthorized || p.Status == http.StatusBadRequest) {
		return target == ErrSignInRefused
	}
	switch {
	case p.Status == http.StatusUnauthorized:
		return target == ErrUnauthorized
	case p.Status == http.StatusForbidden:
		return target == ErrForbidden
	case p.Status == http.StatusNotFound:
		return target == ErrNotFound
	case p.Status == http.StatusTooManyRequests || p.Status >= 500:
		return target == ErrUnavailable
	case p.Status >= 400:
		return target == ErrInvalid
	}
	return false
}

// maxProblem bounds what is read of a failure answer.
const maxProblem = 64 << 10

// checkResponse turns a non-2xx answer into *Problem.
func checkResponse(resp *http.Response) error {
	p := &Problem{Method: resp.Request.Method, Path: resp.Request.URL.Path, Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblem))
	var doc struct {
		Title   string              `json:"title"`
		Detail  string              `json:"detail"`
		Errors  map[string][]string `json:"errors"`
		TraceID string              `json:"traceId"`
	}
	if json.Unmarshal(body, &doc) == nil {
		p.Title, p.Detail, p.Errors, p.TraceID = doc.Title, doc.Detail, doc.Errors, doc.TraceID
	}
	if len(p.Detail) > 500 {
		p.Detail = strings.ToValidUTF8(p.Detail[:500], "") + "…"
	}
	return p
}
