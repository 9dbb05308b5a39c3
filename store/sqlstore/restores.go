package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
)

const recordColumns = `id, submission, part, tenant_id, user_oid, user_upn, user_name, workload, source, source_id, items, item_count,
	target, options, reason, for_others, point_ms, state, session_id, requested_ms, started_ms, ended_ms, result,
	restored, skipped, failed, detail, grant_id`

func scanRecord(row Row) (restore.Record, error) {
	var r restore.Record
	var point, requested, started, ended int64
	var state, result, items string
	err := row.Scan(&r.ID, &r.Submission, &r.Part, &r.TenantID, &r.UserOID, &r.UserUPN, &r.UserName, &r.Workload, &r.Source,
		&r.SourceID, &items, &r.ItemCount, &r.Target, &r.Options, &r.Reason, &r.ForOthers, &point, &state, &r.SessionID, &requested,
		&started, &ended, &result, &r.Restored, &r.Skipped, &r.Failed, &r.Detail, &r.GrantID)
	r.PointTime, r.Requested, r.Started, r.Ended = at(point), at(requested), at(started), at(ended)
	r.State, r.Result = restore.State(state), restore.Result(result)
	if err == nil {
		err = json.Unmarshal([]byte(items), &r.Items)
	}
	return r, err
}

// Intend records restores before the backup server is asked to start them.
// The submission's unique key decides between two intents at once.
func (s *Store) Intend(ctx context.Context, rs []restore.Record, owner string, lease time.Time, events []audit.Event) error {
	if len(rs) == 0 {
		return s.errorf("intend: no restore")
	}
	err := s.db.Tx(ctx, func(tx DB) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM restore_records WHERE tenant_id = ? AND user_oid = ? AND submission = ?`,
			rs[0].TenantID, rs[0].UserOID, rs[0].Submission).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.ErrSubmitted
		}
		for _, r := range rs {
			raw, err := itemsJSON(r.Items)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO restore_records (`+recordColumns+`, lease_owner, lease_ms)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.ID, r.Submission, r.Part, r.TenantID, r.UserOID, r.UserUPN, r.UserName, r.Workload, r.Source, r.SourceID,
				raw, r.ItemCount, r.Target, r.Options, r.Reason, r.ForOthers, ms(r.PointTime), string(restore.Pending), "",
				ms(r.Requested), 0, 0, "", 0, 0, 0, "", r.GrantID, owner, ms(lease))
			if err != nil {
				return err
			}
		}
		for _, e := range events {
			if err := appendEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrSubmitted), errors.Is(err, ErrDuplicate):
		return store.ErrSubmitted
	case err != nil:
		return s.errorf("intend: %w", err)
	}
	return nil
}

// change runs one update of a restore with the audit event that tells of it.
func (s *Store) change(ctx context.Context, ev audit.Event, query string, args ...any) error {
	return s.db.Tx(ctx, func(tx DB) error {
		if err := one(tx.Exec(ctx, query, args...)); err != nil {
			return err
		}
		return appendEvent(ctx, tx, ev)
	})
}

// Start records that the backup server accepted a restore.
func (s *Store) Start(ctx context.Context, id, sessionID string, started, next time.Time, ev audit.Event) error {
	return s.change(ctx, ev, `UPDATE restore_records SET state = 'running', session_id = ?, started_ms = ?, next_ms = ?,
		lease_owner = '', lease_ms = 0, ended_ms = 0, detail = '' WHERE id = ? AND state IN ('pending', 'unconfirmed')`,
		sessionID, ms(started), ms(next), id)
}

// Refuse records that the backup server did not start a restore.
func (s *Store) Refuse(ctx context.Context, id string, when time.Time, detail string, ev audit.Event) error {
	return s.change(ctx, ev, `UPDATE restore_records SET state = 'refused', ended_ms = ?, detail = ?, lease_owner = '', lease_ms = 0,
		noticed = true WHERE id = ? AND state = 'pending'`, ms(when), detail, id)
}

// Unconfirm records that an intent's lease ran out before the backup server's answer was recorded.
func (s *Store) Unconfirm(ctx context.Context, id string, when time.Time, detail string, ev audit.Event) error {
	return s.change(ctx, ev, `UPDATE restore_records SET state = 'unconfirmed', ended_ms = ?, detail = ?, lease_owner = '', lease_ms = 0
		WHERE id = ? AND state = 'pending'`, ms(when), detail, id)
}

// End records how a running restore ended, once: of two replicas ending it
// at once, the second finds it ended and changes nothing.
func (s *Store) End(ctx context.Context, r restore.Record, ev audit.Event) error {
	return s.change(ctx, ev, `UPDATE restore_records SET state = 'ended', ended_ms = ?, result = ?, restored = ?, skipped = ?,
		failed = ?, detail = ?, lease_owner = '', lease_ms = 0 WHERE id = ? AND state = 'running'`,
		ms(r.Ended), string(r.Result), r.Restored, r.Skipped, r.Failed, r.Detail, r.ID)
}

// Get returns the user's restore with this id.
func (s *Store) Get(ctx context.Context, tenantID, userOID, id string) (restore.Record, error) {
	r, err := scanRecord(s.db.QueryRow(ctx, `SELECT `+recordColumns+` FROM restore_records
		WHERE id = ? AND tenant_id = ? AND user_oid = ?`, id, tenantID, userOID))
	if errors.Is(err, ErrNoRows) {
		return r, store.ErrNotFound
	}
	if err != nil {
		return r, s.errorf("get restore: %w", err)
	}
	return r, nil
}

// Submitted returns the user's restores of a submission, by part.
func (s *Store) Submitted(ctx context.Context, tenantID, userOID, submission string) ([]restore.Record, error) {
	return s.records(ctx, s.db, `SELECT `+recordColumns+` FROM restore_records WHERE tenant_id = ? AND user_oid = ? AND submission = ?
		ORDER BY part`, tenantID, userOID, submission)
}

func (s *Store) records(ctx context.Context, db DB, q string, args ...any) ([]restore.Record, error) {
	var out []restore.Record
	err := db.Query(ctx, q, args, func(row Row) error {
		r, err := scanRecord(row)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, s.errorf("restores: %w", err)
	}
	return out, nil
}

// List returns a page of the user's restores matching f, newest first.
func (s *Store) List(ctx context.Context, tenantID, userOID string, f store.Filter, offset, limit int) ([]restore.Record, bool, error) {
	conds := []string{"tenant_id = ?", "user_oid = ?"}
	args := []any{tenantID, userOID}
	if f.Workload != "" {
		conds = append(conds, "workload = ?")
		args = append(args, f.Workload)
	}
	switch f.Status {
	case store.StatusRunning:
		conds = append(conds, "state IN ('pending', 'running')")
	case store.StatusSucceeded:
		conds = append(conds, "state = 'ended' AND result = 'Success' AND failed = 0")
	case store.StatusProblems:
		conds = append(conds, "(state IN ('refused', 'unconfirmed') OR (state = 'ended' AND (result <> 'Success' OR failed > 0)))")
	}
	switch f.Whose {
	case "own":
		conds = append(conds, "NOT for_others")
	case "others":
		conds = append(conds, "for_others")
	}
	if !f.From.IsZero() {
		conds = append(conds, "requested_ms >= ?")
		args = append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "requested_ms < ?")
		args = append(args, ms(f.To))
	}
	out, err := s.records(ctx, s.db, `SELECT `+recordColumns+` FROM restore_records WHERE `+strings.Join(conds, " AND ")+`
		ORDER BY requested_ms DESC, part, id LIMIT ? OFFSET ?`, append(args, limit+1, offset)...)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// Due claims the restores the watcher must look at now. Rows another
// replica is claiming at this moment are skipped, not waited for.
func (s *Store) Due(ctx context.Context, owner string, now, lease time.Time, limit int) ([]restore.Record, error) {
	out, err := s.claim(ctx, `UPDATE restore_records SET lease_owner = ?, lease_ms = ? WHERE id IN (
			SELECT id FROM restore_records WHERE
				(state = 'pending' AND lease_ms <= ?) OR
				(state = 'running' AND next_ms <= ? AND (lease_owner IN ('', ?) OR lease_ms <= ?))
			ORDER BY next_ms LIMIT ?`+s.d.SkipLocked+`)
		RETURNING `+recordColumns,
		owner, ms(lease), ms(now), ms(now), owner, ms(now), limit)
	if err != nil {
		return nil, s.errorf("due restores: %w", err)
	}
	return out, nil
}

// claim runs an UPDATE … RETURNING of restores in a transaction and reads them.
func (s *Store) claim(ctx context.Context, query string, args ...any) ([]restore.Record, error) {
	var out []restore.Record
	err := s.db.Tx(ctx, func(tx DB) error {
		var err error
		out, err = s.records(ctx, tx, query, args...)
		return err
	})
	return out, err
}

// Looked records when to look at a running restore again and lets go of it.
func (s *Store) Looked(ctx context.Context, id string, next time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE restore_records SET next_ms = ?, lease_owner = '', lease_ms = 0
		WHERE id = ? AND state = 'running'`, ms(next), id)
	if err != nil {
		return s.errorf("looked: %w", err)
	}
	return nil
}

