package authn

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
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
	// Entra is what Entra ID answered, when it refused.
	Entra *EntraError
}

func (e *LoginError) Error() string {
	return "authn: sign-in failed: " + e.Reason + ": " + e.Err.Error()
}
func (e *LoginError) Unwrap() error { return e.Err }

// Sign-in failure reasons.
const (
	ReasonBadState      = "state_mismatch"       // missing, unknown, replayed or foreign state
	ReasonExpired       = "login_expired"        // the transaction is older than 10 minutes
	ReasonIdP           = "idp_error"            // Entra returned an error (for example the user cancelled)
	ReasonNoCode        = "code_missing"         //
	ReasonCodeRejected  = "code_rejected"        // the token endpoint refused the code
	ReasonBadToken      = "id_token_invalid"     // the ID token failed verification
	ReasonNotPermitted  = "veeam_refused"        // VB365 refused the operator grant
	ReasonUnavailable   = "unavailable"          // Entra or VB365 could not be reached
	ReasonAccessDenied  = "access_denied"        // the user declined
	ReasonConsent       = "consent_required"     // an administrator must consent to the application
	ReasonBlocked       = "account_blocked"      // Entra does not let the account sign in
	ReasonMisconfigured = "app_misconfigured"    // the portal's registration is wrong (secret expired, redirect URI)
	ReasonEntraTrouble  = "entra_unavailable"    // Entra answered server_error or temporarily_unavailable
	ReasonInteraction   = "interaction_required" // Entra wants the person to sign in again, interactively
)

// entraLoginError is the sign-in failure for what Entra answered.
func entraLoginError(e *EntraError) *LoginError {
	reason, status := ReasonIdP, http.StatusBadRequest
	switch e.kind() {
	case entraCancelled:
		reason, status = ReasonAccessDenied, http.StatusForbidden
	case entraConsent:
		reason, status = ReasonConsent, http.StatusForbidden
	case entraBlocked:
		reason, status = ReasonBlocked, http.StatusForbidden
	case entraMisconfigured:
		reason, status = ReasonMisconfigured, http.StatusBadGateway
	case entraUnavailable:
		reason, status = ReasonEntraTrouble, http.StatusBadGateway
	default:
		if e.Code == "interaction_required" || e.Code == "login_required" {
			reason = ReasonInteraction
		}
	}
	return &LoginError{Reason: reason, Status: status, Err: e, Entra: e}
}

func loginError(status int, reason string, err error) *LoginError {
	return &LoginError{Reason: reason, Status: status, Err: err}
}

// loginCookie prefixes the cookies that carry login transactions: one per
// sign-in in progress (one per tab), named after the start of its state.
const loginCookie = "__Host-login-"

// loginPurpose binds a sealed login transaction to its use.
const loginPurpose = "authn-login"

// Begin starts a sign-in that returns to returnTo (validated: anything but a
// local page path becomes "/"). The transaction (state, nonce, PKCE
// verifier, return path and note, an opaque value the caller gets back from
// Finish) travels sealed in a short-lived cookie, so that a visitor who is
// not signed in leaves nothing on the server. It returns the URL of Entra's
// authorize endpoint.
// LoginOption adds to a sign-in's authorization request.
type LoginOption func(*pendingLogin)

// WithClaims asks Entra for the claims of a claims challenge (a JSON
// object, as Entra sent it); an invalid one is left out.
func WithClaims(claims string) LoginOption {
	return func(p *pendingLogin) {
		if validClaims(claims) {
			p.Claims = claims
		}
	}
}

