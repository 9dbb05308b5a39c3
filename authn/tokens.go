package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openrestore/portal/internal/jsonread"
)

// tokenState is a token pair with when to renew it.
type tokenState struct {
	Access     string    `json:"access"`
	Refresh    string    `json:"refresh,omitempty"`
	Expiry     time.Time `json:"expiry"`
	RenewAt    time.Time `json:"renew_at"`
	ObtainedAt time.Time `json:"obtained_at"`
}

// tokens is what a session's Record holds, sealed.
type tokens struct {
	Entra *tokenState `json:"entra,omitempty"`
	Veeam *tokenState `json:"veeam,omitempty"`
}

// tokensPurpose binds sealed tokens to their use: a sealed value of
// another kind (a grant, a login) does not open as tokens.
const tokensPurpose = "authn-session-tokens"

func (a *Authenticator) seal(t tokens) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return a.cfg.Sealer.Seal(b, tokensPurpose)
}

func (a *Authenticator) open(rec Record) (tokens, error) {
	var t tokens
	b, err := a.cfg.Sealer.Open(rec.Sealed, tokensPurpose)
	if err != nil {
		return t, err
	}
	return t, jsonread.Unmarshal(b, &t)
}

const (
	// renewTimeout bounds a renewal; a replica's claim on one lasts as
	// long, so that another takes over when it died renewing.
	renewTimeout = 30 * time.Second
	// renewPoll is how often a request waiting for another's renewal looks.
	renewPoll = 50 * time.Millisecond
)

// Token returns the signed-in user's VB365 access token, renewing it first
// when it is about to expire. It and Refresh make the Authenticator a
// veeamapi.TokenSource.
func (a *Authenticator) Token(ctx context.Context) (string, error) {
	t, err := a.fresh(ctx, func(t tokens) bool { return a.cfg.Now().Before(t.Veeam.RenewAt) }, a.renewVeeam)
	if err != nil {
		return "", err
	}
	return t.Veeam.Access, nil
}

// Refresh returns a new VB365 access token after VB365 refused rejected.
// If the session already holds a newer token (another request renewed it),
// that one is returned.
func (a *Authenticator) Refresh(ctx context.Context, rejected string) (string, error) {
	t, err := a.fresh(ctx, func(t tokens) bool { return t.Veeam.Access != rejected }, a.renewVeeam)
	if err != nil {
		return "", err
	}
	return t.Veeam.Access, nil
}

// current reads the signed-in session's tokens.
func (a *Authenticator) current(ctx context.Context) (*state, Record, tokens, error) {
	st := a.load(ctx)
	if st.User == nil {
		return st, Record{}, tokens{}, ErrNoSession
	}
	rec, err := a.record(ctx, st, a.cfg.Now())
	if err != nil {
		return st, rec, tokens{}, err
	}
	t, err := a.open(rec)
	if err != nil || t.Veeam == nil || t.Entra == nil {
		// Sealed with a key no longer configured: the user signs in again.
		a.log.WarnContext(ctx, "session_tokens_unreadable", "oid", st.User.OID, "tid", st.User.TenantID)
		a.end(ctx, st)
		return st, rec, t, ErrSessionExpired
	}
	return st, rec, t, nil
}

// fresh returns the session's tokens once good accepts them; until then it
// has them fixed, once across every replica.
func (a *Authenticator) fresh(ctx context.Context, good func(tokens) bool, fix func(context.Context, *User, *tokens) error) (tokens, error) {
	for range 3 {
		st, rec, t, err := a.current(ctx)
		if err != nil {
			return t, err
		}
		if good(t) {
			return t, nil
		}
		t, err = a.change(ctx, st, rec, fix)
		forget(ctx) // the Record changed, here or elsewhere
		if err != nil || good(t) {
			return t, err
		}
	}
	return tokens{}, fmt.Errorf("%w: the session's tokens keep changing", ErrUnavailable)
}

// change applies fix to the tokens of the Record's version, once however
// many requests of however many replicas ask at the same moment: the one
// that claims the version renews, the others wait for the version it
// writes. Requests of this process share one attempt; a claim outlives no
// replica by more than renewTimeout. When fix says the tokens cannot be
// renewed (ErrReauthenticate), the session ends.
func (a *Authenticator) change(ctx context.Context, st *state, rec Record, fix func(context.Context, *User, *tokens) error) (tokens, error) {
	ch := a.renewFlight.DoChan(st.SID+"\x00"+strconv.FormatInt(rec.Version, 10), func() (any, error) {
		// Others may be waiting on this attempt: it outlives a caller who leaves.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), renewTimeout)
		defer cancel()
		return a.changeOnce(rctx, st, rec, fix)
	})
	select {
	case res := <-ch:
		if errors.Is(res.Err, ErrReauthenticate) {
			a.log.InfoContext(ctx, "session_renewal_refused", "oid", st.User.OID, "tid", st.User.TenantID, "error", res.Err.Error())
			a.end(ctx, st)
		}
		if res.Err != nil {
			return tokens{}, res.Err
		}
		return res.Val.(tokens), nil
	case <-ctx.Done():
		return tokens{}, ctx.Err()
	}
}

