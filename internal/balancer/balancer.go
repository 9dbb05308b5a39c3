// Package balancer is a load balancer without sticky sessions, for tests
// of several portal replicas: each request goes to the next replica in
// turn, unless the test pins one.
package balancer

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// Balancer is an http.Handler that proxies to its backends in turn.
type Balancer struct {
	mu       sync.Mutex
	backends []string // host:port
	served   []int
	next     int
	pinned   int // -1: in turn
}

// New returns a balancer over backends (host:port each).
func New(backends ...string) *Balancer {
	return &Balancer{backends: backends, served: make([]int, len(backends)), pinned: -1}
}

// ServeHTTP sends the request to the next backend. The Host header is the
// one the browser sent, as a load balancer in front of the public name
// keeps it.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	i := b.pinned
	if i < 0 {
		i = b.next % len(b.backends)
		b.next++
	}
	target := &url.URL{Scheme: "http", Host: b.backends[i]}
	b.served[i]++
	b.mu.Unlock()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "no replica answered: "+err.Error(), http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, r)
}

// Pin sends every request to backend i; -1 goes back to taking turns.
func (b *Balancer) Pin(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pinned = i
}

// Replace puts a new address in backend i's place.
func (b *Balancer) Replace(i int, backend string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends[i] = backend
}

// Served counts the requests backend i got.
func (b *Balancer) Served(i int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.served[i]
}
