// Package audit is the portal's audit trail: every restore, download and
// export a user attempted, with who did it, for whom, what, with which
// options and reason, and how it ended — refusals and failures included.
// Records are append-only: the application never updates or deletes one, and
// the database refuses it (triggers). Tokens are never recorded.
package audit

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Outcomes.
const (
	Started   = "started"   // VB365 accepted a restore; its result comes later
	Succeeded = "succeeded" // a download or export that was sent whole
	Failed    = "failed"    // VB365 or the network failed
	Denied    = "denied"    // not in the user's scope, or not allowed by VB365
	Refused   = "refused"   // the request was not valid
	Cancelled = "cancelled" // the browser went away during a download
)

// Item is one thing acted on.
type Item struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Event is one audited attempt.
type Event struct {
	ID        int64
	Time      time.Time
	TenantID  string
	ActorOID  string
	ActorUPN  string
	ActorName string
	Subject   string // on whose behalf: the mailbox, OneDrive or site
	SubjectID string
	Workload  string // exchange, onedrive, sharepoint, teams
	Action    string // restore, download, export
	Items     []Item
	ItemCount int
	Options   string
	Reason    string
	SessionID string // the VB365 restore session of a restore
	Outcome   string
	Detail    string // why it was refused or failed
}

// Store keeps events in SQLite.
type Store struct{ db *sql.DB }

// New creates the table and the triggers that keep it append-only.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	_, err := db.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS audit_events (
			id          INTEGER PRIMARY KEY AUTOINCREMENT,
			at_ms       INTEGER NOT NULL,
			tenant_id   TEXT NOT NULL,
			actor_oid   TEXT NOT NULL,
			actor_upn   TEXT NOT NULL,
			actor_name  TEXT NOT NULL,
			subject     TEXT NOT NULL,
			subject_id  TEXT NOT NULL,
			workload    TEXT NOT NULL,
			action      TEXT NOT NULL,
			items       TEXT NOT NULL,
			item_count  INTEGER NOT NULL,
			options     TEXT NOT NULL,
			reason      TEXT NOT NULL,
			session_id  TEXT NOT NULL,
			outcome     TEXT NOT NULL,
			detail      TEXT NOT NULL
		);
		CREATE INDEX IF NOT EXISTS audit_at ON audit_events (at_ms DESC);
		CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
			BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
		CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
			BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;`)
	if err != nil {
		return nil, fmt.Errorf("audit: create table: %w", err)
	}
	return &Store{db: db}, nil
}

// maxItems caps the items kept by name in one event; the count is always whole.
const maxItems = 1000

// Append records an event.
func (s *Store) Append(ctx context.Context, e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.ItemCount == 0 {
		e.ItemCount = len(e.Items)
	}
	items := e.Items
	if len(items) > maxItems {
		items = items[:maxItems]
	}
	if items == nil {
		items = []Item{}
	}
	raw, err := json.Marshal(items)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO audit_events
		(at_ms, tenant_id, actor_oid, actor_upn, actor_name, subject, subject_id, workload, action, items, item_count,
		 options, reason, session_id, outcome, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Time.UnixMilli(), e.TenantID, e.ActorOID, e.ActorUPN, e.ActorName, e.Subject, e.SubjectID, e.Workload, e.Action,
		string(raw), e.ItemCount, e.Options, e.Reason, e.SessionID, e.Outcome, e.Detail)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// Filter narrows a search of the trail. Text fields match case-insensitively
// anywhere in the actor's name, account or id (Actor) or the subject's name
// or id (Subject); empty fields match everything.
type Filter struct {
	Actor    string
	Subject  string
	Workload string
	Outcome  string
	From, To time.Time // From inclusive, To exclusive; zero: open
	Offset   int
	Limit    int // 0: no limit
}

func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	like := func(s string) string {
		return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(s)) + "%"
	}
	if f.Actor != "" {
		conds = append(conds, `(lower(actor_name) LIKE ? ESCAPE '\' OR lower(actor_upn) LIKE ? ESCAPE '\' OR lower(actor_oid) LIKE ? ESCAPE '\')`)
		args = append(args, like(f.Actor), like(f.Actor), like(f.Actor))
	}
	if f.Subject != "" {
		conds = append(conds, `(lower(subject) LIKE ? ESCAPE '\' OR lower(subject_id) LIKE ? ESCAPE '\')`)
		args = append(args, like(f.Subject), like(f.Subject))
	}
	if f.Workload != "" {
		conds = append(conds, "workload = ?")
		args = append(args, f.Workload)
	}
	if f.Outcome != "" {
		conds = append(conds, "outcome = ?")
		args = append(args, f.Outcome)
	}
	if !f.From.IsZero() {
		conds = append(conds, "at_ms >= ?")
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		conds = append(conds, "at_ms < ?")
		args = append(args, f.To.UnixMilli())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Count returns how many events match.
func (s *Store) Count(ctx context.Context, f Filter) (int, error) {
	where, args := f.where()
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM audit_events"+where, args...).Scan(&n)
	return n, err
}

// Find calls fn with each matching event, newest first.
func (s *Store) Find(ctx context.Context, f Filter, fn func(Event) error) error {
	where, args := f.where()
	q := `SELECT id, at_ms, tenant_id, actor_oid, actor_upn, actor_name, subject, subject_id, workload, action, items, item_count,
		options, reason, session_id, outcome, detail FROM audit_events` + where + " ORDER BY at_ms DESC, id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("audit: find: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Event
		var at int64
		var items string
		if err := rows.Scan(&e.ID, &at, &e.TenantID, &e.ActorOID, &e.ActorUPN, &e.ActorName, &e.Subject, &e.SubjectID, &e.Workload,
			&e.Action, &items, &e.ItemCount, &e.Options, &e.Reason, &e.SessionID, &e.Outcome, &e.Detail); err != nil {
			return err
		}
		e.Time = time.UnixMilli(at).UTC()
		_ = json.Unmarshal([]byte(items), &e.Items)
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CSVHeader is the first row of an export.
var CSVHeader = []string{"time_utc", "actor_name", "actor_upn", "actor_oid", "tenant_id", "on_behalf_of", "on_behalf_of_id",
	"workload", "action", "item_count", "items", "options", "reason", "vb365_session", "outcome", "detail"}

// CSVWriter writes events as CSV. Cells that a spreadsheet would take for a
// formula (starting with =, +, -, @, tab or carriage return) are prefixed
// with an apostrophe: backed-up names are hostile input.
type CSVWriter struct{ w *csv.Writer }

// NewCSVWriter writes the header row.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	c := &CSVWriter{w: csv.NewWriter(w)}
	return c, c.w.Write(CSVHeader)
}

// Write writes one event.
func (c *CSVWriter) Write(e Event) error {
	names := make([]string, len(e.Items))
	for i, it := range e.Items {
		names[i] = it.Name
	}
	row := []string{e.Time.UTC().Format(time.RFC3339), e.ActorName, e.ActorUPN, e.ActorOID, e.TenantID, e.Subject, e.SubjectID,
		e.Workload, e.Action, fmt.Sprint(max(e.ItemCount, len(e.Items))), strings.Join(names, "; "), e.Options, e.Reason, e.SessionID, e.Outcome, e.Detail}
	for i, cell := range row {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			row[i] = "'" + cell
		}
	}
	return c.w.Write(row)
}

// Flush writes what is buffered.
func (c *CSVWriter) Flush() error { c.w.Flush(); return c.w.Error() }