func (a *Authenticator) changeOnce(ctx context.Context, st *state, rec Record, fix func(context.Context, *User, *tokens) error) (tokens, error) {
	for {
		now := a.cfg.Now()
		claimed, err := a.cfg.Records.Claim(ctx, st.SID, rec.Version, now.Add(renewTimeout), now)
		if err != nil {
			return tokens{}, fmt.Errorf("%w: %w", ErrStore, err)
		}
		if claimed {
			return a.fixClaimed(ctx, st, rec, fix)
		}
		// Another request, here or on another replica, renews them.
		newer, found, err := a.cfg.Records.Load(ctx, st.SID, now)
		switch {
		case err != nil:
			return tokens{}, fmt.Errorf("%w: %w", ErrStore, err)
		case !found:
			return tokens{}, fmt.Errorf("%w: the session ended while its tokens were renewed", ErrReauthenticate)
		case newer.Version != rec.Version:
			return a.open(newer)
		}
		select {
		case <-time.After(renewPoll):
		case <-ctx.Done():
			return tokens{}, fmt.Errorf("%w: waiting for another renewal: %w", ErrUnavailable, ctx.Err())
		}
	}
}

// fixClaimed renews claimed tokens and writes them. A passing failure lets
// go of the claim, keeping what did change (a rotated Entra refresh token).
func (a *Authenticator) fixClaimed(ctx context.Context, st *state, rec Record, fix func(context.Context, *User, *tokens) error) (tokens, error) {
	t, err := a.open(rec)
	if err != nil {
		return t, fmt.Errorf("%w: the session's tokens are unreadable", ErrReauthenticate)
	}
	before, _ := json.Marshal(t)
	ferr := fix(ctx, st.User, &t)
	after, _ := json.Marshal(t)
	if ferr != nil && (errors.Is(ferr, ErrReauthenticate) || string(before) == string(after)) {
		if err := a.cfg.Records.Release(context.WithoutCancel(ctx), st.SID, rec.Version); err != nil {
			a.log.WarnContext(ctx, "session_renewal_release_failed", "error", err)
		}
		return t, ferr
	}
	sealed, err := a.seal(t)
	if err != nil {
		return t, err
	}
	replaced, err := a.cfg.Records.Replace(ctx, st.SID, rec.Version, sealed)
	switch {
	case err != nil:
		return t, fmt.Errorf("%w: %w", ErrStore, err)
	case !replaced:
		// The claim ran out and another replica renewed meanwhile: theirs stand.
		newer, found, err := a.cfg.Records.Load(ctx, st.SID, a.cfg.Now())
		if err != nil || !found {
			return t, fmt.Errorf("%w: the session changed while its tokens were renewed", ErrUnavailable)
		}
		return a.open(newer)
	}
	return t, ferr
}

// renewVeeam replaces the VB365 pair: first with VB365's refresh token; if
// VB365 refuses it, with a new operator grant for an Entra access token
// (refreshed with Entra if need be); if Entra refuses too, ErrReauthenticate
// says to sign in again. Passing failures (timeouts, 5xx) change nothing.
func (a *Authenticator) renewVeeam(ctx context.Context, u *User, t *tokens) error {
	now := a.cfg.Now()
	g, err := a.veeam.Refresh(ctx, t.Veeam.Refresh)
	if err == nil {
		t.Veeam = grantState(g, now)
		return nil
	}
	if !errors.Is(err, ErrRejected) {
		return fmt.Errorf("refresh the backup server token: %w", err)
	}
	a.log.InfoContext(ctx, "veeam_refresh_refused", "oid", u.OID, "error", err.Error())
	if !now.Before(t.Entra.RenewAt) {
		if err := a.renewEntra(ctx, u, t); err != nil {
			return err
		}
	}
	g, err = a.veeam.Exchange(ctx, u.OID, u.TenantID, t.Entra.Access)
	if errors.Is(err, ErrRejected) {
		return fmt.Errorf("%w: the backup server refused a new grant: %w", ErrReauthenticate, err)
	}
	if err != nil {
		return fmt.Errorf("new backup server grant: %w", err)
	}
	t.Veeam = grantState(g, now)
	return nil
}

