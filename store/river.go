package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// RiverVersion is the version of River's schema this campc needs. A River
// upgrade that brings a new schema version adds a new campc migration (more
// riverSteps), so campc's schema_version alone says where both are.
const RiverVersion = 8

// migrationFuncs are the migrations that are code, not SQL, keyed by the
// text that stands for them in a dialect's list (so that the list, and
// thus the version numbering, stays one list).
var migrationFuncs = map[string]func(ctx context.Context, db *sql.DB, tx *sql.Tx) error{}

// riverStep is the migration that brings River's own tables (river_job,
// river_leader, river_queue, …) to version to, through rivermigrate, in
// campc's migration transaction: River's schema commits with campc's
// version number or not at all.
func riverStep(to int) string {
	key := fmt.Sprintf("-- rivermigrate up to River schema version %d", to)
	migrationFuncs[key] = func(ctx context.Context, db *sql.DB, tx *sql.Tx) error {
		m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
		if err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{TargetVersion: to}); err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		return nil
	}
	return key
}

// riverMigrations adds the tables of the service on several processes
// (serve/river.go): River's own (PostgreSQL only: River runs on
// PostgreSQL), then campc's:
//   - serve_jobs_done: the jobs whose effects have committed, written in
//     the transaction of those effects, so that a job River runs again
//     (its process died after the commit, before River marked it done)
//     does nothing the second time;
//   - serve_processes: the processes serving, with their last heartbeat,
//     for campc status.
//
// SQLite gets the campc tables too (one schema to read), and a no-op in
// River's place, so that both dialects count their versions the same.
func riverMigrations() {
	// One campc migration per River version: each commits before the next
	// begins, as River's own migrator does (version 4 adds an enum value
	// that version 6 uses, which PostgreSQL allows only once committed).
	for v := 1; v <= RiverVersion; v++ {
		sqliteDialect.migrations = append(sqliteDialect.migrations, `SELECT 1`)
		postgresDialect.migrations = append(postgresDialect.migrations, riverStep(v))
	}
	sqliteDialect.migrations = append(sqliteDialect.migrations, `
CREATE TABLE serve_jobs_done (key TEXT PRIMARY KEY, done INTEGER NOT NULL);
CREATE TABLE serve_processes (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, started INTEGER NOT NULL, heartbeat INTEGER NOT NULL);
`)
	postgresDialect.migrations = append(postgresDialect.migrations, `
CREATE TABLE serve_jobs_done (key TEXT COLLATE "C" PRIMARY KEY, done BIGINT NOT NULL);
CREATE TABLE serve_processes (id TEXT COLLATE "C" PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, started BIGINT NOT NULL, heartbeat BIGINT NOT NULL);
`)
}
