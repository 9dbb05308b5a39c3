package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/openrestore/portal/demotenant"
	"github.com/openrestore/portal/fakeveeam"
)

// scrape reads the portal's metrics as Prometheus would.
func scrape(t *testing.T, b *browser, path string) map[string]*dto.MetricFamily {
	t.Helper()
	r := b.get(path)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, r.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("the metrics do not parse: %v", err)
	}
	return fams
}

// sample sums the samples of a metric whose labels include want.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	sum, found := 0.0, false
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum, found
}

// TestMetrics: what a journey leaves in /metrics, by route template and
// operation, and that no label holds a person, an id or a token.
func TestMetrics(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	rows := rowsOf(t, m.page)
	b.waitRestore(m.restore([]string{rows[0].key}, url.Values{"target": {"folder"}, "folder_name": {"Back"}}))
	if r := b.post(rows[1].href+"/download", url.Values{"kind": {"msg"}}); r.StatusCode != http.StatusOK {
		t.Fatalf("download: %d", r.StatusCode)
	}
	b.get("/nope")
	s.browser().get("/readyz") // asks VBAzure too
	fams := scrape(t, s.browser(), "/metrics")
	for _, c := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"portal_http_request_duration_seconds", map[string]string{"route": "/sessions/:id/mailboxes/:mb/folders/:folder", "method": "GET", "status": "200"}, 1},
		{"portal_http_request_duration_seconds", map[string]string{"route": "unmatched", "status": "404"}, 1},
		{"portal_upstream_request_duration_seconds", map[string]string{"service": "vb365", "operation": "GET /v8/RestoreSessions/{id}/organization/mailboxes/{id}/items", "outcome": "ok"}, 1},
		{"portal_upstream_request_duration_seconds", map[string]string{"service": "vbazure", "operation": "GET /api/v8.1/users"}, 1},
		{"portal_restores_started_total", map[string]string{"workload": "exchange"}, 1},
		{"portal_restores_ended_total", map[string]string{"workload": "exchange", "outcome": "succeeded"}, 1},
		{"portal_downloads_total", map[string]string{"workload": "exchange", "kind": "download", "outcome": "succeeded"}, 1},
		{"portal_download_bytes_total", map[string]string{"workload": "exchange"}, 100},
		{"portal_sessions_active", nil, 1},
		{"portal_circuit_state", map[string]string{"service": "vb365"}, 0},
		{"go_goroutines", nil, 1},
		{"process_resident_memory_bytes", nil, 1},
	} {
		got, ok := sample(fams, c.name, c.labels)
		if !ok || got < c.min {
			t.Errorf("%s%v = %v (found %v), want at least %v", c.name, c.labels, got, ok, c.min)
			for _, m := range fams[c.name].GetMetric() {
				t.Log(m.GetLabel())
			}
		}
	}
	// No label value names a person, their ids or a token.
	u := demotenant.Contoso().Users[0]
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				v := l.GetValue()
				if strings.Contains(v, u.OID) || strings.Contains(v, u.UPN) || strings.Contains(v, sid) || strings.Contains(v, "Adele") ||
					strings.Contains(v, "eyJ") {
					t.Errorf("%s has the label %s=%q", name, l.GetName(), v)
				}
			}
		}
	}
}

// TestMetricsOnTheirOwnAddress: with PORTAL_METRICS_ADDR the metrics leave
// the portal's address for their own.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: map[string]string{"PORTAL_METRICS_ADDR": "127.0.0.1:0"}})
	if r := s.browser().get("/metrics"); r.StatusCode != http.StatusNotFound {
		t.Errorf("the portal's own address serves /metrics: %d", r.StatusCode)
	}
	var addr string
	for _, l := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(l, `"msg":"metrics_listening"`) {
			_, rest, _ := strings.Cut(l, `"addr":"`)
			addr, _, _ = strings.Cut(rest, `"`)
		}
	}
	if addr == "" {
		t.Fatal("the metrics address is not logged")
	}
	if _, ok := sample(scrape(t, s.browser(), "http://"+addr+"/metrics"), "go_goroutines", nil); !ok {
		t.Error("the metrics address serves no metrics")
	}
}

