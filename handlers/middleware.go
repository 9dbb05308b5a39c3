package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/internal/breaker"
)

// requestInfo travels with a request so that the access log can name it.
type requestInfo struct {
	ID    string
	OID   string // the signed-in user's object id, once known
	Route string // the matched route's template, once known
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// securityHeaders sets the security headers on every response, errors,
// partials and static files included. Authenticated content is never cached.
func (h *Handler) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", h.contentSecurityPolicy())
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy allows scripts, styles and requests from this origin
// only. Forms may also lead to Entra ID, because sign-out ends with a
// redirect to its end-session endpoint.
func (h *Handler) contentSecurityPolicy() string {
	formAction := "'self'"
	if o := h.auth.AuthorityOrigin(); o != "" {
		formAction += " " + o
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action " + formAction
}

// statusWriter records what a handler answered, for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestID is the request's trace id when it is traced, else a random id
// of the same shape: one id in the log, the error page and the traces.
func requestID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// logRequests gives each request an id (X-Request-ID) and logs it once done:
// method, path without query (queries can hold codes and search terms),
// status, size, duration, client address and user. Never a token or cookie.
func (h *Handler) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{ID: requestID(r.Context())}
		w.Header().Set("X-Request-ID", ri.ID)
		sw := &statusWriter{ResponseWriter: w}
		aborted := true
		defer func() {
			// A handler that aborts (a download cut off by the backup server)
			// panics with http.ErrAbortHandler; it is logged, then passed on.
			if !aborted {
				return
			}
			h.logRequest(r, ri, sw, start, true)
			if p := recover(); p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri)))
		aborted = false
		h.logRequest(r, ri, sw, start, false)
	})
}

func (h *Handler) logRequest(r *http.Request, ri *requestInfo, sw *statusWriter, start time.Time, aborted bool) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	level := slog.LevelInfo
	if sw.status >= 500 || aborted {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", ri.ID), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()), slog.String("client", h.clientIP(r)),
	}
	if ri.OID != "" {
		attrs = append(attrs, slog.String("oid", ri.OID))
	}
	if r.Header.Get("HX-Request") == "true" {
		attrs = append(attrs, slog.Bool("htmx", true))
	}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	h.log.LogAttrs(r.Context(), level, "request", attrs...)
	h.metrics.Request(ri.Route, r.Method, sw.status, time.Since(start))
}

// clientIP is the peer address, or, when the peer is a trusted proxy, the
// last address in X-Forwarded-For that is not a trusted proxy itself.
func (h *Handler) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !h.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !h.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (h *Handler) trusted(a netip.Addr) bool {
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// nameRoute notes the matched route's template for the access log's
// metrics, and names the request's span after it.
func (h *Handler) nameRoute(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		infoFrom(ctx).Route = c.Path()
		if c.Path() != "" {
			trace.SpanFromContext(ctx).SetName(c.Request().Method + " " + c.Path())
		}
		return next(c)
	}
}

// csrf refuses state-changing requests that do not come from the portal's own
// pages: a browser's Sec-Fetch-Site must say same-origin (without that header,
// an Origin, if any, must be the portal's); and a signed-in session's
// anti-forgery token must come along, in the X-CSRF-Token header (htmx,
// fetch) or the csrf_token field.
func (h *Handler) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if reason := h.crossOrigin(r); reason != "" {
			return h.forgery(c, reason)
		}
		if want := h.auth.CSRFToken(r.Context()); want != "" {
			got := r.Header.Get("X-CSRF-Token")
			if got == "" {
				got = c.FormValue("csrf_token")
			}
			plain, _ := unmaskToken(got)
			if subtle.ConstantTimeCompare([]byte(plain), []byte(want)) != 1 && subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				return h.forgery(c, "token")
			}
		}
		return next(c)
	}
}

// csrfToken is the session's anti-forgery token as a page carries it:
// masked afresh each time (a random pad, then the token XOR the pad), so
// that compressed pages never repeat its bytes and their sizes tell an
// eavesdropper nothing of it (BREACH). "" when nobody is signed in.
func (h *Handler) csrfToken(ctx context.Context) string {
	t := h.auth.CSRFToken(ctx)
	if t == "" {
		return ""
	}
	return maskWith(t)
}

