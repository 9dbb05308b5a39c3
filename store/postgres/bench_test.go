package postgres_test

import (
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/internal/pgtest"
	"github.com/openrestore/portal/store/postgres"
)

// auditRows is how many events BenchmarkAuditTrail searches.
const auditRows = 2_000_000

// BenchmarkAuditTrail is the auditor's page on a trail of two million
// events (2,000 people, 5,000 subjects, a year at one event every 16 s):
// for each kind of filter, the count and the first page of 50 (or a page
// deep in), as the page asks them.
func BenchmarkAuditTrail(b *testing.B) {
	srv := pgtest.Shared(b)
	dsn := srv.Database(b)
	s := open(b, dsn, "bench")
	ctx := b.Context()
	start := time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	filled := time.Now()
	if _, err := c.Exec(ctx, `INSERT INTO audit_events (at_ms, tenant_id, actor_oid, actor_upn, actor_name, subject, subject_id,
		workload, action, items, item_count, options, reason, restore_id, session_id, outcome, detail)
		SELECT $1::bigint + g * 15768, 'tid', 'oid-' || (g % 2000), 'user' || (g % 2000) || '@contoso.com', 'Person ' || (g % 2000),
			'Subject ' || (g % 5000), 'sid-' || (g % 5000), (ARRAY['exchange','onedrive','sharepoint','teams'])[1 + g % 4], 'restore',
			'[{"id":"i","name":"Quarterly report.xlsx"}]', 1, 'Original location', '', '', '',
			(ARRAY['requested','started','succeeded','failed','denied','warning','cancelled','refused'])[1 + g % 8], ''
		FROM generate_series(1, $2::bigint) g`, start.UnixMilli(), auditRows); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Exec(ctx, `ANALYZE audit_events`); err != nil {
		b.Fatal(err)
	}
	c.Close(ctx)
	b.Logf("%d events written and analysed in %s", auditRows, time.Since(filled).Round(time.Second))
	day := start.AddDate(0, 6, 0)
	for _, tc := range []struct {
		name string
		f    audit.Filter
	}{
		{"everything", audit.Filter{}},
		{"actor", audit.Filter{Actor: "person 1234"}},
		{"actor-part", audit.Filter{Actor: "user123"}},
		{"subject", audit.Filter{Subject: "subject 4321"}},
		{"workload-outcome", audit.Filter{Workload: "teams", Outcome: "refused"}},
		{"one-day", audit.Filter{From: day, To: day.AddDate(0, 0, 1)}},
		{"actor-and-month", audit.Filter{Actor: "person 77", From: day, To: day.AddDate(0, 1, 0)}},
		{"page-200", audit.Filter{Offset: 199 * 50}},
		{"page-200-by-key", audit.Filter{Before: placeAt(b, s, 199*50)}},
		{"page-20000-by-key", audit.Filter{Before: placeAt(b, s, 19999*50)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var n int
			var paging time.Duration
			for b.Loop() {
				count := tc.f
				count.Before, count.Offset = nil, 0 // the page counts what the filters match
				if n, err = s.Count(ctx, count); err != nil {
					b.Fatal(err)
				}
				page := tc.f
				page.Limit = 50
				rows := 0
				start := time.Now()
				if err := s.Find(ctx, page, func(audit.Event) error { rows++; return nil }); err != nil || rows == 0 {
					b.Fatalf("%d rows: %v", rows, err)
				}
				paging += time.Since(start)
			}
			b.ReportMetric(float64(n), "matches")
			b.ReportMetric(float64(paging.Microseconds())/float64(b.N), "page-µs")
		})
	}
	// The CSV export of a million events (half a year), streamed: how soon
	// its first row comes, and the heap while it flows.
	b.Run("export-1M", func(b *testing.B) {
		f := audit.Filter{From: start, To: start.Add(time.Duration(auditRows/2) * 15768 * time.Millisecond)}
		var first time.Duration
		var rows int
		var peak uint64
		for b.Loop() {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			stop := make(chan struct{})
			sampled := make(chan uint64)
			go func() {
				var top uint64
				t := time.NewTicker(10 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						sampled <- top
						return
					case <-t.C:
						var m runtime.MemStats
						runtime.ReadMemStats(&m)
						top = max(top, m.HeapAlloc)
					}
				}
			}()
			w, _ := audit.NewCSVWriter(io.Discard)
			began := time.Now()
			rows = 0
			err := s.Find(ctx, f, func(e audit.Event) error {
				if rows == 0 {
					first = time.Since(began)
				}
				rows++
				return w.Write(e)
			})
			close(stop)
			top := <-sampled
			if err != nil || w.Flush() != nil {
				b.Fatal(err)
			}
			if top > before.HeapAlloc {
				peak = top - before.HeapAlloc
			}
		}
		b.ReportMetric(float64(rows), "rows")
		b.ReportMetric(float64(first.Milliseconds()), "first-row-ms")
		b.ReportMetric(float64(peak)/(1<<20), "heap-growth-MiB")
	})
}

// placeAt is the place of the event just newer than the offset: paging by
// key from there reads the page at that offset.
func placeAt(b *testing.B, s *postgres.Store, offset int) *audit.Cursor {
	var c audit.Cursor
	if err := s.Find(b.Context(), audit.Filter{Offset: offset - 1, Limit: 1}, func(e audit.Event) error {
		c = audit.CursorOf(e)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return &c
}
