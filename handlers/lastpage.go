package handlers

import (
	"context"
	"errors"
	"sync"
	"time"
)

// lastPages remembers, per user, restore session and list, the offset of a
// list's last page, and finds it ahead of need. VB365 gives no count, so
// the last page of a list of unknown length costs a search for its end
// (twenty calls for 100,000 items). A restore point never changes, so the
// offset, once known, holds for as long as the session (listLengthTTL).
// When a list's first page shows there is more, the search runs in the
// background: by the time Last page is clicked it is one call to VB365,
// and a click that comes sooner waits for that search rather than making
// its own.
type lastPages struct {
	known *browseCache
	mu    sync.Mutex
	// finding holds the searches running, each closed when it ends.
	finding map[string]chan struct{}
	// slots bounds the searches running at once for all users, so that a
	// crowd opening folders does not flood VB365; past it, none starts.
	slots chan struct{}
	// stop ends the searches running (at shutdown).
	stop context.Context
}

const (
	// lastPageSearches is how many searches for a list's end run at once.
	lastPageSearches = 4
	// lastPageSearchTimeout bounds a search in the background.
	lastPageSearchTimeout = time.Minute
)

func newLastPages(stop context.Context, now func() time.Time) *lastPages {
	return &lastPages{known: newBrowseCache(now, listLengthTTL), finding: map[string]chan struct{}{},
		slots: make(chan struct{}, lastPageSearches), stop: stop}
}

// endAt records that a list ends after n items.
func (l *lastPages) endAt(key string, n int) {
	l.known.put(key, max(0, (n-1)/itemsPageSize*itemsPageSize))
}

// get returns the offset of a list's last page, waiting for a search of it
// that is running (for as long as ctx allows).
func (l *lastPages) get(ctx context.Context, key string) (int, bool) {
	l.mu.Lock()
	running := l.finding[key]
	l.mu.Unlock()
	if running != nil {
		select {
		case <-running:
		case <-ctx.Done():
		}
	}
	if v, ok := l.known.get(key); ok {
		return v.(int), true
	}
	return 0, false
}

// find searches for the offset of a list's last page, unless it is known
// or being searched for: has reports whether the list holds an item at an
// offset. In the background (ahead), it runs with ctx's values but not its
// end, for lastPageSearchTimeout at most, and not at all when
// lastPageSearches are running already.
func (l *lastPages) find(ctx context.Context, key string, ahead bool, has func(context.Context, int) (bool, error)) (int, error) {
	l.mu.Lock()
	if _, ok := l.known.get(key); ok || l.finding[key] != nil {
		l.mu.Unlock()
		if ahead { // the page does not wait for it
			return 0, nil
		}
		if last, ok := l.get(ctx, key); ok {
			return last, nil
		}
		return l.search(ctx, key, has) // the other search failed
	}
	if ahead {
		select {
		case l.slots <- struct{}{}:
		default:
			l.mu.Unlock()
			return 0, nil
		}
	}
	done := make(chan struct{})
	l.finding[key] = done
	l.mu.Unlock()
	end := func() {
		l.mu.Lock()
		delete(l.finding, key)
		l.mu.Unlock()
		close(done)
	}
	if !ahead {
		defer end()
		return l.search(ctx, key, has)
	}
	go func() {
		defer func() { <-l.slots }()
		defer end()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lastPageSearchTimeout)
		defer cancel()
		defer context.AfterFunc(l.stop, cancel)()
		l.search(ctx, key, has) // a failure leaves it to the click
	}()
	return 0, nil
}

func (l *lastPages) search(ctx context.Context, key string, has func(context.Context, int) (bool, error)) (int, error) {
	last, err := lastOffset(ctx, itemsPageSize, func(o int) (bool, error) { return has(ctx, o) })
	if err != nil {
		return 0, err
	}
	l.known.put(key, last)
	return last, nil
}

// lastOffset finds the offset of the last page of a list whose length is
// unknown: it probes the first item of page 1, 2, 4… until it passes the
// end, then halves the gap down to one page. has reports whether the list
// holds an item at an offset.
func lastOffset(ctx context.Context, pageSize int, has func(offset int) (bool, error)) (int, error) {
	lo, hi := 0, 1 // pages: lo has items (or is the first), hi is the first probed past the end
	for {
		ok, err := has(hi * pageSize)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		if hi > (1<<30)/pageSize {
			return 0, errors.New("the list does not end")
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := has(mid * pageSize)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	return lo * pageSize, nil
}
