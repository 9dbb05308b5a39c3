package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// testRateLimits: replicas counting the same key at once never lose or
// repeat a count; each window counts afresh; windows that are over go.
func testRateLimits(t *testing.T, db Database, c *clock) {
	ctx := t.Context()
	a, b := open(t, db, c.now), open(t, db, c.now)
	window := c.now().Truncate(time.Minute)
	var mu sync.Mutex
	var counts []int
	var wg sync.WaitGroup
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			n, err := s.Hit(ctx, "ip:192.0.2.1:signin", window, time.Minute)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			counts = append(counts, n)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(counts)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("20 requests at once counted %v", counts)
		}
	}
	if n, _ := a.Hit(ctx, "ip:192.0.2.2:signin", window, time.Minute); n != 1 {
		t.Errorf("another key starts at %d", n)
	}
	if n, _ := b.Hit(ctx, "ip:192.0.2.1:signin", window.Add(time.Minute), time.Minute); n != 1 {
		t.Errorf("the next window starts at %d", n)
	}
	c.advance(3 * time.Minute)
	sweeper, ok := a.(interface {
		DeleteExpired(context.Context) (int64, error)
	})
	if !ok {
		t.Fatal("the store cannot delete what expired")
	}
	if _, err := sweeper.DeleteExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Hit(ctx, "ip:192.0.2.1:signin", window, time.Minute); n != 1 {
		t.Errorf("a window that was over kept its count: %d", n)
	}
}
