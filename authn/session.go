package authn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"time"
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
}

// tokenState is a token pair with when to renew it.
type tokenState struct {
	Access     string    `json:"access"`
	Refresh    string    `json:"refresh,omitempty"`
	Expiry     time.Time `json:"expiry"`
	RenewAt    time.Time `json:"renew_at"`
	ObtainedAt time.Time `json:"obtained_at"`
}

// pendingLogin is a login transaction between Begin and Finish.
type pendingLogin struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	ReturnTo string    `json:"return_to"`
	Created  time.Time `json:"created"`
}

// state is everything this package keeps in a session.
type state struct {
	Pending    []pendingLogin `json:"pending,omitempty"`
	User       *User          `json:"user,omitempty"`
	Entra      *tokenState    `json:"entra,omitempty"`
	Veeam      *tokenState    `json:"veeam,omitempty"`
	AuthTime   time.Time      `json:"auth_time,omitzero"`
	SignedInAt time.Time      `json:"signed_in_at,omitzero"`
	SeenAt     time.Time      `json:"seen_at,omitzero"`
	CSRF       string         `json:"csrf,omitempty"`
}

func (a *Authenticator) load(ctx context.Context) *state {
	var st state
	if b := a.sessions.GetBytes(ctx, sessionKey); len(b) > 0 {
		if err := json.Unmarshal(b, &st); err != nil {
			a.log.WarnContext(ctx, "session_unreadable", "error", err)
			return &state{}
		}
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

// touchEvery limits how often a session's last-seen time is written.
const touchEvery = time.Minute

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
	if now.After(st.SignedInAt.Add(a.cfg.Lifetime)) || now.After(st.SeenAt.Add(a.cfg.IdleTimeout)) {
		a.log.InfoContext(ctx, "session_expired", "oid", st.User.OID, "tid", st.User.TenantID,
			"idle", now.After(st.SeenAt.Add(a.cfg.IdleTimeout)))
		a.end(ctx, st)
		return nil, ErrSessionExpired
	}
	if use && now.Sub(st.SeenAt) >= touchEvery {
		st.SeenAt = now
		a.save(ctx, st)
		a.sessions.SetDeadline(ctx, a.deadline(st, now))
	}
	u := *st.User
	return &u, nil
}

// deadline is when the session's stored record expires: at the idle timeout
// from now, or the absolute end, whichever comes first.
func (a *Authenticator) deadline(st *state, now time.Time) time.Time {
	return minTime(now.Add(a.cfg.IdleTimeout), st.SignedInAt.Add(a.cfg.Lifetime))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
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

// end revokes the VB365 token pair (best effort) and destroys the session.
func (a *Authenticator) end(ctx context.Context, st *state) {
	if st.Veeam != nil && a.cfg.Now().Before(st.Veeam.Expiry) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := a.veeam.Logout(lctx, st.Veeam.Access); err != nil {
			a.log.WarnContext(ctx, "veeam_logout_failed", "error", err)
		}
		cancel()
	}
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
