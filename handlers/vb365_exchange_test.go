package handlers

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"mime"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/openrestore/portal/templates"
	"github.com/openrestore/portal/veeamapi"
)

func TestKeyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"AAMkAGI2/+=", "x", "ünïcode/ид", strings.Repeat("A", 1500)} {
		got, err := unkey(key(id))
		if err != nil || got != id {
			t.Errorf("unkey(key(%q)) = %q, %v", id, got, err)
		}
		if strings.ContainsAny(key(id), "/+=%") {
			t.Errorf("key(%q) = %q is not one clean path segment", id, key(id))
		}
	}
	for _, bad := range []string{"", "a/b", "a+b", "a=", "a b", strings.Repeat("A", maxKeyLength+1), "A"} {
		if _, err := unkey(bad); err == nil {
			t.Errorf("unkey(%q) accepted", bad)
		}
	}
}

func TestLastOffset(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 99, 100, 101, 199, 200, 201, 1000, 99_999, 100_000, 100_001, 123_457} {
		probes := 0
		has := func(o int) (bool, error) { probes++; return o < n, nil }
		got, err := lastOffset(context.Background(), 100, has)
		want := ((n - 1) / 100) * 100
		if err != nil || got != want {
			t.Errorf("n=%d: lastOffset = %d, %v; want %d", n, got, err, want)
		}
		// Page 1, 2, 4… past the end, then halving down to a page: about
		// twice the bits of the number of pages.
		if pages := (n + 99) / 100; probes > 2*bits.Len(uint(pages))+1 {
			t.Errorf("n=%d: %d probes", n, probes)
		}
	}
	boom := errors.New("boom")
	if _, err := lastOffset(context.Background(), 100, func(int) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("error = %v", err)
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q", n, got)
		}
	}
}

func TestReadSearch(t *testing.T) {
	t.Parallel()
	auckland, _ := time.LoadLocation("Pacific/Auckland")
	form := url.Values{"q": {"floor plan"}, "from": {"megan"}, "after": {"2026-11-10"}, "before": {"2026-11-12"}, "attachments": {"1"}}
	s, err := readSearch(form.Get, auckland)
	if err != nil {
		t.Fatal(err)
	}
	// 10 Nov 00:00 NZDT is 9 Nov 11:00 UTC; the range ends at the start of 13 Nov NZDT.
	for _, want := range []string{"received:>=2026-11-09T11:00:00Z", "received:<2026-11-12T11:00:00Z", "from:megan", "hasattachments:true"} {
		if !strings.Contains(s.query, want) {
			t.Errorf("query %q lacks %q", s.query, want)
		}
	}
	if !s.view.Open || s.view.After != "2026-11-10" || s.view.TimeZone != "Pacific/Auckland" {
		t.Errorf("view = %+v", s.view)
	}
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{}, "nothing to search for"},
		{url.Values{"q": {"x"}, "after": {"10/11/2026"}}, "not valid"},
		{url.Values{"q": {"x"}, "after": {"2026-11-12"}, "before": {"2026-11-10"}}, "ends before it starts"},
		{url.Values{"q": {strings.Repeat("x", 1025)}}, "longer than 1,024"},
		{url.Values{"q": {"x"}, "folder": {"not/a/key"}}, "folder the portal does not know"},
	} {
		_, err := readSearch(c.form.Get, time.UTC)
		if err == nil || !strings.Contains(errorText(err), c.want) {
			t.Errorf("%v: error %v, want %q", c.form, err, c.want)
		}
	}
}

