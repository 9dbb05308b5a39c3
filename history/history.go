// Package history keeps the restores users started: who, when, what, with
// which options and reason, and how each ended. It backs "My restores" and
// lets a user come back to a restore after signing out and in again. Records
// are keyed by the user's (tenant id, object id); one user never sees
// another's.
package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound: no such record for this user.
var ErrNotFound = errors.New("history: not found")

// Record is one restore.
type Record struct {
	ID       string // the VB365 restore session id
	TenantID string
	UserOID  string
	UserUPN  string
	Workload string // exchange, onedrive, sharepoint, teams
	Source   string // what was restored from, e.g. the mailbox's name
	SourceID string
	Items    int
	Target   string // "original location" or the new folder's name
	Options  string // a readable summary of the options chosen
	Reason   string
	// ForOthers: the data was not the user's own (someone else's mailbox or
	// OneDrive, a site, or a restore made for someone chosen on the scope page).
	ForOthers bool
	PointTime time.Time
	Started   time.Time
	// Set once the restore has ended.
	Finished *time.Time
	Result   string // Success, Warning, Failed
	Restored int
	Skipped  int
	Failed   int
}

// Store keeps records in SQLite.
type Store struct{ db *sql.DB }

// New creates the table if needed.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	_, err := db.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS restores (
			id         TEXT PRIMARY KEY,
			tenant_id  TEXT NOT NULL,
			user_oid   TEXT NOT NULL,
			user_upn   TEXT NOT NULL,
			workload   TEXT NOT NULL,
			source     TEXT NOT NULL,
			source_id  TEXT NOT NULL,
			items      INTEGER NOT NULL,
			target     TEXT NOT NULL,
			options    TEXT NOT NULL,
			reason     TEXT NOT NULL,
			point_ms   INTEGER NOT NULL,
			started_ms INTEGER NOT NULL,
			finished_ms INTEGER,
			result     TEXT NOT NULL DEFAULT '',
			restored   INTEGER NOT NULL DEFAULT 0,
			skipped    INTEGER NOT NULL DEFAULT 0,
			failed     INTEGER NOT NULL DEFAULT 0
		);
		CREATE INDEX IF NOT EXISTS restores_user ON restores (tenant_id, user_oid, started_ms DESC);`)
	if err != nil {
		return nil, fmt.Errorf("history: create table: %w", err)
	}
	// Added after the first release: databases made before lack it.
	var has int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('restores') WHERE name = 'for_others'`).Scan(&has); err != nil {
		return nil, fmt.Errorf("history: inspect table: %w", err)
	}
	if has == 0 {
		if _, err := db.ExecContext(ctx, `ALTER TABLE restores ADD COLUMN for_others INTEGER NOT NULL DEFAULT 0`); err != nil {
			return nil, fmt.Errorf("history: add for_others: %w", err)
		}
	}
	return &Store{db: db}, nil
}

// Add records a restore that has just started.
func (s *Store) Add(ctx context.Context, r Record) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO restores
		(id, tenant_id, user_oid, user_upn, workload, source, source_id, items, target, options, reason, point_ms, started_ms, for_others)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.TenantID, r.UserOID, r.UserUPN, r.Workload, r.Source, r.SourceID, r.Items, r.Target, r.Options, r.Reason,
		r.PointTime.UnixMilli(), r.Started.UnixMilli(), r.ForOthers)
	if err != nil {
		return fmt.Errorf("history: add: %w", err)
	}
	return nil
}

// Finish records how a restore ended and reports whether this call did: a
// record that has ended keeps its first ending.
func (s *Store) Finish(ctx context.Context, id string, at time.Time, result string, restored, skipped, failed int) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE restores SET finished_ms = ?, result = ?, restored = ?, skipped = ?, failed = ?
		WHERE id = ? AND finished_ms IS NULL`, at.UnixMilli(), result, restored, skipped, failed, id)
	if err != nil {
		return false, fmt.Errorf("history: finish: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("history: finish: %w", err)
	}
	return n == 1, nil
}

const columns = `id, tenant_id, user_oid, user_upn, workload, source, source_id, items, target, options, reason,
	point_ms, started_ms, finished_ms, result, restored, skipped, failed, for_others`

func scan(row interface{ Scan(...any) error }) (Record, error) {
	var r Record
	var point, started int64
	var finished sql.NullInt64
	err := row.Scan(&r.ID, &r.TenantID, &r.UserOID, &r.UserUPN, &r.Workload, &r.Source, &r.SourceID, &r.Items, &r.Target,
		&r.Options, &r.Reason, &point, &started, &finished, &r.Result, &r.Restored, &r.Skipped, &r.Failed, &r.ForOthers)
	if err != nil {
		return r, err
	}
	r.PointTime, r.Started = time.UnixMilli(point).UTC(), time.UnixMilli(started).UTC()
	if finished.Valid {
		t := time.UnixMilli(finished.Int64).UTC()
		r.Finished = &t
	}
	return r, nil
}

// Get returns the user's record with this id.
func (s *Store) Get(ctx context.Context, tenantID, userOID, id string) (Record, error) {
	r, err := scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM restores WHERE id = ? AND tenant_id = ? AND user_oid = ?`,
		id, tenantID, userOID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("history: get: %w", err)
	}
	return r, nil
}

// Statuses a list can be filtered by.
const (
	StatusRunning   = "running"   // not known to have ended
	StatusSucceeded = "succeeded" // ended, every item restored or skipped
	StatusProblems  = "problems"  // ended with a warning, a failure or failed items
)

// Filter narrows a user's list; zero fields match everything.
type Filter struct {
	Workload string
	Status   string
	Whose    string    // "own", "others" or ""
	From, To time.Time // started in [From, To)
}

// List returns a page of the user's records matching f, newest first, and whether more follow.
func (s *Store) List(ctx context.Context, tenantID, userOID string, f Filter, offset, limit int) ([]Record, bool, error) {
	q := `SELECT ` + columns + ` FROM restores WHERE tenant_id = ? AND user_oid = ?`
	args := []any{tenantID, userOID}
	if f.Workload != "" {
		q += " AND workload = ?"
		args = append(args, f.Workload)
	}
	switch f.Status {
	case StatusRunning:
		q += " AND finished_ms IS NULL"
	case StatusSucceeded:
		q += " AND finished_ms IS NOT NULL AND result = 'Success' AND failed = 0"
	case StatusProblems:
		q += " AND finished_ms IS NOT NULL AND (result <> 'Success' OR failed > 0)"
	}
	switch f.Whose {
	case "own":
		q += " AND for_others = 0"
	case "others":
		q += " AND for_others = 1"
	}
	if !f.From.IsZero() {
		q += " AND started_ms >= ?"
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		q += " AND started_ms < ?"
		args = append(args, f.To.UnixMilli())
	}
	q += " ORDER BY started_ms DESC, id LIMIT ? OFFSET ?"
	rows, err := s.db.QueryContext(ctx, q, append(args, limit+1, offset)...)
	if err != nil {
		return nil, false, fmt.Errorf("history: list: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, false, fmt.Errorf("history: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("history: list: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}
