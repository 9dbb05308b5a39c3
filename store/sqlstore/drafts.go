package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/openrestore/portal/store"
)

// PutDraft saves a wizard's draft.
func (s *Store) PutDraft(ctx context.Context, d store.Draft) error {
	sel, err := json.Marshal(d.Selection)
	if err != nil {
		return err
	}
	form, err := json.Marshal(d.Form)
	if err != nil {
		return err
	}
	problems, err := json.Marshal(d.Problems)
	if err != nil {
		return err
	}
	err = one(s.db.Exec(ctx, `INSERT INTO restore_drafts (key, tenant_id, user_oid, path, selection, form, problems, created_ms, expires_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET form = excluded.form, problems = excluded.problems, expires_ms = excluded.expires_ms
		WHERE restore_drafts.tenant_id = excluded.tenant_id AND restore_drafts.user_oid = excluded.user_oid`,
		d.Key, d.TenantID, d.UserOID, d.Path, string(sel), string(form), string(problems), ms(d.Created), ms(d.Expires)))
	if errors.Is(err, store.ErrChanged) {
		err = store.ErrNotFound // another user's key
	}
	if err != nil {
		return s.errorf("put draft: %w", err)
	}
	return nil
}

// Draft returns the user's unexpired draft with this key.
func (s *Store) Draft(ctx context.Context, tenantID, userOID, key string, now time.Time) (store.Draft, error) {
	d := store.Draft{Key: key, TenantID: tenantID, UserOID: userOID}
	var sel, form, problems string
	var created, expires int64
	err := s.db.QueryRow(ctx, `SELECT path, selection, form, problems, created_ms, expires_ms FROM restore_drafts
		WHERE key = ? AND tenant_id = ? AND user_oid = ? AND expires_ms >= ?`, key, tenantID, userOID, ms(now)).
		Scan(&d.Path, &sel, &form, &problems, &created, &expires)
	if errors.Is(err, ErrNoRows) {
		return d, store.ErrNotFound
	}
	if err != nil {
		return d, s.errorf("draft: %w", err)
	}
	d.Created, d.Expires = at(created), at(expires)
	if err := errors.Join(json.Unmarshal([]byte(sel), &d.Selection), json.Unmarshal([]byte(form), &d.Form),
		json.Unmarshal([]byte(problems), &d.Problems)); err != nil {
		return d, s.errorf("draft: %w", err)
	}
	return d, nil
}

// PutGrant stores a watcher's token pair.
func (s *Store) PutGrant(ctx context.Context, g store.Grant) error {
	_, err := s.db.Exec(ctx, `INSERT INTO restore_grants (id, tenant_id, user_oid, sealed, updated_ms) VALUES (?, ?, ?, ?, ?)`,
		g.ID, g.TenantID, g.UserOID, g.Sealed, ms(g.Updated))
	if err != nil {
		return s.errorf("put grant: %w", err)
	}
	return nil
}

// Grant returns a watcher's token pair.
func (s *Store) Grant(ctx context.Context, id string) (store.Grant, error) {
	g := store.Grant{ID: id}
	var updated int64
	err := s.db.QueryRow(ctx, `SELECT tenant_id, user_oid, sealed, updated_ms FROM restore_grants WHERE id = ?`, id).
		Scan(&g.TenantID, &g.UserOID, &g.Sealed, &updated)
	if errors.Is(err, ErrNoRows) {
		return g, store.ErrNotFound
	}
	if err != nil {
		return g, s.errorf("grant: %w", err)
	}
	g.Updated = at(updated)
	return g, nil
}

// ReplaceGrant stores a refreshed pair unless another replaced it since.
func (s *Store) ReplaceGrant(ctx context.Context, g store.Grant, was []byte) error {
	err := one(s.db.Exec(ctx, `UPDATE restore_grants SET sealed = ?, updated_ms = ? WHERE id = ? AND sealed = ?`,
		g.Sealed, ms(g.Updated), g.ID, was))
	if err != nil && !errors.Is(err, store.ErrChanged) {
		return s.errorf("replace grant: %w", err)
	}
	return err
}

// DeleteGrant forgets a token pair.
func (s *Store) DeleteGrant(ctx context.Context, id string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM restore_grants WHERE id = ?`, id); err != nil {
		return s.errorf("delete grant: %w", err)
	}
	return nil
}
