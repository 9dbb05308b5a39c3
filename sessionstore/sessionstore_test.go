package sessionstore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func key(t *testing.T) []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

func TestSealedCodec(t *testing.T) {
	t.Parallel()
	oldKey, newKey := key(t), key(t)
	old, err := NewSealedCodec(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	values := map[string]any{"authn": []byte(`{"veeam":"SECRET-TOKEN"}`)}
	sealed, err := old.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("SECRET-TOKEN")) {
		t.Fatal("the token is readable in the sealed data")
	}

	rotated, _ := NewSealedCodec(newKey, oldKey)
	d, v, err := rotated.Decode(sealed)
	if err != nil || !d.Equal(deadline) || !cmp.Equal(v, values) {
		t.Errorf("decode with the old key second: %v %v %v", d, v, err)
	}
	retired, _ := NewSealedCodec(newKey)
	if _, _, err := retired.Decode(sealed); !errors.Is(err, ErrUnreadable) {
		t.Errorf("decode with the old key retired: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, _, err := rotated.Decode(sealed); !errors.Is(err, ErrUnreadable) {
		t.Errorf("tampered data: %v", err)
	}
	if _, err := NewSealedCodec([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestSealForAPurpose(t *testing.T) {
	t.Parallel()
	c, _ := NewSealedCodec(key(t))
	sealed, err := c.Seal([]byte("SECRET-REFRESH"), "restore-grant")
	if err != nil || bytes.Contains(sealed, []byte("SECRET")) {
		t.Fatalf("sealed %q %v", sealed, err)
	}
	if plain, err := c.Open(sealed, "restore-grant"); err != nil || string(plain) != "SECRET-REFRESH" {
		t.Errorf("open: %q %v", plain, err)
	}
	if _, err := c.Open(sealed, ""); !errors.Is(err, ErrUnreadable) {
		t.Errorf("a grant opened as a session: %v", err)
	}
	if _, _, err := c.Decode(sealed); !errors.Is(err, ErrUnreadable) {
		t.Errorf("a grant decoded as a session: %v", err)
	}
}

func TestLoadKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "session.key")
	keys, created, err := LoadKeys(path, true)
	if err != nil || !created || len(keys) != 1 {
		t.Fatalf("create: %v %v %v", keys, created, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
	again, created, err := LoadKeys(path, true)
	if err != nil || created || !bytes.Equal(again[0], keys[0]) {
		t.Errorf("reload: %v %v", created, err)
	}
	if _, _, err := LoadKeys(filepath.Join(dir, "missing"), false); err == nil {
		t.Error("a missing key file was accepted")
	}
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("bm90IGEga2V5\n"), 0o600)
	if _, _, err := LoadKeys(bad, false); err == nil {
		t.Error("a short key was accepted")
	}
}

// FuzzSealedCodec: what the codec sealed opens to the same values; any
// other bytes, a sealed record with one byte changed included, are refused
// with ErrUnreadable, never a panic.
func FuzzSealedCodec(f *testing.F) {
	f.Add("user", "adele", []byte{}, 0)
	f.Add("csrf", "x\x00y", []byte("\x00\x01garbage"), 17)
	keyA := bytes.Repeat([]byte{7}, KeySize)
	c, err := NewSealedCodec(keyA)
	if err != nil {
		f.Fatal(err)
	}
	deadline := time.Date(2026, 6, 17, 18, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, name, value string, junk []byte, flip int) {
		sealed, err := c.Encode(deadline, map[string]any{name: value})
		if err != nil {
			t.Fatal(err)
		}
		d, values, err := c.Decode(sealed)
		if err != nil || !d.Equal(deadline) || values[name] != value {
			t.Fatalf("round trip of %q=%q: %v %v %v", name, value, d, values, err)
		}
		tampered := bytes.Clone(sealed)
		tampered[(flip%len(tampered)+len(tampered))%len(tampered)] ^= 0x01
		if _, _, err := c.Decode(tampered); !errors.Is(err, ErrUnreadable) {
			t.Fatalf("a tampered record opened: %v", err)
		}
		if _, _, err := c.Decode(junk); !errors.Is(err, ErrUnreadable) {
			t.Fatalf("junk %x opened: %v", junk, err)
		}
	})
}
