package veeamapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
)

// TokenSource supplies the access token of the operator a call is made for.
type TokenSource interface {
	// Token returns a current access token, refreshing it first if it is about to expire.
	Token(ctx context.Context) (string, error)
	// Refresh returns a new access token after the server refused rejected with 401.
	Refresh(ctx context.Context, rejected string) (string, error)
}

// Operator is the API as one restore operator sees it: every call carries
// that operator's token.
type Operator struct {
	c  *Client
	ts TokenSource
}

// Operator returns the API authenticated by ts.
func (c *Client) Operator(ts TokenSource) *Operator { return &Operator{c: c, ts: ts} }

// call performs r with the operator's token. When the server refuses the
// token with 401 (it may have expired early, or been revoked), the source
// refreshes it once and the call is made again: a 401 means the server did
// nothing, so this is safe for any method.
func (o *Operator) call(ctx context.Context, r request, out any) error {
	tok, err := o.ts.Token(ctx)
	if err != nil {
		return fmt.Errorf("veeamapi: %s %s: token: %w", r.Method, r.Path, err)
	}
	r.Token = tok
	err = o.c.call(ctx, o.c.timeout, r, out)
	if !errors.Is(err, ErrUnauthorized) {
		return err
	}
	if r.Token, err = o.ts.Refresh(ctx, tok); err != nil {
		return fmt.Errorf("veeamapi: %s %s: refresh after 401: %w", r.Method, r.Path, err)
	}
	return o.c.call(ctx, o.c.timeout, r, out)
}

func (o *Operator) get(ctx context.Context, path string, query url.Values, out any) error {
	return o.call(ctx, request{Method: "GET", Path: path, Query: query}, out)
}

func (o *Operator) post(ctx context.Context, path string, body, out any) error {
	return o.call(ctx, request{Method: "POST", Path: path, Body: body}, out)
}
