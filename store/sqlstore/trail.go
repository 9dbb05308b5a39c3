package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/openrestore/portal/audit"
)

// Append records an audit event. The table's triggers refuse any update or
// deletion: the trail is append-only.
func (s *Store) Append(ctx context.Context, e audit.Event) error {
	if err := appendEvent(ctx, s.db, e); err != nil {
		return s.errorf("audit: %w", err)
	}
	return nil
}

func appendEvent(ctx context.Context, db DB, e audit.Event) error {
	if e.Time.IsZero() {
		return fmt.Errorf("an audit event of %s without a time", e.Action)
	}
	if e.ItemCount == 0 {
		e.ItemCount = len(e.Items)
	}
	raw, err := itemsJSON(e.Items)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `INSERT INTO audit_events
		(at_ms, tenant_id, actor_oid, actor_upn, actor_name, subject, subject_id, workload, action, items, item_count,
		 options, reason, restore_id, session_id, outcome, detail, restored, skipped, failed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Time.UnixMilli(), e.TenantID, e.ActorOID, e.ActorUPN, e.ActorName, e.Subject, e.SubjectID, e.Workload, e.Action,
		raw, e.ItemCount, e.Options, e.Reason, e.RestoreID, e.SessionID, e.Outcome, e.Detail, e.Restored, e.Skipped, e.Failed)
	return err
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
	if c := f.Before; c != nil {
		conds = append(conds, "(at_ms, id) < (?, ?)") // a row value: the (at_ms, id) index serves it
		args = append(args, c.At.UnixMilli(), c.ID)
	}
	if c := f.After; c != nil {
		conds = append(conds, "(at_ms, id) > (?, ?)")
		args = append(args, c.At.UnixMilli(), c.ID)
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
	if err := s.db.QueryRow(ctx, "SELECT count(*) FROM audit_events"+w, args...).Scan(&n); err != nil {
		return 0, s.errorf("count audit events: %w", err)
	}
	return n, nil
}

// Find calls fn with each matching event, newest first. Without a limit
// it streams the whole trail, for as long as fn takes.
func (s *Store) Find(ctx context.Context, f audit.Filter, fn func(audit.Event) error) error {
	if f.Limit > 0 || s.d.LongRead == "" {
		return s.find(ctx, s.db, f, fn)
	}
	return s.db.Tx(ctx, func(tx DB) error {
		if _, err := tx.Exec(ctx, s.d.LongRead); err != nil {
			return s.errorf("audit: %w", err)
		}
		return s.find(ctx, tx, f, fn)
	})
}

func (s *Store) find(ctx context.Context, db DB, f audit.Filter, fn func(audit.Event) error) error {
	w, args := where(f)
	order := " ORDER BY at_ms DESC, id DESC"
	if f.After != nil && f.Limit > 0 {
		// The page just newer than After: read upwards from it, and give
		// the page newest first all the same.
		var page []audit.Event
		collect := func(e audit.Event) error { page = append(page, e); return nil }
		if err := s.findOrdered(ctx, db, f, w, args, " ORDER BY at_ms ASC, id ASC", collect); err != nil {
			return err
		}
		for i := len(page) - 1; i >= 0; i-- {
			if err := fn(page[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return s.findOrdered(ctx, db, f, w, args, order, fn)
}

func (s *Store) findOrdered(ctx context.Context, db DB, f audit.Filter, w string, args []any, order string, fn func(audit.Event) error) error {
	q := `SELECT id, at_ms, tenant_id, actor_oid, actor_upn, actor_name, subject, subject_id, workload, action, items, item_count,
		options, reason, restore_id, session_id, outcome, detail, restored, skipped, failed FROM audit_events` + w + order
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	var failed error // fn's, passed on as it is
	err := db.Query(ctx, q, args, func(row Row) error {
		var e audit.Event
		var when int64
		var items string
		if err := row.Scan(&e.ID, &when, &e.TenantID, &e.ActorOID, &e.ActorUPN, &e.ActorName, &e.Subject, &e.SubjectID, &e.Workload,
			&e.Action, &items, &e.ItemCount, &e.Options, &e.Reason, &e.RestoreID, &e.SessionID, &e.Outcome, &e.Detail,
			&e.Restored, &e.Skipped, &e.Failed); err != nil {
			return err
		}
		e.Time = at(when)
		_ = json.Unmarshal([]byte(items), &e.Items)
		failed = fn(e)
		return failed
	})
	switch {
	case failed != nil:
		return failed
	case err != nil:
		return s.errorf("audit: %w", err)
	}
	return nil
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
