// Package storetest is the conformance suite of store.Store: every
// implementation runs it (sqlite's tests, and any other store's), so that
// the portal behaves the same on each.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
)

// Database is an empty database of one implementation, for one test.
type Database interface {
	// Open opens a store on the database, bringing its schema up to date.
	// Every call opens another store on the same database, as another
	// replica would.
	Open(t *testing.T, now func() time.Time) (store.Store, error)
	// Exec runs a statement on the database as the portal's own database
	// user, past the store.
	Exec(t *testing.T, query string) error
	// MakeNewer marks the database's schema as made by a later portal.
	MakeNewer(t *testing.T)
}

// NewDatabase makes an empty database for a test.
type NewDatabase func(t *testing.T) Database

// open opens a store on db, closed at the test's end.
func open(t *testing.T, db Database, now func() time.Time) store.Store {
	t.Helper()
	s, err := db.Open(t, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a clock the suite moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// t0 is when the suite's clocks start.
var t0 = time.Date(2026, 6, 17, 10, 30, 0, 0, time.UTC)

// Run runs the suite against databases newDB makes.
func Run(t *testing.T, newDB NewDatabase) {
	for name, test := range map[string]func(*testing.T, Database, *clock){
		"Migrations":         testMigrations,
		"NewerSchemaRefused": testNewerSchemaRefused,
		"TrailAppendOnly":    testTrailAppendOnly,
		"ReplicasShareAll":   testReplicasShareAll,
		"FileRulesOnce":      testFileRulesOnce,
		"RateLimits":         testRateLimits,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, newDB(t), &clock{t: t0})
		})
	}
	for name, test := range map[string]func(*testing.T, store.Store, *clock){
		"Sessions":           testSessions,
		"RestoreLifecycle":   testRestoreLifecycle,
		"SubmittedOnce":      testSubmittedOnce,
		"EndedOnce":          testEndedOnce,
		"WatcherLeases":      testWatcherLeases,
		"ListFilters":        testListFilters,
		"OnlyTheUsers":       testOnlyTheUsers,
		"Trail":              testTrail,
		"Drafts":             testDrafts,
		"Grants":             testGrants,
		"Notices":            testNotices,
		"ConcurrentIntents":  testConcurrentIntents,
		"SignIns":            testSignIns,
		"TokenRenewalOnce":   testTokenRenewalOnce,
		"Sets":               testSets,
		"ConcurrentAdds":     testConcurrentAdds,
		"Values":             testValues,
		"Preferences":        testPreferences,
		"SessionEndTakesAll": testSessionEndTakesAll,
		"VMRules":            testVMRules,
		"FLRSessions":        testFLRSessions,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: t0}
			test(t, open(t, newDB(t), c.now), c)
		})
	}
}