// maskWith masks t with a random pad of its length.
func maskWith(t string) string {
	pad := make([]byte, len(t))
	rand.Read(pad)
	out := append(pad, make([]byte, len(t))...)
	for i := range len(t) {
		out[len(t)+i] = t[i] ^ pad[i]
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// unmaskToken reverses csrfToken's mask.
func unmaskToken(masked string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(masked)
	if err != nil || len(b) == 0 || len(b)%2 != 0 {
		return "", false
	}
	n := len(b) / 2
	out := make([]byte, n)
	for i := range n {
		out[i] = b[i] ^ b[n+i]
	}
	return string(out), true
}

// crossOrigin names why r looks cross-origin, or returns "". Sec-Fetch-Site,
// which pages cannot forge, decides when the browser sends it: with
// Referrer-Policy no-referrer, browsers send "Origin: null" even for the
// portal's own forms. Older browsers without it are judged by Origin.
func (h *Handler) crossOrigin(r *http.Request) string {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site != "same-origin" {
			return "sec-fetch-site " + site
		}
		return ""
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != h.origin() {
		return "origin"
	}
	return ""
}

func (h *Handler) origin() string { return h.cfg.PublicURL.Scheme + "://" + h.cfg.PublicURL.Host }

func (h *Handler) forgery(c *echo.Context, reason string) error {
	h.log.WarnContext(c.Request().Context(), "malicious_csrf", "reason", reason, "path", c.Request().URL.Path,
		"request_id", infoFrom(c.Request().Context()).ID)
	return &Error{Status: http.StatusForbidden, Title: "This request was refused",
		Message: "It did not come from a page of this portal. Go back to the portal and try again."}
}

const userKey = "user"

// requireUser lets signed-in users through and sends everyone else to sign in.
func (h *Handler) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		who := h.auth.User
		if backgroundPoll(c.Request()) {
			who = h.auth.Peek // not the user's doing: it must not keep an idle session alive
		}
		u, err := who(c.Request().Context())
		if err != nil {
			return signInRequired{err}
		}
		h.setUser(c, u)
		return next(c)
	}
}

// polledIDs are the elements that htmx reloads on a timer.
var polledIDs = map[string]bool{"notices": true, "list-runs": true, "restore-progress": true}

// backgroundPoll reports whether htmx sent the request on a timer rather than the user.
func backgroundPoll(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("HX-Request") == "true" && polledIDs[r.Header.Get("HX-Trigger")]
}

func (h *Handler) setUser(c *echo.Context, u *authn.User) {
	c.Set(userKey, u)
	infoFrom(c.Request().Context()).OID = u.OID
}

func userFrom(c *echo.Context) *authn.User {
	u, _ := c.Get(userKey).(*authn.User)
	return u
}

// serveStatic serves the embedded files; versioned URLs are cached for a
// year. A browser that accepts brotli or gzip gets the file compressed
// ahead of time (name.br, name.gz).
func (h *Handler) serveStatic(c *echo.Context) error {
	name := c.Param("*")
	if name == "" || !fs.ValidPath(name) || precompressed(name) {
		return echo.ErrNotFound
	}
	st, err := fs.Stat(h.static, name)
	if err != nil || st.IsDir() {
		return echo.ErrNotFound
	}
	w := c.Response()
	w.Header().Add("Vary", "Accept-Encoding")
	file := name
	for _, enc := range []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
		if !accepts(c.Request().Header.Get("Accept-Encoding"), enc.name) {
			continue
		}
		if _, err := fs.Stat(h.static, name+enc.ext); err == nil {
			file = name + enc.ext
			w.Header().Set("Content-Encoding", enc.name)
			break
		}
	}
	f, err := h.static.Open(file)
	if err != nil {
		return echo.ErrNotFound
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return echo.ErrNotFound
	}
	if c.QueryParam("v") != "" {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	http.ServeContent(w, c.Request(), name, time.Time{}, rs)
	return nil
}

// precompressed reports whether a static file is another's compressed copy.
func precompressed(name string) bool {
	return strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".br")
}

// accepts reports whether an Accept-Encoding header takes the coding (a
// q of 0 refuses it).
func accepts(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

func (h *Handler) healthz(c *echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readyz says whether this instance should get traffic: not shutting down,
// no circuit breaker open, its database answering, Entra ID discovered,
// the backup server answering. Bodies are constant for each state.
func (h *Handler) readyz(c *echo.Context) error {
	ctx := c.Request().Context()
	switch {
	case h.shuttingDown.Load():
		return c.String(http.StatusServiceUnavailable, "shutting down\n")
	case h.openCircuit() != "":
		return c.String(http.StatusServiceUnavailable, "not ready: "+h.openCircuit()+" is not answering (circuit open)\n")
	case !h.databaseAnswers(ctx) || !h.auth.Ready(ctx) || !h.backupServerReachable(ctx):
		return c.String(http.StatusServiceUnavailable, "not ready\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// openCircuit names the first backup server whose breaker is open, or "".
// A half-open breaker is probing: it does not count.
func (h *Handler) openCircuit() string {
	for _, c := range h.circuits {
		if c.Breaker.State() == breaker.Open {
			return c.Service
		}
	}
	return ""
}
