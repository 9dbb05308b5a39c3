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
	page, more, err := s.List(ctx, "t", "adele", 0, 3)
	if err != nil || !more || len(page) != 3 || page[0].ID != "r4" {
		t.Fatalf("first page: %v %v %v", ids(page), more, err)
	}
	page, more, _ = s.List(ctx, "t", "adele", 3, 3)
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