func testSessions(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	ss := s.Sessions()
	if err := ss.CommitCtx(ctx, "token-a", []byte("A"), c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ss.CommitCtx(ctx, "token-b", []byte("B"), c.now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := ss.CommitCtx(ctx, "token-a", []byte("A2"), c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := ss.FindCtx(ctx, "token-a"); err != nil || !ok || string(b) != "A2" {
		t.Errorf("find a = %q %v %v", b, ok, err)
	}
	c.advance(time.Minute) // valid up to its deadline, as scs's own stores
	if _, ok, _ := ss.FindCtx(ctx, "token-b"); !ok {
		t.Error("a session is gone at its deadline")
	}
	c.advance(time.Millisecond)
	if _, ok, _ := ss.FindCtx(ctx, "token-b"); ok {
		t.Error("an expired session was found")
	}
	if err := ss.DeleteCtx(ctx, "token-a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ss.FindCtx(ctx, "token-a"); ok {
		t.Error("a deleted session was found")
	}
	if _, ok, _ := ss.FindCtx(ctx, "never"); ok {
		t.Error("an unknown token was found")
	}
}

// record is a restore of Adele's, the nth of a submission.
func record(c *clock, submission string, part int) restore.Record {
	return restore.Record{ID: fmt.Sprintf("r-%s-%d", submission, part), Submission: submission, Part: part,
		TenantID: "tid", UserOID: "adele", UserUPN: "AdeleV@contoso", UserName: "Adele Vance",
		Workload: "exchange", Source: "Adele Vance", SourceID: "mb-1", ItemCount: 3, Target: "Original location",
		Items:   []audit.Item{{ID: "i1", Name: "Floor plan"}, {ID: "i2", Name: `<img src=x onerror=alert(1)>`}},
		Options: "Missing items", Reason: "deleted by mistake", PointTime: t0.Add(-7 * 24 * time.Hour), Requested: c.now(),
		GrantID: "g-" + submission}
}

func event(r restore.Record, outcome string, when time.Time) audit.Event {
	return audit.Event{Time: when, TenantID: r.TenantID, ActorOID: r.UserOID, ActorUPN: r.UserUPN, ActorName: r.UserName,
		Subject: r.Source, SubjectID: r.SourceID, Workload: r.Workload, Action: "restore", ItemCount: r.ItemCount,
		RestoreID: r.ID, SessionID: r.SessionID, Outcome: outcome}
}

// trail lists the outcomes of a restore's events, oldest first.
func trail(t *testing.T, s store.Store, restoreID string) []string {
	t.Helper()
	var out []string
	err := s.Find(t.Context(), audit.Filter{}, func(e audit.Event) error {
		if e.RestoreID == restoreID {
			out = append(out, e.Outcome)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(out)
	return out
}

func get(t *testing.T, s store.Store, id string) restore.Record {
	t.Helper()
	r, err := s.Get(t.Context(), "tid", "adele", id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return r
}

func intend(t *testing.T, s store.Store, c *clock, rs ...restore.Record) {
	t.Helper()
	var evs []audit.Event
	for _, r := range rs {
		evs = append(evs, event(r, audit.Requested, c.now()))
	}
	if err := s.Intend(t.Context(), rs, "replica-a", c.now().Add(restore.IntentLease), evs); err != nil {
		t.Fatal(err)
	}
}

func testRestoreLifecycle(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	docs, items := record(c, "k1", 0), record(c, "k1", 1)
	intend(t, s, c, docs, items)
	if r := get(t, s, docs.ID); r.State != restore.Pending || r.Requested != t0 || r.Reason != "deleted by mistake" ||
		r.PointTime != docs.PointTime || r.GrantID != "g-k1" || !cmp.Equal(r.Items, docs.Items) {
		t.Errorf("intent = %+v", r)
	}
	c.advance(time.Second)
	docs.SessionID = "vb-1"
	if err := s.Start(ctx, docs.ID, "vb-1", c.now(), c.now().Add(time.Second), event(docs, audit.Started, c.now())); err != nil {
		t.Fatal(err)
	}
	if err := s.Refuse(ctx, items.ID, c.now(), "the folder name is not valid", event(items, audit.Failed, c.now())); err != nil {
		t.Fatal(err)
	}
	if r := get(t, s, docs.ID); r.State != restore.Running || r.SessionID != "vb-1" || !r.Started.Equal(c.now()) {
		t.Errorf("started = %+v", r)
	}
	if r := get(t, s, items.ID); r.State != restore.Refused || r.Detail != "the folder name is not valid" || !r.Problems() {
		t.Errorf("refused = %+v", r)
	}
	if err := s.Start(ctx, items.ID, "vb-2", c.now(), c.now(), event(items, audit.Started, c.now())); !errors.Is(err, store.ErrChanged) {
		t.Errorf("a refused restore started: %v", err)
	}
	c.advance(time.Minute)
	ended := docs
	ended.Ended, ended.Result, ended.Restored, ended.Skipped, ended.Failed = c.now(), restore.Warning, 2, 0, 1
	ev := event(docs, audit.Warning, c.now())
	ev.Restored, ev.Failed = 2, 1
	if err := s.End(ctx, ended, ev); err != nil {
		t.Fatal(err)
	}
	if r := get(t, s, docs.ID); r.State != restore.Ended || r.Result != restore.Warning || r.Restored != 2 || r.Failed != 1 ||
		!r.Ended.Equal(c.now()) || !r.Done() || !r.Problems() {
		t.Errorf("ended = %+v", r)
	}
	if got := trail(t, s, docs.ID); !cmp.Equal(got, []string{audit.Requested, audit.Started, audit.Warning}) {
		t.Errorf("the trail of the documents' restore: %v", got)
	}
	if got := trail(t, s, items.ID); !cmp.Equal(got, []string{audit.Requested, audit.Failed}) {
		t.Errorf("the trail of the items' restore: %v", got)
	}
	got, err := s.Submitted(ctx, "tid", "adele", "k1")
	if err != nil || len(got) != 2 || got[0].ID != docs.ID || got[1].ID != items.ID {
		t.Errorf("submitted = %v %v", got, err)
	}
}

func testSubmittedOnce(t *testing.T, s store.Store, c *clock) {
	intend(t, s, c, record(c, "k1", 0))
	again := record(c, "k1", 0)
	again.ID = "r-other"
	err := s.Intend(t.Context(), []restore.Record{again}, "replica-b", c.now().Add(time.Minute), []audit.Event{event(again, audit.Requested, c.now())})
	if !errors.Is(err, store.ErrSubmitted) {
		t.Errorf("a second intent of a submission: %v", err)
	}
	if got := trail(t, s, "r-other"); len(got) != 0 {
		t.Errorf("a refused intent reached the trail: %v", got)
	}
	if _, err := s.Get(t.Context(), "tid", "adele", "r-other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused intent was recorded: %v", err)
	}
}

// testConcurrentIntents: two submits of one form at once record one restore.
func testConcurrentIntents(t *testing.T, s store.Store, c *clock) {
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			r := record(c, "k-race", 0)
			r.ID = fmt.Sprintf("r-race-%d", i)
			errs[i] = s.Intend(t.Context(), []restore.Record{r}, "replica-a", c.now().Add(time.Minute), []audit.Event{event(r, audit.Requested, c.now())})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrSubmitted):
			t.Errorf("intent: %v", err)
		}
	}
	if got, _ := s.Submitted(t.Context(), "tid", "adele", "k-race"); ok != 1 || len(got) != 1 {
		t.Errorf("%d intents succeeded, %d recorded; want one", ok, len(got))
	}
}

func testEndedOnce(t *testing.T, s store.Store, c *clock) {
	r := record(c, "k1", 0)
	intend(t, s, c, r)
	r.SessionID = "vb-1"
	if err := s.Start(t.Context(), r.ID, "vb-1", c.now(), c.now(), event(r, audit.Started, c.now())); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			e := r
			e.Ended, e.Result, e.Restored = c.now(), restore.Success, 3
			errs[i] = s.End(t.Context(), e, event(r, audit.Succeeded, c.now()))
		})
	}
	wg.Wait()
	ended := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ended++
		case !errors.Is(err, store.ErrChanged):
			t.Errorf("end: %v", err)
		}
	}
	if got := trail(t, s, r.ID); ended != 1 || !cmp.Equal(got, []string{audit.Requested, audit.Started, audit.Succeeded}) {
		t.Errorf("%d ends recorded; the trail: %v", ended, got)
	}
}

