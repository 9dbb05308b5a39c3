package authn

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// renewMemory is how long a finished renewal is handed to late requests.
const renewMemory = 2 * time.Minute

// Token returns the signed-in user's VB365 access token, renewing it first
// when it is about to expire. It and Refresh make the Authenticator a
// veeamapi.TokenSource.
func (a *Authenticator) Token(ctx context.Context) (string, error) {
	st := a.load(ctx)
	if st.User == nil || st.Veeam == nil {
		return "", ErrNoSession
	}
	if a.cfg.Now().Before(st.Veeam.RenewAt) {
		return st.Veeam.Access, nil
	}
	return a.renew(ctx, st)
}

// Refresh returns a new VB365 access token after VB365 refused rejected.
// If the session already holds a newer token (another request renewed it),
// that one is returned.
func (a *Authenticator) Refresh(ctx context.Context, rejected string) (string, error) {
	st := a.load(ctx)
	if st.User == nil || st.Veeam == nil {
		return "", ErrNoSession
	}
	if st.Veeam.Access != rejected {
		return st.Veeam.Access, nil
	}
	return a.renew(ctx, st)
}

// renew replaces the session's VB365 pair: first with VB365's refresh token;
// if VB365 refuses it, with a new operator grant for an Entra access token
// (refreshed with Entra if need be); if Entra refuses too, the session ends
// and ErrReauthenticate says to sign in again. Passing failures (timeouts,
// 5xx) leave the session as it is.
//
// Concurrent requests of one session share one renewal, keyed by the pair
// being replaced; requests that arrive just after it finished get its result.
func (a *Authenticator) renew(ctx context.Context, st *state) (string, error) {
	key := renewalKey(st.Veeam.Refresh, st.Veeam.Access)
	if r, ok := a.rememberedRenewal(key); ok {
		return a.adopt(ctx, st, r), nil
	}
	ch := a.renewFlight.DoChan(key, func() (any, error) {
		if r, ok := a.rememberedRenewal(key); ok {
			return r, nil
		}
		// Other requests may be waiting on this renewal: it outlives a caller who leaves.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		r, err := a.renewTokens(rctx, st)
		if err != nil {
			return nil, err
		}
		a.mu.Lock()
		a.renewed[key] = r
		a.mu.Unlock()
		return r, nil
	})
	select {
	case res := <-ch:
		if errors.Is(res.Err, ErrReauthenticate) {
			a.log.InfoContext(ctx, "session_renewal_refused", "oid", st.User.OID, "tid", st.User.TenantID, "error", res.Err.Error())
			a.end(ctx, st)
			return "", res.Err
		}
		if res.Err != nil {
			return "", res.Err
		}
		return a.adopt(ctx, st, res.Val.(renewal)), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func renewalKey(refresh, access string) string {
	sum := sha256.Sum256([]byte(refresh + "\x00" + access))
	return string(sum[:])
}

func (a *Authenticator) rememberedRenewal(key string) (renewal, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now()
	for k, r := range a.renewed {
		if now.Sub(r.at) > renewMemory {
			delete(a.renewed, k)
		}
	}
	r, ok := a.renewed[key]
	return r, ok
}

// adopt stores a renewal's tokens in this request's session.
func (a *Authenticator) adopt(ctx context.Context, st *state, r renewal) string {
	st.Veeam = r.veeam
	if r.entra != nil {
		st.Entra = r.entra
	}
	a.save(ctx, st)
	return st.Veeam.Access
}

func (a *Authenticator) renewTokens(ctx context.Context, st *state) (renewal, error) {
	now := a.cfg.Now()
	g, err := a.veeam.Refresh(ctx, st.Veeam.Refresh)
	if err == nil {
		return renewal{veeam: grantState(g, now), at: now}, nil
	}
	if !errors.Is(err, ErrRejected) {
		return renewal{}, fmt.Errorf("refresh the backup server token: %w", err)
	}
	a.log.InfoContext(ctx, "veeam_refresh_refused", "oid", st.User.OID, "error", err.Error())
	entra := st.Entra
	if entra == nil || !now.Before(entra.RenewAt) {
		if entra, err = a.refreshEntra(ctx, st); err != nil {
			return renewal{}, err
		}
	}
	g, err = a.veeam.Exchange(ctx, st.User.OID, st.User.TenantID, entra.Access)
	if errors.Is(err, ErrRejected) {
		return renewal{}, fmt.Errorf("%w: the backup server refused a new grant: %w", ErrReauthenticate, err)
	}
	if err != nil {
		return renewal{}, fmt.Errorf("new backup server grant: %w", err)
	}
	return renewal{veeam: grantState(g, now), entra: entra, at: now}, nil
}

// refreshEntra gets a new Entra access token for the VB365 API with the
// session's refresh token. The scope is sent explicitly: Entra's v2.0 token
// endpoint wants it on refresh (x/oauth2 leaves it out).
func (a *Authenticator) refreshEntra(ctx context.Context, st *state) (*tokenState, error) {
	if st.Entra == nil || st.Entra.Refresh == "" {
		return nil, fmt.Errorf("%w: no Entra refresh token", ErrReauthenticate)
	}
	p, err := a.provider(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {st.Entra.Refresh},
		"client_id":     {p.oauth.ClientID},
		"client_secret": {p.oauth.ClientSecret},
		"scope":         {strings.Join(p.oauth.Scopes, " ")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.oauth.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: refresh: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		Error        string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("%w: refresh: unreadable answer (%d): %w", ErrUnavailable, resp.StatusCode, err)
	}
	switch {
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("%w: Entra refused the refresh token: %s", ErrReauthenticate, body.Error)
	case resp.StatusCode != http.StatusOK || body.AccessToken == "" || body.ExpiresIn <= 0:
		return nil, fmt.Errorf("%w: refresh: status %d", ErrUnavailable, resp.StatusCode)
	}
	now := a.cfg.Now()
	lifetime := time.Duration(body.ExpiresIn) * time.Second
	refresh := body.RefreshToken
	if refresh == "" {
		refresh = st.Entra.Refresh
	}
	return &tokenState{Access: body.AccessToken, Refresh: refresh, Expiry: now.Add(lifetime), RenewAt: renewAt(now, lifetime), ObtainedAt: now}, nil
}

// DetachedGrant obtains a VB365 token pair for the signed-in user that the
// session does not hold: the portal watches a user's restores with it until
// they end, also after the user has signed out (which revokes the session's
// own pair). It exchanges the session's Entra access token (renewed with
// Entra first when due) for a new operator grant.
func (a *Authenticator) DetachedGrant(ctx context.Context) (Grant, error) {
	st := a.load(ctx)
	if st.User == nil || st.Entra == nil {
		return Grant{}, ErrNoSession
	}
	entra := st.Entra
	if !a.cfg.Now().Before(entra.RenewAt) {
		fresh, err := a.refreshEntra(ctx, st)
		if err != nil {
			return Grant{}, err
		}
		st.Entra, entra = fresh, fresh
		a.save(ctx, st)
	}
	g, err := a.veeam.Exchange(ctx, st.User.OID, st.User.TenantID, entra.Access)
	if err != nil {
		return Grant{}, fmt.Errorf("authn: a grant to watch restores with: %w", err)
	}
	return g, nil
}
