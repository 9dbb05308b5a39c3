package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/openrestore/portal/internal/wait"
)

// collector is a fake OTLP/HTTP trace collector.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	b, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Write(b)
}

// trace returns the spans of one trace.
func (c *collector) trace(id string) []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range c.spans {
		if hex.EncodeToString(s.GetTraceId()) == id {
			out = append(out, s)
		}
	}
	return out
}

// TestTracing: with an OTLP endpoint, each request is a trace named after
// its route, whose id is the request id the page and the log show, and
// every call to VB365 is a client span in it. No span carries a token or
// a sign-in code.
func TestTracing(t *testing.T) {
	t.Parallel()
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	s := startStack(t, stackOptions{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "OTEL_SERVICE_NAME": "portal-under-test"}})
	b := s.signedIn(adele)
	sid, _ := b.explore("exchange")
	r := b.get("/sessions/" + sid)
	id := r.Header.Get("X-Request-ID")
	if len(id) != 32 {
		t.Fatalf("request id %q is not a trace id", id)
	}
	var spans []*tracepb.Span
	wait.For(t, "the trace to be exported", func() bool {
		spans = col.trace(id)
		return len(spans) >= 2
	})
	var server *tracepb.Span
	clients := 0
	for _, sp := range spans {
		switch sp.GetKind() {
		case tracepb.Span_SPAN_KIND_SERVER:
			server = sp
		case tracepb.Span_SPAN_KIND_CLIENT:
			clients++
		}
	}
	if server == nil || server.GetName() != "GET /sessions/:id" {
		t.Fatalf("the server span: %v", server)
	}
	if clients == 0 {
		t.Error("no client span for the calls to VB365")
	}
	if !strings.Contains(s.logs.String(), `"request_id":"`+id+`"`) {
		t.Error("the log does not name the request by its trace id")
	}
	// What was exported holds no token, code or secret.
	col.mu.Lock()
	all := ""
	for _, sp := range col.spans {
		all += sp.String()
	}
	col.mu.Unlock()
	for _, secret := range append(s.entra.IssuedTokens(), s.veeam.IssuedTokens()...) {
		if secret != "" && strings.Contains(all, secret) {
			t.Errorf("a span holds %.12s…", secret)
		}
	}
	if strings.Contains(all, "code=") || strings.Contains(all, s.entra.ClientSecret()) {
		t.Error("a span holds a sign-in code or the client secret")
	}
}
