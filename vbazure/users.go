package vbazure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/openrestore/portal/internal/rest"
)

// Roles a person can be given, and user types.
const (
	RolePortalAdmin     = "PortalAdmin"
	RolePortalOperator  = "PortalOperator"
	RoleRestoreOperator = "RestoreOperator"
	RoleReadOnlyUser    = "ReadOnlyUser"

	TypeInternal         = "Internal"
	TypeIdentityProvider = "IdentityProvider"
)

// User is the document's User.
type User struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Role        string `json:"role"`
	Type        string `json:"type"`
	// IdentityProviderEntityID is an IdentityProvider user's Entra object id.
	IdentityProviderEntityID string `json:"identityProviderEntityId"`
	MFAEnabled               bool   `json:"mfaEnabled"`
	IsDefault                bool   `json:"isDefault"`
}

// UsersPage is a page of users.
type UsersPage struct {
	Offset     int    `json:"offset"`
	Limit      int    `json:"limit"`
	TotalCount int    `json:"totalCount"`
	Results    []User `json:"results"`
}

// UsersQuery narrows and pages the list. Limit 0 means the server's default.
type UsersQuery struct {
	NameFilter string
	Offset     int
	Limit      int
}

// Users lists users.
//
// VBAzure: GET /api/v8.1/users
func (a *Account) Users(ctx context.Context, q UsersQuery) (*UsersPage, error) {
	v := url.Values{}
	if q.NameFilter != "" {
		v.Set("NameFilter", q.NameFilter)
	}
	if q.Offset > 0 {
		v.Set("Offset", strconv.Itoa(q.Offset))
	}
	if q.Limit != 0 {
		v.Set("Limit", strconv.Itoa(q.Limit))
	}
	var p UsersPage
	if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: a.c.path("/users"), Query: v}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// AllUsers reads every user whose name holds filter, page by page.
func (a *Account) AllUsers(ctx context.Context, filter string, pageSize int) iter.Seq2[User, error] {
	return func(yield func(User, error) bool) {
		q := UsersQuery{NameFilter: filter, Limit: pageSize}
		for {
			p, err := a.Users(ctx, q)
			if err != nil {
				yield(User{}, err)
				return
			}
			for _, u := range p.Results {
				if !yield(u, nil) {
					return
				}
			}
			q.Offset += len(p.Results)
			if len(p.Results) == 0 || q.Offset >= p.TotalCount {
				return
			}
		}
	}
}

