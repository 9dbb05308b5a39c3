// Package metrics is what the portal tells Prometheus: requests by route,
// calls to the backup servers by operation, the circuit breakers, restores,
// downloads, sessions and rate limits, and Go's runtime. No label holds a
// token, a person's name or an id: routes and operations are templates.
package metrics

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openrestore/portal/internal/breaker"
	"github.com/openrestore/portal/internal/rest"
)

// Metrics holds the portal's collectors. A nil *Metrics records nothing,
// so that code under test can run without one.
type Metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.HistogramVec
	upstream      *prometheus.HistogramVec
	retries       *prometheus.CounterVec
	circuit       *prometheus.GaugeVec
	restoresStart *prometheus.CounterVec
	restoresEnd   *prometheus.CounterVec
	downloads     *prometheus.CounterVec
	downloadBytes *prometheus.CounterVec
	limited       *prometheus.CounterVec
}

// New returns the collectors, registered with a registry of their own.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_http_request_duration_seconds", Help: "Time to answer a request, by route template, method and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method", "status"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_upstream_request_duration_seconds", Help: "Time of each attempt at a call to a backup server, by service, operation and outcome (ok, client_error, server_error, error, refused).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"service", "operation", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_upstream_retries_total", Help: "Attempts at a call to a backup server after the first, by service and operation.",
		}, []string{"service", "operation"}),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portal_circuit_state", Help: "The circuit breaker towards a backup server: 0 closed, 1 half-open (probing), 2 open (calls refused).",
		}, []string{"service"}),
		restoresStart: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_restores_started_total", Help: "Restores the backup servers started, by workload.",
		}, []string{"workload"}),
		restoresEnd: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_restores_ended_total", Help: "Restores that ended, or were refused before they started, by workload and outcome.",
		}, []string{"workload", "outcome"}),
		downloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_downloads_total", Help: "Downloads and exports, by workload, kind (download or export) and outcome.",
		}, []string{"workload", "kind", "outcome"}),
		downloadBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_download_bytes_total", Help: "Bytes of downloads and exports sent to browsers, by workload.",
		}, []string{"workload"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_rate_limited_total", Help: "Requests refused with 429 by a rate limit, by limit.",
		}, []string{"limit"}),
	}
	m.reg.MustRegister(m.requests, m.upstream, m.retries, m.circuit, m.restoresStart, m.restoresEnd, m.downloads, m.downloadBytes, m.limited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
}

// Request records an answered request. route is the route's template
// ("/sessions/:id"); "" for a request no route matched.
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, knownMethod(method), strconv.Itoa(status)).Observe(d.Seconds())
}

// Upstream returns the observer of a backup server's calls.
func (m *Metrics) Upstream(service string) func(rest.Attempt) {
	return func(a rest.Attempt) {
		if m == nil {
			return
		}
		op := a.Method + " " + Operation(a.Path)
		if a.Retry {
			m.retries.WithLabelValues(service, op).Inc()
		}
		m.upstream.WithLabelValues(service, op, outcome(a)).Observe(a.Duration.Seconds())
	}
}

func outcome(a rest.Attempt) string {
	switch {
	case a.Refused:
		return "refused"
	case a.Err != nil:
		return "error"
	case a.Status >= 500:
		return "server_error"
	case a.Status >= 400:
		return "client_error"
	}
	return "ok"
}

// Circuit returns the listener of a breaker's changes of state; the
// breaker starts closed.
func (m *Metrics) Circuit(service string) func(breaker.State) {
	if m != nil {
		m.circuit.WithLabelValues(service).Set(float64(breaker.Closed))
	}
	return func(s breaker.State) {
		if m != nil {
			m.circuit.WithLabelValues(service).Set(float64(s))
		}
	}
}

// RestoreStarted counts a restore a backup server started.
func (m *Metrics) RestoreStarted(workload string) {
	if m != nil {
		m.restoresStart.WithLabelValues(workload).Inc()
	}
}

// RestoreEnded counts a restore's end (or its refusal) by the trail's outcome.
func (m *Metrics) RestoreEnded(workload, outcome string) {
	if m != nil {
		m.restoresEnd.WithLabelValues(workload, outcome).Inc()
	}
}

// Download counts a download or an export by the trail's outcome.
func (m *Metrics) Download(workload, kind, outcome string) {
	if m != nil {
		m.downloads.WithLabelValues(workload, kind, outcome).Inc()
	}
}

// DownloadBytes counts bytes sent to a browser.
func (m *Metrics) DownloadBytes(workload string, n int64) {
	if m != nil && n > 0 {
		m.downloadBytes.WithLabelValues(workload).Add(float64(n))
	}
}

// RateLimited counts a request a limit refused.
func (m *Metrics) RateLimited(limit string) {
	if m != nil {
		m.limited.WithLabelValues(limit).Inc()
	}
}

// ActiveSessions reports the signed-in sessions (of every replica: take the
// max across replicas, not the sum) by asking count at each scrape.
func (m *Metrics) ActiveSessions(count func() (int, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portal_sessions_active", Help: "Signed-in sessions that have not expired, across all replicas.",
	}, func() float64 {
		n, err := count()
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// knownMethod keeps the label's values few: other methods are "other".
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return m
	}
	return "other"
}

// word is a path segment kept in an operation: a name, not an id.
var word = regexp.MustCompile(`^(v[0-9.]+|[A-Za-z][A-Za-z-]{0,39})$`)

// Operation templates a backup server's path: the segments that are not
// plain words (ids, names, encoded keys) become {id}, so that
// /v8/RestoreSessions/5f0e…/Organization/Mailboxes/AAMk…/Items reads
// /v8/RestoreSessions/{id}/Organization/Mailboxes/{id}/Items.
func Operation(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if !word.MatchString(s) || (i > 0 && looksLikeID(s)) {
			segs[i] = "{id}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// looksLikeID catches ids made of letters only: long ones, or ones mixing
// cases in no word's way (base64).
func looksLikeID(s string) bool {
	if len(s) >= 24 {
		return true
	}
	upper := 0
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			upper++
		}
	}
	return upper > len(s)/2 && len(s) > 8
}
