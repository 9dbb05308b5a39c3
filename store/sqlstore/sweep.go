package sqlstore

import (
	"context"
	"sync"
	"time"
)

// Sweeper runs a store's housekeeping in the background until the store
// closes.
type Sweeper struct {
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// NewSweeper returns a Sweeper that runs nothing yet.
func NewSweeper() *Sweeper { return &Sweeper{stop: make(chan struct{})} }

// Every runs fn every interval, each run bounded to 30 seconds, until Stop.
func (w *Sweeper) Every(interval time.Duration, fn func(ctx context.Context)) {
	w.done.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				fn(ctx)
				cancel()
			case <-w.stop:
				return
			}
		}
	})
}

// Stop ends the runs and waits for one under way. It reports whether this
// was the first call: a store's Close does its own closing once.
func (w *Sweeper) Stop() bool {
	first := false
	w.once.Do(func() {
		first = true
		close(w.stop)
		w.done.Wait()
	})
	return first
}
