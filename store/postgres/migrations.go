package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations bring a database from one schema version to the next; the
// version is the highest row of schema_migrations. They are never edited
// once released: a change is a new migration at the end.
var migrations = []string{
	// 1: the schema SQLite reached in its version 3.
	`
	CREATE TABLE sessions (
		token_hash TEXT PRIMARY KEY,
		data       BYTEA NOT NULL,
		expiry_ms  BIGINT NOT NULL
	);
	CREATE INDEX sessions_expiry ON sessions (expiry_ms);

	CREATE TABLE sign_ins (
		sid         TEXT PRIMARY KEY,
		tenant_id   TEXT NOT NULL,
		user_oid    TEXT NOT NULL,
		sealed      BYTEA NOT NULL,
		version     BIGINT NOT NULL,
		expires_ms  BIGINT NOT NULL,
		ends_ms     BIGINT NOT NULL,
		renewing_ms BIGINT NOT NULL DEFAULT 0
	);
	CREATE INDEX sign_ins_expiry ON sign_ins (expires_ms);
	CREATE TABLE session_entries (
		seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		sid       TEXT NOT NULL REFERENCES sign_ins (sid) ON DELETE CASCADE,
		set_name  TEXT NOT NULL,
		entry_key TEXT NOT NULL,
		value     BYTEA NOT NULL,
		added_ms  BIGINT NOT NULL,
		UNIQUE (sid, set_name, entry_key)
	);
	CREATE TABLE session_values (
		sid   TEXT NOT NULL REFERENCES sign_ins (sid) ON DELETE CASCADE,
		name  TEXT NOT NULL,
		value BYTEA NOT NULL,
		PRIMARY KEY (sid, name)
	);
	CREATE TABLE preferences (
		tenant_id  TEXT NOT NULL,
		user_oid   TEXT NOT NULL,
		time_zone  TEXT NOT NULL,
		auto_zone  BOOLEAN NOT NULL,
		language   TEXT NOT NULL,
		updated_ms BIGINT NOT NULL,
		PRIMARY KEY (tenant_id, user_oid)
	);

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
		for_others   BOOLEAN NOT NULL,
		point_ms     BIGINT NOT NULL,
		state        TEXT NOT NULL,
		session_id   TEXT NOT NULL DEFAULT '',
		requested_ms BIGINT NOT NULL,
		started_ms   BIGINT NOT NULL DEFAULT 0,
		ended_ms     BIGINT NOT NULL DEFAULT 0,
		result       TEXT NOT NULL DEFAULT '',
		restored     INTEGER NOT NULL DEFAULT 0,
		skipped      INTEGER NOT NULL DEFAULT 0,
		failed       INTEGER NOT NULL DEFAULT 0,
		detail       TEXT NOT NULL DEFAULT '',
		grant_id     TEXT NOT NULL DEFAULT '',
		lease_owner  TEXT NOT NULL DEFAULT '',
		lease_ms     BIGINT NOT NULL DEFAULT 0,
		next_ms      BIGINT NOT NULL DEFAULT 0,
		noticed      BOOLEAN NOT NULL DEFAULT false,
		UNIQUE (tenant_id, user_oid, submission, part)
	);
	CREATE INDEX restore_records_user ON restore_records (tenant_id, user_oid, requested_ms DESC);
	CREATE INDEX restore_records_open ON restore_records (state, next_ms) WHERE state IN ('pending', 'running');
	CREATE INDEX restore_records_grant ON restore_records (grant_id) WHERE state IN ('pending', 'running');
	CREATE INDEX restore_records_lease ON restore_records (lease_owner) WHERE lease_owner <> '';
	CREATE TABLE restore_drafts (
		key        TEXT PRIMARY KEY,
		tenant_id  TEXT NOT NULL,
		user_oid   TEXT NOT NULL,
		path       TEXT NOT NULL,
		selection  TEXT NOT NULL,
		form       TEXT NOT NULL,
		problems   TEXT NOT NULL,
		created_ms BIGINT NOT NULL,
		expires_ms BIGINT NOT NULL
	);
	CREATE INDEX restore_drafts_expiry ON restore_drafts (expires_ms);
	CREATE TABLE restore_grants (
		id         TEXT PRIMARY KEY,
		tenant_id  TEXT NOT NULL,
		user_oid   TEXT NOT NULL,
		sealed     BYTEA NOT NULL,
		updated_ms BIGINT NOT NULL
	);
	CREATE TABLE replicas (
		owner      TEXT PRIMARY KEY,
		lock_key   BIGINT NOT NULL,
		started_ms BIGINT NOT NULL
	);

	CREATE TABLE audit_events (
		id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		at_ms       BIGINT NOT NULL,
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
		restore_id  TEXT NOT NULL DEFAULT '',
		session_id  TEXT NOT NULL,
		outcome     TEXT NOT NULL,
		detail      TEXT NOT NULL,
		restored    INTEGER NOT NULL DEFAULT 0,
		skipped     INTEGER NOT NULL DEFAULT 0,
		failed      INTEGER NOT NULL DEFAULT 0
	);
	-- The auditor's page: newest first, narrowed by workload, outcome or time.
	CREATE INDEX audit_at ON audit_events (at_ms DESC, id DESC);
	CREATE INDEX audit_workload ON audit_events (workload, at_ms DESC, id DESC);
	CREATE INDEX audit_outcome ON audit_events (outcome, at_ms DESC, id DESC);
	CREATE INDEX audit_restore ON audit_events (restore_id) WHERE restore_id <> '';
	-- The trail is append-only: no update, deletion or truncation, whoever asks.
	CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		RAISE EXCEPTION 'audit events are append-only';
	END $$;
	CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
		FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
	CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
		FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
	REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC;
	`,

	// 2: the auditor's searches by name (any part of it) use trigram
	// indexes when the server has pg_trgm (trusted since PostgreSQL 13, so
	// the database's owner may create it); without, they scan.
	`
	DO $$
	BEGIN
		CREATE EXTENSION IF NOT EXISTS pg_trgm;
	EXCEPTION WHEN OTHERS THEN
		RAISE NOTICE 'pg_trgm is not available: audit searches by name will scan';
	END $$;
	DO $$
	BEGIN
		IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
			CREATE INDEX audit_actor_name ON audit_events USING gin (lower(actor_name) gin_trgm_ops);
			CREATE INDEX audit_actor_upn ON audit_events USING gin (lower(actor_upn) gin_trgm_ops);
			CREATE INDEX audit_actor_oid ON audit_events USING gin (lower(actor_oid) gin_trgm_ops);
			CREATE INDEX audit_subject ON audit_events USING gin (lower(subject) gin_trgm_ops);
			CREATE INDEX audit_subject_id ON audit_events USING gin (lower(subject_id) gin_trgm_ops);
		END IF;
	END $$;
	`,

	// 3: who may restore which Azure VM (the rules), and the file-level
	// restore sessions people opened.
	`
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
		updated_ms     BIGINT NOT NULL,
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
		windows   BOOLEAN NOT NULL,
		point_id  TEXT NOT NULL,
		point_ms  BIGINT NOT NULL,
		reason    TEXT NOT NULL,
		state     TEXT NOT NULL,
		detail    TEXT NOT NULL,
		opened_ms BIGINT NOT NULL,
		used_ms   BIGINT NOT NULL,
		ended_ms  BIGINT NOT NULL
	);
	CREATE INDEX flr_sessions_point ON flr_sessions (tenant_id, user_oid, point_id, state);
	CREATE INDEX flr_sessions_sid ON flr_sessions (sid);
	CREATE INDEX flr_sessions_state ON flr_sessions (state, used_ms);
	`,

	// 4: rate limits: requests counted per key and window, shared by the
	// replicas; rows go when their window is over.
	`
	CREATE TABLE rate_limits (
		key        TEXT NOT NULL,
		window_ms  BIGINT NOT NULL,
		count      INTEGER NOT NULL,
		expires_ms BIGINT NOT NULL,
		PRIMARY KEY (key, window_ms)
	);
	CREATE INDEX rate_limits_expiry ON rate_limits (expires_ms);
	`,
}

// errNewerSchema: the database was migrated by a later portal.
var errNewerSchema = errors.New("postgres: the database was made by a newer version of the portal")

// migrate brings the schema up to date under an advisory lock: replicas
// starting together wait for the first, which migrates, and find it done.
// Each step runs in a transaction of its own.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", redact(err))
	}
	defer c.Release()
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("postgres: the migration lock: %w", err)
	}
	defer c.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock))
	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var version int
	if err := c.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("postgres: read the schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("%w (schema %d; this version knows up to %d): run the newer portal, or restore a backup of the database made before it",
			errNewerSchema, version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migrate to schema %d: %w", v+1, err)
		}
	}
	return nil
}
