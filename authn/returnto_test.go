package authn

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openrestore/portal/internal/spectest"
)

func TestValidReturnTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{"/", "/", true},
		{"/sessions/0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40", "/sessions/0b1c3f5e-3c0a-4a8e-9d6f-5b2e7a1c9d40", true},
		{"/?workload=exchange&day=2026-11-20", "/?day=2026-11-20&workload=exchange", true},
		{"/workloads/exchange?month=2026-11", "/workloads/exchange?month=2026-11", true},
		{"/folders/AAMkAG%2Babc%3D", "/folders/AAMkAG%2Babc%3D", true},
		{"", "/", false},
		{"https://evil.example", "/", false},
		{"//evil.example", "/", false},
		{"/\\evil.example", "/", false},
		{"/%2f%2fevil.example", "/", false},
		{"/a/../b", "/", false},
		{"/a/%2e%2e/b", "/", false},
		{"/a//b", "/", false},
		{"/a/", "/", false},
		{"/a\tb", "/", false},
		{"/a b", "/", false},
		{"/é", "/", false},
		{"/a#frag", "/", false},
		{"/auth/login?return_to=/x", "/", false},
		{"/auth/callback", "/", false},
		{"/?next=//evil.example", "/", false},
		{"/?next=javascript:alert(1)", "/", false},
		{"/?a=1&a=2", "/", false},
		{"/?A=1", "/", false},
		{"/" + strings.Repeat("a", maxReturnTo), "/", false},
		{"/%00", "/", false},
		{"/x%0d%0aSet-Cookie:a=b", "/", false},
	}
	for _, tt := range tests {
		got, ok := ValidReturnTo(tt.raw)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ValidReturnTo(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

// TestOpenRedirectCorpus runs oauth2-proxy's 559 open-redirect payloads, raw
// and URL-unescaped: every one must be refused.
func TestOpenRedirectCorpus(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(spectest.SharedDir(t), "security", "openredirects.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) != 559 {
		t.Fatalf("the corpus has %d payloads, want 559", len(lines))
	}
	for _, p := range lines {
		variants := []string{p}
		if u, err := url.QueryUnescape(p); err == nil && u != p {
			variants = append(variants, u)
		}
		if u, err := url.PathUnescape(p); err == nil && u != p {
			variants = append(variants, u)
		}
		for _, v := range variants {
			if got, ok := ValidReturnTo(v); ok || got != "/" {
				t.Errorf("ValidReturnTo(%q) = %q, %v; want it refused", v, got, ok)
			}
		}
	}
}

func FuzzValidReturnTo(f *testing.F) {
	for _, s := range []string{"/", "/sessions/x", "/?workload=exchange", "//x", "/%2f%2f", "/a/../b", "/\\x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://portal.example.com/")
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := ValidReturnTo(raw)
		if !ok {
			if got != "/" {
				t.Fatalf("refused %q but returned %q", raw, got)
			}
			return
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.Contains(got, `\`) {
			t.Fatalf("accepted %q as %q", raw, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted %q as unparsable %q", raw, got)
		}
		if r := base.ResolveReference(u); r.Host != base.Host {
			t.Fatalf("accepted %q leaves the site: %s", raw, r)
		}
		// The canonical form is stable.
		if again, ok := ValidReturnTo(got); !ok || again != got {
			t.Fatalf("canonical %q re-validates as %q, %v", got, again, ok)
		}
	})
}
