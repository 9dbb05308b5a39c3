package sqlite

import "database/sql"

// OpenRaw opens a database file without migrating it, to make one as an
// older portal left it.
func OpenRaw(path string) (*sql.DB, error) { return sql.Open("sqlite", "file:"+path) }
