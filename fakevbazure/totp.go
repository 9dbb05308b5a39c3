package fakevbazure

import (
	"time"

	"github.com/openrestore/portal/internal/totp"
)

// NewSecret returns a random 160-bit TOTP secret, base32-encoded.
func NewSecret() string { return totp.NewSecret() }

// TOTP returns the code of a base32 secret at t, as an authenticator app
// shows it; "" if the secret is not base32.
func TOTP(secret string, t time.Time) string {
	key, err := totp.Key(secret)
	if err != nil {
		return ""
	}
	return totp.Code(key, t)
}

// checkTOTP checks a code of secret at now (see totp.Check).
func checkTOTP(secret, code string, now time.Time, lastUsed int64) (int64, bool) {
	key, err := totp.Key(secret)
	if err != nil {
		return 0, false
	}
	return totp.Check(key, code, now, lastUsed)
}
