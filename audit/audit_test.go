package audit

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/openrestore/portal/sessionstore"
)

func open(t *testing.T) *Store {
	t.Helper()
	db, err := sessionstore.OpenSQLite(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func all(t *testing.T, s *Store, f Filter) []Event {
	t.Helper()
	var out []Event
	if err := s.Find(t.Context(), f, func(e Event) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAppendFindAndFilter(t *testing.T) {
	s := open(t)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	events := []Event{
		{Time: t0, ActorOID: "lee-oid", ActorUPN: "LeeG@contoso", ActorName: "Lee Gu", Subject: "Megan Bowen", SubjectID: "mb-1",
			Workload: "exchange", Action: "restore", Items: []Item{{"i1", "Budget"}}, Reason: "INC-1", SessionID: "s1", Outcome: Started},
		{Time: t0.Add(time.Hour), ActorOID: "lee-oid", ActorUPN: "LeeG@contoso", ActorName: "Lee Gu", Subject: "Sales and Marketing",
			Workload: "sharepoint", Action: "download", Items: []Item{{"d1", "100%_done.docx"}}, Outcome: Succeeded},
		{Time: t0.Add(2 * time.Hour), ActorOID: "adele-oid", ActorUPN: "AdeleV@contoso", ActorName: "Adele Vance", Subject: "Megan Bowen",
			Workload: "onedrive", Action: "restore", Outcome: Denied, Detail: "not in scope"},
	}
	for _, e := range events {
		if err := s.Append(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	names := func(es []Event) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ActorName+"/"+e.Workload)
		}
		return out
	}
	for _, c := range []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"Adele Vance/onedrive", "Lee Gu/sharepoint", "Lee Gu/exchange"}},
		{Filter{Actor: "leeg"}, []string{"Lee Gu/sharepoint", "Lee Gu/exchange"}},
		{Filter{Subject: "megan"}, []string{"Adele Vance/onedrive", "Lee Gu/exchange"}},
		{Filter{Subject: "%"}, nil},
		{Filter{Outcome: Denied}, []string{"Adele Vance/onedrive"}},
		{Filter{Workload: "sharepoint"}, []string{"Lee Gu/sharepoint"}},
		{Filter{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)}, []string{"Lee Gu/sharepoint"}},
		{Filter{Limit: 1, Offset: 1}, []string{"Lee Gu/sharepoint"}},
	} {
		if got := names(all(t, s, c.f)); !cmp.Equal(got, c.want) {
			t.Errorf("%+v: %v, want %v", c.f, got, c.want)
		}
		if n, _ := s.Count(t.Context(), Filter{Actor: c.f.Actor, Subject: c.f.Subject, Workload: c.f.Workload, Outcome: c.f.Outcome,
			From: c.f.From, To: c.f.To}); c.f.Limit == 0 && n != len(c.want) {
			t.Errorf("%+v: count %d", c.f, n)
		}
	}
	got := all(t, s, Filter{Workload: "exchange"})[0]
	if got.ItemCount != 1 || !cmp.Equal(got.Items, []Item{{"i1", "Budget"}}) || got.SessionID != "s1" || !got.Time.Equal(t0) {
		t.Errorf("read back %+v", got)
	}
}

func TestAppendOnly(t *testing.T) {
	s := open(t)
	if err := s.Append(t.Context(), Event{ActorOID: "x", Outcome: Started}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("UPDATE audit_events SET outcome = 'succeeded'"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("update: %v", err)
	}
	if _, err := s.db.Exec("DELETE FROM audit_events"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("delete: %v", err)
	}
	if n, _ := s.Count(t.Context(), Filter{}); n != 1 {
		t.Errorf("%d events", n)
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Event{Time: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), ActorName: "Lee Gu", Subject: `=HYPERLINK("http://evil")`,
		Items: []Item{{"1", "a,b"}, {"2", `"quoted"`}}, Reason: "+1 -2", Outcome: Started})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%v %v", rows, err)
	}
	row := map[string]string{}
	for i, h := range CSVHeader {
		row[h] = rows[1][i]
	}
	if row["on_behalf_of"] != `'=HYPERLINK("http://evil")` || row["reason"] != "'+1 -2" || row["items"] != `a,b; "quoted"` ||
		row["time_utc"] != "2026-11-20T09:00:00Z" || row["item_count"] != "2" {
		t.Errorf("row %v", row)
	}
}
