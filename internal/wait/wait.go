// Package wait is the one way tests wait for something to happen: they
// check a condition until it holds or a deadline passes, and never sleep
// for a guessed time.
package wait

import (
	"testing"
	"time"
)

// Deadline is how long For waits: long enough for a loaded 2-core machine
// running the race detector, short enough to fail a hung test quickly.
const Deadline = 30 * time.Second

// For checks cond every few milliseconds until it returns true, and fails
// the test, saying what it waited for, if Deadline passes first.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !Until(Deadline, cond) {
		t.Fatalf("waited %s for %s", Deadline, what)
	}
}

// Until checks cond every few milliseconds until it returns true (true) or
// d passes (false).
func Until(d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
	return true
}