func (a *Authenticator) Begin(w http.ResponseWriter, r *http.Request, returnTo, note string, opts ...LoginOption) (string, error) {
	p, err := a.provider(r.Context())
	if err != nil {
		return "", err
	}
	returnTo, _ = ValidReturnTo(returnTo)
	if len(note) > maxNote {
		note = ""
	}
	now := a.cfg.Now()
	txn := pendingLogin{
		State: randomToken(32), Nonce: randomToken(32), Verifier: oauth2.GenerateVerifier(),
		ReturnTo: returnTo, Note: note, Created: now,
	}
	for _, o := range opts {
		o(&txn)
	}
	// At most maxPending sign-ins at once: the oldest (and any that ran out) go.
	live := a.pendingLogins(r, now)
	for i, c := range live {
		if len(live)-i >= maxPending {
			http.SetCookie(w, expiredCookie(c.name))
		}
	}
	b, err := json.Marshal(txn)
	if err != nil {
		return "", err
	}
	sealed, err := a.cfg.Sealer.Seal(b, loginPurpose)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie + txn.State[:16], Value: base64.RawURLEncoding.EncodeToString(sealed),
		Path: "/", MaxAge: int(loginTimeout / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	params := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(txn.Verifier), oidc.Nonce(txn.Nonce)}
	if txn.Claims != "" {
		params = append(params, oauth2.SetAuthURLParam("claims", txn.Claims))
	}
	return p.oauth.AuthCodeURL(txn.State, params...), nil
}

// maxNote bounds what a caller may carry through a sign-in.
const maxNote = 200

// pendingCookie is a login transaction as its cookie carries it.
type pendingCookie struct {
	name string
	txn  pendingLogin
}

// pendingLogins reads the request's login transactions, oldest first,
// leaving out any that cannot be opened or ran out.
func (a *Authenticator) pendingLogins(r *http.Request, now time.Time) []pendingCookie {
	var out []pendingCookie
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, loginCookie) {
			continue
		}
		if txn, ok := a.openLogin(c); ok && now.Sub(txn.Created) <= loginTimeout {
			out = append(out, pendingCookie{c.Name, txn})
		}
	}
	slices.SortFunc(out, func(x, y pendingCookie) int { return x.txn.Created.Compare(y.txn.Created) })
	return out
}

func (a *Authenticator) openLogin(c *http.Cookie) (pendingLogin, bool) {
	var txn pendingLogin
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return txn, false
	}
	b, err := a.cfg.Sealer.Open(sealed, loginPurpose)
	if err != nil || json.Unmarshal(b, &txn) != nil || txn.State == "" || c.Name != loginCookie+txn.State[:min(16, len(txn.State))] {
		return txn, false
	}
	return txn, true
}

