package sqlstore

import (
	"context"
	"errors"
	"strings"

	"github.com/openrestore/portal/store"
)

// AddEntries adds what a set lacks. The session's row is locked first, so
// that two requests adding at once take turns and the limit holds.
func (s *Store) AddEntries(ctx context.Context, sid, set string, es []store.Entry, limit int, evict bool) (int, error) {
	added := 0
	err := s.db.Tx(ctx, func(tx DB) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM sign_ins WHERE sid = ?`+s.d.ForUpdate, sid).Scan(&one); err != nil {
			if errors.Is(err, ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		for _, e := range es {
			n, err := tx.Exec(ctx, `INSERT INTO session_entries (sid, set_name, entry_key, value, added_ms) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (sid, set_name, entry_key) DO NOTHING`, sid, set, e.Key, e.Value, ms(e.Added))
			if err != nil {
				return err
			}
			added += int(n)
		}
		var held int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM session_entries WHERE sid = ? AND set_name = ?`, sid, set).Scan(&held); err != nil {
			return err
		}
		switch {
		case held <= limit || (!evict && added == 0):
			return nil
		case !evict:
			return store.ErrFull
		}
		_, err := tx.Exec(ctx, `DELETE FROM session_entries WHERE seq IN (SELECT seq FROM session_entries
			WHERE sid = ? AND set_name = ? ORDER BY added_ms, seq LIMIT ?)`, sid, set, held-limit)
		return err
	})
	switch {
	case errors.Is(err, store.ErrFull), errors.Is(err, store.ErrNotFound):
		return 0, err
	case err != nil:
		return 0, s.errorf("add to %s: %w", set, err)
	}
	return added, nil
}

// Entries returns a set's entries, oldest first.
func (s *Store) Entries(ctx context.Context, sid, set string) ([]store.Entry, error) {
	var out []store.Entry
	err := s.db.Query(ctx, `SELECT entry_key, value, added_ms FROM session_entries WHERE sid = ? AND set_name = ?
		ORDER BY added_ms, seq`, []any{sid, set}, func(row Row) error {
		var e store.Entry
		var added int64
		err := row.Scan(&e.Key, &e.Value, &added)
		e.Added = at(added)
		out = append(out, e)
		return err
	})
	if err != nil {
		return nil, s.errorf("%s: %w", set, err)
	}
	return out, nil
}

// RemoveEntries removes entries by key, or all of them.
func (s *Store) RemoveEntries(ctx context.Context, sid, set string, keys []string) error {
	q, args := `DELETE FROM session_entries WHERE sid = ? AND set_name = ?`, []any{sid, set}
	if keys != nil {
		if len(keys) == 0 {
			return nil
		}
		q += ` AND entry_key IN (?` + strings.Repeat(", ?", len(keys)-1) + `)`
		for _, k := range keys {
			args = append(args, k)
		}
	}
	if _, err := s.db.Exec(ctx, q, args...); err != nil {
		return s.errorf("remove from %s: %w", set, err)
	}
	return nil
}

// SetValue stores a named value; nil removes it.
func (s *Store) SetValue(ctx context.Context, sid, name string, v []byte) error {
	var err error
	if v == nil {
		_, err = s.db.Exec(ctx, `DELETE FROM session_values WHERE sid = ? AND name = ?`, sid, name)
	} else {
		_, err = s.db.Exec(ctx, `INSERT INTO session_values (sid, name, value) VALUES (?, ?, ?)
			ON CONFLICT (sid, name) DO UPDATE SET value = excluded.value`, sid, name, v)
	}
	if err != nil {
		return s.errorf("set %s: %w", name, err)
	}
	return nil
}

// Value returns a named value, nil when there is none.
func (s *Store) Value(ctx context.Context, sid, name string) ([]byte, error) {
	return s.value(ctx, `SELECT value FROM session_values WHERE sid = ? AND name = ?`, sid, name, false)
}

// TakeValue returns a named value and removes it.
func (s *Store) TakeValue(ctx context.Context, sid, name string) ([]byte, error) {
	return s.value(ctx, `DELETE FROM session_values WHERE sid = ? AND name = ? RETURNING value`, sid, name, true)
}

// SwapValue replaces a value that is still old; a nil old stands for none.
func (s *Store) SwapValue(ctx context.Context, sid, name string, old, v []byte) (bool, error) {
	q, args := `UPDATE session_values SET value = ? WHERE sid = ? AND name = ? AND value = ?`, []any{v, sid, name, old}
	if old == nil {
		q, args = `INSERT INTO session_values (sid, name, value) VALUES (?, ?, ?) ON CONFLICT (sid, name) DO NOTHING`, []any{sid, name, v}
	}
	err := one(s.db.Exec(ctx, q, args...))
	switch {
	case errors.Is(err, store.ErrChanged):
		return false, nil
	case err != nil:
		return false, s.errorf("swap %s: %w", name, err)
	}
	return true, nil
}

// value runs a query returning a named value; take runs it in a transaction
// of its own (a DELETE … RETURNING), a read runs it alone: every page reads
// values, and a transaction would double what that costs.
func (s *Store) value(ctx context.Context, q, sid, name string, take bool) ([]byte, error) {
	var v []byte
	read := func(db DB) error { return db.QueryRow(ctx, q, sid, name).Scan(&v) }
	var err error
	if take {
		err = s.db.Tx(ctx, read)
	} else {
		err = read(s.db)
	}
	switch {
	case errors.Is(err, ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, s.errorf("%s: %w", name, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Preference returns a person's preferences.
func (s *Store) Preference(ctx context.Context, tenantID, userOID string) (store.Preference, error) {
	var p store.Preference
	var updated int64
	err := s.db.QueryRow(ctx, `SELECT time_zone, auto_zone, language, updated_ms FROM preferences WHERE tenant_id = ? AND user_oid = ?`,
		tenantID, userOID).Scan(&p.TimeZone, &p.AutoZone, &p.Language, &updated)
	switch {
	case errors.Is(err, ErrNoRows):
		return p, store.ErrNotFound
	case err != nil:
		return p, s.errorf("preferences: %w", err)
	}
	p.Updated = at(updated)
	return p, nil
}

// SetPreference stores a person's preferences.
func (s *Store) SetPreference(ctx context.Context, tenantID, userOID string, p store.Preference) error {
	_, err := s.db.Exec(ctx, `INSERT INTO preferences (tenant_id, user_oid, time_zone, auto_zone, language, updated_ms)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, user_oid) DO UPDATE SET time_zone = excluded.time_zone,
		auto_zone = excluded.auto_zone, language = excluded.language, updated_ms = excluded.updated_ms`,
		tenantID, userOID, p.TimeZone, p.AutoZone, p.Language, ms(p.Updated))
	if err != nil {
		return s.errorf("set preferences: %w", err)
	}
	return nil
}
