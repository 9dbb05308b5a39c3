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
	catalog       map[string][]string // metric name → its label names
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
	m := &Metrics{reg: prometheus.NewRegistry(), catalog: map[string][]string{}}
	m.requests = m.histogram("portal_http_request_duration_seconds", "Time to answer a request, by route template, method and status.",
		[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "route", "method", "status")
	m.upstream = m.histogram("portal_upstream_request_duration_seconds", "Time of each attempt at a call to a backup server, by service, operation and outcome (ok, client_error, server_error, error, refused).",
		[]float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "service", "operation", "outcome")
	m.retries = m.counter("portal_upstream_retries_total", "Attempts at a call to a backup server after the first, by service and operation.", "service", "operation")
	m.circuit = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "portal_circuit_state", Help: "The circuit breaker towards a backup server: 0 closed, 1 half-open (probing), 2 open (calls refused).",
	}, []string{"service"})
	m.add(m.circuit, "portal_circuit_state", "service")
	m.restoresStart = m.counter("portal_restores_started_total", "Restores the backup servers started, by workload.", "workload")
	m.restoresEnd = m.counter("portal_restores_ended_total", "Restores that ended, or were refused before they started, by workload and outcome.", "workload", "outcome")
	m.downloads = m.counter("portal_downloads_total", "Downloads and exports, by workload, kind (download or export) and outcome.", "workload", "kind", "outcome")
	m.downloadBytes = m.counter("portal_download_bytes_total", "Bytes of downloads and exports sent to browsers, by workload.", "workload")
	m.limited = m.counter("portal_rate_limited_total", "Requests refused with 429 by a rate limit, by limit.", "limit")
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	m.add(h, name, labels...)
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		m.catalog[name+suffix] = labels
	}
	m.catalog[name+"_bucket"] = append(labels[:len(labels):len(labels)], "le")
	return h
}

func (m *Metrics) counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.add(c, name, labels...)
	return c
}

func (m *Metrics) add(c prometheus.Collector, name string, labels ...string) {
	m.reg.MustRegister(c)
	m.catalog[name] = labels
}

// Catalog returns the portal's own metrics (histograms also as their
// _bucket, _count and _sum series) with their label names, and the Go
// runtime's and the process's, without labels: what alert rules may use.
func (m *Metrics) Catalog() (map[string][]string, error) {
	out := map[string][]string{}
	for k, v := range m.catalog {
		out[k] = v
	}
	fams, err := m.reg.Gather()
	for _, f := range fams {
		if _, ok := out[f.GetName()]; !ok {
			out[f.GetName()] = nil
		}
	}
	return out, err
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
	m.add(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portal_sessions_active", Help: "Signed-in sessions that have not expired, across all replicas.",
	}, func() float64 {
		n, err := count()
		if err != nil {
			return -1
		}
		return float64(n)
	}), "portal_sessions_active")
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