func expiredCookie(name string) *http.Cookie {
	return &http.Cookie{Name: name, Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// pendingLogin is a login transaction between Begin and Finish.
type pendingLogin struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	ReturnTo string    `json:"return_to"`
	Note     string    `json:"note,omitempty"`
	Claims   string    `json:"claims,omitempty"`
	Created  time.Time `json:"created"`
}

// Finished is a completed sign-in: who signed in, where to send them, and
// the note Begin was given.
type Finished struct {
	User     User
	ReturnTo string
	Note     string
}

// Finish completes a sign-in from the callback's query. Every failure is a
// *LoginError; none creates a session.
//
// The state is checked, and the transaction consumed (its cookie removed),
// before anything else: a callback that does not belong to a sign-in this
// browser started makes no call to the token endpoint.
func (a *Authenticator) Finish(w http.ResponseWriter, r *http.Request) (Finished, error) {
	ctx := r.Context()
	q := r.URL.Query()
	now := a.cfg.Now()
	txn, found := a.takePending(w, r, q.Get("state"))
	switch {
	case !found:
		return Finished{}, a.fail(ctx, loginError(http.StatusBadRequest, ReasonBadState, errors.New("no sign-in in this browser matches the state")))
	case now.Sub(txn.Created) > loginTimeout:
		return Finished{}, a.fail(ctx, loginError(http.StatusBadRequest, ReasonExpired, errors.New("the sign-in took longer than 10 minutes")))
	case q.Get("error") != "":
		return Finished{}, a.fail(ctx, entraLoginError(entraErrorFromCallback(q)))
	case q.Get("code") == "":
		return Finished{}, a.fail(ctx, loginError(http.StatusBadRequest, ReasonNoCode, errors.New("the callback has no code")))
	}
	p, err := a.provider(ctx)
	if err != nil {
		return Finished{}, a.fail(ctx, loginError(http.StatusBadGateway, ReasonUnavailable, err))
	}
	tctx, cancel := context.WithTimeout(a.httpContext(ctx), 15*time.Second)
	defer cancel()
	conf, credOpts, err := a.exchangeConfig(p)
	if err != nil {
		return Finished{}, a.fail(ctx, loginError(http.StatusBadGateway, ReasonMisconfigured, fmt.Errorf("the application's credential: %w", err)))
	}
	tok, err := conf.Exchange(tctx, q.Get("code"), append(credOpts, oauth2.VerifierOption(txn.Verifier))...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			status := 0
			if re.Response != nil {
				status = re.Response.StatusCode
			}
			le := entraLoginError(entraErrorFromBody(status, re.Body))
			if le.Reason == ReasonIdP || le.Reason == ReasonInteraction {
				le.Reason = ReasonCodeRejected
			}
			return Finished{}, a.fail(ctx, le)
		}
		return Finished{}, a.fail(ctx, loginError(http.StatusBadGateway, ReasonUnavailable, fmt.Errorf("redeem code: %w", err)))
	}
	claims, err := a.verifyIDToken(ctx, p, tok, txn.Nonce, now)
	if err != nil {
		return Finished{}, a.fail(ctx, loginError(http.StatusBadRequest, ReasonBadToken, err))
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		return Finished{}, a.fail(ctx, loginError(http.StatusBadGateway, ReasonUnavailable, errors.New("the token answer lacks the access or refresh token")))
	}
	grant, err := a.veeam.Exchange(ctx, claims.OID, claims.TID, tok.AccessToken)
	switch {
	case errors.Is(err, ErrRejected):
		return Finished{}, a.fail(ctx, loginError(http.StatusForbidden, ReasonNotPermitted, err))
	case err != nil:
		return Finished{}, a.fail(ctx, loginError(http.StatusBadGateway, ReasonUnavailable, err))
	}
	// x/oauth2 computes Expiry on the system clock; the portal's may differ.
	entraLifetime := time.Duration(tok.ExpiresIn) * time.Second
	if entraLifetime <= 0 {
		entraLifetime = time.Until(tok.Expiry)
	}
	sealed, err := a.seal(tokens{
		Entra: &tokenState{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: now.Add(entraLifetime), RenewAt: renewAt(now, entraLifetime), ObtainedAt: now},
		Veeam: grantState(grant, now),
	})
	if err != nil {
		return Finished{}, a.fail(ctx, loginError(http.StatusInternalServerError, ReasonUnavailable, err))
	}
	// A session signed in before in this browser ends: one browser, one session.
	if prev := a.load(ctx); prev.User != nil {
		a.end(ctx, prev)
	}
	ends := now.Add(a.cfg.Lifetime)
	rec := Record{SID: randomToken(32), TenantID: claims.TID, UserOID: claims.OID, Sealed: sealed,
		Expires: minTime(now.Add(a.cfg.IdleTimeout), ends), Ends: ends}
	if err := a.cfg.Records.Create(ctx, rec); err != nil {
		return Finished{}, a.fail(ctx, loginError(http.StatusServiceUnavailable, ReasonUnavailable, fmt.Errorf("%w: %w", ErrStore, err)))
	}
	// Signed in: a new session id, so an id planted before sign-in is worthless.
	if err := a.sessions.RenewToken(ctx); err != nil {
		return Finished{}, a.fail(ctx, loginError(http.StatusInternalServerError, ReasonUnavailable, err))
	}
	authTime := now
	if claims.AuthTime > 0 {
		authTime = time.Unix(claims.AuthTime, 0)
	}
	u := User{OID: claims.OID, TenantID: claims.TID, Name: claims.Name, UPN: claims.PreferredUsername,
		Roles: claims.Roles, Groups: claims.Groups}
	if claims.ClaimNames["groups"] != "" {
		u.Groups = a.overageGroups(ctx, p, claims.OID, tok.RefreshToken)
	}
	a.save(ctx, &state{SID: rec.SID, User: &u, AuthTime: authTime, SignedInAt: now, CSRF: randomToken(32), LoginHint: claims.LoginHint})
	// The session record is never written again: it outlasts the session's
	// lifetime by expiredNotice.
	a.sessions.SetDeadline(ctx, ends.Add(expiredNotice))
	a.log.InfoContext(ctx, "authn_login_success", "oid", claims.OID, "tid", claims.TID)
	u.SID = rec.SID
	return Finished{User: u, ReturnTo: txn.ReturnTo, Note: txn.Note}, nil
}

