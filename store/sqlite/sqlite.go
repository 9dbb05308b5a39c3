// Package sqlite is the portal's embedded store: one SQLite file (pure Go,
// no cgo) for one portal process. It keeps the file's schema and runs
// sqlstore's SQL on it.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/store/sqlstore"
)

// Store is the SQLite store.
type Store struct {
	*sqlstore.Store
	db      *sql.DB
	stmts   *stmtCache
	sweeper *sqlstore.Sweeper
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
	stmts := &stmtCache{db: db, m: map[string]*sql.Stmt{}}
	s := &Store{Store: sqlstore.New(conn{q: db, stmts: stmts}, sqlstore.Dialect{Name: "sqlite"}, now), db: db, stmts: stmts, sweeper: sqlstore.NewSweeper()}
	if sweep > 0 {
		s.sweeper.Every(sweep, func(ctx context.Context) { s.DeleteExpired(ctx) })
	}
	return s, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Alone reports whether no other replica is alive: an SQLite database has
// one portal.
func (s *Store) Alone(context.Context) (bool, error) { return true, nil }

// Close stops the sweep and closes the database; later calls do nothing.
func (s *Store) Close() error {
	if !s.sweeper.Stop() {
		return errors.New("sqlite: closed already")
	}
	s.stmts.close()
	return s.db.Close()
}

// Exec runs a statement on the database directly, for tests that check
// what the schema refuses.
func (s *Store) Exec(ctx context.Context, query string) error {
	_, err := s.db.ExecContext(ctx, query)
	return err
}

// conn is sqlstore.DB on database/sql: the database, with its statements
// kept prepared, or a transaction.
type conn struct {
	q     querier
	stmts *stmtCache // nil in a transaction
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// on is what runs query: its prepared statement, or the database itself.
func (c conn) on(ctx context.Context, query string) querier {
	if st := c.stmts.get(ctx, query); st != nil {
		return preparedQuerier{st}
	}
	return c.q
}

// preparedQuerier runs its statement whatever the query text (the same one).
type preparedQuerier struct{ st *sql.Stmt }

func (p preparedQuerier) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return p.st.ExecContext(ctx, args...)
}

func (p preparedQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.st.QueryContext(ctx, args...)
}

func (p preparedQuerier) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return p.st.QueryRowContext(ctx, args...)
}

// maxStatements bounds the statements kept prepared; the store's queries
// are fewer, even counting each combination of the audit trail's filters.
const maxStatements = 512

// stmtCache keeps a prepared statement per query text, so that SQLite
// compiles each of the store's statements once instead of on every use (a
// page reads the store four or five times; compiling was a twentieth of
// the portal's CPU for a page).
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

// get returns the statement for query, preparing it the first time; nil
// if it cannot be kept (the cache is full, the query does not compile: run
// as it is, it reports its own error).
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	st := c.m[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st = c.m[query]; st != nil || len(c.m) >= maxStatements {
		return st
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.m[query] = st
	return st
}

// close closes the kept statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.on(ctx, query).ExecContext(ctx, query, args...)
	if err != nil {
		return 0, driverErrors.Translate(err)
	}
	return res.RowsAffected()
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return driverErrors.Row(c.on(ctx, query).QueryRowContext(ctx, query, args...).Scan)
}

func (c conn) Query(ctx context.Context, query string, args []any, each func(sqlstore.Row) error) error {
	rows, err := c.on(ctx, query).QueryContext(ctx, query, args...)
	if err != nil {
		return driverErrors.Translate(err)
	}
	defer rows.Close()
	return driverErrors.Each(rows, each)
}

func (c conn) Tx(ctx context.Context, fn func(sqlstore.DB) error) error {
	db, ok := c.q.(*sql.DB)
	if !ok {
		return fn(c) // already in one
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(conn{q: tx}); err != nil {
		tx.Rollback()
		return err
	}
	return driverErrors.Translate(tx.Commit())
}

var driverErrors = sqlstore.Errors{
	NoRows:    sql.ErrNoRows,
	Duplicate: func(err error) bool { return strings.Contains(err.Error(), "UNIQUE constraint failed") },
}

var errNewerSchema = errors.New("sqlite: the database was made by a newer version of the portal")
