package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/internal/pgtest"
	"github.com/openrestore/portal/internal/wait"
	"github.com/openrestore/portal/restore"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/store/postgres"
	"github.com/openrestore/portal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// database is an empty database of the test's PostgreSQL server.
type database struct {
	srv *pgtest.Server
	dsn string
}

func newDatabase(t *testing.T) storetest.Database {
	srv := pgtest.Shared(t)
	return database{srv, srv.Database(t)}
}

func (d database) Open(t *testing.T, now func() time.Time) (store.Store, error) {
	return postgres.Open(t.Context(), d.dsn, now, postgres.Options{})
}

func (d database) Exec(t *testing.T, query string) error {
	c, err := pgx.Connect(t.Context(), d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	_, err = c.Exec(t.Context(), query)
	return err
}

func (d database) MakeNewer(t *testing.T) {
	if err := d.Exec(t, `INSERT INTO schema_migrations (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) { storetest.Run(t, newDatabase) }

// TestTheTrailCannotBeTruncated: beyond UPDATE and DELETE (the conformance
// suite), TRUNCATE is refused to the portal's role, which owns the table.
func TestTheTrailCannotBeTruncated(t *testing.T) {
	d := newDatabase(t).(database)
	s := open(t, d.dsn, "a")
	if err := s.Append(t.Context(), audit.Event{Time: time.Unix(1, 0), ActorOID: "x", Outcome: audit.Started}); err != nil {
		t.Fatal(err)
	}
	if err := d.Exec(t, `TRUNCATE audit_events`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("truncate: %v", err)
	}
	if n, _ := s.Count(t.Context(), audit.Filter{}); n != 1 {
		t.Errorf("%d events", n)
	}
}

func open(t testing.TB, dsn, replica string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn, time.Now, postgres.Options{Replica: replica, Sweep: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestADeadReplicasRestoresAreTakenOverAtOnce: replica A holds a running
// restore's lease for 30 s and dies (its connection closes); B takes the
// restore over at its next look, not after the lease.
func TestADeadReplicasRestoresAreTakenOverAtOnce(t *testing.T) {
	d := newDatabase(t).(database)
	a, b := open(t, d.dsn, "a"), open(t, d.dsn, "b")
	ctx := t.Context()
	now := time.Now()
	r := restore.Record{ID: "r1", Submission: "s1", TenantID: "tid", UserOID: "adele", Workload: "exchange", Requested: now}
	ev := audit.Event{Time: now, ActorOID: "adele", RestoreID: "r1", Outcome: audit.Requested}
	if err := a.Intend(ctx, []restore.Record{r}, "a", now.Add(restore.IntentLease), []audit.Event{ev}); err != nil {
		t.Fatal(err)
	}
	ev.Outcome = audit.Started
	if err := a.Start(ctx, "r1", "vb-1", now, now, ev); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Due(ctx, "a", now, now.Add(restore.WatchLease), 10); err != nil || len(got) != 1 {
		t.Fatalf("a's claim: %v %v", got, err)
	}
	if got, _ := b.Due(ctx, "b", now, now.Add(restore.WatchLease), 10); len(got) != 0 {
		t.Fatalf("b took a live replica's restore: %v", got)
	}
	a.Crash()
	var got []restore.Record
	wait.For(t, "b to take the restore over", func() bool {
		got, _ = b.Due(ctx, "b", now, now.Add(restore.WatchLease), 10)
		return len(got) == 1
	})
}

// TestOneReplicaSweeps: of three replicas, one holds the sweeper's lock;
// when it closes, another takes it.
func TestOneReplicaSweeps(t *testing.T) {
	d := newDatabase(t).(database)
	stores := []*postgres.Store{open(t, d.dsn, "a"), open(t, d.dsn, "b"), open(t, d.dsn, "c")}
	sweepers := func() []int {
		var out []int
		for i, s := range stores {
			if s.Sweeping() {
				out = append(out, i)
			}
		}
		return out
	}
	var first []int
	wait.For(t, "a sweeper", func() bool { first = sweepers(); return len(first) == 1 })
	stores[first[0]].Close()
	stores = append(stores[:first[0]], stores[first[0]+1:]...)
	wait.For(t, "another sweeper", func() bool { return len(sweepers()) == 1 })
	// The sweeper removes what expired.
	ctx := t.Context()
	if err := stores[0].Sessions().CommitCtx(ctx, "old", []byte("x"), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, "the expired session to be swept", func() bool {
		n := -1
		conn, err := pgx.Connect(ctx, d.dsn)
		if err == nil {
			conn.QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&n)
			conn.Close(ctx)
		}
		return n == 0
	})
}

// TestErrorsNeverShowThePassword: a wrong password is reported without it.
func TestErrorsNeverShowThePassword(t *testing.T) {
	srv := pgtest.Shared(t)
	dsn := srv.Database(t)
	wrong := strings.Replace(dsn, "portal:", "portal:not-the-secret-", 1)
	_, err := postgres.Open(t.Context(), wrong, time.Now, postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("error: %v", err)
	}
	_, err = postgres.Open(t.Context(), "postgres://portal:s3cret@127.0.0.1:1/x?connect_timeout=1", time.Now, postgres.Options{})
	if err == nil || strings.Contains(fmt.Sprint(err), "s3cret") {
		t.Errorf("error: %v", err)
	}
}
