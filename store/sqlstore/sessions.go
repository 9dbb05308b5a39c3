package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Sessions is the scs store of the portal's sessions. Rows are keyed by the
// SHA-256 of the session token, so a copy of the database does not hand out
// live session cookies; the data is sealed by the session codec.
func (s *Store) Sessions() scs.CtxStore { return sessions{s} }

type sessions struct{ s *Store }

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FindCtx returns the data of a session that has not expired.
func (x sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := x.s.db.QueryRow(ctx, `SELECT data FROM sessions WHERE token_hash = ? AND expiry_ms >= ?`,
		hashToken(token), x.s.now().UnixMilli()).Scan(&b)
	if errors.Is(err, ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, x.s.errorf("find session: %w", err)
	}
	return b, true, nil
}

// CommitCtx stores a session's data until expiry.
func (x sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := x.s.db.Exec(ctx, `INSERT INTO sessions (token_hash, data, expiry_ms) VALUES (?, ?, ?)
		ON CONFLICT (token_hash) DO UPDATE SET data = excluded.data, expiry_ms = excluded.expiry_ms`,
		hashToken(token), b, expiry.UnixMilli())
	if err != nil {
		return x.s.errorf("commit session: %w", err)
	}
	return nil
}

// DeleteCtx removes a session.
func (x sessions) DeleteCtx(ctx context.Context, token string) error {
	if _, err := x.s.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token)); err != nil {
		return x.s.errorf("delete session: %w", err)
	}
	return nil
}

// Find, Commit and Delete satisfy scs.Store for callers without a context.

func (x sessions) Find(token string) ([]byte, bool, error) {
	return x.FindCtx(context.Background(), token)
}

func (x sessions) Commit(token string, b []byte, expiry time.Time) error {
	return x.CommitCtx(context.Background(), token, b, expiry)
}

func (x sessions) Delete(token string) error { return x.DeleteCtx(context.Background(), token) }

// CountSessions reports how many unexpired sessions are stored.
func (s *Store) CountSessions(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE expiry_ms >= ?`, s.now().UnixMilli()).Scan(&n)
	return n, err
}

// CountSignIns reports how many signed-in sessions have not expired.
func (s *Store) CountSignIns(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM sign_ins WHERE expires_ms >= ?`, s.now().UnixMilli()).Scan(&n)
	return n, err
}
