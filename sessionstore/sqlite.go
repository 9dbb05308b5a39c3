// Package sessionstore keeps the portal's server-side sessions: an scs store
// on SQLite (pure Go, no cgo) for a single instance, and a codec that seals
// session data with AES-256-GCM so that the Veeam and Entra tokens held in a
// session are never at rest in the clear.
//
// The store keys rows by the SHA-256 of the session token, so a copy of the
// database does not hand out live session cookies either.
package sessionstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLite is an scs.CtxStore on a SQLite database.
type SQLite struct {
	db   *sql.DB
	now  func() time.Time
	stop chan struct{}
	done sync.WaitGroup
}

// OpenSQLite opens (creating if needed) the database file at path.
func OpenSQLite(path string) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sessionstore: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sessionstore: open %s: %w", path, err)
	}
	return db, nil
}

// NewSQLite creates the sessions table if needed and starts removing expired
// sessions every cleanup interval (none if zero). Close stops that. now is
// the clock session deadlines are set on (nil: time.Now).
func NewSQLite(ctx context.Context, db *sql.DB, cleanup time.Duration, now func() time.Time) (*SQLite, error) {
	_, err := db.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS sessions (
			token_hash TEXT PRIMARY KEY,
			data       BLOB NOT NULL,
			expiry_ms  INTEGER NOT NULL
		);
		CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expiry_ms);`)
	if err != nil {
		return nil, fmt.Errorf("sessionstore: create table: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	s := &SQLite{db: db, now: now, stop: make(chan struct{})}
	if cleanup > 0 {
		s.done.Go(func() {
			t := time.NewTicker(cleanup)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					s.DeleteExpired(context.Background())
				case <-s.stop:
					return
				}
			}
		})
	}
	return s, nil
}

// Close stops the cleanup loop. It does not close the database.
func (s *SQLite) Close() {
	close(s.stop)
	s.done.Wait()
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FindCtx returns the data of an unexpired session.
func (s *SQLite) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token_hash = ? AND expiry_ms >= ?`,
		hashToken(token), s.now().UnixMilli()).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sessionstore: find: %w", err)
	}
	return b, true, nil
}

// CommitCtx stores a session's data until expiry.
func (s *SQLite) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, data, expiry_ms) VALUES (?, ?, ?)
		ON CONFLICT (token_hash) DO UPDATE SET data = excluded.data, expiry_ms = excluded.expiry_ms`,
		hashToken(token), b, expiry.UnixMilli())
	if err != nil {
		return fmt.Errorf("sessionstore: commit: %w", err)
	}
	return nil
}

// DeleteCtx removes a session.
func (s *SQLite) DeleteCtx(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token)); err != nil {
		return fmt.Errorf("sessionstore: delete: %w", err)
	}
	return nil
}

// DeleteExpired removes expired sessions and reports how many there were.
func (s *SQLite) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expiry_ms < ?`, s.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sessionstore: delete expired: %w", err)
	}
	return res.RowsAffected()
}

// Count reports how many unexpired sessions are stored.
func (s *SQLite) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE expiry_ms >= ?`, s.now().UnixMilli()).Scan(&n)
	return n, err
}

// Find, Commit and Delete satisfy scs.Store for callers without a context.

// Find returns the data of an unexpired session.
func (s *SQLite) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit stores a session's data until expiry.
func (s *SQLite) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete removes a session.
func (s *SQLite) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}
