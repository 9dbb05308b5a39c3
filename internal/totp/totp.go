// Package totp is RFC 6238 as authenticator apps and Veeam Backup for
// Microsoft Azure use it: HMAC-SHA1 over 30-second steps since the Unix
// epoch, six digits, secrets in base32. The fake VBAzure checks codes with
// it; the portal computes its service account's codes with it.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Step is the time a code lasts; Digits its length.
const (
	Step   = 30 * time.Second
	Digits = 6
)

// encoding is how secrets are written for people and apps: base32, upper
// case, without padding.
var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrSecret means a secret is not base32 of at least 80 bits.
var ErrSecret = errors.New("totp: the secret is not base32 of at least 16 characters")

// NewSecret returns a random 160-bit secret, base32-encoded.
func NewSecret() string {
	b := make([]byte, 20)
	rand.Read(b)
	return encoding.EncodeToString(b)
}

// Key decodes a secret as people copy it: spaces and case do not matter,
// nor does padding.
func Key(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "=", "").Replace(strings.TrimSpace(secret)))
	key, err := encoding.DecodeString(s)
	if err != nil || len(key) < 10 {
		return nil, ErrSecret
	}
	return key, nil
}

// StepOf is the time step a code of t belongs to.
func StepOf(t time.Time) int64 { return t.Unix() / int64(Step/time.Second) }

// Code returns the code of key at t, as an authenticator app shows it.
func Code(key []byte, t time.Time) string { return HOTP(key, uint64(StepOf(t)), Digits) }

// HOTP is RFC 4226's value of counter, with digits digits.
func HOTP(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, code%mod)
}

// Check reports the step whose code matches: the current one, or one step
// either side (clocks drift), and whether any did. A step already used
// (lastUsed or earlier) does not count: a code works once.
func Check(key []byte, code string, now time.Time, lastUsed int64) (int64, bool) {
	if len(code) != Digits {
		return 0, false
	}
	cur := StepOf(now)
	for _, step := range []int64{cur, cur - 1, cur + 1} {
		if step <= lastUsed {
			continue
		}
		if hmac.Equal([]byte(HOTP(key, uint64(step), Digits)), []byte(code)) {
			return step, true
		}
	}
	return 0, false
}