// renewEntra gets a new Entra access token for the VB365 API with the
// session's refresh token. The scope is sent explicitly: Entra's v2.0 token
// endpoint wants it on refresh (x/oauth2 leaves it out).
func (a *Authenticator) renewEntra(ctx context.Context, _ *User, t *tokens) error {
	if t.Entra == nil || t.Entra.Refresh == "" {
		return fmt.Errorf("%w: no Entra refresh token", ErrReauthenticate)
	}
	p, err := a.provider(ctx)
	if err != nil {
		return err
	}
	body, err := a.redeemRefresh(ctx, p, t.Entra.Refresh, strings.Join(p.oauth.Scopes, " "))
	if err != nil {
		return err
	}
	now := a.cfg.Now()
	lifetime := time.Duration(body.ExpiresIn) * time.Second
	refresh := body.RefreshToken
	if refresh == "" {
		refresh = t.Entra.Refresh
	}
	t.Entra = &tokenState{Access: body.AccessToken, Refresh: refresh, Expiry: now.Add(lifetime), RenewAt: renewAt(now, lifetime), ObtainedAt: now}
	return nil
}

// DetachedGrant obtains a VB365 token pair for the signed-in user that the
// session does not hold: the portal watches a user's restores with it until
// they end, also after the user has signed out (which revokes the session's
// own pair). It exchanges the session's Entra access token (renewed with
// Entra first when due) for a new operator grant.
func (a *Authenticator) DetachedGrant(ctx context.Context) (Grant, error) {
	t, err := a.fresh(ctx, func(t tokens) bool { return a.cfg.Now().Before(t.Entra.RenewAt) }, a.renewEntra)
	if err != nil {
		return Grant{}, err
	}
	u := a.load(ctx).User
	if u == nil {
		return Grant{}, ErrNoSession
	}
	g, err := a.veeam.Exchange(ctx, u.OID, u.TenantID, t.Entra.Access)
	if err != nil {
		return Grant{}, fmt.Errorf("authn: a grant to watch restores with: %w", err)
	}
	return g, nil
}

// graphMemo is a token for another API, kept for a session until shortly
// before it expires.
type graphMemo struct {
	token   string
	renewAt time.Time
}

// TokenFor returns the signed-in user's access token for another API
// (Microsoft Graph, to look people up), got with the session's Entra
// refresh token for scope and kept in this process for its lifetime. The
// session's own tokens are unchanged.
func (a *Authenticator) TokenFor(ctx context.Context, scope string) (string, error) {
	st, _, t, err := a.current(ctx)
	if err != nil {
		return "", err
	}
	key := st.SID + "\x00" + scope
	now := a.cfg.Now()
	a.mu.Lock()
	m, ok := a.others[key]
	for k, v := range a.others {
		if !now.Before(v.renewAt) {
			delete(a.others, k)
		}
	}
	a.mu.Unlock()
	if ok && now.Before(m.renewAt) {
		return m.token, nil
	}
	p, err := a.provider(ctx)
	if err != nil {
		return "", err
	}
	body, err := a.redeemRefresh(ctx, p, t.Entra.Refresh, scope)
	var ee *EntraError
	if errors.As(err, &ee) && ee.kind() == entraConsent {
		// Another API's permission, not the session, is missing.
		return "", fmt.Errorf("%w: a token for %s: %w", ErrUnavailable, scope, ee)
	}
	if err != nil {
		return "", fmt.Errorf("a token for %s: %w", scope, err)
	}
	lifetime := time.Duration(body.ExpiresIn) * time.Second
	a.mu.Lock()
	a.others[key] = graphMemo{token: body.AccessToken, renewAt: renewAt(now, lifetime)}
	a.mu.Unlock()
	return body.AccessToken, nil
}

// refreshAnswer is the token endpoint's answer to a refresh.
type refreshAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
}

// redeemRefresh redeems a refresh token for scope. What Entra refuses is
// an *EntraError, wrapped in ErrReauthenticate when the person must sign
// in again (the grant expired, was revoked, the account was disabled, or
// Entra wants an interaction, maybe with a claims challenge), else in
// ErrUnavailable (Entra's trouble, or the portal's registration: an
// expired client secret must not sign everyone out).
func (a *Authenticator) redeemRefresh(ctx context.Context, p *provider, refresh, scope string) (refreshAnswer, error) {
	var body refreshAnswer
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {p.oauth.ClientID}, "scope": {scope}}
	if err := a.authenticateClient(form, p); err != nil {
		return body, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.oauth.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return body, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return body, fmt.Errorf("%w: refresh: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return body, fmt.Errorf("%w: refresh: %w", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := entraErrorFromBody(resp.StatusCode, raw)
		switch e.kind() {
		case entraMisconfigured:
			a.log.ErrorContext(ctx, "entra_client_misconfigured", e.logAttrs()...)
			return body, fmt.Errorf("%w: %w", ErrUnavailable, e)
		case entraUnavailable:
			a.log.WarnContext(ctx, "entra_unavailable", e.logAttrs()...)
			return body, fmt.Errorf("%w: %w", ErrUnavailable, e)
		}
		a.log.InfoContext(ctx, "entra_refresh_refused", e.logAttrs()...)
		return body, fmt.Errorf("%w: %w", ErrReauthenticate, e)
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.AccessToken == "" || body.ExpiresIn <= 0 {
		return body, fmt.Errorf("%w: refresh: an answer without a token", ErrUnavailable)
	}
	return body, nil
}
