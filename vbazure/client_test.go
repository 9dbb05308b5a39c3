package vbazure

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openrestore/portal/fakevbazure"
	"github.com/openrestore/portal/internal/clock"
	"github.com/openrestore/portal/internal/spectest"
)

// fixture is the fake, and a client whose exchanges are checked against
// the VBAzure document.
type fixture struct {
	s     *fakevbazure.Server
	c     *Client
	clock *clock.Clock
}

func start(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	c := clock.Starting(clock.TestStart)
	s, err := fakevbazure.Start("127.0.0.1:0", fakevbazure.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	opts = append([]Option{WithTransport(spectest.LoadVBAzure(t).Transport(t, http.DefaultTransport)), WithClock(c.Now),
		withWait(func(context.Context, time.Duration) error { return nil })}, opts...)
	client, err := New(s.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, c: client, clock: c}
}

// holder is a TokenSource over one pair, refreshed with the client.
type holder struct {
	c         *Client
	mu        sync.Mutex
	tok       *Token
	refreshes int
}

func (h *holder) Token(context.Context) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tok.AccessToken, nil
}

func (h *holder) Refresh(ctx context.Context, rejected string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tok.AccessToken != rejected {
		return h.tok.AccessToken, nil
	}
	t, err := h.c.Refresh(ctx, h.tok.RefreshToken)
	if err != nil {
		return "", err
	}
	h.tok, h.refreshes = t, h.refreshes+1
	return t.AccessToken, nil
}

func (f *fixture) admin(t *testing.T) (*Account, *holder) {
	t.Helper()
	in, err := f.c.SignIn(t.Context(), fakevbazure.DemoAdminName, fakevbazure.DemoAdminPassword)
	if err != nil || in.Token == nil {
		t.Fatalf("sign in: %+v %v", in, err)
	}
	h := &holder{c: f.c, tok: in.Token}
	return f.c.As(h), h
}

func TestSignInWithMFA(t *testing.T) {
	t.Parallel()
	f := start(t)
	ctx := t.Context()
	in, err := f.c.SignIn(ctx, fakevbazure.DemoOperatorName, fakevbazure.DemoOperatorPassword)
	if err != nil || in.Token != nil || in.MFAToken == "" {
		t.Fatalf("first step: %+v %v", in, err)
	}
	if _, err := f.c.CompleteMFA(ctx, in.MFAToken, "000000"); !errors.Is(err, ErrSignInRefused) {
		t.Errorf("a wrong code: %v", err)
	}
	tok, err := f.c.CompleteMFA(ctx, in.MFAToken, fakevbazure.TOTP(fakevbazure.DemoMFASecret, f.clock.Now()))
	if left := tok.Expiry.Sub(f.clock.Now()); err != nil || tok.AccessToken == "" || tok.Role != RolePortalAdmin || tok.Lifetime != time.Hour ||
		left > time.Hour || left < 59*time.Minute || tok.UserName != fakevbazure.DemoOperatorName {
		t.Fatalf("with the code: %+v %v", tok, err)
	}
	if _, err := f.c.SignIn(ctx, fakevbazure.DemoOperatorName, "wrong"); !errors.Is(err, ErrSignInRefused) {
		t.Errorf("a wrong password: %v", err)
	}
	if err := f.c.SignOut(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if f.s.SignedIn(fakevbazure.DemoOperatorName) {
		t.Error("signed in after signing out")
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			f := start(t, WithVersion(v))
			ctx := t.Context()
			a, _ := f.admin(t)
			var names []string
			for u, err := range a.AllUsers(ctx, "", 2) {
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, u.Name)
			}
			if len(names) != len(fakevbazure.DemoUsers()) {
				t.Errorf("every user, two a page: %v", names)
			}
			pw := "Swing-Shift-Pass5"
			u, err := a.CreateUser(ctx, NewUser{Name: "swing-shift", Description: "Swing shift", Role: RoleRestoreOperator, Type: TypeInternal, Password: &pw})
			if err != nil || u.ID == "" || u.Type != TypeInternal {
				t.Fatalf("add: %+v %v", u, err)
			}
			entra := "1d2c3b4a-5e6f-4a8b-9c0d-1e2f3a4b5c6d"
			if e, err := a.CreateUser(ctx, NewUser{Name: "MiriamG", Description: "Miriam Graham", Role: RoleReadOnlyUser,
				Type: TypeIdentityProvider, IdentityProviderEntityID: &entra}); err != nil || e.IdentityProviderEntityID != entra {
				t.Fatalf("add an Entra user: %+v %v", e, err)
			}
			role := RoleReadOnlyUser
			if u, err = a.UpdateUser(ctx, u.ID, UserChange{Role: &role}); err != nil || u.Role != role {
				t.Fatalf("modify: %+v %v", u, err)
			}
			if err := a.ChangeUserPassword(ctx, u.ID, "Swing-Shift-Pass6", "not the admin's"); !errors.Is(err, ErrInvalid) {
				t.Errorf("a wrong Default Admin password: %v", err)
			} else if p := (*Problem)(nil); !errors.As(err, &p) || len(p.Errors["adminsPassword"]) == 0 {
				t.Errorf("which field: %v", err)
			}
			if err := a.ChangeUserPassword(ctx, u.ID, "Swing-Shift-Pass6", fakevbazure.DemoAdminPassword); err != nil {
				t.Fatal(err)
			}
			for _, format := range []string{CSV, XML} {
				body, err := a.ExportUsers(ctx, "swing", nil, format)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(body)
				body.Close()
				if !strings.Contains(string(b), "swing-shift") || strings.Contains(string(b), "vbazure-admin") {
					t.Errorf("%s: %s", format, b)
				}
			}
			if err := a.DeleteUser(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := a.User(ctx, u.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("a removed user: %v", err)
			}
		})
	}
}

