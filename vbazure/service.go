package vbazure

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/openrestore/portal/internal/totp"
)

// Login is an account a program signs in with on its own: a name, a
// password and, when the account has MFA, the secret its codes come from.
type Login struct {
	Name     string
	Password string
	// TOTPSecret is the base32 secret of the account's authenticator.
	TOTPSecret string
}

// ServiceTokens is a TokenSource for a Login: it signs in when it must
// (computing the MFA code itself), refreshes the pair before it expires,
// and signs in again when the refresh token is refused. It is safe for
// concurrent use; callers wait while it renews.
type ServiceTokens struct {
	c     *Client
	login Login
	key   []byte

	mu  sync.Mutex
	tok *Token
}

// ServiceTokens returns the token source of login; a TOTP secret that is
// not base32 is an error here rather than at the first sign-in.
func (c *Client) ServiceTokens(login Login) (*ServiceTokens, error) {
	if login.Name == "" || login.Password == "" {
		return nil, errors.New("vbazure: a service account needs a name and a password")
	}
	s := &ServiceTokens{c: c, login: login}
	if login.TOTPSecret != "" {
		key, err := totp.Key(login.TOTPSecret)
		if err != nil {
			return nil, fmt.Errorf("vbazure: the service account's MFA secret: %w", err)
		}
		s.key = key
	}
	return s, nil
}

// renewBefore is how long before its expiry a token is renewed.
const renewBefore = time.Minute

// Token returns a current access token.
func (s *ServiceTokens) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.c.now().Before(s.tok.Expiry.Add(-renewBefore)) {
		return s.tok.AccessToken, nil
	}
	return s.renew(ctx)
}

// Refresh returns a new access token after the server refused rejected;
// when another caller renewed it meanwhile, theirs.
func (s *ServiceTokens) Refresh(ctx context.Context, rejected string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken != rejected && s.c.now().Before(s.tok.Expiry.Add(-renewBefore)) {
		return s.tok.AccessToken, nil
	}
	return s.renew(ctx)
}

// renew refreshes the pair, or signs in again; s.mu is held.
func (s *ServiceTokens) renew(ctx context.Context) (string, error) {
	if s.tok != nil && s.tok.RefreshToken != "" {
		t, err := s.c.Refresh(ctx, s.tok.RefreshToken)
		if err == nil {
			s.tok = t
			return t.AccessToken, nil
		}
		if !errors.Is(err, ErrSignInRefused) {
			return "", err
		}
	}
	t, err := s.signIn(ctx)
	if err != nil {
		s.tok = nil
		return "", err
	}
	s.tok = t
	return t.AccessToken, nil
}

// signIn signs in with the password and, for MFA, the current code. A code
// works once: when another process of the same account used this step's
// code, the next step's is tried, which the server takes as clock drift.
func (s *ServiceTokens) signIn(ctx context.Context) (*Token, error) {
	in, err := s.c.SignIn(ctx, s.login.Name, s.login.Password)
	if err != nil {
		return nil, fmt.Errorf("vbazure: the service account %s: %w", s.login.Name, err)
	}
	if in.Token != nil {
		return in.Token, nil
	}
	if s.key == nil {
		return nil, fmt.Errorf("vbazure: the service account %s has MFA, and no MFA secret is configured: %w", s.login.Name, ErrSignInRefused)
	}
	now := s.c.now()
	var last error
	for _, at := range []time.Time{now, now.Add(totp.Step)} {
		t, err := s.c.CompleteMFA(ctx, in.MFAToken, totp.Code(s.key, at))
		if err == nil {
			return t, nil
		}
		if last = err; !errors.Is(err, ErrSignInRefused) {
			break
		}
	}
	return nil, fmt.Errorf("vbazure: the service account %s: MFA code: %w", s.login.Name, last)
}

// SignOut revokes the current pair, if any (at shutdown).
func (s *ServiceTokens) SignOut(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return nil
	}
	err := s.c.SignOut(ctx, s.tok.AccessToken)
	s.tok = nil
	return err
}
