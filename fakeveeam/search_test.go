package fakeveeam

import (
	"testing"
	"time"

	"github.com/openrestore/portal/internal/clock"
)

func TestSearchLanguage(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2026, 11, d, 10, 0, 0, 0, time.UTC) }
	plan := &mailItem{kind: kindMessage, created: day(14), sent: day(14)}
	planF := &itemFields{Subject: "Store 42 refit: final floor plan", Body: "Shelving order goes out on Monday",
		From: "Megan Bowen <MeganB@contoso.onmicrosoft.com>", To: "Adele Vance <AdeleV@contoso.onmicrosoft.com>",
		Importance: "High", Attachments: []attachment{{Name: "Store 42 floor plan final.pdf", Size: 2 << 20}}}
	plan.versions = []version{{since: day(14), fields: planF}}
	lunch := &mailItem{kind: kindMessage, created: day(20), sent: day(20)}
	lunchF := &itemFields{Subject: "Lunch on Thursday?", Body: "Pizza?", From: "Alex Wilber <AlexW@contoso.onmicrosoft.com>",
		To: "Adele Vance <AdeleV@contoso.onmicrosoft.com>", Importance: "Normal"}
	lunch.versions = []version{{since: day(20), fields: lunchF}}

	tests := []struct {
		q           string
		plan, lunch bool
	}{
		{`floor plan`, true, false},
		{`"floor plan"`, true, false},
		{`subject:"floor plan"`, true, false},
		{`subject: "floor plan"`, true, false},
		{`System.Subject:refit`, true, false},
		{`from:megan`, true, false},
		{`from: "Megan Bowen"`, true, false},
		{`to:adele`, true, true},
		{`body:shelving`, true, false},
		{`hasattachments:true`, true, false},
		{`hasattachments:no`, false, true},
		{`attachments:*.pdf`, true, false},
		{`importance:high`, true, false},
		{`subj* OR lunch`, false, true}, // a bare wildcard word
		{`flo?r`, true, false},
		{`lunch OR refit`, true, true},
		{`lunch AND refit`, false, false},
		{`to:adele NOT lunch`, true, false},
		{`NOT (lunch OR refit)`, false, false},
		{`(lunch OR refit) from:alex`, false, true},
		{`received:>=2026-11-15`, false, true},
		{`received:<2026-11-15`, true, false},
		{`received:2026-11-14`, true, false},
		{`received:2026-11-13..2026-11-14`, true, false},
		{`received:2026-11-14T00:00:00Z..2026-11-20T09:00:00Z`, true, false},
		{`received:>=2026-11-13T23:00:00Z received:<2026-11-15T23:00:00Z`, true, false},
		{`received:11/20/2026`, false, true},
		{`size:>1MB`, true, false},
		{`"AND"`, false, false}, // a quoted keyword is text
		{`"12:30 meeting"`, false, false},
	}
	for _, tt := range tests {
		q, err := parseQuery(tt.q)
		if err != nil {
			t.Errorf("parse %q: %v", tt.q, err)
			continue
		}
		if got := q.match(mail{plan, planF}); got != tt.plan {
			t.Errorf("%q on the floor plan = %v", tt.q, got)
		}
		if got := q.match(mail{lunch, lunchF}); got != tt.lunch {
			t.Errorf("%q on lunch = %v", tt.q, got)
		}
	}
}

func TestMalformedQueries(t *testing.T) {
	t.Parallel()
	for _, q := range []string{
		``, `   `, `"unclosed`, `(lunch`, `lunch)`, `lunch AND`, `OR lunch`, `NOT`, `nosuchproperty:x`,
		`received:yesterday`, `received:2026-11-20..2026-11-01`, `hasattachments:maybe`, `size:big`, `subject:`,
		`from: (x)`,
	} {
		if _, err := parseQuery(q); err == nil {
			t.Errorf("%q parsed", q)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{`floor plan`, `subject:"a b" OR NOT (x y)`, `received:2026-11-01..2026-11-02`, `"\"`} {
		f.Add(s)
	}
	it := &mailItem{kind: kindMessage, created: clock.TestStart, versions: []version{{fields: &itemFields{Subject: "x"}}}}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseQuery(s)
		if err == nil {
			q.match(mail{it, it.versions[0].fields})
		}
	})
}
