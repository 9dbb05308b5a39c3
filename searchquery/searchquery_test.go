package searchquery

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		name string
		m    Mail
		want string
	}{
		{"words", Mail{Text: "floor plan"}, `floor plan`},
		{"wildcard", Mail{Text: "flo* pla?"}, `flo* pla?`},
		{"keyword is text", Mail{Text: "salt AND pepper"}, `salt "AND" pepper`},
		{"colon is text", Mail{Text: "meet at 12:30"}, `meet at "12:30"`},
		{"fields", Mail{From: "Megan Bowen", Subject: `The "final" plan`, HasAttachments: true},
			`from:"Megan Bowen" subject:"The \"final\" plan" hasattachments:true`},
		{"plain field", Mail{To: "adele@contoso.com"}, `to:adele@contoso.com`},
		{"wildcards in fields are literal", Mail{Subject: "a*b"}, `subject:"a*b"`},
		{"dates in the user's zone become UTC", Mail{
			ReceivedFrom:   time.Date(2026, 11, 12, 0, 0, 0, 0, berlin),
			ReceivedBefore: time.Date(2026, 11, 15, 0, 0, 0, 0, berlin),
		}, `received:>=2026-11-11T23:00:00Z received:<2026-11-14T23:00:00Z`},
		{"advanced", Mail{Text: "plan", Advanced: `importance:high OR from:megan`}, `plan (importance:high OR from:megan)`},
		{"backslash", Mail{Body: `C:\temp`}, `body:"C:\\temp"`},
		{"control characters", Mail{Subject: "a\nOR b"}, `subject:"a OR b"`},
	}
	for _, tt := range tests {
		got, err := tt.m.Build()
		if err != nil || got != tt.want {
			t.Errorf("%s: Build() = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	t.Parallel()
	if _, err := (Mail{}).Build(); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty form: %v", err)
	}
	if _, err := (Mail{Text: "   "}).Build(); !errors.Is(err, ErrEmpty) {
		t.Errorf("blank form: %v", err)
	}
	day := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	if _, err := (Mail{ReceivedFrom: day, ReceivedBefore: day}).Build(); err == nil {
		t.Error("an empty date range was accepted")
	}
	long := make([]byte, MaxLength)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := (Mail{Text: string(long) + " x"}).Build(); err == nil {
		t.Error("an overlong query was accepted")
	}
}

// FuzzQuote checks that a quoted value is one term: it starts and ends with
// a quote (or is plain) and every inner quote is escaped.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"a", `a"b`, `a\`, `"`, "OR", "x y", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q := Quote(v)
		if plain(v, false) {
			if q != v {
				t.Fatalf("plain %q became %q", v, q)
			}
			return
		}
		if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
			t.Fatalf("Quote(%q) = %q", v, q)
		}
		inner := q[1 : len(q)-1]
		for i := 0; i < len(inner); i++ {
			switch inner[i] {
			case '\\':
				i++ // the escaped character
				if i >= len(inner) {
					t.Fatalf("Quote(%q) = %q ends in a lone backslash", v, q)
				}
			case '"':
				t.Fatalf("Quote(%q) = %q has an unescaped quote", v, q)
			}
		}
	})
}

func TestBuildDocs(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	tests := []struct {
		d    Docs
		want string
	}{
		{Docs{Text: "budget"}, `budget`},
		{Docs{Name: "Q3 budget", Extension: ".xlsx"}, `filename:"Q3 budget" System.FileExtension:xlsx`},
		{Docs{Person: "Megan Bowen"}, `(System.Author:"Megan Bowen" OR System.Document.LastAuthor:"Megan Bowen")`},
		{Docs{ModifiedFrom: time.Date(2026, 11, 1, 0, 0, 0, 0, paris), ModifiedBefore: time.Date(2026, 11, 3, 0, 0, 0, 0, paris)},
			`datemodified:>=2026-10-31T23:00:00Z datemodified:<2026-11-02T23:00:00Z`},
		{Docs{Name: `a") OR (b`, Advanced: "size:>1MB"}, `filename:"a\") OR (b" (size:>1MB)`},
	}
	for _, tt := range tests {
		if got, err := tt.d.Build(); err != nil || got != tt.want {
			t.Errorf("%+v: %q, %v; want %q", tt.d, got, err, tt.want)
		}
	}
	if _, err := (Docs{}).Build(); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := (Docs{ModifiedFrom: time.Unix(100, 0), ModifiedBefore: time.Unix(50, 0)}).Build(); err == nil {
		t.Error("a backwards range was accepted")
	}
}

func TestTeams(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		in   Teams
		want string
		err  bool
	}{
		{Teams{Kind: "Posts", Text: "pricing", Author: "Megan Bowen", From: from}, `pricing author:"Megan Bowen" created:>=2026-10-31T23:00:00Z`, false},
		{Teams{Kind: "Files", Before: from}, `modified:<2026-10-31T23:00:00Z`, false},
		{Teams{Kind: "Tabs", Text: "tasks"}, `tasks`, false},
		{Teams{Kind: "Tabs", Author: "x"}, "", true},
		{Teams{Kind: "Posts"}, "", true},
		{Teams{Kind: "Posts", From: from, Before: from}, "", true},
	} {
		got, err := c.in.Build()
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%+v: %q %v, want %q", c.in, got, err, c.want)
		}
	}
}

// FuzzBuild: whatever people type, each field stays inside its own term:
// the field's term is exactly name:Quote(value), and the query's quotes
// balance, so that nothing typed in one field reaches another or the
// query's structure.
func FuzzBuild(f *testing.F) {
	f.Add("budget plan", `Adele "x" OR y`, "subject: (", false)
	f.Add(`a\`, `"`, `) OR from:*`, true)
	f.Fuzz(func(t *testing.T, text, from, subject string, attachments bool) {
		q, err := Mail{Text: text, From: from, Subject: subject, HasAttachments: attachments}.Build()
		if err != nil {
			return
		}
		for _, fv := range []struct{ name, value string }{{"from", from}, {"subject", subject}} {
			v := strings.TrimSpace(fv.value)
			if v != "" && !strings.Contains(q, fv.name+":"+Quote(v)) {
				t.Fatalf("Build(%q, %q, %q) = %q lacks %s:%s", text, from, subject, q, fv.name, Quote(v))
			}
		}
		quotes := 0
		for i := 0; i < len(q); i++ {
			switch q[i] {
			case '\\':
				i++
			case '"':
				quotes++
			}
		}
		if quotes%2 != 0 {
			t.Fatalf("Build(%q, %q, %q) = %q: unbalanced quotes", text, from, subject, q)
		}
	})
}
