package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/openrestore/portal/veeamapi"
)

// What a restore session shows cannot change while it is open: a restore
// point is a snapshot. So the portal keeps what every page of a mailbox
// repeats (the mailbox, its folder lists, a folder) for a few minutes rather
// than asking VB365 on every page, which saves VB365 three or four calls per
// page. Entries are keyed by the user as well as the session, so nothing
// crosses from one user to another; item lists and searches are always
// asked afresh.
const (
	// listLengthTTL keeps a list's length as long as a session may use it.
	listLengthTTL      = 8 * time.Hour
	browseCacheTTL     = 5 * time.Minute
	browseCacheEntries = 4096
)

// browseCache is a small time-bounded cache; when full, the oldest entries go.
type browseCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
	order   []string // keys, oldest first
	now     func() time.Time
	ttl     time.Duration
}

type cacheEntry struct {
	value   any
	expires time.Time
}

func newBrowseCache(now func() time.Time, ttl time.Duration) *browseCache {
	return &browseCache{entries: map[string]cacheEntry{}, now: now, ttl: ttl}
}

func (c *browseCache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || c.now().After(e.expires) {
		return nil, false
	}
	return e.value, true
}

func (c *browseCache) put(key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok {
		c.order = append(c.order, key)
	}
	c.entries[key] = cacheEntry{value: v, expires: c.now().Add(c.ttl)}
	for len(c.order) > browseCacheEntries {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
	if cap(c.order) > 4*browseCacheEntries { // let the backing array go now and then
		c.order = append([]string(nil), c.order...)
	}
}

// drop forgets what is kept under key.
func (c *browseCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// cached returns the value under key, or fetches and keeps it. Errors are not kept.
func cached[T any](c *browseCache, key string, fetch func() (T, error)) (T, error) {
	if v, ok := c.get(key); ok {
		return v.(T), nil
	}
	v, err := fetch()
	if err == nil {
		c.put(key, v)
	}
	return v, err
}

// browseKey names what is cached for this user in this mailbox.
func browseKey(oid string, ref mailboxRef, parts ...string) string {
	k := oid + "\x00" + ref.session.ID + "\x00" + ref.mailbox
	for _, p := range parts {
		k += "\x00" + p
	}
	return k
}

func (h *Handler) cachedMailbox(ctx context.Context, oid string, ref mailboxRef) (*veeamapi.Mailbox, error) {
	return cached(h.browse, browseKey(oid, ref, "mailbox"), func() (*veeamapi.Mailbox, error) {
		return ref.data.Mailbox(ctx)
	})
}

// cachedFolders lists the folders under parent ("root" for the top level), up to 500.
func (h *Handler) cachedFolders(ctx context.Context, oid string, ref mailboxRef, parent string) ([]veeamapi.Folder, error) {
	return cached(h.browse, browseKey(oid, ref, "folders", parent), func() ([]veeamapi.Folder, error) {
		p, err := ref.data.Folders(ctx, veeamapi.FoldersOptions{ParentID: parent, PageOptions: veeamapi.PageOptions{Limit: 500}})
		if err != nil {
			return nil, err
		}
		return p.Results, nil
	})
}

func (h *Handler) cachedFolder(ctx context.Context, oid string, ref mailboxRef, id string) (*veeamapi.Folder, error) {
	return cached(h.browse, browseKey(oid, ref, "folder", id), func() (*veeamapi.Folder, error) {
		return ref.data.Folder(ctx, id)
	})
}
