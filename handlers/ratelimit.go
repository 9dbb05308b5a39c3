package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
)

// Limit allows Count requests in each Period; a zero Count is no limit.
type Limit struct {
	Count  int
	Period time.Duration
}

// Limits are the portal's rate limits: per client address before signing
// in, per person for what costs the backup servers most.
type Limits struct {
	SignIn   Limit // the sign-in routes and the pages before it, per client address
	Search   Limit // searches, per person
	Download Limit // downloads and exports, per person
	Restore  Limit // restores started (a restore list run counts once), per person
}

// ParseLimit reads COUNT/PERIOD ("30/1m", "100/1h") or "off".
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return Limit{}, nil
	}
	count, period, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n < 1 {
		return Limit{}, fmt.Errorf("%q is not COUNT/PERIOD such as 30/1m, or off", s)
	}
	d, err := time.ParseDuration(period)
	if err != nil || d < time.Second || d > 24*time.Hour {
		return Limit{}, fmt.Errorf("%q: the period must be a duration between 1s and 24h, such as 1m", s)
	}
	return Limit{Count: n, Period: d}, nil
}

// limited refuses a request with 429 once its key made more than l's
// requests in the current window. key returns "" for a request the limit
// does not count. Windows are fixed and counted in the store, so that
// replicas share them.
func (h *Handler) limited(name string, l Limit, key func(*echo.Context) string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if l.Count == 0 {
			return next
		}
		return func(c *echo.Context) error {
			k := key(c)
			if k == "" {
				return next(c)
			}
			now := h.cfg.Now()
			window := now.Truncate(l.Period)
			ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
			n, err := h.store.Hit(ctx, name+":"+k, window, l.Period)
			cancel()
			if err != nil {
				// A limit that cannot count lets the request through: the
				// database's trouble shows on the page itself if it matters.
				h.log.WarnContext(c.Request().Context(), "rate_limit_unavailable", "limit", name, "error", err)
				return next(c)
			}
			if n <= l.Count {
				return next(c)
			}
			wait := window.Add(l.Period).Sub(now)
			h.metrics.RateLimited(name)
			h.log.WarnContext(c.Request().Context(), "excess_rate_limit_exceeded", "limit", name, "count", n,
				"path", c.Request().URL.Path, "request_id", infoFrom(c.Request().Context()).ID, "client", h.clientIP(c.Request()))
			return h.tooMany(c, name, l, wait)
		}
	}
}

// limitNames say what a limit counts, for the page.
var limitNames = map[string]string{
	"signin": "requests from your address", "search": "searches", "download": "downloads and exports", "restore": "restores",
}

// tooMany is the 429 answer: when to try again, in seconds and on the clock.
func (h *Handler) tooMany(c *echo.Context, name string, l Limit, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	at := h.cfg.Now().Add(wait).In(h.zone(c)).Format("15:04:05")
	e := &Error{Status: http.StatusTooManyRequests, Title: "Too many requests for now", RetryAfter: time.Duration(secs) * time.Second,
		Err:     errors.New("rate limit " + name),
		Message: fmt.Sprintf("The portal allows %d %s every %s. Try again in %s, at %s. Nothing was lost.", l.Count, limitNames[name], period(l.Period), seconds(secs), at)}
	if c.Request().Method == http.MethodPost {
		e.BackURL = formPage(c.Request().URL.Path)
	}
	return e
}

// formPage is the page whose form posted to path: a download's or an
// export's item or folder, the restore list a run started from, the wizard
// itself (its draft keeps what was chosen).
func formPage(path string) string {
	for _, action := range []string{"/download", "/export", "/run"} {
		if p, ok := strings.CutSuffix(path, action); ok && p != "" {
			return p
		}
	}
	return path
}

func period(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "minute"
	case d == time.Hour:
		return "hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return fmt.Sprintf("%d seconds", d/time.Second)
}

func seconds(n int) string {
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}

// byAddress keys a limit by the client's (trusted) address.
func (h *Handler) byAddress(c *echo.Context) string { return "ip:" + h.clientIP(c.Request()) }

// signedOutByAddress keys a limit by address for visitors who are not signed in.
func (h *Handler) signedOutByAddress(c *echo.Context) string {
	if h.auth.CSRFToken(c.Request().Context()) != "" {
		return ""
	}
	return h.byAddress(c)
}

// byPerson keys a limit by the signed-in person (tenant and object id).
func byPerson(c *echo.Context) string {
	u := userFrom(c)
	if u == nil {
		return ""
	}
	return "user:" + u.TenantID + "." + u.OID
}
