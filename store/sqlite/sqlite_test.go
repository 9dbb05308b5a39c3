package sqlite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openrestore/portal/audit"
	"github.com/openrestore/portal/store"
	"github.com/openrestore/portal/store/sqlite"
	"github.com/openrestore/portal/store/storetest"
)

// database is a SQLite file in a test's temporary directory.
type database struct{ path string }

func newDatabase(t *testing.T) storetest.Database {
	return database{filepath.Join(t.TempDir(), "portal.db")}
}

func (d database) Open(t *testing.T, now func() time.Time) (store.Store, error) {
	return sqlite.Open(t.Context(), d.path, now, 0)
}

func (d database) Exec(t *testing.T, query string) error {
	db, err := sqlite.OpenRaw(d.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.ExecContext(t.Context(), query)
	return err
}

func (d database) MakeNewer(t *testing.T) {
	if err := d.Exec(t, `PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) { storetest.Run(t, newDatabase) }

func TestTheFileIsTheOwnersOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "portal.db")
	s, err := sqlite.Open(t.Context(), path, time.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("the database file is %v", fi.Mode().Perm())
	}
}

// TestMigratesTheFirstReleasesDatabase opens a database as the releases
// before schema versions left it, with a finished and an unfinished restore
// and an audit event.
func TestMigratesTheFirstReleasesDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	old, err := sqlite.OpenRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, data BLOB NOT NULL, expiry_ms INTEGER NOT NULL)`,
		`CREATE TABLE restores (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_oid TEXT NOT NULL, user_upn TEXT NOT NULL,
			workload TEXT NOT NULL, source TEXT NOT NULL, source_id TEXT NOT NULL, items INTEGER NOT NULL, target TEXT NOT NULL,
			options TEXT NOT NULL, reason TEXT NOT NULL, point_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL, finished_ms INTEGER,
			result TEXT NOT NULL DEFAULT '', restored INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,
			failed INTEGER NOT NULL DEFAULT 0)`,
		`INSERT INTO restores VALUES ('11111111-1111-1111-1111-111111111111', 'tid', 'adele', 'AdeleV@contoso', 'exchange', 'Adele Vance',
			'mb', 3, 'Original location', 'Missing items', '', 1700000000000, 1700000000000, 1700000060000, 'Success', 3, 0, 0)`,
		`INSERT INTO restores VALUES ('22222222-2222-2222-2222-222222222222', 'tid', 'adele', 'AdeleV@contoso', 'exchange', 'Adele Vance',
			'mb', 1, 'Original location', 'Missing items', '', 1700000000000, 1700000100000, NULL, '', 0, 0, 0)`,
		`CREATE TABLE audit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, tenant_id TEXT NOT NULL,
			actor_oid TEXT NOT NULL, actor_upn TEXT NOT NULL, actor_name TEXT NOT NULL, subject TEXT NOT NULL, subject_id TEXT NOT NULL,
			workload TEXT NOT NULL, action TEXT NOT NULL, items TEXT NOT NULL, item_count INTEGER NOT NULL, options TEXT NOT NULL,
			reason TEXT NOT NULL, session_id TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL)`,
		`INSERT INTO audit_events (at_ms, tenant_id, actor_oid, actor_upn, actor_name, subject, subject_id, workload, action, items,
			item_count, options, reason, session_id, outcome, detail) VALUES (1700000000000, 'tid', 'adele', 'a', 'Adele', 's', 'sid',
			'exchange', 'restore', '[]', 3, '', '', '11111111-1111-1111-1111-111111111111', 'started', '')`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()
	s, err := sqlite.Open(t.Context(), path, time.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done, err := s.Get(t.Context(), "tid", "adele", "11111111-1111-1111-1111-111111111111")
	if err != nil || done.State != "ended" || done.Result != "Success" || done.Restored != 3 || done.SessionID != done.ID ||
		done.ForOthers || done.ItemCount != 3 {
		t.Errorf("the finished restore: %+v %v", done, err)
	}
	open, err := s.Get(t.Context(), "tid", "adele", "22222222-2222-2222-2222-222222222222")
	if err != nil || open.State != "ended" || open.Result != "Unknown" || open.Detail == "" {
		t.Errorf("the unfinished restore: %+v %v", open, err)
	}
	if n, err := s.Count(t.Context(), audit.Filter{}); err != nil || n != 1 {
		t.Errorf("the trail: %d %v", n, err)
	}
	if err := s.Append(t.Context(), audit.Event{Time: time.Now(), Action: "restore", RestoreID: "r", Outcome: audit.Requested}); err != nil {
		t.Errorf("appending after the migration: %v", err)
	}
}

// TestRefusesANewerSchema: the refusal names both versions.
func TestRefusesANewerSchema(t *testing.T) {
	db := newDatabase(t)
	s, err := db.Open(t, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db.MakeNewer(t)
	_, err = db.Open(t, time.Now)
	if err == nil || !strings.Contains(err.Error(), "schema 99") {
		t.Errorf("opening a newer schema: %v", err)
	}
}
