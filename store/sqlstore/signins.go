package sqlstore

import (
	"context"
	"errors"

	"time"

	"github.com/openrestore/portal/store"
)

// CreateSignIn records a signed-in session.
func (s *Store) CreateSignIn(ctx context.Context, si store.SignIn) error {
	_, err := s.db.Exec(ctx, `INSERT INTO sign_ins (sid, tenant_id, user_oid, sealed, version, expires_ms, ends_ms, renewing_ms)
		VALUES (?, ?, ?, ?, 1, ?, ?, 0)`, si.SID, si.TenantID, si.UserOID, si.Sealed, ms(si.Expires), ms(si.Ends))
	if err != nil {
		return s.errorf("create sign-in: %w", err)
	}
	return nil
}

// SignIn returns a session that has not expired at now.
func (s *Store) SignIn(ctx context.Context, sid string, now time.Time) (store.SignIn, error) {
	si := store.SignIn{SID: sid}
	var expires, ends, renewing int64
	err := s.db.QueryRow(ctx, `SELECT tenant_id, user_oid, sealed, version, expires_ms, ends_ms, renewing_ms FROM sign_ins
		WHERE sid = ? AND expires_ms >= ?`, sid, ms(now)).Scan(&si.TenantID, &si.UserOID, &si.Sealed, &si.Version, &expires, &ends, &renewing)
	if errors.Is(err, ErrNoRows) {
		return si, store.ErrNotFound
	}
	if err != nil {
		return si, s.errorf("sign-in: %w", err)
	}
	si.Expires, si.Ends, si.RenewingUntil = at(expires), at(ends), at(renewing)
	return si, nil
}

// TouchSignIn moves a session's expiry, never past its end.
func (s *Store) TouchSignIn(ctx context.Context, sid string, expires time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE sign_ins SET expires_ms = CASE WHEN ? < ends_ms THEN ? ELSE ends_ms END WHERE sid = ?`,
		ms(expires), ms(expires), sid)
	if err != nil {
		return s.errorf("touch sign-in: %w", err)
	}
	return nil
}

// ClaimRenewal marks a version of the tokens as being renewed.
func (s *Store) ClaimRenewal(ctx context.Context, sid string, version int64, until, now time.Time) (bool, error) {
	err := one(s.db.Exec(ctx, `UPDATE sign_ins SET renewing_ms = ? WHERE sid = ? AND version = ? AND renewing_ms <= ?`,
		ms(until), sid, version, ms(now)))
	switch {
	case errors.Is(err, store.ErrChanged):
		return false, nil
	case err != nil:
		return false, s.errorf("claim renewal: %w", err)
	}
	return true, nil
}

// ReplaceTokens stores renewed tokens over a version.
func (s *Store) ReplaceTokens(ctx context.Context, sid string, version int64, sealed []byte) error {
	err := one(s.db.Exec(ctx, `UPDATE sign_ins SET sealed = ?, version = version + 1, renewing_ms = 0 WHERE sid = ? AND version = ?`,
		sealed, sid, version))
	if err != nil && !errors.Is(err, store.ErrChanged) {
		return s.errorf("replace tokens: %w", err)
	}
	return err
}

// ReleaseRenewal lets go of a claim.
func (s *Store) ReleaseRenewal(ctx context.Context, sid string, version int64) error {
	if _, err := s.db.Exec(ctx, `UPDATE sign_ins SET renewing_ms = 0 WHERE sid = ? AND version = ?`, sid, version); err != nil {
		return s.errorf("release renewal: %w", err)
	}
	return nil
}

// EndSignIn removes a session; its sets and values go with it.
func (s *Store) EndSignIn(ctx context.Context, sid string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM sign_ins WHERE sid = ?`, sid); err != nil {
		return s.errorf("end sign-in: %w", err)
	}
	return nil
}
