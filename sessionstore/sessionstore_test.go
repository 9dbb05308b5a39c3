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

func TestDecodedSessionsAreKept(t *testing.T) { // not parallel: it counts allocations
	c, _ := NewSealedCodec(key(t))
	deadline := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	values := map[string]any{"authn": []byte(`{"sid":"s1"}`)}
	sealed, err := c.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	_, first, err := c.Decode(sealed)
	if err != nil || !cmp.Equal(first, values) {
		t.Fatalf("decoded %v %v", first, err)
	}
	// What a request does to its session's map stays with it.
	first["authn"].([]byte)[0] = 'X'
	first["added"] = []byte("y")
	d, again, err := c.Decode(sealed)
	if err != nil || !d.Equal(deadline) || !cmp.Equal(again, values) {
		t.Errorf("decoded again: %v %v %v", d, again, err)
	}
	if n := testing.AllocsPerRun(10, func() { c.Decode(sealed) }); n > 10 {
		t.Errorf("decoding a kept session takes %v allocations: it is decoded afresh", n)
	}

	// They are bounded: past maxDecodedBytes, they are forgotten and the
	// sessions decode afresh.
	big := map[string]any{"authn": bytes.Repeat([]byte("x"), 64<<10)}
	for range 2 * maxDecodedBytes / (64 << 10) {
		b, _ := c.Encode(deadline, big)
		if _, _, err := c.Decode(b); err != nil {
			t.Fatal(err)
		}
		if c.read.size > maxDecodedBytes {
			t.Fatalf("%d bytes of decoded sessions are kept", c.read.size)
		}
	}
}

func BenchmarkSessionDecode(b *testing.B) {
	c, _ := NewSealedCodec(bytes.Repeat([]byte{7}, KeySize))
	value := []byte(`{"sid":"3J7Pq0l1lJ0yqK8X0m6mXQ","user":{"oid":"00000000-0000-0000-0000-000000000001","tid":"00000000-0000-0000-0000-000000000002","name":"Adele Vance","upn":"AdeleV@contoso.example"},"csrf":"abc"}`)
	sealed, _ := c.Encode(time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), map[string]any{"authn": value})
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.read = decodedSessions{}
			if _, _, err := c.Decode(sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("again", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.Decode(sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
}
