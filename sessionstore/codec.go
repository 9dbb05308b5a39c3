package sessionstore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// KeySize is the size of a session key: AES-256.
const KeySize = 32

// SealedCodec encodes sessions with scs.GobCodec and seals the result with
// AES-256-GCM. It seals with the first key and opens with any of them, so a
// key can be rotated by putting the new one first and keeping the old one
// until the sessions it sealed have expired.
type SealedCodec struct {
	inner scs.Codec
	aeads []cipher.AEAD
	read  decodedSessions
}

// NewSealedCodec returns a codec for keys (each KeySize bytes), current key first.
func NewSealedCodec(keys ...[]byte) (*SealedCodec, error) {
	if len(keys) == 0 {
		return nil, errors.New("sessionstore: no session key")
	}
	c := &SealedCodec{inner: scs.GobCodec{}}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("sessionstore: session key %d is %d bytes, want %d", i+1, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.aeads = append(c.aeads, aead)
	}
	return c, nil
}

// Encode implements scs.Codec.
func (c *SealedCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	plain, err := c.inner.Encode(deadline, values)
	if err != nil {
		return nil, err
	}
	return c.Seal(plain, "")
}

// Seal seals plain with the current key. purpose binds the result to what
// it is for ("" is a session): data sealed for one purpose does not open
// for another.
func (c *SealedCodec) Seal(plain []byte, purpose string) ([]byte, error) {
	aead := c.aeads[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, additional(purpose)), nil
}

// Open opens what Seal sealed for purpose, with any of the keys.
func (c *SealedCodec) Open(sealed []byte, purpose string) ([]byte, error) {
	for _, aead := range c.aeads {
		if len(sealed) < aead.NonceSize() {
			break
		}
		plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], additional(purpose))
		if err == nil {
			return plain, nil
		}
	}
	return nil, ErrUnreadable
}

func additional(purpose string) []byte {
	if purpose == "" {
		return nil // sessions sealed before purposes existed open as they are
	}
	return []byte(purpose)
}

// ErrUnreadable is returned for session data no key opens (tampered, or sealed with a retired key).
var ErrUnreadable = errors.New("sessionstore: session data cannot be opened with any session key")

// Decode implements scs.Codec. Every request decodes its session, and gob
// spends most of that describing its types again (about 20 µs, a few
// percent of a page); what was decoded is kept for the next request that
// brings the same sealed bytes. The bytes stay as they are in the store,
// so replicas of earlier versions read them as before.
func (c *SealedCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if deadline, values, ok := c.read.get(b); ok {
		return deadline, values, nil
	}
	plain, err := c.Open(b, "")
	if err != nil {
		return time.Time{}, nil, err
	}
	deadline, values, err := c.inner.Decode(plain)
	if err == nil {
		c.read.put(b, deadline, values)
	}
	return deadline, values, err
}

// decodedSessions are the sessions a codec decoded lately, by their sealed
// bytes: those a key opened, so nobody without a key can put one here.
// When they come to maxDecodedBytes, they are forgotten all at once.
type decodedSessions struct {
	mu       sync.Mutex
	sessions map[string]decodedSession
	size     int
}

type decodedSession struct {
	deadline time.Time
	values   map[string]any
}

const maxDecodedBytes = 8 << 20

// get returns a copy of what b decoded to: scs changes the map it is given.
func (d *decodedSessions) get(b []byte) (time.Time, map[string]any, bool) {
	d.mu.Lock()
	s, ok := d.sessions[string(b)]
	d.mu.Unlock()
	if !ok {
		return time.Time{}, nil, false
	}
	return s.deadline, copyValues(s.values), true
}

func (d *decodedSessions) put(b []byte, deadline time.Time, values map[string]any) {
	size := 2 * len(b) // the key, and the values about as large
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sessions == nil || d.size+size > maxDecodedBytes {
		d.sessions, d.size = map[string]decodedSession{}, 0
	}
	d.sessions[string(b)] = decodedSession{deadline, copyValues(values)}
	d.size += size
}

// copyValues copies a session's values, and the byte slices among them.
func copyValues(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		if b, ok := v.([]byte); ok {
			v = bytes.Clone(b)
		}
		out[k] = v
	}
	return out
}

// LoadKeys reads session keys from a file: one base64-encoded key per line,
// the current key first. When the file does not exist and create is true, a
// new random key is written to it (mode 0600).
func LoadKeys(path string, create bool) (keys [][]byte, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, false, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("sessionstore: %w", err)
		}
		line := base64.StdEncoding.EncodeToString(key) + "\n"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("sessionstore: create key file: %w", err)
		}
		if _, err := f.WriteString(line); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("sessionstore: write key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, false, fmt.Errorf("sessionstore: write key file: %w", err)
		}
		return [][]byte{key}, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sessionstore: read key file: %w", err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(k) != KeySize {
			return nil, false, fmt.Errorf("sessionstore: %s line %d: want a base64-encoded %d-byte key", path, i+1, KeySize)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, false, fmt.Errorf("sessionstore: %s holds no key", path)
	}
	return keys, false, nil
}
