package veeamapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Token is an operator token pair.
type Token struct {
	AccessToken  string
	RefreshToken string
	// Expiry is when the access token expires by this client's clock
	// (issue time plus expires_in; the server's .expires may be skewed).
	Expiry time.Time
	// Lifetime is the access token's lifetime as the server granted it.
	Lifetime time.Duration
	// UserName is the server's name for the operator.
	UserName string
}

// tokenResponse is OAuthTokenResponse.
type tokenResponse struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    int64     `json:"expires_in"`
	UserName     string    `json:"userName"`
	Issued       time.Time `json:".issued"`
	Expires      time.Time `json:".expires"`
}

// OperatorToken exchanges an Entra access token for the Restore Portal API
// (the assertion) for an operator token pair. userID and tenantID are the
// token's oid and tid claims.
//
// VB365: POST /v8/token (grant_type=operator)
func (c *Client) OperatorToken(ctx context.Context, userID, tenantID, assertion string) (*Token, error) {
	if userID == "" || tenantID == "" || assertion == "" {
		return nil, errors.New("veeamapi: operator token: user id, tenant id and assertion are required")
	}
	return c.token(ctx, url.Values{
		"grant_type":                {"operator"},
		"client_id":                 {userID + "." + tenantID},
		"assertion":                 {assertion},
		"disable_antiforgery_token": {"true"},
	})
}

// RefreshToken exchanges a refresh token for a new pair. Prefer Refresher,
// which makes one call however many requests need the new pair at once.
//
// VB365: POST /v8/token (grant_type=refresh_token)
func (c *Client) RefreshToken(ctx context.Context, refreshToken string) (*Token, error) {
	if refreshToken == "" {
		return nil, fmt.Errorf("veeamapi: refresh token: %w: no refresh token", ErrGrantRejected)
	}
	return c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

func (c *Client) token(ctx context.Context, form url.Values) (*Token, error) {
	issued := c.now()
	var tr tokenResponse
	if err := c.call(ctx, c.tokenTimeout, request{Method: http.MethodPost, Path: "/v8/token", Body: form}, &tr); err != nil {
		return nil, err
	}
	if tr.AccessToken == "" || tr.ExpiresIn <= 0 {
		return nil, fmt.Errorf("veeamapi: POST /v8/token: %w: the answer has no usable access token", ErrUnavailable)
	}
	lifetime := time.Duration(tr.ExpiresIn) * time.Second
	return &Token{
		AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, UserName: tr.UserName,
		Expiry: issued.Add(lifetime), Lifetime: lifetime,
	}, nil
}

// Logout revokes the token pair of accessToken.
//
// VB365: POST /v8/token/logout
func (c *Client) Logout(ctx context.Context, accessToken string) error {
	return c.call(ctx, c.tokenTimeout, request{Method: http.MethodPost, Path: "/v8/token/logout", Token: accessToken}, nil)
}

// Refresher refreshes token pairs so that a refresh token is sent to the
// server once, however many requests find their access token expired at the
// same moment: concurrent callers share one call, and callers that arrive
// just after it (having read the old pair before it was replaced) get the
// pair it produced. The server's refresh tokens are single-use, so a second
// call with the same one would fail.
type Refresher struct {
	c      *Client
	flight singleflight.Group
	// remember is how long a refresh's result is handed to late callers.
	remember time.Duration

	mu     sync.Mutex
	recent map[[32]byte]recentRefresh
}

type recentRefresh struct {
	tok *Token
	at  time.Time
}

// NewRefresher returns a Refresher using c.
func NewRefresher(c *Client) *Refresher {
	return &Refresher{c: c, remember: 2 * time.Minute, recent: map[[32]byte]recentRefresh{}}
}

// Refresh returns the pair that replaces the one holding refreshToken.
func (r *Refresher) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	key := sha256.Sum256([]byte(refreshToken))
	if tok, ok := r.remembered(key); ok {
		return tok, nil
	}
	ch := r.flight.DoChan(string(key[:]), func() (any, error) {
		if tok, ok := r.remembered(key); ok {
			return tok, nil
		}
		// The call outlives a caller who gives up: others may be waiting for it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.c.tokenTimeout)
		defer cancel()
		tok, err := r.c.RefreshToken(fctx, refreshToken)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.recent[key] = recentRefresh{tok: tok, at: r.c.now()}
		r.mu.Unlock()
		return tok, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		tok := *res.Val.(*Token)
		return &tok, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("veeamapi: refresh token: %w", ctx.Err())
	}
}

func (r *Refresher) remembered(key [32]byte) (*Token, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.c.now()
	for k, v := range r.recent {
		if now.Sub(v.at) > r.remember {
			delete(r.recent, k)
		}
	}
	v, ok := r.recent[key]
	if !ok {
		return nil, false
	}
	tok := *v.tok
	return &tok, true
}
