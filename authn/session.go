package authn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/openrestore/portal/internal/jsonread"
)

// sessionKey is the session value holding this package's state.
const sessionKey = "authn"

// User is the signed-in person. The key is (TenantID, OID), never the name.
type User struct {
	OID      string `json:"oid"`
	TenantID string `json:"tid"`
	Name     string `json:"name"`
	UPN      string `json:"upn"` // preferred_username
	// Roles and Groups are the ID token's app roles and group object ids,
	// when the Entra application is set up to send them.
	Roles  []string `json:"roles,omitempty"`
	Groups []string `json:"groups,omitempty"`
	// SID identifies the signed-in session: what the session holds besides
	// (a restore list, opened restore sessions) is kept under it, and goes
	// when it ends.
	SID string `json:"-"`
}

// state is what the session record holds. It is written once, at sign-in:
// what changes afterwards (tokens, the idle deadline) is in the session's
// Record, changed on its own, so that no request's write undoes another's.
type state struct {
	SID        string    `json:"sid,omitempty"`
	User       *User     `json:"user,omitempty"`
	AuthTime   time.Time `json:"auth_time,omitzero"`
	SignedInAt time.Time `json:"signed_in_at,omitzero"`
	CSRF       string    `json:"csrf,omitempty"`
	LoginHint  string    `json:"login_hint,omitempty"`
}

func (a *Authenticator) load(ctx context.Context) *state {
	var st state
	if b := a.sessions.GetBytes(ctx, sessionKey); len(b) > 0 {
		if err := jsonread.Unmarshal(b, &st); err != nil {
			a.log.WarnContext(ctx, "session_unreadable", "error", err)
			return &state{}
		}
	}
	if st.User != nil {
		st.User.SID = st.SID
	}
	return &st
}

func (a *Authenticator) save(ctx context.Context, st *state) {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err) // only plain data is stored
	}
	a.sessions.Put(ctx, sessionKey, b)
}

// renewAt is when to renew a token of the given lifetime obtained at t: a
// tenth of its lifetime before it expires, between 5 s and 5 min.
func renewAt(t time.Time, lifetime time.Duration) time.Time {
	margin := min(max(lifetime/10, 5*time.Second), 5*time.Minute)
	return t.Add(lifetime - margin)
}

// touchEvery limits how often a session's idle deadline is moved: the
// idle timeout ends a session this long after its last use at the latest.
// Background polls never move it, so each move is a person's request.
const touchEvery = time.Second

// User returns the signed-in user. A session past its idle or absolute
// timeout is ended (ErrSessionExpired). Use extends the idle deadline.
func (a *Authenticator) User(ctx context.Context) (*User, error) { return a.user(ctx, true) }

// Peek is User for requests the user did not make: a page polling in the
// background. It does not count as use, so it never keeps an idle session alive.
func (a *Authenticator) Peek(ctx context.Context) (*User, error) { return a.user(ctx, false) }

func (a *Authenticator) user(ctx context.Context, use bool) (*User, error) {
	st := a.load(ctx)
	if st.User == nil {
		return nil, ErrNoSession
	}
	now := a.cfg.Now()
	rec, err := a.record(ctx, st, now)
	if err != nil {
		return nil, err
	}
	if use && rec.Expires.Sub(now) <= a.cfg.IdleTimeout-touchEvery && rec.Expires.Before(rec.Ends) {
		if err := a.cfg.Records.Touch(ctx, st.SID, now.Add(a.cfg.IdleTimeout)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrStore, err)
		}
	}
	if use {
		if err := a.checkWithEntra(ctx, rec, now); err != nil {
			return nil, err
		}
	}
	u := *st.User
	return &u, nil
}

