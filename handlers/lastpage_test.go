package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openrestore/portal/internal/clock"
	"github.com/openrestore/portal/internal/wait"
)

// TestLastPagesAhead: a search in the background is joined by a click that
// comes while it runs, no more than lastPageSearches run at once, and they
// end at shutdown.
func TestLastPagesAhead(t *testing.T) {
	t.Parallel()
	stop, shutDown := context.WithCancel(context.Background())
	defer shutDown()
	l := newLastPages(stop, clock.Starting(time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)).Now)
	ctx := context.Background()

	// A list of 1,234 items whose probes wait for the test's word.
	release := make(chan struct{})
	var probes atomic.Int32
	slow := heldProbe(release, &probes, func(o int) bool { return o < 1234 })
	if last, err := l.find(ctx, "list", true, slow); last != 0 || err != nil {
		t.Fatalf("ahead: %d, %v", last, err)
	}
	wait.For(t, "the search to start", func() bool { return probes.Load() == 1 })
	// The first page again, while it runs: it neither waits nor searches.
	if last, err := l.find(ctx, "list", true, slow); last != 0 || err != nil || probes.Load() != 1 {
		t.Fatalf("ahead again: %d, %v, %d probes", last, err, probes.Load())
	}
	var clicked int
	var clicks sync.WaitGroup
	clicks.Go(func() {
		clicked, _ = l.find(ctx, "list", false, func(context.Context, int) (bool, error) {
			t.Error("the click searched on its own")
			return false, nil
		})
	})
	close(release)
	clicks.Wait()
	if clicked != 1200 {
		t.Errorf("the click found the last page at %d", clicked)
	}
	if last, ok := l.get(ctx, "list"); !ok || last != 1200 {
		t.Errorf("remembered: %d %v", last, ok)
	}
	// Known: no probe at all.
	before := probes.Load()
	if last, _ := l.find(ctx, "list", false, slow); last != 1200 || probes.Load() != before {
		t.Errorf("a known end was searched for again")
	}

	// No more than lastPageSearches at once; past them, none starts.
	hold := make(chan struct{})
	var running atomic.Int32
	held := heldProbe(hold, &running, func(int) bool { return false })
	for i := range lastPageSearches + 2 {
		l.find(ctx, string(rune('a'+i)), true, held)
	}
	wait.For(t, "the searches to start", func() bool { return running.Load() == lastPageSearches })
	if l.find(ctx, "late", true, held); running.Load() != lastPageSearches {
		t.Errorf("%d searches run at once", running.Load())
	}
	// At shutdown they end, and leave nothing known.
	shutDown()
	wait.For(t, "the searches to end at shutdown", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.finding) == 0
	})
	if _, ok := l.known.get("a"); ok {
		t.Error("a search cut short left an end")
	}
	close(hold)
}

// heldProbe is a list's probe that counts itself, then waits for release
// (or its context's end) before it answers has.
func heldProbe(release <-chan struct{}, count *atomic.Int32, has func(offset int) bool) func(context.Context, int) (bool, error) {
	return func(ctx context.Context, o int) (bool, error) {
		count.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		return has(o), nil
	}
}