// Watched counts the running restores watched with a grant.
func (s *Store) Watched(ctx context.Context, grantID string) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM restore_records WHERE grant_id = ? AND state IN ('pending', 'running')`,
		grantID).Scan(&n)
	if err != nil {
		return 0, s.errorf("watched: %w", err)
	}
	return n, nil
}

// Notices claims the ended restores the user has not been told of.
func (s *Store) Notices(ctx context.Context, tenantID, userOID string, since time.Time, limit int) ([]restore.Record, error) {
	out, err := s.claim(ctx, `UPDATE restore_records SET noticed = true WHERE id IN (
			SELECT id FROM restore_records WHERE tenant_id = ? AND user_oid = ? AND NOT noticed
				AND state IN ('ended', 'unconfirmed') AND requested_ms >= ?
			ORDER BY ended_ms LIMIT ?`+s.d.SkipLocked+`)
		RETURNING `+recordColumns, tenantID, userOID, ms(since), limit)
	if err != nil {
		return nil, s.errorf("notices: %w", err)
	}
	return out, nil
}

// Noticed marks a restore the user has seen end.
func (s *Store) Noticed(ctx context.Context, tenantID, userOID, id string) error {
	_, err := s.db.Exec(ctx, `UPDATE restore_records SET noticed = true WHERE id = ? AND tenant_id = ? AND user_oid = ?
		AND NOT noticed AND state IN ('ended', 'unconfirmed', 'refused')`, id, tenantID, userOID)
	if err != nil {
		return s.errorf("noticed: %w", err)
	}
	return nil
}

// Release lets go of the running restores owner holds.
func (s *Store) Release(ctx context.Context, owner string) error {
	_, err := s.db.Exec(ctx, `UPDATE restore_records SET lease_owner = '', lease_ms = 0
		WHERE lease_owner = ? AND state = 'running'`, owner)
	if err != nil {
		return s.errorf("release: %w", err)
	}
	return nil
}
