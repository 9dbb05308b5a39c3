// Package directory looks people up in the organisation's Microsoft Entra
// directory through Microsoft Graph, with the signed-in person's delegated
// token (User.ReadBasic.All): administrators pick people rather than type
// their object ids.
package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openrestore/portal/internal/rest"
)

// Scope is the delegated permission a search needs.
const Scope = "https://graph.microsoft.com/User.ReadBasic.All"

// DefaultURL is Microsoft Graph.
const DefaultURL = "https://graph.microsoft.com"

// Errors.
var (
	// ErrDenied: the token does not allow reading the directory (consent missing).
	ErrDenied = errors.New("directory: not allowed to read the directory")
	// ErrUnavailable: Graph could not be reached or answered wrongly.
	ErrUnavailable = errors.New("directory: Microsoft Graph unavailable")
)

// Client searches one Graph endpoint.
type Client struct{ rest *rest.Client }

// New returns a client of the Graph at baseURL (DefaultURL in production).
func New(baseURL string, transport http.RoundTripper) (*Client, error) {
	base, err := rest.CheckBaseURL(baseURL, DefaultURL)
	if err != nil {
		return nil, fmt.Errorf("directory: Graph URL %q %w", baseURL, err)
	}
	return &Client{rest: rest.New(rest.Config{Name: "directory", Base: base, Transport: transport, UserAgent: "restore-portal",
		Check: check, Unavailable: ErrUnavailable})}, nil
}

// Person is someone of the directory.
type Person struct {
	ID       string `json:"id"`
	Name     string `json:"displayName"`
	UPN      string `json:"userPrincipalName"`
	Mail     string `json:"mail"`
	JobTitle string `json:"jobTitle"`
}

// Search finds up to limit people whose name or address has a word
// starting with text.
//
// Graph: GET /v1.0/users?$search="displayName:…" OR "mail:…" OR "userPrincipalName:…"
func (c *Client) Search(ctx context.Context, token, text string, limit int) ([]Person, error) {
	text = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 {
			return -1
		}
		return r
	}, strings.TrimSpace(text))
	if text == "" {
		return nil, nil
	}
	var terms []string
	for _, p := range []string{"displayName", "mail", "userPrincipalName"} {
		terms = append(terms, `"`+p+`:`+text+`"`)
	}
	q := url.Values{"$search": {strings.Join(terms, " OR ")}, "$top": {strconv.Itoa(limit)},
		"$select": {"id,displayName,userPrincipalName,mail,jobTitle"}, "$orderby": {"displayName"}}
	var page struct {
		Value []Person `json:"value"`
	}
	err := c.rest.Call(ctx, 10*time.Second, rest.Request{Method: http.MethodGet, Path: "/v1.0/users", Query: q, Token: token,
		Header: http.Header{"ConsistencyLevel": {"eventual"}}}, &page)
	return page.Value, err
}

func check(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w (%d)", ErrDenied, resp.StatusCode)
	default:
		return fmt.Errorf("%w: status %d", ErrUnavailable, resp.StatusCode)
	}
}