func testWatcherLeases(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	pending, running := record(c, "k1", 0), record(c, "k2", 0)
	intend(t, s, c, pending)
	intend(t, s, c, running)
	if err := s.Start(ctx, running.ID, "vb-2", c.now(), c.now().Add(time.Second), event(running, audit.Started, c.now())); err != nil {
		t.Fatal(err)
	}
	ids := func(rs []restore.Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	due := func(owner string) []string {
		t.Helper()
		rs, err := s.Due(ctx, owner, c.now(), c.now().Add(restore.WatchLease), 10)
		if err != nil {
			t.Fatal(err)
		}
		return ids(rs)
	}
	if got := due("replica-b"); len(got) != 0 {
		t.Errorf("due before its time: %v", got)
	}
	c.advance(time.Second)
	if got := due("replica-b"); !cmp.Equal(got, []string{running.ID}) {
		t.Errorf("due: %v", got)
	}
	if got := due("replica-c"); len(got) != 0 {
		t.Errorf("claimed by two replicas: %v", got)
	}
	if err := s.Release(ctx, "replica-b"); err != nil { // replica-b stops
		t.Fatal(err)
	}
	if got := due("replica-c"); !cmp.Equal(got, []string{running.ID}) {
		t.Errorf("not taken over at once after a release: %v", got)
	}
	if err := s.Looked(ctx, running.ID, c.now()); err != nil {
		t.Fatal(err)
	}
	if got := due("replica-b"); !cmp.Equal(got, []string{running.ID}) {
		t.Errorf("due again after a look: %v", got)
	}
	if got := due("replica-b"); !cmp.Equal(got, []string{running.ID}) {
		t.Errorf("its holder does not see it again: %v", got)
	}
	c.advance(restore.WatchLease) // replica-b died holding it
	if got := due("replica-c"); !cmp.Equal(got, []string{running.ID}) {
		t.Errorf("not taken over after the lease: %v", got)
	}
	if err := s.Looked(ctx, running.ID, c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.advance(restore.IntentLease) // the intent's replica never said how the call went
	if got := due("replica-c"); !cmp.Equal(got, []string{pending.ID}) {
		t.Errorf("an expired intent is not due: %v", got)
	}
	if err := s.Unconfirm(ctx, pending.ID, c.now(), "the portal stopped", event(pending, audit.Unconfirmed, c.now())); err != nil {
		t.Fatal(err)
	}
	if r := get(t, s, pending.ID); r.State != restore.Unconfirmed || !r.Problems() {
		t.Errorf("unconfirmed = %+v", r)
	}
	// The call did get an answer after all: the restore runs.
	if err := s.Start(ctx, pending.ID, "vb-1", c.now(), c.now(), event(pending, audit.Started, c.now())); err != nil {
		t.Errorf("a late answer: %v", err)
	}
	if n, err := s.Watched(ctx, running.GrantID); err != nil || n != 1 {
		t.Errorf("watched with the grant: %d %v", n, err)
	}
}

func testListFilters(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	mk := func(sub, workload string, others bool, outcome restore.Result, failed int) restore.Record {
		r := record(c, sub, 0)
		r.Workload, r.ForOthers = workload, others
		intend(t, s, c, r)
		if outcome != "" {
			s.Start(ctx, r.ID, "vb-"+sub, c.now(), c.now(), event(r, audit.Started, c.now()))
			r.Ended, r.Result, r.Failed = c.now(), outcome, failed
			if err := s.End(ctx, r, event(r, audit.Succeeded, c.now())); err != nil {
				t.Fatal(err)
			}
		}
		c.advance(time.Hour)
		return r
	}
	mk("a", "exchange", false, restore.Success, 0)
	mk("b", "onedrive", true, restore.Success, 1)
	mk("c", "exchange", true, "", 0)
	refused := record(c, "d", 0)
	intend(t, s, c, refused)
	s.Refuse(ctx, refused.ID, c.now(), "no", event(refused, audit.Failed, c.now()))
	names := func(f store.Filter, offset, limit int) ([]string, bool) {
		t.Helper()
		rs, more, err := s.List(ctx, "tid", "adele", f, offset, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.Submission)
		}
		return out, more
	}
	for _, tc := range []struct {
		f    store.Filter
		want []string
	}{
		{store.Filter{}, []string{"d", "c", "b", "a"}},
		{store.Filter{Status: store.StatusRunning}, []string{"c"}},
		{store.Filter{Status: store.StatusSucceeded}, []string{"a"}},
		{store.Filter{Status: store.StatusProblems}, []string{"d", "b"}},
		{store.Filter{Whose: "others"}, []string{"c", "b"}},
		{store.Filter{Whose: "own"}, []string{"d", "a"}},
		{store.Filter{Workload: "onedrive"}, []string{"b"}},
		{store.Filter{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, []string{"c", "b"}},
	} {
		if got, _ := names(tc.f, 0, 10); !cmp.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
		}
	}
	if got, more := names(store.Filter{}, 1, 2); !cmp.Equal(got, []string{"c", "b"}) || !more {
		t.Errorf("a page: %v more=%v", got, more)
	}
	if got, more := names(store.Filter{}, 2, 2); !cmp.Equal(got, []string{"b", "a"}) || more {
		t.Errorf("the last page: %v more=%v", got, more)
	}
}

func testOnlyTheUsers(t *testing.T, s store.Store, c *clock) {
	r := record(c, "k1", 0)
	intend(t, s, c, r)
	if _, err := s.Get(t.Context(), "tid", "lee", r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another user's restore: %v", err)
	}
	if _, err := s.Get(t.Context(), "other-tenant", "adele", r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's restore: %v", err)
	}
	if rs, _, _ := s.List(t.Context(), "tid", "lee", store.Filter{}, 0, 10); len(rs) != 0 {
		t.Errorf("another user's list: %v", rs)
	}
	if rs, _ := s.Submitted(t.Context(), "tid", "lee", "k1"); len(rs) != 0 {
		t.Errorf("another user's submission: %v", rs)
	}
	// Another user's submission key is theirs: it does not collide.
	other := record(c, "k1", 0)
	other.ID, other.UserOID = "r-lee", "lee"
	if err := s.Intend(t.Context(), []restore.Record{other}, "a", c.now(), []audit.Event{event(other, audit.Requested, c.now())}); err != nil {
		t.Errorf("the same key of another user: %v", err)
	}
}

func testTrail(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	events := []audit.Event{
		{Time: t0, ActorOID: "lee-oid", ActorUPN: "LeeG@contoso", ActorName: "Lee Gu", Subject: "Megan Bowen", SubjectID: "mb-1",
			Workload: "exchange", Action: "restore", Items: []audit.Item{{ID: "i1", Name: "Budget"}}, Reason: "INC-1", SessionID: "s1",
			RestoreID: "r1", Outcome: audit.Started},
		{Time: t0.Add(time.Hour), ActorOID: "lee-oid", ActorUPN: "LeeG@contoso", ActorName: "Lee Gu", Subject: "Sales and Marketing",
			Workload: "sharepoint", Action: "download", Items: []audit.Item{{ID: "d1", Name: "100%_done.docx"}}, Outcome: audit.Succeeded},
		{Time: t0.Add(2 * time.Hour), ActorOID: "adele-oid", ActorUPN: "AdeleV@contoso", ActorName: "Adele Vance", Subject: "Megan Bowen",
			Workload: "onedrive", Action: "restore", Outcome: audit.Denied, Detail: "not in scope"},
		{Time: t0.Add(3 * time.Hour), ActorOID: "lee-oid", ActorUPN: "LeeG@contoso", ActorName: "Lee Gu", Subject: "Megan Bowen",
			Workload: "exchange", Action: "restore", RestoreID: "r1", SessionID: "s1", Outcome: audit.Warning, Restored: 4, Skipped: 2, Failed: 1},
	}
	for _, e := range events {
		if err := s.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all := func(f audit.Filter) []audit.Event {
		t.Helper()
		var out []audit.Event
		if err := s.Find(ctx, f, func(e audit.Event) error { out = append(out, e); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	names := func(es []audit.Event) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ActorName+"/"+e.Workload+"/"+e.Outcome)
		}
		return out
	}
	for _, tc := range []struct {
		f    audit.Filter
		want []string
	}{
		{audit.Filter{}, []string{"Lee Gu/exchange/warning", "Adele Vance/onedrive/denied", "Lee Gu/sharepoint/succeeded", "Lee Gu/exchange/started"}},
		{audit.Filter{Actor: "leeg"}, []string{"Lee Gu/exchange/warning", "Lee Gu/sharepoint/succeeded", "Lee Gu/exchange/started"}},
		{audit.Filter{Subject: "megan"}, []string{"Lee Gu/exchange/warning", "Adele Vance/onedrive/denied", "Lee Gu/exchange/started"}},
		{audit.Filter{Subject: "%"}, nil},
		{audit.Filter{Subject: "_"}, nil},
		{audit.Filter{Outcome: audit.Denied}, []string{"Adele Vance/onedrive/denied"}},
		{audit.Filter{Workload: "sharepoint"}, []string{"Lee Gu/sharepoint/succeeded"}},
		{audit.Filter{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)}, []string{"Lee Gu/sharepoint/succeeded"}},
		{audit.Filter{Limit: 1, Offset: 1}, []string{"Adele Vance/onedrive/denied"}},
	} {
		if got := names(all(tc.f)); !cmp.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
		}
		count := tc.f
		count.Limit, count.Offset = 0, 0
		if n, err := s.Count(ctx, count); err != nil || (tc.f.Limit == 0 && n != len(tc.want)) {
			t.Errorf("%+v: count %d %v", tc.f, n, err)
		}
	}
	got := all(audit.Filter{Workload: "exchange"})
	if len(got) != 2 || got[1].ItemCount != 1 || !cmp.Equal(got[1].Items, []audit.Item{{ID: "i1", Name: "Budget"}}) ||
		got[1].SessionID != "s1" || got[1].RestoreID != "r1" || !got[1].Time.Equal(t0) ||
		got[0].Restored != 4 || got[0].Skipped != 2 || got[0].Failed != 1 {
		t.Errorf("read back %+v", got)
	}
	if err := s.Append(ctx, audit.Event{Action: "restore", Outcome: audit.Started}); err == nil {
		t.Error("an event without a time was recorded")
	}
	testTrailKeyset(t, s, all, names)
}

