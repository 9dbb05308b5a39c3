package authn

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	// loginTimeout is how long a login transaction stays valid.
	loginTimeout = 10 * time.Minute
	// maxPending bounds the login transactions kept per browser (one per tab).
	maxPending = 5
	// clockSkew is what is tolerated between Entra's clock and ours.
	clockSkew = 5 * time.Minute
)

// LoginError is a sign-in that could not be completed. Reason is a short
// stable word for logs and for choosing what to tell the user.
type LoginError struct {
	Reason string
	Status int
	Err    error
}

func (e *LoginError) Error() string {
	return "authn: sign-in failed: " + e.Reason + ": " + e.Err.Error()
}
func (e *LoginError) Unwrap() error { return e.Err }

// Sign-in failure reasons.
const (
	ReasonBadState     = "state_mismatch"   // missing, unknown, replayed or foreign state
	ReasonExpired      = "login_expired"    // the transaction is older than 10 minutes
	ReasonIdP          = "idp_error"        // Entra returned an error (for example the user cancelled)
	ReasonNoCode       = "code_missing"     //
	ReasonCodeRejected = "code_rejected"    // the token endpoint refused the code
	ReasonBadToken     = "id_token_invalid" // the ID token failed verification
	ReasonNotPermitted = "veeam_refused"    // VB365 refused the operator grant
	ReasonUnavailable  = "unavailable"      // Entra or VB365 could not be reached
	ReasonAccessDenied = "access_denied"    // the user declined
)

func loginError(status int, reason string, err error) *LoginError {
	return &LoginError{Reason: reason, Status: status, Err: err}
}

// Begin starts a sign-in that returns to returnTo (validated: anything but a
// local page path becomes "/"). It records the transaction in the session and
// returns the URL of Entra's authorize endpoint.
func (a *Authenticator) Begin(ctx context.Context, returnTo string) (string, error) {
	p, err := a.provider(ctx)
	if err != nil {
		return "", err
	}
	returnTo, _ = ValidReturnTo(returnTo)
	now := a.cfg.Now()
	txn := pendingLogin{
		State: randomToken(32), Nonce: randomToken(32), Verifier: oauth2.GenerateVerifier(),
		ReturnTo: returnTo, Created: now,
	}
	st := a.load(ctx)
	st.Pending = append(livePending(st.Pending, now), txn)
	if len(st.Pending) > maxPending {
		st.Pending = st.Pending[len(st.Pending)-maxPending:]
	}
	a.save(ctx, st)
	if st.User == nil {
		// A visitor's session only needs to last as long as a sign-in may take.
		a.sessions.SetDeadline(ctx, now.Add(loginTimeout))
	}
	return p.oauth.AuthCodeURL(txn.State, oauth2.S256ChallengeOption(txn.Verifier), oidc.Nonce(txn.Nonce)), nil
}

func livePending(pending []pendingLogin, now time.Time) []pendingLogin {
	var out []pendingLogin
	for _, p := range pending {
		if now.Sub(p.Created) <= loginTimeout {
			out = append(out, p)
		}
	}
	return out
}

// Finish completes a sign-in from the callback's query and returns the path
// to send the user to. Every failure is a *LoginError; none creates a session.
//
// The state is checked, and the transaction consumed, before anything else:
// a callback that does not belong to a sign-in this browser started makes no
// call to the token endpoint.
func (a *Authenticator) Finish(ctx context.Context, q url.Values) (string, error) {
	now := a.cfg.Now()
	st := a.load(ctx)
	txn, found := takePending(st, q.Get("state"))
	if found {
		a.save(ctx, st) // consumed: a replay of this callback finds nothing
	}
	switch {
	case !found:
		return "", a.fail(ctx, loginError(http.StatusBadRequest, ReasonBadState, errors.New("no sign-in in this browser matches the state")))
	case now.Sub(txn.Created) > loginTimeout:
		return "", a.fail(ctx, loginError(http.StatusBadRequest, ReasonExpired, errors.New("the sign-in took longer than 10 minutes")))
	case q.Get("error") == "access_denied":
		return "", a.fail(ctx, loginError(http.StatusForbidden, ReasonAccessDenied, fmt.Errorf("entra: %s", q.Get("error_description"))))
	case q.Get("error") != "":
		return "", a.fail(ctx, loginError(http.StatusBadRequest, ReasonIdP, fmt.Errorf("entra: %s: %s", q.Get("error"), q.Get("error_description"))))
	case q.Get("code") == "":
		return "", a.fail(ctx, loginError(http.StatusBadRequest, ReasonNoCode, errors.New("the callback has no code")))
	}
	p, err := a.provider(ctx)
	if err != nil {
		return "", a.fail(ctx, loginError(http.StatusBadGateway, ReasonUnavailable, err))
	}
	tctx, cancel := context.WithTimeout(a.httpContext(ctx), 15*time.Second)
	defer cancel()
	tok, err := p.oauth.Exchange(tctx, q.Get("code"), oauth2.VerifierOption(txn.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return "", a.fail(ctx, loginError(http.StatusBadRequest, ReasonCodeRejected, fmt.Errorf("redeem code: %s", re.ErrorCode)))
		}
		return "", a.fail(ctx, loginError(http.StatusBadGateway, ReasonUnavailable, fmt.Errorf("redeem code: %w", err)))
	}
	claims, err := a.verifyIDToken(ctx, p, tok, txn.Nonce, now)
	if err != nil {
		return "", a.fail(ctx, loginError(http.StatusBadRequest, ReasonBadToken, err))
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		return "", a.fail(ctx, loginError(http.StatusBadGateway, ReasonUnavailable, errors.New("the token answer lacks the access or refresh token")))
	}
	grant, err := a.veeam.Exchange(ctx, claims.OID, claims.TID, tok.AccessToken)
	switch {
	case errors.Is(err, ErrRejected):
		return "", a.fail(ctx, loginError(http.StatusForbidden, ReasonNotPermitted, err))
	case err != nil:
		return "", a.fail(ctx, loginError(http.StatusBadGateway, ReasonUnavailable, err))
	}
	// Signed in: a new session id, so an id planted before sign-in is worthless.
	if err := a.sessions.RenewToken(ctx); err != nil {
		return "", a.fail(ctx, loginError(http.StatusInternalServerError, ReasonUnavailable, err))
	}
	authTime := now
	if claims.AuthTime > 0 {
		authTime = time.Unix(claims.AuthTime, 0)
	}
	// x/oauth2 computes Expiry on the system clock; the portal's may differ.
	entraLifetime := time.Duration(tok.ExpiresIn) * time.Second
	if entraLifetime <= 0 {
		entraLifetime = time.Until(tok.Expiry)
	}
	signedIn := &state{
		User: &User{OID: claims.OID, TenantID: claims.TID, Name: claims.Name, UPN: claims.PreferredUsername,
			Roles: claims.Roles, Groups: claims.Groups},
		Entra:      &tokenState{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: now.Add(entraLifetime), RenewAt: renewAt(now, entraLifetime), ObtainedAt: now},
		Veeam:      grantState(grant, now),
		AuthTime:   authTime,
		SignedInAt: now,
		SeenAt:     now,
		CSRF:       randomToken(32),
	}
	a.save(ctx, signedIn)
	a.sessions.SetDeadline(ctx, a.deadline(signedIn, now))
	a.log.InfoContext(ctx, "authn_login_success", "oid", claims.OID, "tid", claims.TID)
	return txn.ReturnTo, nil
}