// checkWithEntra renews the session's Entra tokens once they are due,
// whether VB365 needs them or not: a person Entra no longer lets in (the
// account disabled, its sessions revoked) is signed out at their next
// request after that, within an Entra access token's lifetime (an hour by
// default). When Entra cannot be reached, the person carries on.
func (a *Authenticator) checkWithEntra(ctx context.Context, rec Record, now time.Time) error {
	t, err := a.open(rec)
	if err != nil || t.Entra == nil || now.Before(t.Entra.RenewAt) {
		return nil // unreadable tokens are current()'s to deal with
	}
	// Renewed tokens are good even when they live shorter than the renewal
	// margin: one renewal per check.
	_, err = a.fresh(ctx, func(t tokens) bool { return !t.Entra.ObtainedAt.Before(now) || a.cfg.Now().Before(t.Entra.RenewAt) }, a.renewEntra)
	switch {
	case errors.Is(err, ErrReauthenticate), errors.Is(err, ErrSessionExpired), errors.Is(err, ErrNoSession):
		return err
	case err != nil:
		a.log.WarnContext(ctx, "entra_check_failed", "error", err.Error())
	}
	return nil
}

// memoKey keys a request's memo of its session's Record.
type memoKey struct{}

// memo is what a request read of its session's Record: the page's checks
// and its calls to VB365 read it once.
type memo struct {
	mu  sync.Mutex
	rec *Record
}

// Remember gives each request a memo of its session's Record. Without it,
// every look at the session reads the Record again.
func (a *Authenticator) Remember(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), memoKey{}, &memo{})))
	})
}

// forget drops the request's memo, after the Record changed.
func forget(ctx context.Context) {
	if m, ok := ctx.Value(memoKey{}).(*memo); ok {
		m.mu.Lock()
		m.rec = nil
		m.mu.Unlock()
	}
}

// record reads the session's Record. A session without one ran out (or was
// ended on another replica): it is ended here too.
func (a *Authenticator) record(ctx context.Context, st *state, now time.Time) (Record, error) {
	m, _ := ctx.Value(memoKey{}).(*memo)
	if m != nil {
		m.mu.Lock()
		rec := m.rec
		m.mu.Unlock()
		if rec != nil && rec.SID == st.SID && !now.After(rec.Expires) {
			return *rec, nil
		}
	}
	rec, found, err := a.cfg.Records.Load(ctx, st.SID, now)
	if err != nil {
		return rec, fmt.Errorf("%w: %w", ErrStore, err)
	}
	if found && m != nil {
		m.mu.Lock()
		m.rec = &rec
		m.mu.Unlock()
	}
	if !found {
		a.log.InfoContext(ctx, "session_expired", "oid", st.User.OID, "tid", st.User.TenantID,
			"idle", now.Before(st.SignedInAt.Add(a.cfg.Lifetime)))
		a.destroy(ctx)
		return rec, ErrSessionExpired
	}
	return rec, nil
}

// CSRFToken returns the signed-in session's anti-forgery token, or "" when
// nobody is signed in. It is a random value unrelated to any upstream token.
func (a *Authenticator) CSRFToken(ctx context.Context) string {
	st := a.load(ctx)
	if st.User == nil {
		return ""
	}
	return st.CSRF
}

// AuthTime returns when the user last authenticated with Entra (the ID
// token's auth_time), for step-up checks before sensitive actions.
func (a *Authenticator) AuthTime(ctx context.Context) time.Time {
	return a.load(ctx).AuthTime
}

// end revokes the VB365 token pair (best effort) and ends the session:
// its Record and everything kept under it, and the session record.
func (a *Authenticator) end(ctx context.Context, st *state) {
	if st.SID != "" {
		if rec, found, err := a.cfg.Records.Load(ctx, st.SID, a.cfg.Now()); err == nil && found {
			if t, err := a.open(rec); err == nil && t.Veeam != nil && a.cfg.Now().Before(t.Veeam.Expiry) {
				lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				if err := a.veeam.Logout(lctx, t.Veeam.Access); err != nil {
					a.log.WarnContext(ctx, "veeam_logout_failed", "error", err)
				}
				cancel()
			}
		}
		if err := a.cfg.Records.End(context.WithoutCancel(ctx), st.SID); err != nil {
			a.log.ErrorContext(ctx, "session_end_failed", "error", err)
		}
	}
	a.destroy(ctx)
}

// destroy removes the session record.
func (a *Authenticator) destroy(ctx context.Context) {
	if err := a.sessions.Destroy(ctx); err != nil {
		a.log.ErrorContext(ctx, "session_destroy_failed", "error", err)
	}
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
