package history

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openrestore/portal/sessionstore"
)

func TestStore(t *testing.T) {
	db, err := sessionstore.OpenSQLite(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		r := Record{ID: fmt.Sprintf("r%d", i), TenantID: "t", UserOID: "adele", UserUPN: "adele@x", Workload: "exchange",
			Source: "Adele Vance", SourceID: "mb", Items: i + 1, Target: "original location", Options: "missing items",
			Reason: "oops", PointTime: start.Add(-time.Hour), Started: start.Add(time.Duration(i) * time.Minute)}
		if err := s.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Add(ctx, Record{ID: "other", TenantID: "t", UserOID: "megan", Started: start}); err != nil {
		t.Fatal(err)
	}
	page, more, err := s.List(ctx, "t", "adele", Filter{}, 0, 3)
	if err != nil || !more || len(page) != 3 || page[0].ID != "r4" {
		t.Fatalf("first page: %v %v %v", ids(page), more, err)
	}
	page, more, _ = s.List(ctx, "t", "adele", Filter{}, 3, 3)
	if more || len(page) != 2 || page[1].ID != "r0" {
		t.Errorf("second page: %v %v", ids(page), more)
	}
	if _, err := s.Get(ctx, "t", "adele", "other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another user's record: %v", err)
	}
	if _, err := s.Get(ctx, "t2", "adele", "r1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another tenant: %v", err)
	}
	end := start.Add(time.Hour)
	if first, err := s.Finish(ctx, "r1", end, "Warning", 1, 0, 1); err != nil || !first {
		t.Fatal(err)
	}
	if first, _ := s.Finish(ctx, "r1", end.Add(time.Hour), "Success", 2, 0, 0); first { // the first ending stays
		t.Error("a second ending was taken")
	}
	got, err := s.Get(ctx, "t", "adele", "r1")
	want := Record{ID: "r1", TenantID: "t", UserOID: "adele", UserUPN: "adele@x", Workload: "exchange", Source: "Adele Vance",
		SourceID: "mb", Items: 2, Target: "original location", Options: "missing items", Reason: "oops",
		PointTime: start.Add(-time.Hour), Started: start.Add(time.Minute), Finished: &end, Result: "Warning", Restored: 1, Failed: 1}
	if diff := cmp.Diff(want, got); diff != "" || err != nil {
		t.Errorf("finished record (-want +got):\n%s %v", diff, err)
	}
}

func ids(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestListFilters(t *testing.T) {
	db, err := sessionstore.OpenSQLite(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A database made before for_others existed is brought up to date.
	if _, err := db.Exec(`CREATE TABLE restores (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_oid TEXT NOT NULL, user_upn TEXT NOT NULL,
		workload TEXT NOT NULL, source TEXT NOT NULL, source_id TEXT NOT NULL, items INTEGER NOT NULL, target TEXT NOT NULL,
		options TEXT NOT NULL, reason TEXT NOT NULL, point_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL, finished_ms INTEGER,
		result TEXT NOT NULL DEFAULT '', restored INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0)`); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	s, err := New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	add := func(id, workload string, others bool, started time.Time, result string, failed int) {
		if err := s.Add(ctx, Record{ID: id, TenantID: "t", UserOID: "lee", Workload: workload, ForOthers: others, Started: started}); err != nil {
			t.Fatal(err)
		}
		if result != "" {
			s.Finish(ctx, id, started.Add(time.Minute), result, 1, 0, failed)
		}
	}
	add("mine-ok", "exchange", false, day, "Success", 0)
	add("megan-failed", "exchange", true, day.Add(time.Hour), "Success", 2)
	add("site-running", "sharepoint", true, day.AddDate(0, 0, 1), "", 0)
	for _, c := range []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"site-running", "megan-failed", "mine-ok"}},
		{Filter{Whose: "others"}, []string{"site-running", "megan-failed"}},
		{Filter{Whose: "own"}, []string{"mine-ok"}},
		{Filter{Workload: "exchange"}, []string{"megan-failed", "mine-ok"}},
		{Filter{Status: StatusRunning}, []string{"site-running"}},
		{Filter{Status: StatusSucceeded}, []string{"mine-ok"}},
		{Filter{Status: StatusProblems}, []string{"megan-failed"}},
		{Filter{From: day.AddDate(0, 0, 1)}, []string{"site-running"}},
		{Filter{To: day.Add(30 * time.Minute)}, []string{"mine-ok"}},
	} {
		got, _, err := s.List(ctx, "t", "lee", c.f, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := ids(got); !cmp.Equal(ids, c.want) {
			t.Errorf("%+v: %v, want %v", c.f, ids, c.want)
		}
	}
}
