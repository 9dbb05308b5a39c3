// Package sqlite is the portal's embedded store: one SQLite file (pure Go,
// no cgo) for one portal process. It implements store.Store.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/openrestore/portal/store"
)

// Store is the SQLite store.
type Store struct {
	db   *sql.DB
	now  func() time.Time
	stop chan struct{}
	done sync.WaitGroup
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path, readable by
// its owner only, and brings its schema up to date. A database whose
// schema is newer than this portal knows is refused. now is the clock
// session deadlines are kept on; expired sessions are swept every sweep
// (none if zero).
func Open(ctx context.Context, path string, now func() time.Time, sweep time.Duration) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	// Writes take the lock when they begin (_txlock=immediate), so two
	// writers wait for each other (busy_timeout) instead of failing.
	dsn := "file:" + path + "?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	s := &Store{db: db, now: now, stop: make(chan struct{})}
	if sweep > 0 {
		s.done.Go(func() { s.sweep(sweep) })
	}
	return s, nil
}

// sweep removes expired sessions and drafts every interval until Close.
func (s *Store) sweep(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			s.DeleteExpired(ctx)
			cancel()
		case <-s.stop:
			return
		}
	}
}

// DeleteExpired removes expired sessions and wizard drafts, and reports how
// many sessions there were.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	now := s.now().UnixMilli()
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expiry_ms < ?`, now)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM restore_drafts WHERE expires_ms < ?`, now); err != nil {
		return 0, fmt.Errorf("sqlite: delete expired drafts: %w", err)
	}
	return res.RowsAffected()
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close stops the sweep and closes the database.
func (s *Store) Close() error {
	close(s.stop)
	s.done.Wait()
	return s.db.Close()
}

// DB is the database, for tests that check what the store refuses.
func (s *Store) DB() *sql.DB { return s.db }

// tx runs fn in a write transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ms is a time as stored: Unix milliseconds, 0 for the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// at reads a stored time.
func at(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// affected checks that a statement changed one row, or returns ErrChanged.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrChanged
	}
	return nil
}

var errNewerSchema = errors.New("sqlite: the database was made by a newer version of the portal")