// User reads one user.
//
// VBAzure: GET /api/v8.1/users/{id}
func (a *Account) User(ctx context.Context, id string) (*User, error) {
	var u User
	if err := a.call(ctx, rest.Request{Method: http.MethodGet, Path: a.c.path("/users/%s", id)}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// NewUser is a user to add: an Internal one with a password, or an
// IdentityProvider one with the person's Entra object id.
type NewUser struct {
	Name                     string  `json:"name"`
	Description              string  `json:"description"`
	Role                     string  `json:"role"`
	Type                     string  `json:"type"`
	IdentityProviderEntityID *string `json:"identityProviderEntityId,omitempty"`
	Password                 *string `json:"password,omitempty"`
}

// CreateUser adds a user.
//
// VBAzure: POST /api/v8.1/users
func (a *Account) CreateUser(ctx context.Context, n NewUser) (*User, error) {
	var u User
	if err := a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/users"), Body: n}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// UserChange is what to change of a user; nil fields stay.
type UserChange struct {
	Role        *string `json:"role,omitempty"`
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// UpdateUser changes a user's role, name or description.
//
// VBAzure: PUT /api/v8.1/users/{id}
func (a *Account) UpdateUser(ctx context.Context, id string, ch UserChange) (*User, error) {
	var u User
	if err := a.call(ctx, rest.Request{Method: http.MethodPut, Path: a.c.path("/users/%s", id), Body: ch}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteUser removes a user (never the Default Admin).
//
// VBAzure: DELETE /api/v8.1/users/{id}
func (a *Account) DeleteUser(ctx context.Context, id string) error {
	return a.call(ctx, rest.Request{Method: http.MethodDelete, Path: a.c.path("/users/%s", id)}, nil)
}

// ChangeUserPassword sets another user's password; the server asks for the
// Default Admin's password.
//
// VBAzure: POST /api/v8.1/users/{userId}/changePassword
func (a *Account) ChangeUserPassword(ctx context.Context, id, newPassword, adminsPassword string) error {
	return a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/users/%s/changePassword", id),
		Body: map[string]string{"newPassword": newPassword, "adminsPassword": adminsPassword}}, nil)
}

// ChangeOwnPassword changes the signed-in account's password.
//
// VBAzure: POST /api/v8.1/users/changePassword
func (a *Account) ChangeOwnPassword(ctx context.Context, current, next string) error {
	return a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/users/changePassword"),
		Body: map[string]string{"currentPassword": current, "newPassword": next}}, nil)
}

// MFASetup is what enabling MFA hands out once: the secret for the
// authenticator app (also as an otpauth:// address for a QR code), the
// scratch codes, and the token AcceptMFA needs.
type MFASetup struct {
	UserID       string   `json:"userId"`
	QRString     string   `json:"qrString"`
	SecretKey    string   `json:"secretKey"`
	ScratchCodes []string `json:"scratchCodes"`
	Token        string   `json:"token"`
}

// EnableMFA starts setting up MFA for the signed-in account (id is its
// own); recreate replaces an existing secret.
//
// VBAzure: POST /api/v8.1/users/{id}/enableMfa
func (a *Account) EnableMFA(ctx context.Context, id string, recreate bool) (*MFASetup, error) {
	var s MFASetup
	if err := a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/users/%s/enableMfa", id),
		Body: map[string]bool{"recreate": recreate}}, &s); err != nil {
		return nil, err
	}
	if s.SecretKey == "" || s.Token == "" {
		return nil, fmt.Errorf("vbazure: enableMfa: %w: no secret or token", ErrUnavailable)
	}
	return &s, nil
}

// AcceptMFA completes the setup with a code from the app: MFA is on.
//
// VBAzure: POST /api/v8.1/users/{id}/acceptMfa
func (a *Account) AcceptMFA(ctx context.Context, id, code, token string) error {
	return a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/users/%s/acceptMfa", id),
		Body: map[string]string{"code": code, "token": token}}, nil)
}

// DisableMFA turns a user's MFA off.
//
// VBAzure: POST /api/v8.1/users/{id}/disableMfa
func (a *Account) DisableMFA(ctx context.Context, id string) error {
	return a.call(ctx, rest.Request{Method: http.MethodPost, Path: a.c.path("/users/%s/disableMfa", id)}, nil)
}

// Export formats.
const (
	CSV = "text/csv"
	XML = "application/xml"
)

// ExportUsers streams the list of users whose name holds filter (or those
// of ids) as CSV or XML. The caller closes the answer.
//
// VBAzure: POST /api/v8.1/users/export
func (a *Account) ExportUsers(ctx context.Context, filter string, ids []string, format string) (io.ReadCloser, error) {
	if format != CSV && format != XML {
		return nil, fmt.Errorf("vbazure: export as %q: CSV or XML only", format)
	}
	body := map[string]any{}
	if filter != "" {
		body["nameFilter"] = filter
	}
	if len(ids) > 0 {
		body["userIds"] = ids
	}
	r := rest.Request{Method: http.MethodPost, Path: a.c.path("/users/export"), Body: body, Accept: format, Idempotent: true}
	tok, err := a.ts.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("vbazure: export: token: %w", err)
	}
	r.Token = tok
	resp, err := a.c.rest.Send(ctx, r)
	if errors.Is(err, ErrUnauthorized) {
		if r.Token, err = a.ts.Refresh(ctx, tok); err != nil {
			return nil, fmt.Errorf("vbazure: export: refresh after 401: %w", err)
		}
		resp, err = a.c.rest.Send(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
