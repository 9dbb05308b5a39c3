package vbazure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/openrestore/portal/internal/rest"
)

// Token is a signed-in account's token pair.
type Token struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	Lifetime     time.Duration
	UserID       string
	UserName     string
	Role         string
}

// SignIn is the answer to a password: a token pair, or, for an account
// with MFA, the token to send with the code (CompleteMFA).
type SignIn struct {
	Token    *Token
	MFAToken string
}

// loginAnswer is the document's Login.
type loginAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	UserID       string `json:"userId"`
	Username     string `json:"username"`
	RoleName     string `json:"roleName"`
	MFAEnabled   bool   `json:"mfa_enabled"`
	MFAToken     string `json:"mfa_token"`
}

func (c *Client) token(ctx context.Context, form url.Values) (loginAnswer, time.Time, error) {
	var a loginAnswer
	issued := c.now()
	err := c.rest.Call(ctx, c.timeout, rest.Request{Method: http.MethodPost, Path: "/api/oauth2/token", Body: form}, &a)
	return a, issued, err
}

func (a loginAnswer) pair(issued time.Time) (*Token, error) {
	if a.AccessToken == "" || a.ExpiresIn <= 0 {
		return nil, fmt.Errorf("vbazure: POST /api/oauth2/token: %w: an answer without a token", ErrUnavailable)
	}
	lifetime := time.Duration(a.ExpiresIn) * time.Second
	return &Token{AccessToken: a.AccessToken, RefreshToken: a.RefreshToken, Expiry: issued.Add(lifetime), Lifetime: lifetime,
		UserID: a.UserID, UserName: a.Username, Role: a.RoleName}, nil
}

// SignIn signs in with a user name and password.
//
// VBAzure: POST /api/oauth2/token (grant_type=Password)
func (c *Client) SignIn(ctx context.Context, name, password string) (SignIn, error) {
	a, issued, err := c.token(ctx, url.Values{"grant_type": {"Password"}, "username": {name}, "password": {password}})
	if err != nil {
		return SignIn{}, err
	}
	if a.MFAEnabled {
		if a.MFAToken == "" {
			return SignIn{}, fmt.Errorf("vbazure: POST /api/oauth2/token: %w: MFA without an MFA token", ErrUnavailable)
		}
		return SignIn{MFAToken: a.MFAToken}, nil
	}
	t, err := a.pair(issued)
	return SignIn{Token: t}, err
}

// CompleteMFA finishes a sign-in with the six-digit code of the account's
// authenticator app (or a scratch code).
//
// VBAzure: POST /api/oauth2/token (grant_type=Mfa)
func (c *Client) CompleteMFA(ctx context.Context, mfaToken, code string) (*Token, error) {
	a, issued, err := c.token(ctx, url.Values{"grant_type": {"Mfa"}, "mfa_token": {mfaToken}, "mfa_code": {code}})
	if err != nil {
		return nil, err
	}
	return a.pair(issued)
}

// Refresh exchanges a refresh token for a new pair (it works once).
//
// VBAzure: POST /api/oauth2/token (grant_type=Refresh_token)
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	a, issued, err := c.token(ctx, url.Values{"grant_type": {"Refresh_token"}, "refresh_token": {refreshToken}})
	if err != nil {
		return nil, err
	}
	return a.pair(issued)
}

// SignOut revokes the pair of accessToken.
//
// VBAzure: DELETE /api/oauth2/token
func (c *Client) SignOut(ctx context.Context, accessToken string) error {
	return c.rest.Call(ctx, c.timeout, rest.Request{Method: http.MethodDelete, Path: "/api/oauth2/token", Token: accessToken}, nil)
}

// Reachable reports whether the server answers at all (a refused token
// counts): readiness checks use it.
func (c *Client) Reachable(ctx context.Context) bool {
	err := c.rest.Call(ctx, c.timeout, rest.Request{Method: http.MethodGet, Path: c.path("/users"), Query: url.Values{"Limit": {"0"}}}, nil)
	return err == nil || errors.Is(err, ErrUnauthorized)
}

// TokenSource supplies the access token of the account a call is made for.
type TokenSource interface {
	// Token returns a current access token, refreshing it first if it is about to expire.
	Token(ctx context.Context) (string, error)
	// Refresh returns a new access token after the server refused rejected with 401.
	Refresh(ctx context.Context, rejected string) (string, error)
}

// Account is the API as one signed-in account sees it.
type Account struct {
	c  *Client
	ts TokenSource
}

// As returns the API authenticated by ts.
func (c *Client) As(ts TokenSource) *Account { return &Account{c: c, ts: ts} }

// call performs r with the account's token; on 401 the source refreshes it
// once and the call is made again (a 401 means the server did nothing).
func (a *Account) call(ctx context.Context, r rest.Request, out any) error {
	tok, err := a.ts.Token(ctx)
	if err != nil {
		return fmt.Errorf("vbazure: %s %s: token: %w", r.Method, r.Path, err)
	}
	r.Token = tok
	err = a.c.rest.Call(ctx, a.c.timeout, r, out)
	if !errors.Is(err, ErrUnauthorized) {
		return err
	}
	if r.Token, err = a.ts.Refresh(ctx, tok); err != nil {
		return fmt.Errorf("vbazure: %s %s: refresh after 401: %w", r.Method, r.Path, err)
	}
	return a.c.rest.Call(ctx, a.c.timeout, r, out)
}
