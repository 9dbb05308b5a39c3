package fakevbazure

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// TOTP is RFC 6238 as authenticator apps and VBAzure use it: HMAC-SHA1 over
// 30-second steps since the Unix epoch, six digits.
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
)

// secretEncoding is how secrets are written for people and apps: base32,
// upper case, without padding.
var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a random 160-bit secret, base32-encoded.
func NewSecret() string {
	b := make([]byte, 20)
	rand.Read(b)
	return secretEncoding.EncodeToString(b)
}

// TOTP returns the code of a base32 secret at t, as an authenticator app
// shows it; "" if the secret is not base32.
func TOTP(secret string, t time.Time) string {
	key, err := secretEncoding.DecodeString(strings.ToUpper(strings.ReplaceAll(secret, " ", "")))
	if err != nil {
		return ""
	}
	return hotp(key, uint64(t.Unix())/uint64(totpStep/time.Second), totpDigits)
}

// hotp is RFC 4226's HOTP value of counter, with digits digits.
func hotp(key []byte, counter uint64, digits int) string {
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

// totpStepOf is the time step a code of t belongs to.
func totpStepOf(t time.Time) int64 { return t.Unix() / int64(totpStep/time.Second) }

// checkTOTP reports the step whose code matches: the current one, or one
// step either side (clocks drift), and whether any did. A step already
// used (lastUsed or earlier) does not count: a code works once.
func checkTOTP(secret, code string, now time.Time, lastUsed int64) (int64, bool) {
	key, err := secretEncoding.DecodeString(secret)
	if err != nil || len(code) != totpDigits {
		return 0, false
	}
	cur := totpStepOf(now)
	for _, step := range []int64{cur, cur - 1, cur + 1} {
		if step <= lastUsed {
			continue
		}
		if hmac.Equal([]byte(hotp(key, uint64(step), totpDigits)), []byte(code)) {
			return step, true
		}
	}
	return 0, false
}
