package totp

import (
	"testing"
	"time"
)

// TestVectors are RFC 6238's SHA-1 test vectors (appendix B): the secret
// "12345678901234567890", eight digits.
func TestVectors(t *testing.T) {
	t.Parallel()
	key := []byte("12345678901234567890")
	for unix, want := range map[int64]string{
		59: "94287082", 1111111109: "07081804", 1111111111: "14050471",
		1234567890: "89005924", 2000000000: "69279037", 20000000000: "65353130",
	} {
		if got := HOTP(key, uint64(unix/30), 8); got != want {
			t.Errorf("T=%d: %s, want %s", unix, got, want)
		}
	}
	// The same in six digits, from the base32 secret an app is given,
	// however it was copied.
	secret := encoding.EncodeToString(key)
	for _, s := range []string{secret, " " + secret[:4] + " " + secret[4:] + " ", "gezdgnbvgy3tqojqgezdgnbvgy3tqojq", secret + "===="} {
		k, err := Key(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got := Code(k, time.Unix(59, 0)); got != "287082" {
			t.Errorf("%q: six digits at 59: %s", s, got)
		}
	}
	for _, bad := range []string{"", "not base32!", "GEZDGNBV"} {
		if _, err := Key(bad); err == nil {
			t.Errorf("%q taken as a secret", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	key, err := Key(NewSecret())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 17, 10, 30, 15, 0, time.UTC)
	code := Code(key, now)
	step, ok := Check(key, code, now, 0)
	if !ok {
		t.Fatal("the current code is refused")
	}
	if _, ok := Check(key, code, now, step); ok {
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
		if _, ok := Check(key, Code(key, now.Add(tc.at)), now, 0); ok != tc.ok {
			t.Errorf("%s: accepted %v", tc.name, ok)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := Check(key, bad, now, 0); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
