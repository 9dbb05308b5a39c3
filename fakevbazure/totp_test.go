package fakevbazure

import (
	"testing"
	"time"
)

// TestTOTPVectors are RFC 6238's SHA-1 test vectors (appendix B): the
// secret "12345678901234567890", eight digits.
func TestTOTPVectors(t *testing.T) {
	t.Parallel()
	key := []byte("12345678901234567890")
	for unix, want := range map[int64]string{
		59: "94287082", 1111111109: "07081804", 1111111111: "14050471",
		1234567890: "89005924", 2000000000: "69279037", 20000000000: "65353130",
	} {
		if got := hotp(key, uint64(unix/30), 8); got != want {
			t.Errorf("T=%d: %s, want %s", unix, got, want)
		}
	}
	// The same in six digits, from the base32 secret an app is given.
	secret := secretEncoding.EncodeToString(key)
	if got := TOTP(secret, time.Unix(59, 0)); got != "287082" {
		t.Errorf("six digits at 59: %s", got)
	}
}

func TestTOTPCheck(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	now := time.Date(2026, 6, 17, 10, 30, 15, 0, time.UTC)
	code := TOTP(secret, now)
	step, ok := checkTOTP(secret, code, now, 0)
	if !ok {
		t.Fatal("the current code is refused")
	}
	if _, ok := checkTOTP(secret, code, now, step); ok {
		t.Error("a code worked twice")
	}
	for _, tc := range []struct {
		name string
		at   time.Duration
		ok   bool
	}{
		{"the previous step's (drift)", -30 * time.Second, true},
		{"the next step's (drift)", 30 * time.Second, true},
		{"two steps old", -60 * time.Second, false},
		{"two steps ahead", 60 * time.Second, false},
	} {
		if _, ok := checkTOTP(secret, TOTP(secret, now.Add(tc.at)), now, 0); ok != tc.ok {
			t.Errorf("%s: accepted %v", tc.name, ok)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := checkTOTP(secret, bad, now, 0); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