// expiredNotice is how long the session record outlives its sign-in: a
// visit in that time is told, and the log says, that the session expired
// (rather than that nobody was signed in).
const expiredNotice = time.Hour

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// takePending finds the transaction with this state and removes its cookie.
func (a *Authenticator) takePending(w http.ResponseWriter, r *http.Request, s string) (pendingLogin, bool) {
	if len(s) < 16 {
		return pendingLogin{}, false
	}
	c, err := r.Cookie(loginCookie + s[:16])
	if err != nil {
		return pendingLogin{}, false
	}
	http.SetCookie(w, expiredCookie(c.Name))
	txn, ok := a.openLogin(c)
	if !ok || subtle.ConstantTimeCompare([]byte(txn.State), []byte(s)) != 1 {
		return pendingLogin{}, false
	}
	return txn, true
}

// fail logs a failed sign-in.
func (a *Authenticator) fail(ctx context.Context, e *LoginError) *LoginError {
	attrs := []any{"reason", e.Reason, "error", e.Err.Error()}
	if e.Entra != nil {
		attrs = append(attrs, e.Entra.logAttrs()...)
	}
	level := slog.LevelWarn
	if e.Reason == ReasonMisconfigured {
		level = slog.LevelError // the administrators must act
	}
	a.log.Log(ctx, level, "authn_login_fail", attrs...)
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
	// LoginHint is the optional login_hint claim: sent back as
	// logout_hint, it spares the person Entra's account picker at sign-out.
	LoginHint string `json:"login_hint"`
	// ClaimNames says a claim is left out of the token, as the groups
	// claim is for people in more than 200 groups (the overage).
	ClaimNames map[string]string `json:"_claim_names"`
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

// overageGroups reads the groups of a person in more groups than a token
// holds from Microsoft Graph (POST /me/getMemberObjects, with the
// delegated User.Read the application has). Without Graph, or when it
// fails, the person has no groups in the portal: auditors and
// administrators given by group are not recognised, and the log says why.
func (a *Authenticator) overageGroups(ctx context.Context, p *provider, oid, refresh string) []string {
	if a.cfg.GraphURL == "" {
		a.log.WarnContext(ctx, "groups_overage", "oid", oid,
			"hint", "the ID token leaves out this person's groups (more than 200): give auditors and administrators app roles, or let the portal read groups from Microsoft Graph")
		return nil
	}
	groups, err := a.memberObjects(ctx, p, refresh)
	if err != nil {
		a.log.WarnContext(ctx, "groups_overage_unresolved", "oid", oid, "error", err.Error(),
			"hint", "the portal could not read this person's groups from Microsoft Graph; app roles avoid the overage")
		return nil
	}
	a.log.InfoContext(ctx, "groups_overage", "oid", oid, "groups", len(groups))
	return groups
}

func (a *Authenticator) memberObjects(ctx context.Context, p *provider, refresh string) ([]string, error) {
	tok, err := a.redeemRefresh(ctx, p, refresh, "https://graph.microsoft.com/User.Read")
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(a.cfg.GraphURL, "/")+"/v1.0/me/getMemberObjects",
		strings.NewReader(`{"securityEnabledOnly":true}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("getMemberObjects: status %d", resp.StatusCode)
	}
	var body struct {
		Value []string `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("getMemberObjects: %w", err)
	}
	return body.Value, nil
}
