package audit

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

func TestCSVDefusesFormulas(t *testing.T) {
	t.Parallel()
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

// FuzzCSVWriter: whatever names an event holds, the CSV reads back as one
// row of as many cells as the header, each the name as it was (with an
// apostrophe before what a spreadsheet would take for a formula).
func FuzzCSVWriter(f *testing.F) {
	f.Add("Invoice.xlsx", "=HYPERLINK(\"x\")", "a,b\n\"c\"", "Adele")
	f.Add("\r\n", "@SUM(A1)", "+1", "-2")
	f.Fuzz(func(t *testing.T, item, subject, reason, actor string) {
		var buf bytes.Buffer
		w, err := NewCSVWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		e := Event{Time: time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC), ActorName: actor, Subject: subject, Reason: reason,
			Action: "download", Outcome: Succeeded, Items: []Item{{ID: "1", Name: item}}}
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(rows) != 2 || len(rows[1]) != len(CSVHeader) {
			t.Fatalf("%d rows (%v) from %q", len(rows), err, buf.String())
		}
		cell := map[string]string{}
		for i, h := range CSVHeader {
			cell[h] = rows[1][i]
		}
		for h, want := range map[string]string{"on_behalf_of": subject, "reason": reason, "actor_name": actor, "items": item} {
			got := cell[h]
			if want != "" && strings.ContainsRune("=+-@\t\r", rune(want[0])) {
				want = "'" + want
			}
			// encoding/csv reads \r\n inside a quoted cell back as \n.
			if got != strings.ReplaceAll(want, "\r\n", "\n") && got != want {
				t.Fatalf("%s: wrote %q, read %q", h, want, got)
			}
		}
	})
}
