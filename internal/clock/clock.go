// Package clock is the clock the whole stack can be run on: the portal, both
// fakes and the demo data take a func() time.Time, and tests hand them one
// Clock, so that what the data holds never depends on the day or the hour
// the tests happen to run.
package clock

import (
	"fmt"
	"sync"
	"time"
)

// Clock starts at a chosen instant and then runs at the pace of real time,
// so that deadlines and restores still progress; Advance jumps it forward.
// It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	start  time.Time
	origin time.Time // the monotonic reading taken at start
	ahead  time.Duration
}

// Starting returns a clock that reads start now.
func Starting(start time.Time) *Clock {
	return &Clock{start: start, origin: time.Now()}
}

// Now is the clock's current reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.start.Add(time.Since(c.origin) + c.ahead)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += d
}

// TestStart is the instant the test stack's clock starts at unless
// PORTAL_TEST_NOW names another: a Wednesday mid-morning in June, in no
// month's first days, when every backup job of the demo has run.
var TestStart = time.Date(2026, time.June, 17, 10, 30, 0, 0, time.UTC)

// ParseStart reads an instant in RFC 3339 ("2026-03-29T00:30:00Z"); an
// empty value is the zero time.
func ParseStart(raw string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("not an RFC 3339 time such as 2026-03-29T00:30:00Z: %q", raw)
	}
	return t, nil
}

// ForTests returns the clock a test stack runs on: starting at TestStart, or
// at the instant in getenv("PORTAL_TEST_NOW"), so that the whole suite can be
// run as if it were any other day and hour.
func ForTests(getenv func(string) string) (*Clock, error) {
	start, err := ParseStart(getenv("PORTAL_TEST_NOW"))
	if err != nil {
		return nil, fmt.Errorf("PORTAL_TEST_NOW: %w", err)
	}
	if start.IsZero() {
		start = TestStart
	}
	return Starting(start), nil
}
