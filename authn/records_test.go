package authn

import (
	"context"
	"sync"
	"time"
)

// memRecords is Records in memory, as the portal's store keeps them: two
// Authenticators given the same one are two replicas of one portal.
type memRecords struct {
	mu       sync.Mutex
	rows     map[string]Record
	renewing map[string]time.Time
	ended    []string
	loads    int
}

func newMemRecords() *memRecords {
	return &memRecords{rows: map[string]Record{}, renewing: map[string]time.Time{}}
}

func (m *memRecords) Create(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.Version = 1
	m.rows[r.SID] = r
	return nil
}

func (m *memRecords) Load(_ context.Context, sid string, now time.Time) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	r, ok := m.rows[sid]
	if !ok || now.After(r.Expires) {
		return Record{}, false, nil
	}
	return r, true, nil
}

func (m *memRecords) Touch(_ context.Context, sid string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rows[sid]; ok {
		r.Expires = minTime(expires, r.Ends)
		m.rows[sid] = r
	}
	return nil
}

func (m *memRecords) Claim(_ context.Context, sid string, version int64, until, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[sid]
	if !ok || r.Version != version || now.Before(m.renewing[sid]) {
		return false, nil
	}
	m.renewing[sid] = until
	return true, nil
}

func (m *memRecords) Replace(_ context.Context, sid string, version int64, sealed []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[sid]
	if !ok || r.Version != version {
		return false, nil
	}
	r.Sealed, r.Version = sealed, r.Version+1
	m.rows[sid] = r
	delete(m.renewing, sid)
	return true, nil
}

func (m *memRecords) Release(_ context.Context, sid string, version int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rows[sid]; ok && r.Version == version {
		delete(m.renewing, sid)
	}
	return nil
}

func (m *memRecords) End(_ context.Context, sid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rows, sid)
	m.ended = append(m.ended, sid)
	return nil
}

func (m *memRecords) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rows)
}

func (m *memRecords) loaded() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loads
}