// TestRateLimits: past a limit, 429 with Retry-After and a page saying
// when to try again; limits count per address before sign-in (a forged
// X-Forwarded-For does not help) and per person after; a refused download
// is audited; the next window lets people in again.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{veeam: quick.veeam, env: map[string]string{"PORTAL_AUDITORS": demotenant.AuditorRole,
		"PORTAL_RATE_SIGNIN": "12/1m", "PORTAL_RATE_SEARCH": "3/1m", "PORTAL_RATE_DOWNLOAD": "2/1m", "PORTAL_RATE_RESTORE": "1/1m"}})
	// Sign in first: the sign-ins count against the address too.
	adeleB, leeB, auditor, admin := s.signedIn(adele), s.signedIn(lee), s.signedIn(joni), s.signedIn(nestor)
	s.clock.Advance(time.Minute)
	anon := s.browser()
	for i := range 13 {
		r := anon.get("/auth/login", "X-Forwarded-For: 198.51.100."+strconv.Itoa(i))
		if i < 12 {
			if r.StatusCode != http.StatusFound {
				t.Fatalf("sign-in %d: %d", i+1, r.StatusCode)
			}
			continue
		}
		checkTooMany(t, "the 13th sign-in", r)
	}
	if r := anon.get("/"); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the landing page after the limit: %d", r.StatusCode)
	}
	// Signed-in people are not held up by the address's limit.
	if r := adeleB.get("/"); r.StatusCode != http.StatusOK {
		t.Errorf("a signed-in home page: %d", r.StatusCode)
	}

	sid, _ := adeleB.explore("exchange")
	m := adeleB.openMailbox(sid, "Adele Vance")
	for i := range 3 {
		if r := m.search(url.Values{"q": {"plan"}}); r.StatusCode != http.StatusOK {
			t.Fatalf("search %d: %d", i+1, r.StatusCode)
		}
	}
	checkTooMany(t, "the fourth search", m.search(url.Values{"q": {"plan"}}))
	leeSid, _ := leeB.explore("exchange")
	if r := leeB.openMailbox(leeSid, "Megan Bowen").search(url.Values{"q": {"plan"}}); r.StatusCode != http.StatusOK {
		t.Errorf("another person's search: %d", r.StatusCode)
	}

	rows := rowsOf(t, m.page)
	for i := range 3 {
		r := adeleB.post(rows[0].href+"/download", url.Values{"kind": {"msg"}})
		if i < 2 && r.StatusCode != http.StatusOK {
			t.Fatalf("download %d: %d", i+1, r.StatusCode)
		}
		if i == 2 {
			checkTooMany(t, "the third download", r)
			if back := r.doc(t).Find(`a[href="` + rows[0].href + `"]`).Length(); back == 0 {
				t.Error("the refused download does not lead back to the item")
			}
		}
	}
	refused := auditRows(t, auditor, url.Values{"outcome": {"refused"}})
	if len(refused) != 1 || refused[0]["action"] != "download" {
		t.Errorf("the refused download in the trail: %v", refused)
	}

	m.restore([]string{rows[0].key}, url.Values{"target": {"folder"}, "folder_name": {"Back"}})
	wizard := adeleB.openWizard(m.base, url.Values{"scope": {"selected"}, "item": {rows[1].key}})
	r := adeleB.submitWizard(wizard, url.Values{"target": {"folder"}, "folder_name": {"Back"}})
	checkTooMany(t, "the second restore", r)
	if back := r.doc(t).Find(`a[href="` + wizardAction(t, wizard) + `"]`).Length(); back == 0 {
		t.Error("the refused restore does not lead back to its wizard")
	}
	if got, _ := sample(scrape(t, admin, "/metrics"), "portal_rate_limited_total", nil); got < 4 {
		t.Errorf("portal_rate_limited_total = %v", got)
	}

	s.clock.Advance(time.Minute)
	if r := m.search(url.Values{"q": {"plan"}}); r.StatusCode != http.StatusOK {
		t.Errorf("a search in the next window: %d", r.StatusCode)
	}
	if !strings.Contains(s.logs.String(), `"msg":"excess_rate_limit_exceeded"`) {
		t.Error("no excess_rate_limit_exceeded in the log")
	}
}

func checkTooMany(t *testing.T, what string, r response) {
	t.Helper()
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s: %d", what, r.StatusCode)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Errorf("%s: Retry-After %q", what, r.Header.Get("Retry-After"))
	}
	checkSecurityHeaders(t, what, r)
	if text := r.doc(t).Find("main").Text(); !strings.Contains(text, "Try again in "+strconv.Itoa(secs)+" second") {
		t.Errorf("%s: the page says %q", what, text)
	}
}

