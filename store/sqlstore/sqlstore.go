// Package sqlstore is store.Store written once in SQL that SQLite and
// PostgreSQL both understand. The sqlite and postgres packages open their
// database, keep its schema and hand this package a DB: an adapter that
// runs statements with ? placeholders.
//
// Times are kept as Unix milliseconds (0 for none), so that both databases
// compare them alike, and booleans are written true and false.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openrestore/portal/store"
)

// DB is what the store needs of a database. Statements use ? placeholders.
type DB interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// QueryRow runs a query for one row; its Scan returns ErrNoRows when
	// there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Query runs a query and calls each with every row, in order.
	Query(ctx context.Context, query string, args []any, each func(Row) error) error
	// Tx runs fn in a transaction, committed when fn returns nil.
	Tx(ctx context.Context, fn func(DB) error) error
}

// Row is a result row.
type Row interface{ Scan(dest ...any) error }

// Errors adapters report in their database's stead.
var (
	// ErrNoRows: a QueryRow found nothing.
	ErrNoRows = errors.New("sqlstore: no rows")
	// ErrDuplicate: an insert broke a unique constraint.
	ErrDuplicate = errors.New("sqlstore: duplicate key")
)

// Dialect is what the two databases spell differently.
type Dialect struct {
	// Name is the database's name in errors.
	Name string
	// SkipLocked ends the SELECT of rows a claim takes, so that two
	// claimers at once take different rows ("" where writes are serial).
	SkipLocked string
	// ForUpdate ends the SELECT of a row the transaction then changes, so
	// that concurrent transactions of the same row take turns.
	ForUpdate string
	// Serialize, run first in a transaction, makes transactions that run
	// it with the same key (an int64) take turns even when they lock no
	// row yet ("" where writes are serial).
	Serialize string
	// LongRead starts the transaction of a read that streams as long as its
	// reader takes (the audit trail's export): it lifts the statement
	// timeout ("" where there is none).
	LongRead string
}

// Store is store.Store on a DB.
type Store struct {
	db  DB
	d   Dialect
	now func() time.Time
}

// New returns the store on db. now is the clock session lifetimes are
// kept on.
func New(db DB, d Dialect, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, d: d, now: now}
}

// errorf prefixes an error with the database's name.
func (s *Store) errorf(format string, args ...any) error {
	return fmt.Errorf(s.d.Name+": "+format, args...)
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

// one checks that a statement changed a row, or returns store.ErrChanged.
func one(n int64, err error) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrChanged
	}
	return nil
}

// DeleteExpired removes expired sessions, signed-in sessions and wizard
// drafts, and reports how many sessions it removed.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	now := ms(s.now())
	var n int64
	err := s.db.Tx(ctx, func(tx DB) error {
		var err error
		if n, err = tx.Exec(ctx, `DELETE FROM sessions WHERE expiry_ms < ?`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sign_ins WHERE expires_ms < ?`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rate_limits WHERE expires_ms < ?`, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM restore_drafts WHERE expires_ms < ?`, now)
		return err
	})
	if err != nil {
		return 0, s.errorf("delete what expired: %w", err)
	}
	return n, nil
}

// Errors tells the store which of a driver's errors mean what; adapters
// use it to report them as ErrNoRows and ErrDuplicate.
type Errors struct {
	// NoRows is what the driver returns for a query without a row.
	NoRows error
	// Duplicate reports whether an error is a broken unique constraint.
	Duplicate func(error) bool
}

// Translate reports a broken unique constraint as ErrDuplicate.
func (e Errors) Translate(err error) error {
	if err != nil && e.Duplicate(err) {
		return fmt.Errorf("%w: %w", ErrDuplicate, err)
	}
	return err
}

// Row is a driver's row scan as a Row.
func (e Errors) Row(scan func(dest ...any) error) Row {
	return scanFunc(func(dest ...any) error {
		err := scan(dest...)
		if errors.Is(err, e.NoRows) {
			return ErrNoRows
		}
		return e.Translate(err)
	})
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Rows is what database/sql's and pgx's results have in common.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Each calls each with every row, then reports the rows' error.
func (e Errors) Each(rows Rows, each func(Row) error) error {
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return e.Translate(rows.Err())
}
