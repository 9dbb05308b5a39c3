// Package fakehttp is what the fake servers (fakeveeam, fakevbazure) put in
// front of their routes: added latency, injected faults (also from a flag's
// words), a log of the requests they answered and the ones they are
// answering now, for tests to inspect.
package fakehttp

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault describes a failure to inject into matching requests.
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path matches requests whose path starts with it; empty matches any.
	Path string
	// Delay waits before the fault (or before answering normally when no failure is set).
	Delay time.Duration
	// Status answers with this status and an error body in the server's format.
	Status    int
	ErrorCode string
	Message   string
	// Hang never answers; the request ends when the client gives up.
	Hang bool
	// Reset closes the connection without an answer.
	Reset bool
	// Garbage answers 200 with a body that is not JSON.
	Garbage bool
	// CutAfter answers normally but closes the connection once this many
	// bytes of the body are sent: a download that breaks part way.
	CutAfter int64
	// StallAfter answers normally but, once this many bytes of the body
	// are sent, sends nothing more until the client gives up.
	StallAfter int64
	// Rate, between 0 and 1, hits only that share of the matching
	// requests, drawn at random; 0 hits every one.
	Rate float64
	// Times limits how many requests the fault hits; 0 means until removed.
	Times int
}

// ParseFault reads a fault from a flag's words: a method or "*", a path
// prefix, then what happens: a status (503), "hang", "reset", "garbage",
// "delay=2s", "cut=1024" or "stall=1024", and optionally "times=N" and
// "rate=0.2" (a fifth of the matching requests, at random). For example:
//
//	POST /api/v8.1/users 503 times=2
//	* /api/oauth2/token delay=3s
//	GET /v8/ reset rate=0.05
func ParseFault(s string) (Fault, error) {
	words := strings.Fields(s)
	if len(words) < 3 {
		return Fault{}, fmt.Errorf("fault %q: want METHOD PATH WHAT [times=N], e.g. \"GET /api/v8.1/users 503 times=2\"", s)
	}
	f := Fault{Method: strings.ToUpper(words[0]), Path: words[1]}
	if f.Method == "*" {
		f.Method = ""
	}
	if !strings.HasPrefix(f.Path, "/") {
		return Fault{}, fmt.Errorf("fault %q: the path must start with /", s)
	}
	for _, w := range words[2:] {
		k, v, _ := strings.Cut(w, "=")
		var err error
		switch {
		case k == "hang":
			f.Hang = true
		case k == "reset":
			f.Reset = true
		case k == "garbage":
			f.Garbage = true
		case k == "delay":
			f.Delay, err = time.ParseDuration(v)
		case k == "cut":
			f.CutAfter, err = strconv.ParseInt(v, 10, 64)
		case k == "stall":
			f.StallAfter, err = strconv.ParseInt(v, 10, 64)
		case k == "times":
			f.Times, err = strconv.Atoi(v)
		case k == "rate":
			f.Rate, err = strconv.ParseFloat(v, 64)
			if err == nil && (f.Rate <= 0 || f.Rate > 1) {
				err = fmt.Errorf("the rate %v is not above 0 and at most 1", f.Rate)
			}
		default:
			f.Status, err = strconv.Atoi(k)
			if err == nil && (f.Status < 400 || f.Status > 599) {
				err = fmt.Errorf("status %d is not a failure", f.Status)
			}
		}
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: %q: %v", s, w, err)
		}
	}
	return f, nil
}

// Request is one request the server received, for tests.
type Request struct {
	Method   string
	Path     string
	RawPath  string // Path as the client escaped it
	RawQuery string
	User     string // whose bearer token came with it, if valid
	Status   int
	// Header and Body are what the client sent (the body as far as the
	// handler read it, up to 1 MiB), so that a benchmark can replay the call.
	Header http.Header
	Body   []byte
	// Start and End are when the server began and finished answering (its own latency).
	Start, End time.Time
}

// Front wraps a fake server's routes.
type Front struct {
	// Latency is added to every request.
	Latency time.Duration
	// WriteError answers a Status fault in the server's error format.
	WriteError func(w http.ResponseWriter, status int, code, message string)
	// Owner names the user a request's bearer token belongs to, for the log.
	Owner func(r *http.Request) string

	// Seed makes the draws of faults with a Rate repeatable.
	Seed uint64

	mu        sync.Mutex
	rnd       *rand.Rand
	faulted   int // requests a fault hit
	faults    []*faultEntry
	requests  []Request
	answering map[*http.Request]bool
}

type faultEntry struct {
	Fault
	hits int
}