// testTrailKeyset: paging by key walks the whole trail both ways, events of
// the same millisecond included, each event once.
func testTrailKeyset(t *testing.T, s store.Store, all func(audit.Filter) []audit.Event, names func([]audit.Event) []string) {
	ctx := t.Context()
	// Three more events in one millisecond, told apart by their ids.
	same := t0.Add(90 * time.Minute)
	for _, who := range []string{"Tie One", "Tie Two", "Tie Three"} {
		if err := s.Append(ctx, audit.Event{Time: same, ActorName: who, Workload: "teams", Action: "export", Outcome: audit.Succeeded}); err != nil {
			t.Fatal(err)
		}
	}
	whole := names(all(audit.Filter{}))
	if len(whole) != 7 {
		t.Fatalf("the trail: %v", whole)
	}
	var forward []string
	var pages [][]audit.Event
	f := audit.Filter{Limit: 2}
	for range 10 {
		page := all(f)
		if len(page) == 0 {
			break
		}
		pages = append(pages, page)
		forward = append(forward, names(page)...)
		c := audit.CursorOf(page[len(page)-1])
		f.Before = &c
	}
	if !cmp.Equal(forward, whole) {
		t.Errorf("paging older: %v, want %v", forward, whole)
	}
	// And back: the page newer than each page's first event is the one before it.
	for i := len(pages) - 1; i > 0; i-- {
		c := audit.CursorOf(pages[i][0])
		if got, want := names(all(audit.Filter{After: &c, Limit: 2})), names(pages[i-1]); !cmp.Equal(got, want) {
			t.Errorf("the page newer than page %d: %v, want %v", i, got, want)
		}
	}
	c := audit.CursorOf(pages[len(pages)-1][0])
	if n, err := s.Count(ctx, audit.Filter{Before: &c}); err != nil || n != len(pages[len(pages)-1])-1 {
		t.Errorf("counting before a place: %d %v", n, err)
	}
}

