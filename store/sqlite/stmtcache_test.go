package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// TestStatementCache: a query is prepared once and reused; a query that does
// not compile and any query past maxStatements are not kept (they run as
// they are and report their own errors).
func TestStatementCache(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &stmtCache{db: db, m: map[string]*sql.Stmt{}}
	defer c.close()
	ctx := t.Context()
	first := c.get(ctx, "SELECT 1")
	if first == nil || c.get(ctx, "SELECT 1") != first {
		t.Fatal("the same query is not the same kept statement")
	}
	if c.get(ctx, "SELEKT nonsense") != nil {
		t.Error("a query that does not compile was kept")
	}
	if _, err := (conn{q: db, stmts: c}).Exec(ctx, "SELEKT nonsense"); err == nil {
		t.Error("a query that does not compile ran without an error")
	}
	for i := len(c.m); i < maxStatements; i++ {
		if c.get(ctx, fmt.Sprintf("SELECT %d", i+2)) == nil {
			t.Fatalf("statement %d not kept", i)
		}
	}
	if c.get(ctx, "SELECT 'one too many'") != nil || len(c.m) != maxStatements {
		t.Errorf("the cache grew past %d: %d", maxStatements, len(c.m))
	}
	var got string
	if err := (conn{q: db, stmts: c}).QueryRow(ctx, "SELECT 'one too many'").Scan(&got); err != nil || got != "one too many" {
		t.Errorf("a query past the cache: %q, %v", got, err)
	}
	if c.get(ctx, "SELECT 1") != first {
		t.Error("a kept statement was dropped")
	}
}
