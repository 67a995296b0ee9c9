package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm/storage"
)

// dialect is what differs between the two databases.
type dialect struct {
	name       string
	dollar     bool   // placeholders are $1, $2 … rather than ?
	forUpdate  string // appended to the person read inside a transaction
	migrations []string
	// hasVersion tells whether the schema_version table exists.
	hasVersion string
	// migrateLock, run first in a migration's transaction, makes
	// processes that migrate at the same time take turns.
	migrateLock string
	// runLock, run first in StartRun's transaction, makes processes that
	// start batch runs at the same time take turns.
	runLock string
}

// Store is a vm.Store on a SQL database.
type Store struct {
	db    *sql.DB
	d     dialect
	st    map[string]*sql.Stmt
	w     writeStmts // the write path's (write.go), once one is begun
	lease Lease      // see SetLease
	jobs  JobHook    // see SetJobHook
}

var _ storage.Store = (*Store)(nil)

// queries, written with ? and rebound per dialect.
var queries = map[string]string{
	"loadPerson":  `SELECT data, deleted FROM people WHERE id = ?`,
	"personLog":   `SELECT seq, time, type, campaign, workspace, primary_value, attributes FROM activities WHERE person = ? ORDER BY seq`,
	"upsert":      `INSERT INTO people (id, data, deleted) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted`,
	"park":        `INSERT INTO parked (person, workspace, campaign, due, data) VALUES (?, ?, ?, ?, ?) RETURNING id`,
	"unpark":      `DELETE FROM parked WHERE id = ?`,
	"enqueue":     `INSERT INTO queue (person, data) VALUES (?, ?) RETURNING id`,
	"dequeue":     `DELETE FROM queue WHERE id = ?`,
	"newRun":      `INSERT INTO batch_runs (workspace, campaign, started, tokens, cursor, done, owner, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
	"updateRun":   `UPDATE batch_runs SET cursor = ?, done = ?, summary = ?, heartbeat = ?, first_seq = CASE WHEN first_seq = 0 THEN ? ELSE first_seq END, last_seq = CASE WHEN ? = 0 THEN last_seq ELSE ? END WHERE id = ?`,
	"lockRun":     `SELECT cursor, done, owner FROM batch_runs WHERE id = ?`,
	"waitsOf":     `SELECT id, person, workspace, campaign, due, data FROM parked WHERE person = ? ORDER BY id`,
	"personIDs":   `SELECT id FROM people WHERE deleted = 0 ORDER BY id`,
	"dueWaits":    `SELECT id, person, workspace, campaign, due, data FROM parked WHERE due <= ? ORDER BY due, id`,
	"queued":      `SELECT id, person, data FROM queue ORDER BY id`,
	"queuedOf":    `SELECT id, person, data FROM queue WHERE person = ? ORDER BY id`,
	"openRun":     `SELECT id, workspace, campaign, started, tokens, cursor FROM batch_runs WHERE workspace = ? AND campaign = ? AND done = 0 ORDER BY id LIMIT 1`,
	"allLog":      `SELECT seq, person, time, type, campaign, workspace, primary_value, attributes FROM activities ORDER BY seq`,
	"oneLog":      `SELECT seq, person, time, type, campaign, workspace, primary_value, attributes FROM activities WHERE person = ? ORDER BY seq`,
	"version":     `SELECT version FROM schema_version`,
	"setVersion":  `UPDATE schema_version SET version = ?`,
	"initVersion": `INSERT INTO schema_version (version) VALUES (0)`,
}

func (d dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func open(ctx context.Context, db *sql.DB, d dialect, migrate bool) (*Store, error) {
	s := &Store{db: db, d: d}
	if migrate {
		if _, err := s.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	} else {
		v, err := s.Version(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		if v != len(d.migrations) {
			db.Close()
			return nil, fmt.Errorf("the database schema is at version %d, this campc needs %d: run campc migrate --db URL", v, len(d.migrations))
		}
	}
	s.st = map[string]*sql.Stmt{}
	for name, q := range queries {
		if name == "loadPerson" || name == "lockRun" {
			q += d.forUpdate
		}
		st, err := db.PrepareContext(ctx, d.rebind(q))
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("prepare %s: %w", name, err)
		}
		s.st[name] = st
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Version reports the schema version (0 for an empty database). It only
// reads: a database that was never migrated is left as it is.
func (s *Store) Version(ctx context.Context) (int, error) {
	var exists bool
	if err := s.db.QueryRowContext(ctx, s.d.hasVersion).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := s.db.QueryRowContext(ctx, queries["version"]).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// Migrate brings the schema to the newest version, one migration per
// transaction, and reports the version it started from. Processes that
// migrate one database at the same time take turns (SQLite: the write lock
// each transaction takes when it begins; PostgreSQL: an advisory lock), and
// each reads the version again once it has its turn, so every migration
// runs once.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	from := -1
	busy := 0
	for {
		v, done, err := s.migrateOne(ctx)
		// Processes opening one new SQLite file at once: the first
		// connection's switch to WAL takes the file exclusively without
		// waiting for the busy timeout, so another may be refused
		// outright. Nothing was written; wait and do it again.
		if err != nil && isSQLiteBusy(err) && busy < 100 {
			busy++
			select {
			case <-ctx.Done():
				return from, ctx.Err()
			case <-time.After(time.Duration(busy) * 5 * time.Millisecond):
			}
			continue
		}
		if from < 0 {
			from = v
		}
		if err != nil || done {
			return from, err
		}
	}
}

// migrateOne applies the next migration, if there is one, in a transaction
// of its own; it reports the version it found and whether there was none
// left to apply.
func (s *Store) migrateOne(ctx context.Context) (int, bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback()
	if s.d.migrateLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.migrateLock); err != nil {
			return 0, false, fmt.Errorf("lock for migration: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return 0, false, fmt.Errorf("schema_version: %w", err)
	}
	var v int
	err = tx.QueryRowContext(ctx, queries["version"]).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, queries["initVersion"]); err != nil {
			return 0, false, err
		}
	} else if err != nil {
		return 0, false, err
	}
	n := len(s.d.migrations)
	if v > n {
		return v, false, fmt.Errorf("the database schema is at version %d, newer than this campc (%d)", v, n)
	}
	if v == n {
		return v, true, tx.Commit()
	}
	if f, ok := migrationFuncs[s.d.migrations[v]]; ok {
		if err := f(ctx, s.db, tx); err != nil {
			return v, false, fmt.Errorf("migration %d: %w", v+1, err)
		}
	} else if _, err := tx.ExecContext(ctx, s.d.migrations[v]); err != nil {
		return v, false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(queries["setVersion"]), v+1); err != nil {
		return v, false, err
	}
	return v, false, tx.Commit()
}

// PersonIDs implements vm.Store.
func (s *Store) PersonIDs(ctx context.Context) ([]string, error) {
	rows, err := s.st["personIDs"].QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// scanIDs reads a one-column result of person Ids and closes rows.
func scanIDs(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Begin implements vm.Store.
func (s *Store) Begin(ctx context.Context) (storage.Tx, error) {
	if err := s.prepareWrites(ctx); err != nil {
		return nil, err
	}
	if !s.d.dollar {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		return &sqlTx{s: s, tx: tx, ctx: ctx}, nil
	}
	// On PostgreSQL the transaction keeps its connection at hand: Commit
	// copies the activities in through pgx itself (see logCopy).
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &sqlTx{s: s, tx: tx, conn: conn, ctx: ctx}, nil
}

type sqlTx struct {
	s    *Store
	tx   *sql.Tx
	conn *sql.Conn // PostgreSQL: tx's connection, released when tx ends
	ctx  context.Context
	// stmts are the Store's statements bound to tx (stmt).
	stmts map[string]*sql.Stmt
	// taken are the parked waits and queued runs this transaction has
	// deleted, by statement name.
	taken map[string]map[int64]bool
	// acts are the activities applied, to be written at Commit;
	// pendingLog has them by person.
	acts       []*storage.Activity
	pendingLog map[string][]*storage.Activity
	// people are the states applied, written at Commit in a few
	// statements; loads in this transaction read them from here.
	people  map[string]personRow
	order   []string
	fetched map[string]*personRow // people read ahead by Prefetch
	// run is the batch run this transaction moves (one of its groups),
	// written at Commit after the activities, which belong to it.
	run *storage.BatchRun
	// chunk is the shared batch run's chunk this transaction moves
	// (MoveChunk), written at Commit in run's place.
	chunk *storage.Chunk
	// outbox are the messages applied (Commit.Outbox), written at Commit
	// after the activities, whose numbers name them.
	outbox []*storage.Message
	// entries are the passes that entered a campaign (Commit.Entered),
	// written at Commit for the console's counts.
	entries []entry
	// parked are the waits this transaction parked, for the job hook.
	parked []*storage.Parked
	// enqueued are the runs queued (Commit.Enqueue), for the job hook.
	enqueued []*storage.Queued
}

// personRow is a person as stored: the encoded state and, once read, the
// committed log.
type personRow struct {
	data    []byte
	deleted int
	log     []*storage.Activity
	logRead bool
}

// ErrTaken is returned when a transaction resumes a parked wait or runs a
// queued run that another process has resumed or run since this one read
// it: the transaction must be rolled back, or that work would be done
// twice.
var ErrTaken = storage.ErrTaken

// take deletes a parked wait or a queued run. The one that deletes it is
// the one that does its work: when it is gone, another transaction (in
// another process) took it first, and this one fails with ErrTaken.
func (t *sqlTx) take(stmt, what string, id int64) error {
	if t.taken[stmt][id] {
		return nil // this transaction took it already
	}
	res, err := t.stmt(stmt).ExecContext(t.ctx, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%s %d: %w", what, id, ErrTaken)
	}
	if t.taken == nil {
		t.taken = map[string]map[int64]bool{}
	}
	if t.taken[stmt] == nil {
		t.taken[stmt] = map[int64]bool{}
	}
	t.taken[stmt][id] = true
	return nil
}

// stmt is a prepared statement of the Store bound to this transaction,
// bound once per transaction (database/sql makes a new one each time it
// is asked, and closes them all when the transaction ends).
func (t *sqlTx) stmt(name string) *sql.Stmt {
	if st, ok := t.stmts[name]; ok {
		return st
	}
	st := t.tx.StmtContext(t.ctx, t.s.st[name])
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[name] = st
	return st
}

func (t *sqlTx) LoadPerson(id string) (*storage.Person, error) {
	return t.load(id, decodePerson)
}

// LoadSlots implements storage.SlotLoader: LoadPerson, the person decoded
// straight into the columns of the program's layout.
func (t *sqlTx) LoadSlots(lay *ir.Layout, id string) (*storage.Person, error) {
	return t.load(id, func(id string, data []byte) (*storage.Person, error) { return decodeSlots(id, data, lay) })
}

func (t *sqlTx) load(id string, decode func(id string, data []byte) (*storage.Person, error)) (*storage.Person, error) {
	var row personRow
	if w, ok := t.people[id]; ok {
		row = w
	} else if f, ok := t.fetched[id]; ok {
		row = *f
	} else {
		err := t.stmt("loadPerson").QueryRowContext(t.ctx, id).Scan(&row.data, &row.deleted)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if row.deleted != 0 {
		return nil, nil
	}
	p, err := decode(id, row.data)
	if err != nil {
		return nil, err
	}
	if f, ok := t.fetched[id]; ok && !f.logRead {
		// Read ahead without logs: the engine said it never reads them.
		p.Log = append(p.Log, t.pendingLog[id]...)
		return p, nil
	} else if ok {
		p.Log = append(f.log[:len(f.log):len(f.log)], t.pendingLog[id]...)
		return p, nil
	}
	rows, err := t.stmt("personLog").QueryContext(t.ctx, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanActivity(rows, id)
		if err != nil {
			return nil, err
		}
		p.Log = append(p.Log, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Keep what was read for the loads that follow in this transaction
	// (an API call loads a lead to check it, then to run it): the row is
	// locked until the end, and Apply keeps the copy up to date, as it
	// does one read ahead by Prefetch.
	if t.fetched == nil {
		t.fetched = map[string]*personRow{}
	}
	t.fetched[id] = &personRow{data: row.data, deleted: row.deleted, log: p.Log[:len(p.Log):len(p.Log)], logRead: true}
	p.Log = append(p.Log[:len(p.Log):len(p.Log)], t.pendingLog[id]...)
	return p, nil
}

type scanner interface{ Scan(...any) error }

func scanActivity(r scanner, person string) (*storage.Activity, error) {
	a := &storage.Activity{Person: person}
	var tm int64
	var attrs string
	var err error
	if person == "" {
		err = r.Scan(&a.Seq, &a.Person, &tm, &a.Type, &a.Campaign, &a.Workspace, &a.Primary, &attrs)
	} else {
		err = r.Scan(&a.Seq, &tm, &a.Type, &a.Campaign, &a.Workspace, &a.Primary, &attrs)
	}
	if err != nil {
		return nil, err
	}
	a.Time = parseTime(tm)
	if err := json.Unmarshal([]byte(attrs), &a.Attributes); err != nil {
		return nil, damaged("activity %d: %v", a.Seq, err)
	}
	return a, nil
}

func (t *sqlTx) WaitsOf(person string) ([]*storage.Parked, error) {
	rows, err := t.stmt("waitsOf").QueryContext(t.ctx, person)
	if err != nil {
		return nil, err
	}
	return scanParked(rows)
}

// parkedDoc is a parked wait's place and token context. New waits store
// the wait step's identity ("step"); waits parked by older versions have a
// path of step indexes ("path") instead, and are still read.
type parkedDoc struct {
	Step    string            `json:"step,omitempty"`
	Path    []int             `json:"path,omitempty"`
	Tokens  map[string]string `json:"tokens,omitempty"`
	Trigger *storage.Event    `json:"trigger,omitempty"`
	// Webhook is a parked webhook call's request (vm.Parked.Webhook),
	// headers included: the job that makes the call reads it here, so
	// the job's own arguments (which campc status and River's tables
	// show) name only the row.
	Webhook *storage.WebhookRequest `json:"webhook,omitempty"`
}

func scanParked(rows *sql.Rows) ([]*storage.Parked, error) {
	defer rows.Close()
	var out []*storage.Parked
	for rows.Next() {
		p := &storage.Parked{}
		var due int64
		var data []byte
		if err := rows.Scan(&p.ID, &p.Person, &p.Workspace, &p.Campaign, &due, &data); err != nil {
			return nil, err
		}
		p.Due = parseTime(due)
		var d parkedDoc
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, damaged("parked wait %d: %v", p.ID, err)
		}
		p.Step, p.Path, p.Tokens, p.Trigger, p.Webhook = d.Step, d.Path, d.Tokens, d.Trigger, d.Webhook
		out = append(out, p)
	}
	return out, rows.Err()
}

type queuedDoc struct {
	Workspace string            `json:"workspace"`
	Campaign  string            `json:"campaign"`
	Tokens    map[string]string `json:"tokens,omitempty"`
	Trigger   *storage.Event    `json:"trigger,omitempty"`
}

func (t *sqlTx) Apply(c *storage.Commit) error {
	if p := c.Person; p != nil {
		data, err := encodePerson(p)
		if err != nil {
			return err
		}
		if t.people == nil {
			t.people = map[string]personRow{}
		}
		if _, seen := t.people[p.ID]; !seen {
			t.order = append(t.order, p.ID)
		}
		row := personRow{data: data, deleted: boolInt(p.Deleted)}
		if f, ok := t.fetched[p.ID]; ok {
			row.log, row.logRead = f.log, f.logRead
		}
		t.people[p.ID] = row
		if f, ok := t.fetched[p.ID]; ok {
			f.data, f.deleted = row.data, row.deleted
		}
	}
	// Activities are written at Commit (see there); until then this
	// transaction's loads see them.
	for _, a := range c.Activities {
		t.acts = append(t.acts, a)
		if a.Person != "" {
			if t.pendingLog == nil {
				t.pendingLog = map[string][]*storage.Activity{}
			}
			t.pendingLog[a.Person] = append(t.pendingLog[a.Person], a)
		}
	}
	t.outbox = append(t.outbox, c.Outbox...)
	if c.Entered != nil && c.Person != nil {
		t.entries = append(t.entries, entry{workspace: c.Entered.Workspace.Name, campaign: c.Entered.Name, person: c.Person.ID, at: c.EnteredAt})
	}
	for _, id := range c.Unpark {
		if err := t.take("unpark", "parked wait", id); err != nil {
			return err
		}
	}
	for _, p := range c.Park {
		data, _ := json.Marshal(parkedDoc{Step: p.Step, Path: p.Path, Tokens: p.Tokens, Trigger: p.Trigger, Webhook: p.Webhook})
		if err := t.stmt("park").QueryRowContext(t.ctx, p.Person, p.Workspace, p.Campaign, fmtTime(p.Due), data).Scan(&p.ID); err != nil {
			return err
		}
		t.parked = append(t.parked, p)
	}
	for _, id := range c.Dequeue {
		if err := t.take("dequeue", "queued run", id); err != nil {
			return err
		}
	}
	for _, q := range c.Enqueue {
		data, _ := json.Marshal(queuedDoc{Workspace: q.Workspace, Campaign: q.Campaign, Tokens: q.Tokens, Trigger: q.Trigger})
		if err := t.stmt("enqueue").QueryRowContext(t.ctx, q.Person, data).Scan(&q.ID); err != nil {
			return err
		}
		t.enqueued = append(t.enqueued, q)
	}
	if r := c.Run; r != nil {
		if r.ID == 0 {
			tokens, _ := json.Marshal(r.Tokens)
			if err := t.stmt("newRun").QueryRowContext(t.ctx, r.Workspace, r.Campaign, fmtTime(r.Started), tokens, r.Cursor, boolInt(r.Done), t.s.lease.Owner, t.s.leaseNow()).Scan(&r.ID); err != nil {
				return err
			}
		} else if err := t.checkRun(r); err != nil {
			return err
		}
		cp := *r
		t.run = &cp
	}
	return nil
}

// checkRun makes sure that the batch run is still this process's (no other
// process has taken it over, see StartRun) and that its stored progress is
// where this process left it: a run only moves forward, one group at a
// time. Otherwise the group would process people again; it stops instead,
// and its group is rolled back. The run's row stays locked until the
// commit.
func (t *sqlTx) checkRun(r *storage.BatchRun) error {
	var cursor, owner string
	var done int
	if err := t.stmt("lockRun").QueryRowContext(t.ctx, r.ID).Scan(&cursor, &done, &owner); err != nil {
		return fmt.Errorf("batch run %d: %w", r.ID, err)
	}
	if owner != t.s.lease.Owner {
		return fmt.Errorf("batch run %d of %q: %w (another process has taken it over); this one stops, so that nobody is processed twice", r.ID, r.Campaign, ErrTaken)
	}
	if done != 0 || r.Cursor < cursor || (r.Cursor == cursor && !r.Done) {
		return fmt.Errorf("batch run %d of %q: %w (it is at Id %q); this one stops, so that nobody is processed twice", r.ID, r.Campaign, ErrTaken, cursor)
	}
	return nil
}

// Commit writes the transaction's activities, then commits. The activity
// log is numbered when it is written, so writing it last numbers it in
// commit order, as the in-memory store does: transactions that run at the
// same time (the workers of a batch run) but commit in turn log in turn,
// and rows go in a few statements rather than one per activity.
func (t *sqlTx) Commit() error {
	defer t.release()
	// In this order: the log is numbered after the people are saved, and
	// what a commit adds for the service (outbox, entries, jobs) follows.
	for _, w := range []struct {
		what  string
		write func() error
	}{
		{"save people", t.savePeople},
		{"log activity", t.logActivities},
		{"save the batch run", t.saveRun},
		{"keep email in the outbox", t.writeOutbox},
		{"count campaign entries", t.writeEntries},
		{"queue the jobs", t.insertJobs},
	} {
		if err := w.write(); err != nil {
			t.tx.Rollback()
			return fmt.Errorf("%s: %w", w.what, err)
		}
	}
	t.acts, t.pendingLog, t.outbox, t.entries, t.parked, t.enqueued = nil, nil, nil, nil, nil, nil
	return t.tx.Commit()
}

func (t *sqlTx) Rollback() error {
	defer t.release()
	t.acts, t.pendingLog, t.outbox, t.entries, t.parked, t.enqueued = nil, nil, nil, nil, nil, nil
	return t.tx.Rollback()
}

// release gives a PostgreSQL transaction's connection back to the pool,
// once the transaction has ended.
func (t *sqlTx) release() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// Prefetch reads a group of people (an Id range, as a batch run takes
// them) in one or two statements, locking them as LoadPerson would; the
// engine says whether it will read their logs.
func (t *sqlTx) Prefetch(ids []string, withLogs bool) error {
	if len(ids) == 0 {
		return nil
	}
	lo, hi := ids[0], ids[len(ids)-1]
	rows, err := t.tx.QueryContext(t.ctx, t.s.d.rebind(`SELECT id, data, deleted FROM people WHERE id >= ? AND id <= ? ORDER BY id`+t.s.d.forUpdate), lo, hi)
	if err != nil {
		return err
	}
	if t.fetched == nil {
		t.fetched = map[string]*personRow{}
	}
	var read []string // the people read ahead, whose logs to read
	for rows.Next() {
		var id string
		row := &personRow{logRead: withLogs}
		if err := rows.Scan(&id, &row.data, &row.deleted); err != nil {
			rows.Close()
			return err
		}
		if _, written := t.people[id]; !written {
			t.fetched[id] = row
			read = append(read, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || !withLogs || len(read) == 0 {
		return err
	}
	const logColumns = `SELECT seq, person, time, type, campaign, workspace, primary_value, attributes FROM activities WHERE `
	var logs *sql.Rows
	if t.s.d.dollar {
		// activities.person has the database's collation, which need not
		// order Ids as people.id (COLLATE "C") and Go do: in another
		// order the same two bounds hold other people, or none. The
		// people themselves are the same in any collation.
		logs, err = t.tx.QueryContext(t.ctx, logColumns+`person = ANY($1) ORDER BY person, seq`, read)
	} else {
		logs, err = t.tx.QueryContext(t.ctx, logColumns+`person >= ? AND person <= ? ORDER BY person, seq`, lo, hi)
	}
	if err != nil {
		return err
	}
	defer logs.Close()
	for logs.Next() {
		a, err := scanActivity(logs, "")
		if err != nil {
			return err
		}
		if f := t.fetched[a.Person]; f != nil {
			f.log = append(f.log, a)
		}
	}
	return logs.Err()
}

// PrefetchSet reads the people of a set of Ids (an API call's leads, in
// any order) as Prefetch reads a range: a statement or two for up to
// maxIDKeys of them, each locked as LoadPerson would lock it, in Id
// order. People this transaction has read or written already are left
// as they are, and Ids of nobody are skipped (LoadPerson finds nobody).
func (t *sqlTx) PrefetchSet(ids []string, withLogs bool) error {
	var want []string
	for _, id := range ids {
		_, written := t.people[id]
		_, read := t.fetched[id]
		if !written && !read {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if t.fetched == nil && len(want) > 0 {
		t.fetched = map[string]*personRow{}
	}
	for len(want) > 0 {
		n := min(len(want), maxIDKeys)
		if err := t.prefetchSet(want[:n], withLogs); err != nil {
			return err
		}
		want = want[n:]
	}
	return nil
}

func (t *sqlTx) prefetchSet(ids []string, withLogs bool) error {
	in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := t.tx.QueryContext(t.ctx, t.s.d.rebind(`SELECT id, data, deleted FROM people WHERE id IN (`+in+`) ORDER BY id`+t.s.d.forUpdate), args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		row := &personRow{logRead: withLogs}
		if err := rows.Scan(&id, &row.data, &row.deleted); err != nil {
			rows.Close()
			return err
		}
		t.fetched[id] = row
	}
	rows.Close()
	if err := rows.Err(); err != nil || !withLogs {
		return err
	}
	logs, err := t.tx.QueryContext(t.ctx, t.s.d.rebind(`SELECT seq, person, time, type, campaign, workspace, primary_value, attributes FROM activities WHERE person IN (`+in+`) ORDER BY person, seq`), args...)
	if err != nil {
		return err
	}
	defer logs.Close()
	for logs.Next() {
		a, err := scanActivity(logs, "")
		if err != nil {
			return err
		}
		if f := t.fetched[a.Person]; f != nil { // one of ids, read just now
			f.log = append(f.log, a)
		}
	}
	return logs.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DueWaits implements vm.Store.
func (s *Store) DueWaits(ctx context.Context, t time.Time) ([]*storage.Parked, error) {
	rows, err := s.st["dueWaits"].QueryContext(ctx, fmtTime(t))
	if err != nil {
		return nil, err
	}
	return scanParked(rows)
}

// Queued implements vm.Store.
func (s *Store) Queued(ctx context.Context) ([]*storage.Queued, error) {
	rows, err := s.st["queued"].QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	return scanQueued(rows)
}

// QueuedOf implements vm.QueueReader: the person's queued runs, less
// those this transaction took (those it queued are not run before it
// commits, and are not listed).
func (t *sqlTx) QueuedOf(person string) ([]*storage.Queued, error) {
	rows, err := t.stmt("queuedOf").QueryContext(t.ctx, person)
	if err != nil {
		return nil, err
	}
	qs, err := scanQueued(rows)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(qs, func(q *storage.Queued) bool { return t.taken["dequeue"][q.ID] }), nil
}

func scanQueued(rows *sql.Rows) ([]*storage.Queued, error) {
	defer rows.Close()
	var out []*storage.Queued
	for rows.Next() {
		q := &storage.Queued{}
		var data []byte
		if err := rows.Scan(&q.ID, &q.Person, &data); err != nil {
			return nil, err
		}
		var d queuedDoc
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, damaged("queued run %d: %v", q.ID, err)
		}
		q.Workspace, q.Campaign, q.Tokens, q.Trigger = d.Workspace, d.Campaign, d.Tokens, d.Trigger
		out = append(out, q)
	}
	return out, rows.Err()
}

// OpenRun implements vm.Store.
func (s *Store) OpenRun(ctx context.Context, workspace, campaign string) (*storage.BatchRun, error) {
	r := &storage.BatchRun{}
	var started int64
	var tokens []byte
	err := s.st["openRun"].QueryRowContext(ctx, workspace, campaign).Scan(&r.ID, &r.Workspace, &r.Campaign, &started, &tokens, &r.Cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.Started = parseTime(started)
	if err := json.Unmarshal(tokens, &r.Tokens); err != nil {
		return nil, damaged("batch run %d: %v", r.ID, err)
	}
	return r, nil
}

// Activities implements vm.Store.
func (s *Store) Activities(ctx context.Context, id string) ([]*storage.Activity, error) {
	var rows *sql.Rows
	var err error
	if id == "" {
		rows, err = s.st["allLog"].QueryContext(ctx)
	} else {
		rows, err = s.st["oneLog"].QueryContext(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*storage.Activity
	for rows.Next() {
		var a *storage.Activity
		if id == "" {
			a, err = scanActivity(rows, "")
		} else {
			var p string
			a = &storage.Activity{}
			var tm int64
			var attrs string
			if err = rows.Scan(&a.Seq, &p, &tm, &a.Type, &a.Campaign, &a.Workspace, &a.Primary, &attrs); err == nil {
				a.Person = p
				a.Time = parseTime(tm)
				if err = json.Unmarshal([]byte(attrs), &a.Attributes); err != nil {
					err = damaged("activity %d: %v", a.Seq, err)
				}
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Import adds or updates people in one transaction: the fields, lists and
// programs they carry are set or cleared (vm.MergeImport); the rest, with
// their qualification history and activity log, is kept. Nothing is
// imported if anything fails.
//
// People are written in Id order (a person given twice keeps the order of
// the file), the order in which batch runs lock them too: an import and a
// batch run at the same time on PostgreSQL wait for each other rather than
// deadlock.
func (s *Store) Import(ctx context.Context, people []*storage.Person, progress func(done int)) error {
	people = slices.Clone(people)
	slices.SortStableFunc(people, func(a, b *storage.Person) int { return strings.Compare(a.ID, b.ID) })
	i := 0
	next := func() (*storage.Person, error) {
		if i == len(people) {
			return nil, io.EOF
		}
		i++
		return people[i-1], nil
	}
	return s.ImportEach(ctx, next, progress)
}

// ImportEach is Import for people that come one at a time, so that a file
// of any size is imported in bounded memory: next returns io.EOF after the
// last (any other error rolls the import back). They are written in the
// order next gives them, in one transaction; give them in Id order, as
// Import does, to lock rows in the order batch runs do.
func (s *Store) ImportEach(ctx context.Context, next func() (*storage.Person, error), progress func(done int)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	load := tx.StmtContext(ctx, s.st["loadPerson"])
	upsert := tx.StmtContext(ctx, s.st["upsert"])
	for i := 0; ; i++ {
		p, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		// The door checks these already; a value PostgreSQL would refuse
		// (a NUL) must not pass on SQLite either, whoever calls.
		if err := storage.CheckPerson(p); err != nil {
			return fmt.Errorf("import person %q: %w", p.ID, err)
		}
		var data []byte
		var deleted int
		var old *storage.Person
		err = load.QueryRowContext(ctx, p.ID).Scan(&data, &deleted)
		switch {
		case err == nil && deleted == 0:
			if old, err = decodePerson(p.ID, data); err != nil {
				return err
			}
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		merged := storage.MergeImport(old, p)
		enc, err := encodePerson(merged)
		if err != nil {
			return err
		}
		if _, err := upsert.ExecContext(ctx, p.ID, enc, 0); err != nil {
			return fmt.Errorf("import person %q: %w", p.ID, err)
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	return tx.Commit()
}

func sortStrings(s []string) { sort.Strings(s) }

// ConcurrentTx reports whether transactions may run at the same time: on
// PostgreSQL they lock only the rows of the people they load; a SQLite
// transaction holds the whole database.
func (s *Store) ConcurrentTx() bool { return s.d.dollar }

// HistoryEnd implements vm.HistoryEnder: the latest activity's time or
// batch run's start, zero when the database holds neither.
func (s *Store) HistoryEnd(ctx context.Context) (time.Time, error) {
	var end int64
	for _, q := range []string{`SELECT COALESCE(MAX(time), 0) FROM activities`, `SELECT COALESCE(MAX(started), 0) FROM batch_runs`} {
		var t int64
		if err := s.db.QueryRowContext(ctx, q).Scan(&t); err != nil {
			return time.Time{}, err
		}
		end = max(end, t)
	}
	if end == 0 {
		return time.Time{}, nil
	}
	return parseTime(end), nil
}

var _ storage.HistoryEnder = (*Store)(nil)
