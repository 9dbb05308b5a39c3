package fakehttp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Fault
	}{
		{"POST /api/v8.1/users 503 times=2", Fault{Method: "POST", Path: "/api/v8.1/users", Status: 503, Times: 2}},
		{"* /api/oauth2/token delay=3s", Fault{Path: "/api/oauth2/token", Delay: 3 * time.Second}},
		{"get /v8/ hang", Fault{Method: "GET", Path: "/v8/", Hang: true}},
		{"GET /x reset", Fault{Method: "GET", Path: "/x", Reset: true}},
		{"GET /x garbage times=1", Fault{Method: "GET", Path: "/x", Garbage: true, Times: 1}},
		{"GET /x cut=1024", Fault{Method: "GET", Path: "/x", CutAfter: 1024}},
		{"GET /x stall=10", Fault{Method: "GET", Path: "/x", StallAfter: 10}},
		{"* /v8/ reset rate=0.2", Fault{Path: "/v8/", Reset: true, Rate: 0.2}},
	} {
		got, err := ParseFault(tc.in)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("%q = %+v %v, want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "GET /x", "GET x 503", "GET /x 200", "GET /x delay=soon", "GET /x teapot", "GET /x 503 rate=0", "GET /x 503 rate=1.5", "GET /x 503 rate=x"} {
		if _, err := ParseFault(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

// TestRateHitsItsShareRepeatably: a fault with a rate hits about that share
// of the requests, and the same seed hits the same ones.
func TestRateHitsItsShareRepeatably(t *testing.T) {
	t.Parallel()
	hits := func(seed uint64) []bool {
		f := &Front{Seed: seed, WriteError: func(w http.ResponseWriter, status int, _, msg string) { http.Error(w, msg, status) }}
		f.Inject(Fault{Path: "/x", Status: http.StatusServiceUnavailable, Rate: 0.2})
		h := f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		var out []bool
		for range 2000 {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
			out = append(out, w.Code == http.StatusServiceUnavailable)
		}
		return out
	}
	a, b := hits(7), hits(7)
	if !slices.Equal(a, b) {
		t.Error("the same seed hit other requests")
	}
	n := 0
	for _, hit := range a {
		if hit {
			n++
		}
	}
	if n < 320 || n > 480 { // 400 expected; this is over 5 standard deviations
		t.Errorf("a rate of 0.2 hit %d of 2000 requests", n)
	}
}

// TestStallHoldsTheBody: a stalled answer sends its first bytes, then
// nothing until the client gives up.
func TestStallHoldsTheBody(t *testing.T) {
	t.Parallel()
	f := &Front{}
	f.Inject(Fault{Path: "/x", StallAfter: 4})
	srv := httptest.NewServer(f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("0123456789"))
	})))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := make([]byte, 4)
	if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != "0123" {
		t.Fatalf("read %q, %v", got, err)
	}
	if f.InFlight("GET", "/x") != 1 {
		t.Error("the stalled answer is not in flight")
	}
	cancel()
	if rest, err := io.ReadAll(resp.Body); err == nil || len(rest) != 0 {
		t.Errorf("after the stall: %q, %v", rest, err)
	}
}
