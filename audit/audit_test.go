package audit

import (
	"bytes"
	"encoding/csv"
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
