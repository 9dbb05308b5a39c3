package breaker

import (
	"slices"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestBreaker(t *testing.T) {
	t.Parallel()
	c := &fakeClock{t: time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)}
	var changes []State
	b := New(3, 30*time.Second, c.now, func(s State) { changes = append(changes, s) })
	call := func(o Outcome) bool {
		if !b.Allow() {
			return false
		}
		b.Done(o)
		return true
	}
	// Failures that are not in a row do not open it.
	for _, o := range []Outcome{Failed, Failed, Succeeded, Failed, Failed, Abandoned} {
		if !call(o) {
			t.Fatal("refused while closed")
		}
	}
	if b.State() != Closed {
		t.Fatalf("state %v", b.State())
	}
	call(Failed) // the third in a row
	if b.State() != Open || b.Allow() {
		t.Fatalf("after 3 failures in a row: %v", b.State())
	}
	c.t = c.t.Add(29 * time.Second)
	if b.Allow() {
		t.Fatal("allowed before the cooldown ended")
	}
	c.t = c.t.Add(time.Second)
	if b.State() != HalfOpen {
		t.Fatal("not half-open after the cooldown")
	}
	for i := range maxProbes {
		if !b.Allow() {
			t.Fatalf("probe %d refused", i+1)
		}
	}
	if b.Allow() {
		t.Fatal("more probes at once than allowed")
	}
	b.Done(Abandoned) // a prober gave up: someone else may probe
	if !b.Allow() {
		t.Fatal("no probe after an abandoned one")
	}
	b.Done(Failed) // still down: open for another cooldown
	if b.Allow() {
		t.Fatal("allowed right after a failed probe")
	}
	for range maxProbes - 1 {
		b.Done(Failed) // the other probes' ends change nothing
	}
	if b.State() != Open {
		t.Fatal("a failed probe did not reopen")
	}
	c.t = c.t.Add(30 * time.Second)
	if !call(Succeeded) || b.State() != Closed {
		t.Fatal("a good probe did not close it")
	}
	want := []State{Open, HalfOpen, Open, HalfOpen, Closed}
	if !slices.Equal(changes, want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
}

func TestBreakerConcurrent(t *testing.T) {
	t.Parallel()
	c := &fakeClock{t: time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)}
	b := New(5, time.Minute, c.now, nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if b.Allow() {
				b.Done(Failed)
			}
		})
	}
	wg.Wait()
	if b.State() != Open {
		t.Errorf("state %v after 50 failures", b.State())
	}
}