func testDrafts(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	d := store.Draft{Key: "k1", TenantID: "tid", UserOID: "adele", Path: "/sessions/s/mailboxes/m/restore/k1",
		Selection: map[string][]string{"item": {"a", "b"}}, Created: c.now(), Expires: c.now().Add(time.Hour)}
	if err := s.PutDraft(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.Draft(ctx, "tid", "adele", "k1", c.now())
	if err != nil || got.Path != d.Path || !cmp.Equal(got.Selection, d.Selection) || got.Form != nil {
		t.Errorf("draft = %+v %v", got, err)
	}
	d.Form = map[string][]string{"folder_name": {"Restored <mail>"}}
	d.Problems = map[string]string{"folder_name": "too long"}
	if err := s.PutDraft(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Draft(ctx, "tid", "adele", "k1", c.now()); !cmp.Equal(got.Form, d.Form) || !cmp.Equal(got.Problems, d.Problems) {
		t.Errorf("the typed form: %+v", got)
	}
	if _, err := s.Draft(ctx, "tid", "lee", "k1", c.now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another user's draft: %v", err)
	}
	stolen := d
	stolen.UserOID, stolen.Form = "lee", map[string][]string{"x": {"y"}}
	if err := s.PutDraft(ctx, stolen); err == nil {
		t.Error("another user overwrote a draft")
	}
	if _, err := s.Draft(ctx, "tid", "adele", "k1", c.now().Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired draft: %v", err)
	}
}

func testGrants(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	g := store.Grant{ID: "g1", TenantID: "tid", UserOID: "adele", Sealed: []byte("pair-1"), Updated: c.now()}
	if err := s.PutGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	renewed := g
	renewed.Sealed = []byte("pair-2")
	if err := s.ReplaceGrant(ctx, renewed, []byte("pair-1")); err != nil {
		t.Fatal(err)
	}
	late := g
	late.Sealed = []byte("pair-3")
	if err := s.ReplaceGrant(ctx, late, []byte("pair-1")); !errors.Is(err, store.ErrChanged) {
		t.Errorf("a second refresh of the same pair replaced the first: %v", err)
	}
	if got, err := s.Grant(ctx, "g1"); err != nil || string(got.Sealed) != "pair-2" || got.UserOID != "adele" {
		t.Errorf("grant = %+v %v", got, err)
	}
	if err := s.DeleteGrant(ctx, "g1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Grant(ctx, "g1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted grant: %v", err)
	}
}

func testNotices(t *testing.T, s store.Store, c *clock) {
	ctx := t.Context()
	mk := func(sub string) restore.Record {
		r := record(c, sub, 0)
		intend(t, s, c, r)
		if err := s.Start(ctx, r.ID, "vb-"+sub, c.now(), c.now(), event(r, audit.Started, c.now())); err != nil {
			t.Fatal(err)
		}
		return r
	}
	seen, told := mk("a"), mk("b")
	mk("c") // still running: never a notice
	for _, r := range []restore.Record{seen, told} {
		r.Ended, r.Result = c.now(), restore.Success
		if err := s.End(ctx, r, event(r, audit.Succeeded, c.now())); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Noticed(ctx, "tid", "adele", seen.ID); err != nil { // its page showed the end
		t.Fatal(err)
	}
	if err := s.Noticed(ctx, "tid", "lee", told.ID); err != nil { // not Lee's: changes nothing
		t.Fatal(err)
	}
	got, err := s.Notices(ctx, "tid", "adele", t0.Add(-time.Hour), 5)
	if err != nil || len(got) != 1 || got[0].ID != told.ID {
		t.Errorf("notices: %v %v", got, err)
	}
	if again, _ := s.Notices(ctx, "tid", "adele", t0.Add(-time.Hour), 5); len(again) != 0 {
		t.Errorf("told twice: %v", again)
	}
	if old, _ := s.Notices(ctx, "tid", "adele", t0.Add(time.Hour), 5); len(old) != 0 {
		t.Errorf("notices of restores before since: %v", old)
	}
}
