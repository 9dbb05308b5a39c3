// Package breaker is a circuit breaker for calls to a server that may stop
// answering: after Threshold failures in a row it opens, and calls are
// refused at once for Cooldown; then a few calls at once (a page's
// parallel calls) probe, the first that succeeds closes it again, and the
// first that fails opens it for another Cooldown.
package breaker

import (
	"sync"
	"time"
)

// State is where a breaker stands.
type State int

const (
	Closed   State = iota // calls go through
	HalfOpen              // one call probes
	Open                  // calls are refused
)

func (s State) String() string {
	return [...]string{"closed", "half-open", "open"}[s]
}

// Outcome is how a call went, for the breaker.
type Outcome int

const (
	Succeeded Outcome = iota // the server answered
	Failed                   // it did not: no connection, a timeout, a gateway's 502/503/504
	Abandoned                // the caller gave up first: says nothing about the server
)

// Breaker is safe for concurrent use.
type Breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	// changed, if set, hears of every change of state (metrics, logs).
	changed func(State)

	mu       sync.Mutex
	state    State
	failures int
	opened   time.Time
	probing  int // calls in flight while half-open
}

// maxProbes is how many calls may probe at once while half-open.
const maxProbes = 8

// New returns a closed breaker that opens after threshold failures in a
// row and stays open for cooldown, on the clock now. changed, if not nil,
// is called (without the breaker's lock) on every change of state.
func New(threshold int, cooldown time.Duration, now func() time.Time, changed func(State)) *Breaker {
	return &Breaker{threshold: max(threshold, 1), cooldown: cooldown, now: now, changed: changed}
}

// Allow reports whether a call may go ahead. A call allowed must be
// followed by Done.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	var to State
	ok, moved := false, false
	switch b.state {
	case Closed:
		ok = true
	case Open:
		if b.now().Sub(b.opened) >= b.cooldown {
			b.state, b.probing, ok, moved, to = HalfOpen, 1, true, true, HalfOpen
		}
	case HalfOpen:
		if b.probing < maxProbes {
			b.probing++
			ok = true
		}
	}
	b.mu.Unlock()
	if moved && b.changed != nil {
		b.changed(to)
	}
	return ok
}

// Done tells the breaker how an allowed call went.
func (b *Breaker) Done(o Outcome) {
	b.mu.Lock()
	before := b.state
	switch {
	case o == Abandoned:
		if b.state == HalfOpen && b.probing > 0 {
			b.probing-- // another call may probe
		}
	case o == Succeeded:
		b.state, b.failures, b.probing = Closed, 0, 0
	case b.state == HalfOpen:
		b.state, b.opened, b.probing = Open, b.now(), 0
	case b.state == Closed:
		b.failures++
		if b.failures >= b.threshold {
			b.state, b.opened = Open, b.now()
		}
	}
	after := b.state
	b.mu.Unlock()
	if after != before && b.changed != nil {
		b.changed(after)
	}
}

// State returns where the breaker stands; an open breaker whose cooldown
// is over reads half-open (the next call probes).
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open && b.now().Sub(b.opened) >= b.cooldown {
		return HalfOpen
	}
	return b.state
}
