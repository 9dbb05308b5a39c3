// Package postgres is the store several replicas of the portal share: one
// PostgreSQL database (13 or later) through pgx and its pool. It keeps the
// schema, migrated at start under a lock so that replicas starting together
// migrate once, and runs sqlstore's SQL on it. Each replica holds a
// session-level advisory lock for as long as it lives: when it dies, its
// connection closes, the lock goes, and the others take over the restores
// it was watching at once and the sweeping of expired sessions.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/store/sqlstore"
)

// Store is the PostgreSQL store.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	now  func() time.Time

	housekeeping *sqlstore.Sweeper

	// owner names this replica: the watcher's owner of the restores it holds.
	owner string

	mu       sync.Mutex
	life     *pgx.Conn // holds this replica's advisory lock, and the sweeper's when it sweeps
	lastDead time.Time // when the other replicas were last checked
	sweeper  bool
}

var _ store.Store = (*Store)(nil)

// Options tune a Store.
type Options struct {
	// Replica names this replica as the watcher does (the owner of the
	// restores it holds); its lock stands for that name.
	Replica string
	// Sweep is how often the replica that holds the sweeper's lock removes
	// expired sessions and drafts (none if zero).
	Sweep time.Duration
}

// Advisory lock keys: the migration's, the sweeper's, and a namespace for
// the replicas'.
const (
	migrateLock = 0x706f7274616c0001 // "portal" 1
	sweepLock   = 0x706f7274616c0002
)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as pgx reads it) and brings its schema up to date. A database
// whose schema is newer than this portal knows is refused. now is the clock
// session deadlines are kept on.
func Open(ctx context.Context, dsn string, now func() time.Time, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: the database URL: %w", redact(err))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	// No statement of the portal's runs this long; a stuck one must not hold a request forever.
	if _, ok := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !ok {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = "60000"
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "openrestore-portal"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", redact(err))
	}
	if err := checkServer(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	if o.Replica == "" {
		o.Replica = "replica-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	s := &Store{
		Store: sqlstore.New(conn{q: pool, pool: pool}, sqlstore.Dialect{Name: "postgres", SkipLocked: " FOR UPDATE SKIP LOCKED", ForUpdate: " FOR UPDATE",
			Serialize: `SELECT pg_advisory_xact_lock(?)`,
			LongRead:  "SET LOCAL statement_timeout = 0"}, now),
		pool: pool, now: now, housekeeping: sqlstore.NewSweeper(), owner: o.Replica,
	}
	if err := s.live(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if o.Sweep > 0 {
		// One replica sweeps: the one that holds the sweeper's lock; when it
		// dies, another takes the lock.
		s.housekeeping.Every(o.Sweep, func(ctx context.Context) {
			if s.holdSweeper(ctx) {
				s.DeleteExpired(ctx)
			}
		})
	}
	return s, nil
}

// checkServer refuses servers older than the schema needs.
func checkServer(ctx context.Context, pool *pgxpool.Pool) error {
	var v string
	if err := pool.QueryRow(ctx, `SHOW server_version_num`).Scan(&v); err != nil {
		return fmt.Errorf("postgres: connect: %w", redact(err))
	}
	if n, err := strconv.Atoi(v); err != nil || n < 130000 {
		return fmt.Errorf("postgres: the server is version %s; the portal needs PostgreSQL 13 or later", v)
	}
	return nil
}

// redact removes a password from an error that quotes a connection string.
func redact(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "password="); i >= 0 {
		end := strings.IndexAny(msg[i:], " '\"")
		if end < 0 {
			end = len(msg) - i
		}
		msg = msg[:i] + "password=xxxxx" + msg[i+end:]
	}
	return errors.New(msg)
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Alone reports whether no other replica is alive: every other listed
// replica's lock is free (it died), or none is listed.
func (s *Store) Alone(ctx context.Context) (bool, error) {
	var alive int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM replicas WHERE owner <> $1 AND NOT pg_try_advisory_xact_lock(lock_key)`,
			s.owner).Scan(&alive)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: the other replicas: %w", err)
	}
	return alive == 0, nil
}

// Close stops the sweep, lets go of this replica's restores and locks and
// closes the pool; later calls do nothing.
func (s *Store) Close() error {
	if !s.housekeeping.Stop() {
		return errors.New("postgres: closed already")
	}
	s.mu.Lock()
	if s.life != nil {
		// A goodbye: the others take its restores over at once.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.Store.Release(ctx, s.owner)
		s.life.Exec(ctx, `DELETE FROM replicas WHERE owner = $1`, s.owner)
		s.life.Close(ctx)
		cancel()
		s.life = nil
	}
	s.mu.Unlock()
	s.pool.Close()
	return nil
}

// Exec runs a statement directly, for tests that check what the schema refuses.
func (s *Store) Exec(ctx context.Context, query string) error {
	_, err := s.pool.Exec(ctx, query)
	return err
}

// Due claims the restores the watcher must look at now, after taking over
// those of replicas that died. The replica's lock stands for the owner
// named in Options.Replica: restores claimed under another name are
// taken over only when their lease runs out.
func (s *Store) Due(ctx context.Context, owner string, now, lease time.Time, limit int) ([]restore.Record, error) {
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	if err := s.takeOverDead(ctx, owner); err != nil {
		return nil, err
	}
	return s.Store.Due(ctx, owner, now, lease, limit)
}

// lockKey is the advisory lock that says a replica lives.
func lockKey(owner string) int64 {
	h := fnv.New64a()
	h.Write([]byte("openrestore-portal-replica\x00" + owner))
	return int64(h.Sum64())
}

// live makes sure this replica holds its lock, on a connection of its own
// outside the pool, and is listed among the replicas.
func (s *Store) live(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner := s.owner
	if s.life != nil && !s.life.IsClosed() {
		return nil
	}
	if s.life != nil {
		s.life.Close(ctx)
		s.life = nil
	}
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	c := pc.Hijack()
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey(owner)); err != nil {
		c.Close(ctx)
		return fmt.Errorf("postgres: the replica's lock: %w", err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO replicas (owner, lock_key, started_ms) VALUES ($1, $2, $3)
		ON CONFLICT (owner) DO NOTHING`, owner, lockKey(owner), s.now().UnixMilli()); err != nil {
		c.Close(ctx)
		return fmt.Errorf("postgres: list the replica: %w", err)
	}
	s.life, s.sweeper = c, false
	return nil
}

// deadEvery is how often a replica looks for replicas that died.
const deadEvery = time.Second

// takeOverDead frees the restores of replicas whose lock is gone: a lock
// this replica can take is one nobody holds. Their running restores are
// due to be looked at at once; their intents will never get the backup
// server's answer recorded, so they are due as unconfirmed at once.
func (s *Store) takeOverDead(ctx context.Context, owner string) error {
	s.mu.Lock()
	if s.now().Sub(s.lastDead) < deadEvery {
		s.mu.Unlock()
		return nil
	}
	s.lastDead = s.now()
	s.mu.Unlock()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT owner FROM replicas WHERE owner <> $1 AND pg_try_advisory_xact_lock(lock_key)`, owner)
		if err != nil {
			return err
		}
		dead, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(dead) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE restore_records SET lease_owner = '', lease_ms = 0
			WHERE lease_owner = ANY($1) AND state IN ('pending', 'running')`, dead); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM replicas WHERE owner = ANY($1)`, dead)
		return err
	})
}

// holdSweeper reports whether this replica is the sweeper, trying to become it.
func (s *Store) holdSweeper(ctx context.Context) bool {
	if err := s.live(ctx); err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sweeper {
		return true
	}
	var got bool
	if err := s.life.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(sweepLock)).Scan(&got); err != nil {
		return false
	}
	s.sweeper = got
	return got
}

// Sweeping reports whether this replica is the one that sweeps.
func (s *Store) Sweeping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweeper && s.life != nil && !s.life.IsClosed()
}

// conn is sqlstore.DB on pgx: ? placeholders become $1, $2, ….
type conn struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
	pool *pgxpool.Pool // nil inside a transaction
}

// numbered caches the rewritten statements.
var numbered sync.Map

func placeholders(q string) string {
	if v, ok := numbered.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	numbered.Store(q, b.String())
	return b.String()
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, placeholders(query), args...)
	if err != nil {
		return 0, driverErrors.Translate(err)
	}
	return tag.RowsAffected(), nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return driverErrors.Row(c.q.QueryRow(ctx, placeholders(query), args...).Scan)
}

func (c conn) Query(ctx context.Context, query string, args []any, each func(sqlstore.Row) error) error {
	rows, err := c.q.Query(ctx, placeholders(query), args...)
	if err != nil {
		return driverErrors.Translate(err)
	}
	defer rows.Close()
	return driverErrors.Each(rows, each)
}

func (c conn) Tx(ctx context.Context, fn func(sqlstore.DB) error) error {
	if c.pool == nil {
		return fn(c) // already in one
	}
	return driverErrors.Translate(pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error { return fn(conn{q: tx}) }))
}

var driverErrors = sqlstore.Errors{
	NoRows: pgx.ErrNoRows,
	Duplicate: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
	},
}
