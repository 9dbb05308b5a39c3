package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/vmaccess"
)

// VMRules returns a tenant's rules.
func (s *Store) VMRules(ctx context.Context, tenantID string) ([]vmaccess.Rule, error) {
	var out []vmaccess.Rule
	err := s.db.Query(ctx, `SELECT id, kind, principal, label, subscription, resource_group, names, source, updated_ms, updated_by
		FROM vm_rules WHERE tenant_id = ? ORDER BY id`, []any{tenantID}, func(row Row) error {
		var r vmaccess.Rule
		var updated int64
		err := row.Scan(&r.ID, &r.Kind, &r.Principal, &r.Label, &r.Subscription, &r.ResourceGroup, &r.Names, &r.Source, &updated, &r.UpdatedBy)
		r.Updated = at(updated)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, s.errorf("VM rules: %w", err)
	}
	return out, nil
}

func putRule(ctx context.Context, db DB, tenantID string, r vmaccess.Rule) error {
	_, err := db.Exec(ctx, `INSERT INTO vm_rules (tenant_id, id, kind, principal, label, subscription, resource_group, names, source,
		updated_ms, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, id) DO UPDATE SET kind = excluded.kind, principal = excluded.principal, label = excluded.label,
		subscription = excluded.subscription, resource_group = excluded.resource_group, names = excluded.names,
		source = excluded.source, updated_ms = excluded.updated_ms, updated_by = excluded.updated_by`,
		tenantID, r.ID, r.Kind, r.Principal, r.Label, r.Subscription, r.ResourceGroup, r.Names, r.Source, ms(r.Updated), r.UpdatedBy)
	return err
}

// PutVMRule adds or replaces a rule, with its audit event.
func (s *Store) PutVMRule(ctx context.Context, tenantID string, r vmaccess.Rule, ev audit.Event) error {
	err := s.db.Tx(ctx, func(tx DB) error {
		if err := putRule(ctx, tx, tenantID, r); err != nil {
			return err
		}
		return appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return s.errorf("put a VM rule: %w", err)
	}
	return nil
}

// DeleteVMRule removes a rule, with its audit event.
func (s *Store) DeleteVMRule(ctx context.Context, tenantID, id string, ev audit.Event) error {
	err := s.db.Tx(ctx, func(tx DB) error {
		n, err := tx.Exec(ctx, `DELETE FROM vm_rules WHERE tenant_id = ? AND id = ?`, tenantID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return appendEvent(ctx, tx, ev)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return err
	case err != nil:
		return s.errorf("remove a VM rule: %w", err)
	}
	return nil
}

// fileRulesKey serializes replicas replacing the file's rules.
const fileRulesKey int64 = 0x766d72756c6573 // "vmrules"

// ReplaceFileRules makes the file's rules these. Replicas starting
// together take turns, so that the change is written (and audited) once.
func (s *Store) ReplaceFileRules(ctx context.Context, tenantID string, rules []vmaccess.Rule, ev audit.Event) (bool, error) {
	changed := false
	err := s.db.Tx(ctx, func(tx DB) error {
		if s.d.Serialize != "" {
			if _, err := tx.Exec(ctx, s.d.Serialize, fileRulesKey); err != nil {
				return err
			}
		}
		held := map[string]vmaccess.Rule{}
		err := tx.Query(ctx, `SELECT id, kind, principal, label, subscription, resource_group, names FROM vm_rules
			WHERE tenant_id = ? AND source = ?`, []any{tenantID, vmaccess.FromFile}, func(row Row) error {
			var r vmaccess.Rule
			err := row.Scan(&r.ID, &r.Kind, &r.Principal, &r.Label, &r.Subscription, &r.ResourceGroup, &r.Names)
			held[r.ID] = r
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rules {
			if old, ok := held[r.ID]; ok && old.Same(r) {
				delete(held, r.ID)
				continue
			}
			delete(held, r.ID)
			r.Source = vmaccess.FromFile
			if err := putRule(ctx, tx, tenantID, r); err != nil {
				return err
			}
			changed = true
		}
		for id := range held {
			if _, err := tx.Exec(ctx, `DELETE FROM vm_rules WHERE tenant_id = ? AND id = ?`, tenantID, id); err != nil {
				return err
			}
			changed = true
		}
		if !changed {
			return nil
		}
		return appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return false, s.errorf("rules from the file: %w", err)
	}
	return changed, nil
}

const flrColumns = `id, tenant_id, user_oid, user_upn, user_name, sid, vm_id, vm_name, windows, point_id, point_ms, reason, state, detail,
	opened_ms, used_ms, ended_ms`

func scanFLR(row Row) (store.FLRSession, error) {
	var f store.FLRSession
	var point, opened, used, ended int64
	err := row.Scan(&f.ID, &f.TenantID, &f.UserOID, &f.UserUPN, &f.UserName, &f.SID, &f.VMID, &f.VMName, &f.Windows, &f.PointID, &point,
		&f.Reason, &f.State, &f.Detail, &opened, &used, &ended)
	f.PointTime, f.Opened, f.LastUsed, f.Ended = at(point), at(opened), at(used), at(ended)
	return f, err
}

// PutFLRSession records a session.
func (s *Store) PutFLRSession(ctx context.Context, f store.FLRSession) error {
	_, err := s.db.Exec(ctx, `INSERT INTO flr_sessions (`+flrColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.TenantID, f.UserOID, f.UserUPN, f.UserName, f.SID, f.VMID, f.VMName, f.Windows, f.PointID, ms(f.PointTime), f.Reason,
		f.State, f.Detail, ms(f.Opened), ms(f.LastUsed), ms(f.Ended))
	if err != nil {
		return s.errorf("record an FLR session: %w", err)
	}
	return nil
}

func (s *Store) flrSession(ctx context.Context, q string, args ...any) (store.FLRSession, error) {
	f, err := scanFLR(s.db.QueryRow(ctx, `SELECT `+flrColumns+` FROM flr_sessions WHERE `+q, args...))
	switch {
	case errors.Is(err, ErrNoRows):
		return f, store.ErrNotFound
	case err != nil:
		return f, s.errorf("FLR session: %w", err)
	}
	return f, nil
}

// FLRSession returns a session.
func (s *Store) FLRSession(ctx context.Context, id string) (store.FLRSession, error) {
	return s.flrSession(ctx, `id = ?`, id)
}

// ReusableFLRSession returns the person's newest open session of a point.
func (s *Store) ReusableFLRSession(ctx context.Context, tenantID, userOID, pointID string) (store.FLRSession, error) {
	return s.flrSession(ctx, `tenant_id = ? AND user_oid = ? AND point_id = ? AND state IN (?, ?) ORDER BY opened_ms DESC LIMIT 1`,
		tenantID, userOID, pointID, store.FLRStarting, store.FLRReady)
}

// FLRSessions lists sessions, newest first.
func (s *Store) FLRSessions(ctx context.Context, f store.FLRFilter) ([]store.FLRSession, error) {
	var cond []string
	var args []any
	if f.Open {
		cond, args = append(cond, `state IN (?, ?, ?)`), append(args, store.FLRStarting, store.FLRReady, store.FLRStopping)
	}
	if f.SID != "" {
		cond, args = append(cond, `sid = ?`), append(args, f.SID)
	}
	if !f.UsedBefore.IsZero() {
		cond, args = append(cond, `used_ms < ?`), append(args, ms(f.UsedBefore))
	}
	q := `SELECT ` + flrColumns + ` FROM flr_sessions`
	if len(cond) > 0 {
		q += ` WHERE ` + strings.Join(cond, ` AND `)
	}
	var out []store.FLRSession
	err := s.db.Query(ctx, q+` ORDER BY opened_ms DESC, id`, args, func(row Row) error {
		x, err := scanFLR(row)
		out = append(out, x)
		return err
	})
	if err != nil {
		return nil, s.errorf("FLR sessions: %w", err)
	}
	return out, nil
}

// MoveFLRSession moves a session from one of the states from to to.
func (s *Store) MoveFLRSession(ctx context.Context, id string, from []string, to, detail string, when time.Time) error {
	ended := int64(0)
	if to == store.FLRStopped || to == store.FLRFailed {
		ended = ms(when)
	}
	args := []any{to, detail, ended, id}
	for _, f := range from {
		args = append(args, f)
	}
	err := one(s.db.Exec(ctx, `UPDATE flr_sessions SET state = ?, detail = ?, ended_ms = ? WHERE id = ? AND state IN (?`+
		strings.Repeat(", ?", len(from)-1)+`)`, args...))
	switch {
	case errors.Is(err, store.ErrChanged):
		return err
	case err != nil:
		return s.errorf("move an FLR session: %w", err)
	}
	return nil
}

// TouchFLRSession records when a session was last used.
func (s *Store) TouchFLRSession(ctx context.Context, id string, when time.Time) error {
	if _, err := s.db.Exec(ctx, `UPDATE flr_sessions SET used_ms = ? WHERE id = ? AND used_ms < ?`, ms(when), id, ms(when)); err != nil {
		return s.errorf("touch an FLR session: %w", err)
	}
	return nil
}