func TestOwnMFASetup(t *testing.T) {
	t.Parallel()
	f := start(t)
	ctx := t.Context()
	in, err := f.c.SignIn(ctx, "helpdesk-restore", "Helpdesk-Contoso-Fix8")
	if err != nil {
		t.Fatal(err)
	}
	me := f.c.As(&holder{c: f.c, tok: in.Token})
	setup, err := me.EnableMFA(ctx, in.Token.UserID, false)
	if err != nil || !strings.HasPrefix(setup.QRString, "otpauth://") {
		t.Fatalf("enable: %+v %v", setup, err)
	}
	if err := me.AcceptMFA(ctx, in.Token.UserID, "123456", setup.Token); !errors.Is(err, ErrInvalid) {
		t.Errorf("a wrong code: %v", err)
	}
	if err := me.AcceptMFA(ctx, in.Token.UserID, fakevbazure.TOTP(setup.SecretKey, f.clock.Now()), setup.Token); err != nil {
		t.Fatal(err)
	}
	if err := me.ChangeOwnPassword(ctx, "Helpdesk-Contoso-Fix8", "Helpdesk-Contoso-Fix9"); err != nil {
		t.Fatal(err)
	}
	if in, err := f.c.SignIn(ctx, "helpdesk-restore", "Helpdesk-Contoso-Fix9"); err != nil || in.MFAToken == "" {
		t.Errorf("MFA after the setup: %+v %v", in, err)
	}
	if _, err := me.Users(ctx, UsersQuery{}); !errors.Is(err, ErrForbidden) {
		t.Errorf("a Restore Operator listing users: %v", err)
	}
}

// TestTokenRenewal: a call that finds its token expired refreshes it once
// and goes on.
func TestTokenRenewal(t *testing.T) {
	t.Parallel()
	f := start(t)
	a, h := f.admin(t)
	f.clock.Advance(61 * time.Minute)
	if _, err := a.Users(t.Context(), UsersQuery{}); err != nil {
		t.Fatal(err)
	}
	if h.refreshes != 1 {
		t.Errorf("%d refreshes", h.refreshes)
	}
}

// TestRetries: a list (GET) is retried after a 503; a change (POST) is not.
func TestRetries(t *testing.T) {
	t.Parallel()
	f := start(t)
	a, _ := f.admin(t)
	ctx := t.Context()
	f.s.Inject(fakevbazure.Fault{Method: "GET", Path: "/api/v8.1/users", Status: http.StatusServiceUnavailable, Times: 1})
	if _, err := a.Users(ctx, UsersQuery{}); err != nil {
		t.Errorf("a GET after a 503: %v", err)
	}
	f.s.Inject(fakevbazure.Fault{Method: "POST", Path: "/api/v8.1/users", Status: http.StatusServiceUnavailable, Times: 1})
	pw := "Retry-Shift-Pass5"
	if _, err := a.CreateUser(ctx, NewUser{Name: "retry", Description: "x", Role: RoleReadOnlyUser, Type: TypeInternal, Password: &pw}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("a POST after a 503: %v", err)
	}
	list, _ := a.Users(ctx, UsersQuery{NameFilter: "retry"})
	if list.TotalCount != 0 {
		t.Error("the refused POST was sent again")
	}
}

// TestReachable: the readiness probe counts a refused token as an answer,
// and a server that fails as none.
func TestReachable(t *testing.T) {
	t.Parallel()
	s, err := fakevbazure.Start("127.0.0.1:0", fakevbazure.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := New(s.URL(), WithTransport(spectest.LoadVBAzure(t).ResponseTransport(t, http.DefaultTransport)),
		withWait(func(context.Context, time.Duration) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Reachable(t.Context()) {
		t.Error("an answering server is unreachable")
	}
	s.Inject(fakevbazure.Fault{Path: "/api/", Status: http.StatusServiceUnavailable})
	if c.Reachable(t.Context()) {
		t.Error("a failing server is reachable")
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	if _, err := New("https://vbazure.example.com", WithVersion("v9")); err == nil {
		t.Error("an unknown version was accepted")
	}
	if _, err := New("http://vbazure.example.com"); err == nil {
		t.Error("plain http beyond loopback was accepted")
	}
	c, err := New("https://vbazure.example.com/")
	if err != nil || c.Version() != "v8.1" {
		t.Errorf("defaults: %v %v", c, err)
	}
}
