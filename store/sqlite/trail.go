package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/openrestore/portal/audit"
)

// Append records an audit event. The table's triggers refuse any update or
// deletion: the trail is append-only.
func (s *Store) Append(ctx context.Context, e audit.Event) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return appendEvent(ctx, tx, e) })
}

func appendEvent(ctx context.Context, tx *sql.Tx, e audit.Event) error {
	if e.Time.IsZero() {
		return fmt.Errorf("sqlite: audit event of %s without a time", e.Action)
	}
	if e.ItemCount == 0 {
		e.ItemCount = len(e.Items)
	}
	raw, err := itemsJSON(e.Items)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_events
		(at_ms, tenant_id, actor_oid, actor_upn, actor_name, subject, subject_id, workload, action, items, item_count,
		 options, reason, restore_id, session_id, outcome, detail, restored, skipped, failed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Time.UnixMilli(), e.TenantID, e.ActorOID, e.ActorUPN, e.ActorName, e.Subject, e.SubjectID, e.Workload, e.Action,
		raw, e.ItemCount, e.Options, e.Reason, e.RestoreID, e.SessionID, e.Outcome, e.Detail, e.Restored, e.Skipped, e.Failed)
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	return nil
}

func where(f audit.Filter) (string, []any) {
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
func (s *Store) Count(ctx context.Context, f audit.Filter) (int, error) {
	w, args := where(f)
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM audit_events"+w, args...).Scan(&n)
	return n, err
}

// Find calls fn with each matching event, newest first.
func (s *Store) Find(ctx context.Context, f audit.Filter, fn func(audit.Event) error) error {
	w, args := where(f)
	q := `SELECT id, at_ms, tenant_id, actor_oid, actor_upn, actor_name, subject, subject_id, workload, action, items, item_count,
		options, reason, restore_id, session_id, outcome, detail, restored, skipped, failed FROM audit_events` + w +
		" ORDER BY at_ms DESC, id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e audit.Event
		var when int64
		var items string
		if err := rows.Scan(&e.ID, &when, &e.TenantID, &e.ActorOID, &e.ActorUPN, &e.ActorName, &e.Subject, &e.SubjectID, &e.Workload,
			&e.Action, &items, &e.ItemCount, &e.Options, &e.Reason, &e.RestoreID, &e.SessionID, &e.Outcome, &e.Detail,
			&e.Restored, &e.Skipped, &e.Failed); err != nil {
			return err
		}
		e.Time = at(when)
		_ = json.Unmarshal([]byte(items), &e.Items)
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// itemsJSON is how items are kept: the first audit.MaxItems of them, as JSON.
func itemsJSON(items []audit.Item) (string, error) {
	if len(items) > audit.MaxItems {
		items = items[:audit.MaxItems]
	}
	if items == nil {
		items = []audit.Item{}
	}
	b, err := json.Marshal(items)
	return string(b), err
}
