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

func newStore(t *testing.T, now func() time.Time) *SQLite {
	t.Helper()
	db, err := OpenSQLite(filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := NewSQLite(t.Context(), db, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestSQLiteStore(t *testing.T) {
	now := time.Date(2026, 6, 17, 10, 30, 0, 0, time.UTC)
	s := newStore(t, func() time.Time { return now })
	ctx := t.Context()
	if err := s.CommitCtx(ctx, "token-a", []byte("A"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitCtx(ctx, "token-b", []byte("B"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := s.FindCtx(ctx, "token-a"); err != nil || !ok || string(b) != "A" {
		t.Errorf("find a = %q %v %v", b, ok, err)
	}
	// Overwrite keeps one row.
	if err := s.CommitCtx(ctx, "token-a", []byte("A2"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, _, _ := s.FindCtx(ctx, "token-a"); string(b) != "A2" {
		t.Errorf("after overwrite: %q", b)
	}
	// Tokens are not stored as such.
	var raw int
	s.db.QueryRow(`SELECT count(*) FROM sessions WHERE token_hash IN ('token-a', 'token-b')`).Scan(&raw)
	if raw != 0 {
		t.Error("session tokens are stored in the clear")
	}

	now = now.Add(2 * time.Minute)
	if _, ok, _ := s.FindCtx(ctx, "token-b"); ok {
		t.Error("an expired session was found")
	}
	if n, err := s.DeleteExpired(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v", n, err)
	}
	if err := s.DeleteCtx(ctx, "token-a"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

func key(t *testing.T) []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

func TestSealedCodec(t *testing.T) {
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

func TestLoadKeys(t *testing.T) {
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