// TestRateLimitsSharedByReplicas: two replicas on one database count the
// same person's searches together.
func TestRateLimitsSharedByReplicas(t *testing.T) {
	t.Parallel()
	rs := startReplicas(t, stackOptions{env: map[string]string{"PORTAL_RATE_SEARCH": "3/1m"}})
	rs.proxy.Pin(0)
	b := rs.s.signedIn(adele)
	sid, _ := b.explore("exchange")
	m := b.openMailbox(sid, "Adele Vance")
	for i, replica := range []int{0, 1, 0, 1} {
		rs.proxy.Pin(replica)
		r := m.search(url.Values{"q": {"plan"}})
		want := http.StatusOK
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if r.StatusCode != want {
			t.Errorf("search %d on replica %d: %d, want %d", i+1, replica, r.StatusCode, want)
		}
	}
}

// TestCircuitBreaker: when VB365 keeps failing, pages answer at once with
// the "not answering" page without asking it, /readyz says so, and after
// the cooldown one request probes and brings the portal back.
func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{env: map[string]string{"PORTAL_BREAKER_FAILURES": "3", "PORTAL_BREAKER_COOLDOWN": "30s"}})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	page := "/sessions/" + sid
	s.veeam.Inject(fakeveeam.Fault{Path: "/v8/", Reset: true})
	// Each page's calls fail (after their retries); three failed calls in a row open the circuit.
	for i := 0; !strings.Contains(s.logs.String(), `"msg":"circuit_open"`); i++ {
		if r := b.get(page); r.StatusCode != http.StatusServiceUnavailable && r.StatusCode != http.StatusBadGateway {
			t.Fatalf("with VB365 failing: %d", r.StatusCode)
		}
		if i == 3 {
			t.Fatal("three pages of failed calls did not open the circuit")
		}
	}
	s.veeam.ResetRequests()
	r := b.get(page)
	if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.doc(t).Find("main").Text(), "not answering") {
		t.Errorf("with the circuit open: %d", r.StatusCode)
	}
	if n := len(s.veeam.Requests()); n != 0 {
		t.Errorf("with the circuit open, VB365 got %d requests", n)
	}
	if r := s.browser().get("/readyz"); r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.body, "VB365 is not answering (circuit open)") {
		t.Errorf("readyz with the circuit open: %d %q", r.StatusCode, r.body)
	}
	if got, _ := sample(scrape(t, s.browser(), "/metrics"), "portal_circuit_state", map[string]string{"service": "vb365"}); got != 2 {
		t.Errorf("portal_circuit_state = %v", got)
	}
	if !strings.Contains(s.logs.String(), `"msg":"circuit_open","service":"vb365"`) {
		t.Error("the circuit's opening is not logged")
	}
	s.veeam.ClearFaults()
	s.clock.Advance(30 * time.Second)
	if r := b.get(page); r.StatusCode != http.StatusOK {
		t.Errorf("after the cooldown, with VB365 back: %d", r.StatusCode)
	}
	if r := s.browser().get("/readyz"); r.StatusCode != http.StatusOK {
		t.Errorf("readyz after recovery: %d %q", r.StatusCode, r.body)
	}
	if !strings.Contains(s.logs.String(), `"msg":"circuit_closed","service":"vb365"`) {
		t.Error("the circuit's closing is not logged")
	}
}

// TestCollectorSetting: the portal process runs the collector at
// defaultGOGC unless GOGC says otherwise, as its metrics show.
func TestCollectorSetting(t *testing.T) {
	t.Parallel()
	bin := buildPortal(t)
	for gogc, want := range map[string]float64{"": defaultGOGC, "150": 150} {
		s := startFakes(t, stackOptions{veeam: quick.veeam, env: map[string]string{"GOGC": gogc}})
		s.url = s.startProcess(bin, t.TempDir(), false).url
		if got, ok := sample(scrape(t, s.browser(), "/metrics"), "go_gc_gogc_percent", nil); !ok || got != want {
			t.Errorf("GOGC=%q: the collector runs at %v (reported: %v), want %v", gogc, got, ok, want)
		}
	}
}