// takePending removes and returns the transaction with this state.
func takePending(st *state, s string) (pendingLogin, bool) {
	if s == "" {
		return pendingLogin{}, false
	}
	for i, p := range st.Pending {
		if subtle.ConstantTimeCompare([]byte(p.State), []byte(s)) == 1 {
			st.Pending = append(st.Pending[:i], st.Pending[i+1:]...)
			return p, true
		}
	}
	return pendingLogin{}, false
}

// fail logs a failed sign-in. A visitor's session with no sign-in left
// pending is destroyed, so the failure leaves no session behind.
func (a *Authenticator) fail(ctx context.Context, e *LoginError) *LoginError {
	a.log.WarnContext(ctx, "authn_login_fail", "reason", e.Reason, "error", e.Err.Error())
	if st := a.load(ctx); st.User == nil && len(livePending(st.Pending, a.cfg.Now())) == 0 {
		if err := a.sessions.Destroy(ctx); err != nil {
			a.log.ErrorContext(ctx, "session_destroy_failed", "error", err)
		}
	}
	return e
}

// idClaims are the ID token claims the portal relies on.
type idClaims struct {
	OID               string   `json:"oid"`
	TID               string   `json:"tid"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Nonce             string   `json:"nonce"`
	Ver               string   `json:"ver"`
	IssuedAt          int64    `json:"iat"`
	AuthTime          int64    `json:"auth_time"`
	Roles             []string `json:"roles"`
	Groups            []string `json:"groups"`
}

// verifyIDToken checks what go-oidc checks (signature by a published RS256
// key, issuer, audience, expiry, not-before) and what it leaves to the relying
// party: a single audience, the nonce, the tenant, the token version and a
// sane issue time.
func (a *Authenticator) verifyIDToken(ctx context.Context, p *provider, tok *oauth2.Token, nonce string, now time.Time) (*idClaims, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the token answer has no ID token")
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify ID token: %w", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("ID token claims: %w", err)
	}
	switch {
	case len(idt.Audience) != 1:
		return nil, fmt.Errorf("the ID token has %d audiences", len(idt.Audience))
	case c.Nonce == "" || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1:
		return nil, errors.New("the ID token's nonce does not match the sign-in's")
	case c.TID != p.tenantID:
		return nil, fmt.Errorf("the ID token is from tenant %q, not %q", c.TID, p.tenantID)
	case c.Ver != "2.0":
		return nil, fmt.Errorf("the ID token has version %q, want 2.0", c.Ver)
	case !guidPattern.MatchString(c.OID):
		return nil, errors.New("the ID token has no object id")
	case time.Unix(c.IssuedAt, 0).After(now.Add(clockSkew)):
		return nil, errors.New("the ID token is issued in the future")
	}
	return &c, nil
}

func grantState(g Grant, now time.Time) *tokenState {
	lifetime := g.Lifetime
	if lifetime <= 0 {
		lifetime = max(g.Expiry.Sub(now), 0)
	}
	return &tokenState{Access: g.AccessToken, Refresh: g.RefreshToken, Expiry: g.Expiry, RenewAt: renewAt(now, lifetime), ObtainedAt: now}
}