func errorText(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func TestReadSelection(t *testing.T) {
	t.Parallel()
	a, b := key("item/1"), key("item+2")
	s, err := readSelection(url.Values{"scope": {"selected"}, "item": {a, b, a}}, time.UTC)
	if err != nil || !cmp.Equal(s.ids, []string{"item/1", "item+2"}) || s.all {
		t.Errorf("selected = %+v, %v", s, err)
	}
	s, err = readSelection(url.Values{"scope": {"all"}, "all_folder": {key("f")}, "item": {a}}, time.UTC)
	if err != nil || !s.all || s.folder != "f" || s.ids != nil {
		t.Errorf("all of a folder = %+v, %v", s, err)
	}
	s, err = readSelection(url.Values{"scope": {"all"}, "all_search": {"1"}, "s_q": {"rota"}, "s_after": {"2026-11-01"}}, time.UTC)
	if err != nil || s.search == nil || !strings.Contains(s.search.query, "rota") {
		t.Fatalf("all results = %+v, %v", s, err)
	}
	want := []templates.Hidden{{Name: "scope", Value: "all"}, {Name: "all_search", Value: "1"}, {Name: "s_q", Value: "rota"}, {Name: "s_after", Value: "2026-11-01"}}
	if !cmp.Equal(s.hidden, want) {
		t.Errorf("hidden = %v", s.hidden)
	}
	for _, bad := range []url.Values{
		{"scope": {"selected"}},
		{"item": {"%%%"}},
		{"scope": {"all"}},
		{"scope": {"all"}, "all_folder": {"../x"}},
		{"scope": {"all"}, "all_search": {"1"}},
	} {
		if _, err := readSelection(bad, time.UTC); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestMailOptionsProblems(t *testing.T) {
	t.Parallel()
	k := mailKind{}
	first := mailOptions{k: k, missing: true, changed: true}
	if p := first.problems(); len(p) != 0 {
		t.Errorf("the defaults: %v", p)
	}
	for _, o := range []mailOptions{
		{missing: true},
		{changed: true, unread: true},
		{toFolder: true, folderName: "Recovered ✓"},
		{toFolder: true, folderName: strings.Repeat("é", 255)},
	} {
		if p := o.problems(); len(p) != 0 {
			t.Errorf("%+v: %v", o, p)
		}
	}
	for _, c := range []struct {
		o     mailOptions
		field string
	}{
		{mailOptions{}, "which"},
		{mailOptions{toFolder: true}, "folder-name"},
		{mailOptions{toFolder: true, folderName: "a\\b"}, "folder-name"},
		{mailOptions{toFolder: true, folderName: "tab\there"}, "folder-name"},
		{mailOptions{toFolder: true, folderName: strings.Repeat("x", 256)}, "folder-name"},
	} {
		if p := c.o.problems(); p[c.field] == "" || len(p) != 1 {
			t.Errorf("%+v: %v, want a problem with %s", c.o, p, c.field)
		}
	}
	if p := (mailOptions{toFolder: true, folderName: strings.Repeat("x", 256)}).problems(); !strings.Contains(p["folder-name"], "256 characters") {
		t.Errorf("a long name is not explained: %q", p["folder-name"])
	}
	if _, got := (mailOptions{missing: true, changed: true, unread: true}).describe(); got != "Missing items, changed items, marked as unread" {
		t.Errorf("options = %q", got)
	}
	if target, got := (mailOptions{toFolder: true, folderName: "Found"}).describe(); target != "New folder “Found”" || got != "Copies in a new folder" {
		t.Errorf("to a folder: %q, %q", target, got)
	}
}

func TestReasonProblem(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		reason   string
		required bool
		problem  bool
	}{
		{"", false, false},
		{"line one\nline two", true, false},
		{"", true, true},
		{strings.Repeat("r", 500), true, false},
		{strings.Repeat("r", 501), false, true},
		{"bell\a", false, true},
	} {
		if got := reasonProblem(c.reason, c.required) != ""; got != c.problem {
			t.Errorf("%q required=%v: problem %v, want %v", c.reason, c.required, got, c.problem)
		}
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Store 42 refit: final floor plan": "Store 42 refit_ final floor plan.msg",
		`<script>alert("x")</script>`:      "_script_alert(_x_)__script_.msg",
		"../../etc/passwd":                 "_.._etc_passwd.msg",
		"  ...  ":                          "item.msg",
		"":                                 "item.msg",
		"CON":                              "item_CON.msg",
		"com1.txt":                         "item_com1.txt.msg",
		"tab\tand\nnewline\u202eevil":      "tab and newline_evil.msg",
		"Grüße – 日本語":                      "Grüße – 日本語.msg",
	} {
		if got := fileName(in, "msg"); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
	long := fileName(strings.Repeat("日", 300), "pst")
	if len(long) > maxFileNameBytes || !utf8.ValidString(long) || !strings.HasSuffix(long, ".pst") {
		t.Errorf("long name: %d bytes %q", len(long), long)
	}
}

func FuzzFileName(f *testing.F) {
	for _, s := range []string{"a", "CON", `"; filename=evil.exe`, "\x00\xff\xfe", "日本語/\\", strings.Repeat("é", 150)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name := fileName(s, "zip")
		if len(name) > maxFileNameBytes || !utf8.ValidString(name) || !strings.HasSuffix(name, ".zip") || len(name) == len(".zip") {
			t.Fatalf("fileName(%q) = %q", s, name)
		}
		if strings.ContainsAny(name, "/\\<>:\"|?*\x00\r\n") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, " ") {
			t.Fatalf("fileName(%q) = %q holds a forbidden character", s, name)
		}
		cd := contentDisposition(name)
		typ, params, err := mime.ParseMediaType(cd)
		if err != nil || typ != "attachment" {
			t.Fatalf("Content-Disposition %q does not parse: %v", cd, err)
		}
		if params["filename"] != name {
			t.Fatalf("Content-Disposition %q names %q, want %q", cd, params["filename"], name)
		}
		for i := 0; i < len(cd); i++ {
			if cd[i] < 0x20 || cd[i] >= 0x7f {
				t.Fatalf("Content-Disposition %q is not plain ASCII", cd)
			}
		}
	})
}

func TestItemRowsNewestFirst(t *testing.T) {
	t.Parallel()
	at := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	items := []veeamapi.Item{
		{ID: "old", Subject: "old", Received: at("2026-11-01T10:00:00Z")},
		{ID: "none", FullName: "A contact"},
		{ID: "new", Subject: "new", Received: at("2026-11-20T10:00:00Z"), From: "Megan Bowen <megan@x>"},
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	rows := itemRows(mailboxRef{base: "/m"}, items, paris, key("new"))
	var got []string
	for _, r := range rows {
		got = append(got, r.Subject)
	}
	if !cmp.Equal(got, []string{"new", "old", "A contact"}) {
		t.Errorf("order = %v", got)
	}
	if rows[0].From != "Megan Bowen" || rows[0].When != "Fri 20 Nov 2026, 11:00" || !rows[0].Current || rows[0].URL != "/m/items/"+key("new") {
		t.Errorf("row = %+v", rows[0])
	}
}

func TestBrowseCache(t *testing.T) {
	t.Parallel()
	c := newBrowseCache(time.Now, browseCacheTTL)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	calls := 0
	fetch := func() (string, error) { calls++; return fmt.Sprint("v", calls), nil }
	a := mailboxRef{session: openedSession{ID: "s"}, mailbox: "m"}
	if v, _ := cached(c, browseKey("alice", a, "mailbox"), fetch); v != "v1" {
		t.Fatal(v)
	}
	if v, _ := cached(c, browseKey("alice", a, "mailbox"), fetch); v != "v1" || calls != 1 {
		t.Errorf("second fetch: %q after %d calls", v, calls)
	}
	// Another user never gets alice's entry, even for the same ids.
	if v, _ := cached(c, browseKey("bob", a, "mailbox"), fetch); v != "v2" {
		t.Errorf("bob got %q", v)
	}
	// Entries expire.
	now = now.Add(browseCacheTTL + time.Second)
	if v, _ := cached(c, browseKey("alice", a, "mailbox"), fetch); v != "v3" {
		t.Errorf("after expiry: %q", v)
	}
	// Errors are not kept.
	boom := errors.New("boom")
	if _, err := cached(c, "k", func() (string, error) { return "", boom }); err != boom {
		t.Error(err)
	}
	if v, _ := cached(c, "k", fetch); v != "v4" {
		t.Errorf("after an error: %q", v)
	}
	// The oldest entries go when it is full.
	for i := range browseCacheEntries + 10 {
		c.put(fmt.Sprint("fill", i), i)
	}
	if _, ok := c.get("fill0"); ok || len(c.entries) != browseCacheEntries {
		t.Errorf("%d entries; the oldest is still there: %v", len(c.entries), ok)
	}
	if _, ok := c.get(fmt.Sprint("fill", browseCacheEntries+9)); !ok {
		t.Error("the newest entry is gone")
	}
}

// FuzzKey: every id (up to the longest key taken) survives the trip
// through a URL path segment, and
// unkey takes nothing but a key: no separator, no empty id, no panic.
func FuzzKey(f *testing.F) {
	for _, s := range []string{"AAMkAGI2/+=", "../x", "%2F", "", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s != "" {
			k := key(s)
			if url.PathEscape(k) != k || strings.ContainsAny(k, "/?#%") {
				t.Fatalf("key(%q) = %q is not one plain path segment", s, k)
			}
			if back, err := unkey(k); len(k) <= maxKeyLength && (err != nil || back != s) {
				t.Fatalf("unkey(key(%q)) = %q, %v", s, back, err)
			}
		}
		if id, err := unkey(s); err == nil && (id == "" || key(id) != s) {
			t.Fatalf("unkey(%q) = %q, which is not what it keys", s, id)
		}
	})
}
