package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations bring a database from one schema version to the next; the
// version is SQLite's user_version. They are never edited once released:
// a change is a new migration at the end.
var migrations = []func(ctx context.Context, tx *sql.Tx) error{
	// 1: the schema of the first releases, which made their tables as they
	// went and kept no version: created here only where missing.
	func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			CREATE TABLE IF NOT EXISTS sessions (
				token_hash TEXT PRIMARY KEY,
				data       BLOB NOT NULL,
				expiry_ms  INTEGER NOT NULL
			);
			CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expiry_ms);
			CREATE TABLE IF NOT EXISTS restores (
				id          TEXT PRIMARY KEY,
				tenant_id   TEXT NOT NULL,
				user_oid    TEXT NOT NULL,
				user_upn    TEXT NOT NULL,
				workload    TEXT NOT NULL,
				source      TEXT NOT NULL,
				source_id   TEXT NOT NULL,
				items       INTEGER NOT NULL,
				target      TEXT NOT NULL,
				options     TEXT NOT NULL,
				reason      TEXT NOT NULL,
				point_ms    INTEGER NOT NULL,
				started_ms  INTEGER NOT NULL,
				finished_ms INTEGER,
				result      TEXT NOT NULL DEFAULT '',
				restored    INTEGER NOT NULL DEFAULT 0,
				skipped     INTEGER NOT NULL DEFAULT 0,
				failed      INTEGER NOT NULL DEFAULT 0
			);
			CREATE TABLE IF NOT EXISTS audit_events (
				id          INTEGER PRIMARY KEY AUTOINCREMENT,
				at_ms       INTEGER NOT NULL,
				tenant_id   TEXT NOT NULL,
				actor_oid   TEXT NOT NULL,
				actor_upn   TEXT NOT NULL,
				actor_name  TEXT NOT NULL,
				subject     TEXT NOT NULL,
				subject_id  TEXT NOT NULL,
				workload    TEXT NOT NULL,
				action      TEXT NOT NULL,
				items       TEXT NOT NULL,
				item_count  INTEGER NOT NULL,
				options     TEXT NOT NULL,
				reason      TEXT NOT NULL,
				session_id  TEXT NOT NULL,
				outcome     TEXT NOT NULL,
				detail      TEXT NOT NULL
			);
			CREATE INDEX IF NOT EXISTS audit_at ON audit_events (at_ms DESC);
			CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
				BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
			CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
				BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;`); err != nil {
			return err
		}
		var has int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('restores') WHERE name = 'for_others'`).Scan(&has); err != nil {
			return err
		}
		if has == 0 {
			_, err := tx.ExecContext(ctx, `ALTER TABLE restores ADD COLUMN for_others INTEGER NOT NULL DEFAULT 0`)
			return err
		}
		return nil
	},

	// 2: restores are recorded before the backup server is asked (the
	// intent), keyed by the portal's own id and the form's one-time
	// submission key, and watched under leases; the trail ties a restore's
	// events together and keeps its counts; wizard drafts; the watcher's
	// token pairs. Restores an earlier version left unfinished were never
	// watched: how they ended is unknown.
	func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			CREATE TABLE restore_records (
				id           TEXT PRIMARY KEY,
				submission   TEXT NOT NULL,
				part         INTEGER NOT NULL,
				tenant_id    TEXT NOT NULL,
				user_oid     TEXT NOT NULL,
				user_upn     TEXT NOT NULL,
				user_name    TEXT NOT NULL,
				workload     TEXT NOT NULL,
				source       TEXT NOT NULL,
				source_id    TEXT NOT NULL,
				items        TEXT NOT NULL DEFAULT '[]',
				item_count   INTEGER NOT NULL,
				target       TEXT NOT NULL,
				options      TEXT NOT NULL,
				reason       TEXT NOT NULL,
				for_others   INTEGER NOT NULL,
				point_ms     INTEGER NOT NULL,
				state        TEXT NOT NULL,
				session_id   TEXT NOT NULL DEFAULT '',
				requested_ms INTEGER NOT NULL,
				started_ms   INTEGER NOT NULL DEFAULT 0,
				ended_ms     INTEGER NOT NULL DEFAULT 0,
				result       TEXT NOT NULL DEFAULT '',
				restored     INTEGER NOT NULL DEFAULT 0,
				skipped      INTEGER NOT NULL DEFAULT 0,
				failed       INTEGER NOT NULL DEFAULT 0,
				detail       TEXT NOT NULL DEFAULT '',
				grant_id     TEXT NOT NULL DEFAULT '',
				lease_owner  TEXT NOT NULL DEFAULT '',
				lease_ms     INTEGER NOT NULL DEFAULT 0,
				next_ms      INTEGER NOT NULL DEFAULT 0,
				noticed      INTEGER NOT NULL DEFAULT 0,
				UNIQUE (tenant_id, user_oid, submission, part)
			);
			CREATE INDEX restore_records_user ON restore_records (tenant_id, user_oid, requested_ms DESC);
			CREATE INDEX restore_records_open ON restore_records (state, next_ms) WHERE state IN ('pending', 'running');
			CREATE INDEX restore_records_grant ON restore_records (grant_id) WHERE state = 'running';
			INSERT INTO restore_records (id, submission, part, tenant_id, user_oid, user_upn, user_name, workload, source, source_id,
				item_count, target, options, reason, for_others, point_ms, state, session_id, requested_ms, started_ms, ended_ms,
				result, restored, skipped, failed, detail, noticed)
			SELECT id, id, 0, tenant_id, user_oid, user_upn, '', workload, source, source_id,
				items, target, options, reason, for_others, point_ms, 'ended', id, started_ms, started_ms,
				coalesce(finished_ms, started_ms),
				CASE WHEN finished_ms IS NULL THEN 'Unknown' ELSE result END, restored, skipped, failed,
				CASE WHEN finished_ms IS NULL THEN 'Recorded by an earlier version of the portal, which did not follow restores to their end.' ELSE '' END,
				1
			FROM restores;
			DROP TABLE restores;

			ALTER TABLE audit_events ADD COLUMN restore_id TEXT NOT NULL DEFAULT '';
			ALTER TABLE audit_events ADD COLUMN restored INTEGER NOT NULL DEFAULT 0;
			ALTER TABLE audit_events ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
			ALTER TABLE audit_events ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
			CREATE INDEX audit_restore ON audit_events (restore_id) WHERE restore_id <> '';

			CREATE TABLE restore_drafts (
				key        TEXT PRIMARY KEY,
				tenant_id  TEXT NOT NULL,
				user_oid   TEXT NOT NULL,
				path       TEXT NOT NULL,
				selection  TEXT NOT NULL,
				form       TEXT NOT NULL,
				problems   TEXT NOT NULL,
				created_ms INTEGER NOT NULL,
				expires_ms INTEGER NOT NULL
			);
			CREATE INDEX restore_drafts_expiry ON restore_drafts (expires_ms);

			CREATE TABLE restore_grants (
				id         TEXT PRIMARY KEY,
				tenant_id  TEXT NOT NULL,
				user_oid   TEXT NOT NULL,
				sealed     BLOB NOT NULL,
				updated_ms INTEGER NOT NULL
			);`)
		return err
	},

	// 3: what a signed-in session holds that several requests change
	// lives in rows of its own: its tokens (versioned, so that one request
	// renews them), its restore list and opened restore sessions, named
	// values; preferences belong to the person. Sessions of earlier
	// versions kept all of it in one record: their users sign in again.
	func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			DELETE FROM sessions;
			CREATE TABLE sign_ins (
				sid         TEXT PRIMARY KEY,
				tenant_id   TEXT NOT NULL,
				user_oid    TEXT NOT NULL,
				sealed      BLOB NOT NULL,
				version     INTEGER NOT NULL,
				expires_ms  INTEGER NOT NULL,
				ends_ms     INTEGER NOT NULL,
				renewing_ms INTEGER NOT NULL DEFAULT 0
			);
			CREATE INDEX sign_ins_expiry ON sign_ins (expires_ms);
			CREATE TABLE session_entries (
				seq       INTEGER PRIMARY KEY,
				sid       TEXT NOT NULL REFERENCES sign_ins (sid) ON DELETE CASCADE,
				set_name  TEXT NOT NULL,
				entry_key TEXT NOT NULL,
				value     BLOB NOT NULL,
				added_ms  INTEGER NOT NULL,
				UNIQUE (sid, set_name, entry_key)
			);
			CREATE TABLE session_values (
				sid   TEXT NOT NULL REFERENCES sign_ins (sid) ON DELETE CASCADE,
				name  TEXT NOT NULL,
				value BLOB NOT NULL,
				PRIMARY KEY (sid, name)
			);
			CREATE TABLE preferences (
				tenant_id  TEXT NOT NULL,
				user_oid   TEXT NOT NULL,
				time_zone  TEXT NOT NULL,
				auto_zone  INTEGER NOT NULL,
				language   TEXT NOT NULL,
				updated_ms INTEGER NOT NULL,
				PRIMARY KEY (tenant_id, user_oid)
			);`)
		return err
	},

	// 4: who may restore which Azure VM (the rules), and the file-level
	// restore sessions people opened.
	func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			CREATE TABLE vm_rules (
				tenant_id      TEXT NOT NULL,
				id             TEXT NOT NULL,
				kind           TEXT NOT NULL,
				principal      TEXT NOT NULL,
				label          TEXT NOT NULL,
				subscription   TEXT NOT NULL,
				resource_group TEXT NOT NULL,
				names          TEXT NOT NULL,
				source         TEXT NOT NULL,
				updated_ms     INTEGER NOT NULL,
				updated_by     TEXT NOT NULL,
				PRIMARY KEY (tenant_id, id)
			);
			CREATE TABLE flr_sessions (
				id        TEXT PRIMARY KEY,
				tenant_id TEXT NOT NULL,
				user_oid  TEXT NOT NULL,
				user_upn  TEXT NOT NULL,
				user_name TEXT NOT NULL,
				sid       TEXT NOT NULL,
				vm_id     TEXT NOT NULL,
				vm_name   TEXT NOT NULL,
				windows   INTEGER NOT NULL,
				point_id  TEXT NOT NULL,
				point_ms  INTEGER NOT NULL,
				reason    TEXT NOT NULL,
				state     TEXT NOT NULL,
				detail    TEXT NOT NULL,
				opened_ms INTEGER NOT NULL,
				used_ms   INTEGER NOT NULL,
				ended_ms  INTEGER NOT NULL
			);
			CREATE INDEX flr_sessions_point ON flr_sessions (tenant_id, user_oid, point_id, state);
			CREATE INDEX flr_sessions_sid ON flr_sessions (sid);
			CREATE INDEX flr_sessions_state ON flr_sessions (state, used_ms);`)
		return err
	},

	// 5: rate limits: requests counted per key and window; rows go when
	// their window is over.
	func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			CREATE TABLE rate_limits (
				key        TEXT NOT NULL,
				window_ms  INTEGER NOT NULL,
				count      INTEGER NOT NULL,
				expires_ms INTEGER NOT NULL,
				PRIMARY KEY (key, window_ms)
			);
			CREATE INDEX rate_limits_expiry ON rate_limits (expires_ms);`)
		return err
	},
}

// migrate brings the schema up to date, each step in a transaction of its
// own. The write lock keeps two processes from migrating at once.
func migrate(ctx context.Context, db *sql.DB) error {
	for {
		var version int
		if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
			return fmt.Errorf("sqlite: read the schema version: %w", err)
		}
		switch {
		case version > len(migrations):
			return fmt.Errorf("%w (schema %d; this version knows up to %d): run the newer portal, or restore a backup of the database made before it",
				errNewerSchema, version, len(migrations))
		case version == len(migrations):
			return nil
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		// Another process may have migrated while this one waited for the lock.
		var now int
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&now); err != nil || now != version {
			tx.Rollback()
			if err != nil {
				return fmt.Errorf("sqlite: migrate: %w", err)
			}
			continue
		}
		if err := migrations[version](ctx, tx); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate to schema %d: %w", version+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, version+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate to schema %d: %w", version+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migrate to schema %d: %w", version+1, err)
		}
	}
}
