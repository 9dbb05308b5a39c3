package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/store"
)

func testMigrations(t *testing.T, db Database, c *clock) {
	// Replicas starting together: each migrates or finds it done, none fails.
	stores := make([]store.Store, 4)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = db.Open(t, c.now) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	// Each works on the schema the others made.
	for i, s := range stores {
		if err := s.Append(t.Context(), audit.Event{Time: c.now(), ActorOID: fmt.Sprint(i), Outcome: audit.Started}); err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	if n, err := stores[0].Count(t.Context(), audit.Filter{}); err != nil || n != len(stores) {
		t.Errorf("%d events %v", n, err)
	}
	// Opening a migrated database changes nothing.
	again := open(t, db, c.now)
	if n, _ := again.Count(t.Context(), audit.Filter{}); n != len(stores) {
		t.Errorf("%d events after reopening", n)
	}
}

func testNewerSchemaRefused(t *testing.T, db Database, c *clock) {
	s := open(t, db, c.now)
	s.Close()
	db.MakeNewer(t)
	s, err := db.Open(t, c.now)
	if err == nil {
		s.Close()
		t.Fatal("a database of a newer portal was opened")
	}
	if !strings.Contains(err.Error(), "newer version of the portal") {
		t.Errorf("the refusal does not say why: %v", err)
	}
}

func testTrailAppendOnly(t *testing.T, db Database, c *clock) {
	s := open(t, db, c.now)
	if err := s.Append(t.Context(), audit.Event{Time: c.now(), ActorOID: "x", Outcome: audit.Started}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE audit_events SET outcome = 'succeeded'", "DELETE FROM audit_events"} {
		if err := db.Exec(t, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
	if n, _ := s.Count(t.Context(), audit.Filter{Outcome: audit.Started}); n != 1 {
		t.Errorf("%d events", n)
	}
}

// testReplicasShareAll: what one replica writes, another reads.
func testReplicasShareAll(t *testing.T, db Database, c *clock) {
	ctx := t.Context()
	a, b := open(t, db, c.now), open(t, db, c.now)
	if err := a.Sessions().CommitCtx(ctx, "tok", []byte("blob"), c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := b.Sessions().FindCtx(ctx, "tok"); err != nil || !ok || string(got) != "blob" {
		t.Errorf("a session from another replica: %q %v %v", got, ok, err)
	}
	signIn(t, a, c, "s1")
	if _, err := b.AddEntries(ctx, "s1", "list", []store.Entry{{Key: "k", Value: []byte("v"), Added: c.now()}}, 10, false); err != nil {
		t.Fatal(err)
	}
	if es, _ := a.Entries(ctx, "s1", "list"); len(es) != 1 {
		t.Errorf("entries from another replica: %v", es)
	}
}

// signIn records a session s of Adele's, an hour long.
func signIn(t *testing.T, s store.Store, c *clock, sid string) store.SignIn {
	t.Helper()
	si := store.SignIn{SID: sid, TenantID: "tid", UserOID: "adele", Sealed: []byte("tokens-1"),
		Expires: c.now().Add(30 * time.Minute), Ends: c.now().Add(time.Hour)}
	if err := s.CreateSignIn(t.Context(), si); err != nil {
		t.Fatal(err)
	}
	return si
}

func testSignIns(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	signIn(t, s, c, "s1")
	got, err := s.SignIn(ctx, "s1", c.now())
	if err != nil || got.UserOID != "adele" || string(got.Sealed) != "tokens-1" || got.Version != 1 ||
		!got.Expires.Equal(c.now().Add(30*time.Minute)) || !got.Ends.Equal(c.now().Add(time.Hour)) {
		t.Fatalf("sign-in = %+v %v", got, err)
	}
	if _, err := s.SignIn(ctx, "s2", c.now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown session: %v", err)
	}
	c.advance(20 * time.Minute)
	if err := s.TouchSignIn(ctx, "s1", c.now().Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	c.advance(20 * time.Minute) // idle for 20 of the 30 minutes
	if got, err := s.SignIn(ctx, "s1", c.now()); err != nil || !got.Expires.Equal(t0.Add(50*time.Minute)) {
		t.Errorf("touched: %+v %v", got, err)
	}
	if err := s.TouchSignIn(ctx, "s1", c.now().Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SignIn(ctx, "s1", c.now()); !got.Expires.Equal(got.Ends) {
		t.Errorf("touched past its end: expires %v, ends %v", got.Expires, got.Ends)
	}
	c.advance(20*time.Minute + time.Millisecond)
	if _, err := s.SignIn(ctx, "s1", c.now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session past its end: %v", err)
	}
}

func testTokenRenewalOnce(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	signIn(t, s, c, "s1")
	// Six requests find the tokens due at once: one claims the renewal.
	var wg sync.WaitGroup
	claimed := make([]bool, 6)
	for i := range claimed {
		wg.Go(func() {
			ok, err := s.ClaimRenewal(ctx, "s1", 1, c.now().Add(30*time.Second), c.now())
			if err != nil {
				t.Error(err)
			}
			claimed[i] = ok
		})
	}
	wg.Wait()
	if n := len(slices.DeleteFunc(claimed, func(b bool) bool { return !b })); n != 1 {
		t.Fatalf("%d claims of one renewal", n)
	}
	c.advance(10 * time.Second)
	if ok, _ := s.ClaimRenewal(ctx, "s1", 1, c.now().Add(30*time.Second), c.now()); ok {
		t.Error("a renewal claimed while another runs")
	}
	if err := s.ReplaceTokens(ctx, "s1", 1, []byte("tokens-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceTokens(ctx, "s1", 1, []byte("tokens-stale")); !errors.Is(err, store.ErrChanged) {
		t.Errorf("a replacement of stale tokens: %v", err)
	}
	got, _ := s.SignIn(ctx, "s1", c.now())
	if string(got.Sealed) != "tokens-2" || got.Version != 2 || !got.RenewingUntil.IsZero() {
		t.Errorf("renewed: %+v", got)
	}
	if ok, _ := s.ClaimRenewal(ctx, "s1", 1, c.now().Add(time.Minute), c.now()); ok {
		t.Error("a renewal of replaced tokens claimed")
	}
	// A replica that claimed and died: its claim runs out.
	if ok, _ := s.ClaimRenewal(ctx, "s1", 2, c.now().Add(30*time.Second), c.now()); !ok {
		t.Fatal("no claim")
	}
	c.advance(30*time.Second + time.Millisecond)
	if ok, _ := s.ClaimRenewal(ctx, "s1", 2, c.now().Add(30*time.Second), c.now()); !ok {
		t.Error("a run-out claim holds the tokens")
	}
	if err := s.ReleaseRenewal(ctx, "s1", 2); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.ClaimRenewal(ctx, "s1", 2, c.now().Add(30*time.Second), c.now()); !ok {
		t.Error("a released claim holds the tokens")
	}
}

func entries(keys ...string) []store.Entry {
	var out []store.Entry
	for _, k := range keys {
		out = append(out, store.Entry{Key: k, Value: []byte("value of " + k), Added: t0})
	}
	return out
}

func keysOf(t *testing.T, s store.Store, sid, set string) []string {
	t.Helper()
	es, err := s.Entries(t.Context(), sid, set)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if string(e.Value) != "value of "+e.Key {
			t.Errorf("%s holds %q", e.Key, e.Value)
		}
		out = append(out, e.Key)
	}
	return out
}

func testSets(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	signIn(t, s, c, "s1")
	signIn(t, s, c, "s2")
	add := func(sid, set string, limit int, evict bool, keys ...string) (int, error) {
		return s.AddEntries(ctx, sid, set, entries(keys...), limit, evict)
	}
	if n, err := add("s1", "list", 5, false, "b", "a", "c"); n != 3 || err != nil {
		t.Fatalf("add = %d %v", n, err)
	}
	if n, err := add("s1", "list", 5, false, "a", "d"); n != 1 || err != nil {
		t.Errorf("add again = %d %v", n, err)
	}
	if got := keysOf(t, s, "s1", "list"); !cmp.Equal(got, []string{"b", "a", "c", "d"}) {
		t.Errorf("in the order added: %v", got)
	}
	if n, err := add("s1", "list", 5, false, "e", "f"); !errors.Is(err, store.ErrFull) || n != 0 {
		t.Errorf("past the limit: %d %v", n, err)
	}
	if got := keysOf(t, s, "s1", "list"); len(got) != 4 {
		t.Errorf("a refused add added: %v", got)
	}
	if n, err := add("s1", "list", 5, false, "e"); n != 1 || err != nil {
		t.Errorf("up to the limit: %d %v", n, err)
	}
	if n, err := add("s1", "list", 5, false, "a", "b"); n != 0 || err != nil {
		t.Errorf("a full set, nothing new: %d %v", n, err)
	}
	if got := keysOf(t, s, "s2", "list"); len(got) != 0 {
		t.Errorf("another session's set: %v", got)
	}
	if got := keysOf(t, s, "s1", "opened"); len(got) != 0 {
		t.Errorf("another set: %v", got)
	}
	// The opened restore sessions: the oldest make room.
	for i := range 4 {
		c.advance(time.Second)
		if _, err := s.AddEntries(ctx, "s1", "opened", []store.Entry{{Key: fmt.Sprint(i), Value: []byte("value of " + fmt.Sprint(i)), Added: c.now()}}, 2, true); err != nil {
			t.Fatal(err)
		}
	}
	if got := keysOf(t, s, "s1", "opened"); !cmp.Equal(got, []string{"2", "3"}) {
		t.Errorf("evicted: %v", got)
	}
	if err := s.RemoveEntries(ctx, "s1", "list", []string{"a", "zz"}); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, s, "s1", "list"); !cmp.Equal(got, []string{"b", "c", "d", "e"}) {
		t.Errorf("after removing a: %v", got)
	}
	if err := s.RemoveEntries(ctx, "s1", "list", []string{}); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, s, "s1", "list"); len(got) != 4 {
		t.Errorf("removing no keys removed: %v", got)
	}
	if err := s.RemoveEntries(ctx, "s1", "list", nil); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, s, "s1", "list"); len(got) != 0 {
		t.Errorf("after removing all: %v", got)
	}
	if got := keysOf(t, s, "s1", "opened"); len(got) != 2 {
		t.Errorf("removing a set's entries touched another: %v", got)
	}
	if _, err := add("gone", "list", 5, false, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("adding to an ended session: %v", err)
	}
}

// testConcurrentAdds: two tabs add to the list at once; none is lost, and
// the limit holds.
func testConcurrentAdds(t *testing.T, s store.Store, c *clock) {
	signIn(t, s, c, "s1")
	var wg sync.WaitGroup
	for tab := range 4 {
		wg.Go(func() {
			for i := range 10 {
				k := fmt.Sprintf("tab%d-%02d", tab, i)
				if _, err := s.AddEntries(t.Context(), "s1", "list", entries(k), 1000, false); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := keysOf(t, s, "s1", "list"); len(got) != 40 {
		t.Errorf("%d of 40 added entries kept", len(got))
	}
	var full sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		full.Go(func() {
			_, errs[i] = s.AddEntries(t.Context(), "s1", "list", entries(fmt.Sprint("x", i)), 44, false)
		})
	}
	full.Wait()
	if got := keysOf(t, s, "s1", "list"); len(got) != 44 {
		t.Errorf("%d entries, the limit is 44", len(got))
	}
	if n := len(slices.DeleteFunc(errs, func(err error) bool { return !errors.Is(err, store.ErrFull) })); n != 4 {
		t.Errorf("%d adds found the set full, want 4", n)
	}
}

func testValues(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	signIn(t, s, c, "s1")
	if v, err := s.Value(ctx, "s1", "acting_for"); v != nil || err != nil {
		t.Errorf("unset = %q %v", v, err)
	}
	for _, v := range []string{"megan", "lee"} {
		if err := s.SetValue(ctx, "s1", "acting_for", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := s.Value(ctx, "s1", "acting_for"); string(v) != "lee" {
		t.Errorf("value = %q", v)
	}
	if err := s.SetValue(ctx, "s1", "acting_for", nil); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Value(ctx, "s1", "acting_for"); v != nil {
		t.Errorf("a removed value: %q", v)
	}
	if err := s.SetValue(ctx, "s1", "empty", []byte{}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Value(ctx, "s1", "empty"); v == nil || len(v) != 0 {
		t.Errorf("an empty value reads as %v", v)
	}
	if err := s.SetValue(ctx, "s1", "token", []byte("pair-1")); err != nil {
		t.Fatal(err)
	}
	var swaps sync.WaitGroup
	swapped := make([]bool, 6)
	for i := range swapped {
		swaps.Go(func() {
			ok, err := s.SwapValue(ctx, "s1", "token", []byte("pair-1"), []byte(fmt.Sprint("pair-2-", i)))
			if err != nil {
				t.Error(err)
			}
			swapped[i] = ok
		})
	}
	swaps.Wait()
	if n := len(slices.DeleteFunc(swapped, func(b bool) bool { return !b })); n != 1 {
		t.Errorf("%d of six swaps of one value took", n)
	}
	if v, _ := s.Value(ctx, "s1", "token"); !strings.HasPrefix(string(v), "pair-2-") {
		t.Errorf("after the swaps: %q", v)
	}
	// A nil old sets a value that is not there: one of several at once.
	created := make([]bool, 6)
	for i := range created {
		swaps.Go(func() {
			ok, err := s.SwapValue(ctx, "s1", "lock", nil, []byte(fmt.Sprint("held-", i)))
			if err != nil {
				t.Error(err)
			}
			created[i] = ok
		})
	}
	swaps.Wait()
	if n := len(slices.DeleteFunc(created, func(b bool) bool { return !b })); n != 1 {
		t.Errorf("%d of six creations of one value took", n)
	}
	if ok, _ := s.SwapValue(ctx, "s1", "token", nil, []byte("x")); ok {
		t.Error("a nil old replaced a value that is there")
	}
	if err := s.SetValue(ctx, "s1", "form", []byte("typed")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([][]byte, 6)
	for i := range got {
		wg.Go(func() {
			v, err := s.TakeValue(ctx, "s1", "form")
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	if n := len(slices.DeleteFunc(got, func(v []byte) bool { return string(v) != "typed" })); n != 1 {
		t.Errorf("the value was taken %d times", n)
	}
}

func testPreferences(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	if _, err := s.Preference(ctx, "tid", "adele"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("none yet: %v", err)
	}
	p := store.Preference{TimeZone: "Europe/Berlin", AutoZone: true, Updated: c.now()}
	if err := s.SetPreference(ctx, "tid", "adele", p); err != nil {
		t.Fatal(err)
	}
	p.AutoZone, p.Language = false, "de"
	if err := s.SetPreference(ctx, "tid", "adele", p); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Preference(ctx, "tid", "adele"); err != nil || got != p {
		t.Errorf("preferences = %+v %v", got, err)
	}
	if _, err := s.Preference(ctx, "tid", "lee"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another person's: %v", err)
	}
	if _, err := s.Preference(ctx, "other-tenant", "adele"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the same object id in another tenant: %v", err)
	}
}

// testSessionEndTakesAll: a session's end takes its sets and values, not
// the person's preferences.
func testSessionEndTakesAll(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	signIn(t, s, c, "s1")
	signIn(t, s, c, "s2")
	for _, sid := range []string{"s1", "s2"} {
		if _, err := s.AddEntries(ctx, sid, "list", entries("a"), 5, false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetValue(ctx, sid, "acting_for", []byte("megan")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetPreference(ctx, "tid", "adele", store.Preference{TimeZone: "Asia/Tokyo", Updated: c.now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSignIn(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignIn(ctx, "s1", c.now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an ended session: %v", err)
	}
	if got := keysOf(t, s, "s1", "list"); len(got) != 0 {
		t.Errorf("an ended session's list: %v", got)
	}
	if v, _ := s.Value(ctx, "s1", "acting_for"); v != nil {
		t.Errorf("an ended session's value: %q", v)
	}
	if got := keysOf(t, s, "s2", "list"); len(got) != 1 {
		t.Errorf("another session's list went too: %v", got)
	}
	if p, err := s.Preference(ctx, "tid", "adele"); err != nil || p.TimeZone != "Asia/Tokyo" {
		t.Errorf("the preferences after signing out: %+v %v", p, err)
	}
}
