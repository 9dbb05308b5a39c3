package main

import (
	"context"
	"errors"
	"time"

	"github.com/openrestore/portal/authn"
	"github.com/openrestore/portal/store"
)

// records are the store's sign-ins as authn keeps them.
type records struct{ s store.SignIns }

func (r records) Create(ctx context.Context, rec authn.Record) error {
	return r.s.CreateSignIn(ctx, store.SignIn{SID: rec.SID, TenantID: rec.TenantID, UserOID: rec.UserOID, Sealed: rec.Sealed,
		Expires: rec.Expires, Ends: rec.Ends})
}

func (r records) Load(ctx context.Context, sid string, now time.Time) (authn.Record, bool, error) {
	si, err := r.s.SignIn(ctx, sid, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return authn.Record{}, false, nil
	case err != nil:
		return authn.Record{}, false, err
	}
	return authn.Record{SID: si.SID, TenantID: si.TenantID, UserOID: si.UserOID, Sealed: si.Sealed, Version: si.Version,
		Expires: si.Expires, Ends: si.Ends}, true, nil
}

func (r records) Touch(ctx context.Context, sid string, expires time.Time) error {
	return r.s.TouchSignIn(ctx, sid, expires)
}

func (r records) Claim(ctx context.Context, sid string, version int64, until, now time.Time) (bool, error) {
	return r.s.ClaimRenewal(ctx, sid, version, until, now)
}

func (r records) Replace(ctx context.Context, sid string, version int64, sealed []byte) (bool, error) {
	err := r.s.ReplaceTokens(ctx, sid, version, sealed)
	if errors.Is(err, store.ErrChanged) {
		return false, nil
	}
	return err == nil, err
}

func (r records) Release(ctx context.Context, sid string, version int64) error {
	return r.s.ReleaseRenewal(ctx, sid, version)
}

func (r records) End(ctx context.Context, sid string) error { return r.s.EndSignIn(ctx, sid) }
