package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/campc/campc/vm/storage"

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
// PostgreSQL), then serve_processes, the processes serving with their
// last heartbeat, for campc status. A job needs no table of its own to be
// exactly-once: the state it works on says whether its work is done (see
// docs/river.md).
//
// SQLite gets serve_processes too (one schema to read), and a no-op in
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
CREATE TABLE serve_processes (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, started INTEGER NOT NULL, heartbeat INTEGER NOT NULL);
`)
	postgresDialect.migrations = append(postgresDialect.migrations, `
CREATE TABLE serve_processes (id TEXT COLLATE "C" PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, started BIGINT NOT NULL, heartbeat BIGINT NOT NULL);
`)
}

// JobHook queues the work a transaction's state causes, in that
// transaction (a job queue's InsertTx): the waits it parked, due at their
// time, the messages it put in the outbox, by Message-ID, and the people
// whose queued runs it left in the queue (vm.Options.DeferRuns), in the
// order first queued. The state and its jobs commit together or not at
// all.
type JobHook interface {
	InsertJobs(ctx context.Context, tx *sql.Tx, waits []*storage.Parked, messages []string, queued []string) error
}

// SetJobHook sets the hook each transaction calls before it commits
// (campc serve on PostgreSQL: River). Call it before the first
// transaction.
func (s *Store) SetJobHook(h JobHook) { s.jobs = h }

// DB is the store's database, for a job queue that shares its
// transactions (River's database/sql driver).
func (s *Store) DB() *sql.DB { return s.db }

func (t *sqlTx) insertJobs() error {
	if t.s.jobs == nil || (len(t.parked) == 0 && len(t.outbox) == 0 && len(t.enqueued) == 0) {
		return nil
	}
	ids := make([]string, len(t.outbox))
	for i, m := range t.outbox {
		ids[i] = m.ID
	}
	// The runs queued and not run in this transaction (an operation of an
	// engine with DeferRuns; others run what they queue before they
	// commit).
	var people []string
	for _, q := range t.enqueued {
		if !t.taken["dequeue"][q.ID] && !slices.Contains(people, q.Person) {
			people = append(people, q.Person)
		}
	}
	if len(t.parked) == 0 && len(ids) == 0 && len(people) == 0 {
		return nil
	}
	return t.s.jobs.InsertJobs(t.ctx, t.tx, t.parked, ids, people)
}

// Tx is the service transaction's database transaction, for a job queue
// that inserts in it.
func (t *ServeTx) Tx() *sql.Tx { return t.tx }

// OutboxID is the outbox row of a Message-ID (0: none).
func (t *ServeTx) OutboxID(messageID string) (int64, error) {
	var id int64
	err := t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT id FROM outbox WHERE message_id = ?`), messageID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// ProcessAlive records that process id (on host, with pid, started at
// started) is alive at now.
func (s *Store) ProcessAlive(ctx context.Context, id, host string, pid int, started, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO serve_processes (id, host, pid, started, heartbeat) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat`), id, host, pid, fmtTime(started), fmtTime(now))
	return err
}

// Process is a campc serve process as serve_processes has it.
type Process struct {
	ID, Host           string
	PID                int
	Started, Heartbeat time.Time
}

// Processes lists the processes whose heartbeat is at or after since,
// oldest first.
func (s *Store) Processes(ctx context.Context, since time.Time) ([]Process, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT id, host, pid, started, heartbeat FROM serve_processes WHERE heartbeat >= ? ORDER BY started, id`), fmtTime(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Process
	for rows.Next() {
		var p Process
		var st, hb int64
		if err := rows.Scan(&p.ID, &p.Host, &p.PID, &st, &hb); err != nil {
			return nil, err
		}
		p.Started, p.Heartbeat = parseTime(st), parseTime(hb)
		out = append(out, p)
	}
	return out, rows.Err()
}

// WaitsDueBy counts the parked waits due at or before t.
func (s *Store) WaitsDueBy(ctx context.Context, t time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT count(*) FROM parked WHERE due <= ?`), fmtTime(t)).Scan(&n)
	return n, err
}

// OnPostgres tells whether the store is on PostgreSQL.
func (s *Store) OnPostgres() bool { return s.d.dollar }