// Wrap returns next behind the front: latency, faults, the request log.
func (f *Front) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body := &bodyCopy{ReadCloser: http.MaxBytesReader(w, r.Body, 16<<20)}
		r.Body = body
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		f.mu.Lock()
		if f.answering == nil {
			f.answering = map[*http.Request]bool{}
		}
		f.answering[r] = true
		f.mu.Unlock()
		defer func() {
			end := time.Now()
			owner := ""
			if f.Owner != nil {
				owner = f.Owner(r)
			}
			f.mu.Lock()
			delete(f.answering, r)
			f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
				User: owner, Status: rec.status, Start: start, End: end, Header: r.Header.Clone(), Body: body.b})
			f.mu.Unlock()
		}()
		if f.Latency > 0 && !Sleep(r.Context(), f.Latency) {
			return
		}
		if f.apply(rec, r) {
			return
		}
		next.ServeHTTP(rec, r)
	})
}

// bodyCopy keeps what is read of a request's body, up to 1 MiB.
type bodyCopy struct {
	io.ReadCloser
	b []byte
}

func (c *bodyCopy) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if len(c.b) < 1<<20 {
		c.b = append(c.b, p[:min(n, 1<<20-len(c.b))]...)
	}
	return n, err
}

// Inject adds a fault and returns a function that removes it.
func (f *Front) Inject(fault Fault) (remove func()) {
	e := &faultEntry{Fault: fault}
	f.mu.Lock()
	f.faults = append(f.faults, e)
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, x := range f.faults {
			if x == e {
				f.faults = append(f.faults[:i], f.faults[i+1:]...)
				return
			}
		}
	}
}

// ClearFaults removes every injected fault.
func (f *Front) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// Requests returns the requests received so far.
func (f *Front) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Faulted counts the requests an injected fault hit.
func (f *Front) Faulted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faulted
}

// ResetRequests forgets the requests received so far.
func (f *Front) ResetRequests() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
}

// InFlight counts the requests with this method (any if empty) and a path
// starting with path that the server is answering right now: a test can
// act while a request is held by a delay or a hang.
func (f *Front) InFlight(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for r := range f.answering {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.URL.Path, path) {
			n++
		}
	}
	return n
}

// draw returns the next random number in [0, 1); f.mu is held.
func (f *Front) draw() float64 {
	if f.rnd == nil {
		f.rnd = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	}
	return f.rnd.Float64()
}

// apply answers r with the first matching fault, if any, and reports whether it did.
func (f *Front) apply(w *statusRecorder, r *http.Request) bool {
	f.mu.Lock()
	var ft *Fault
	for _, e := range f.faults {
		if (e.Method == "" || e.Method == r.Method) && strings.HasPrefix(r.URL.Path, e.Path) && (e.Times == 0 || e.hits < e.Times) &&
			(e.Rate == 0 || f.draw() < e.Rate) {
			e.hits++
			f.faulted++
			copied := e.Fault
			ft = &copied
			break
		}
	}
	f.mu.Unlock()
	if ft == nil {
		return false
	}
	if ft.Delay > 0 && !Sleep(r.Context(), ft.Delay) {
		return true
	}
	switch {
	case ft.Hang:
		<-r.Context().Done()
	case ft.Reset:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return true
		}
		panic(http.ErrAbortHandler)
	case ft.Garbage:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("<html>Service Unavailable</html>\x00{"))
	case ft.Status != 0:
		msg := ft.Message
		if msg == "" {
			msg = http.StatusText(ft.Status)
		}
		f.WriteError(w, ft.Status, ft.ErrorCode, msg)
	case ft.CutAfter > 0:
		w.cutAfter = ft.CutAfter
		return false
	case ft.StallAfter > 0:
		w.cutAfter, w.stall = ft.StallAfter, r.Context()
		return false
	default:
		return false // a pure delay: answer normally
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status   int
	cutAfter int64 // > 0: close the connection after this many more body bytes
	// stall, when set, holds the response at cutAfter until it is done
	// instead of closing the connection.
	stall context.Context
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.cutAfter <= 0 || int64(len(b)) < r.cutAfter {
		n, err := r.ResponseWriter.Write(b)
		r.cutAfter -= int64(n)
		return n, err
	}
	n, _ := r.ResponseWriter.Write(b[:r.cutAfter])
	rc := http.NewResponseController(r.ResponseWriter)
	rc.Flush()
	if r.stall != nil {
		<-r.stall.Done()
		r.cutAfter = -1
		return n, r.stall.Err()
	}
	if conn, _, err := rc.Hijack(); err == nil {
		conn.Close()
	}
	r.cutAfter = -1
	return n, io.ErrClosedPipe
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Sleep waits d and reports true, or false when ctx ends first.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
