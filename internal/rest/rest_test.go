package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openrestore/portal/internal/breaker"
)

func TestDialsOnlyTheConfiguredServer(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("http://127.0.0.1:1")
	tr := pinnedTransport(base, nil)
	_, err := tr.DialContext(t.Context(), "tcp", "127.0.0.1:2")
	if err == nil || !strings.Contains(err.Error(), "refusing to dial") {
		t.Errorf("dial to another port: %v", err)
	}
}

func TestCheckBaseURL(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"https://vbazure.example.com": true, "https://vbazure.example.com/": true, "http://127.0.0.1:9003": true,
		"http://localhost:9003": true, "http://vbazure.example.com": false, "https://u:p@vbazure.example.com": false,
		"https://vbazure.example.com/api": false, "https://vbazure.example.com?x=1": false, "vbazure.example.com": false,
		"ftp://vbazure.example.com": false,
	} {
		if _, err := CheckBaseURL(raw, "https://vbazure.example.com"); (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// TestBreakerFailsFast: once the server failed often enough, calls are
// refused without reaching it, and every attempt is observed.
func TestBreakerFailsFast(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/busy" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	now := time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var attempts []Attempt
	var mu sync.Mutex
	unavailable := errors.New("unavailable")
	c := New(Config{Name: "test", Base: base, Now: clock, Unavailable: unavailable,
		Wait:  func(context.Context, time.Duration) error { return nil },
		Check: func(r *http.Response) error { return fmt.Errorf("status %d", r.StatusCode) },
		Hooks: Hooks{Breaker: breaker.New(2, 30*time.Second, clock, nil), Observe: func(a Attempt) {
			mu.Lock()
			attempts = append(attempts, a)
			mu.Unlock()
		}}})
	// A 404 is an answer: it does not count against the server.
	for range 5 {
		c.Call(t.Context(), time.Second, Request{Method: http.MethodGet, Path: "/missing"}, nil)
	}
	// Two calls that failed in a row (each after its two retries) open it.
	for range 2 {
		if err := c.Call(t.Context(), time.Second, Request{Method: http.MethodGet, Path: "/busy"}, nil); err == nil {
			t.Fatal("a 503 succeeded")
		}
	}
	before := hits.Load()
	err := c.Call(t.Context(), time.Second, Request{Method: http.MethodGet, Path: "/missing"}, nil)
	if !errors.Is(err, ErrCircuitOpen) || !errors.Is(err, unavailable) || hits.Load() != before {
		t.Errorf("with the breaker open: %v, %d more requests", err, hits.Load()-before)
	}
	now = now.Add(30 * time.Second)
	if err := c.Call(t.Context(), time.Second, Request{Method: http.MethodGet, Path: "/missing"}, nil); errors.Is(err, ErrCircuitOpen) {
		t.Error("no probe after the cooldown")
	}
	mu.Lock()
	defer mu.Unlock()
	var statuses []int
	retries, refused := 0, 0
	for _, a := range attempts {
		statuses = append(statuses, a.Status)
		if a.Retry {
			retries++
		}
		if a.Refused {
			refused++
		}
	}
	if want := []int{404, 404, 404, 404, 404, 503, 503, 503, 503, 503, 503, 0, 404}; !slices.Equal(statuses, want) || retries != 4 || refused != 1 {
		t.Errorf("observed %v, %d retries, %d refused", statuses, retries, refused)
	}
}
