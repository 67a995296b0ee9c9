package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/campc/campc/vm/storage"
)

// The service's tables (campc serve): the integer ids its API gives
// campaigns, people, lists and programs, which never change and are
// never given again (rows are never deleted, and an id is one more than
// the kind's largest); its own settings (how far the schedules have
// run); and the batch runs its API scheduled. They are a migration of
// their own, added after the engine's, so that a database the engine
// uses is only ever extended.
func init() {
	sqliteDialect.migrations = append(sqliteDialect.migrations, `
CREATE TABLE serve_ids (kind TEXT NOT NULL, key TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (kind, key));
CREATE UNIQUE INDEX serve_ids_id ON serve_ids (kind, id);
CREATE TABLE serve_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE serve_schedules (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, campaign TEXT NOT NULL,
  run_at INTEGER NOT NULL, tokens TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0);
CREATE INDEX serve_schedules_due ON serve_schedules (done, run_at, id);
`)
	postgresDialect.migrations = append(postgresDialect.migrations, `
CREATE TABLE serve_ids (kind TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, id BIGINT NOT NULL, PRIMARY KEY (kind, key));
CREATE UNIQUE INDEX serve_ids_id ON serve_ids (kind, id);
CREATE TABLE serve_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE serve_schedules (id BIGSERIAL PRIMARY KEY, workspace TEXT NOT NULL, campaign TEXT NOT NULL,
  run_at BIGINT NOT NULL, tokens TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0);
CREATE INDEX serve_schedules_due ON serve_schedules (done, run_at, id);
`)
	// The outbox comes after the service's tables (outbox.go): migrations
	// are numbered by their order.
	outboxMigrations()
	deployMigrations()
	// The console's, after the deploys' (merged first).
	consoleMigrations()
	riverMigrations()
	// The chunks of shared batch runs, after River's (chunks.go).
	chunkMigrations()
}

// ServeTx is a transaction of the service: the engine's transaction (a
// vm.Tx, for the passes an API call makes) and the service's own tables,
// committed together, so that an API call happens whole or not at all.
type ServeTx struct {
	*sqlTx
}

// BeginServe starts a service transaction.
func (s *Store) BeginServe(ctx context.Context) (*ServeTx, error) {
	tx, err := s.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &ServeTx{tx.(*sqlTx)}, nil
}

// maxIDKeys bounds the keys of one IN list.
const maxIDKeys = 500

// IDs returns the ids of keys of a kind ("campaign", "lead", "list",
// "program", "form"), giving each key that has none an id, in the order
// of keys: the id prefer asks for (nil, or 0: none) when no key of the
// kind has it, else one more than the kind's largest. An id is never
// given to another key.
func (t *ServeTx) IDs(kind string, keys []string, prefer func(key string) int64) (map[string]int64, error) {
	out := make(map[string]int64, len(keys))
	if err := idRows(t, kind, "key", keys, func(k string, id int64) { out[k] = id }); err != nil {
		return nil, err
	}
	var missing []string
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	// The ids given here are written at the end, many to a statement (a
	// first start gives every stored person a lead id): taken holds the
	// ids asked for that the kind already has, and those given since.
	taken := map[int64]bool{}
	if prefer != nil {
		var wants []int64
		for _, k := range missing {
			if want := prefer(k); want > 0 {
				wants = append(wants, want)
			}
		}
		if err := idRows(t, kind, "id", wants, func(_ string, id int64) { taken[id] = true }); err != nil {
			return nil, err
		}
	}
	var next, given int64 = -1, 0 // given: the largest id given here
	var added []string
	for _, k := range missing {
		if _, ok := out[k]; ok {
			continue // a key named twice
		}
		id := int64(0)
		if prefer != nil {
			if want := prefer(k); want > 0 && !taken[want] {
				id = want
				if next > 0 && want >= next {
					next = want + 1
				}
			}
		}
		if id == 0 {
			if next < 0 {
				if err := t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT COALESCE(MAX(id), 0) + 1 FROM serve_ids WHERE kind = ?`), kind).Scan(&next); err != nil {
					return nil, err
				}
				next = max(next, given+1)
			}
			id = next
			next++
		}
		taken[id], out[k], given = true, id, max(given, id)
		added = append(added, k)
	}
	for rest := added; len(rest) > 0; {
		n := min(len(rest), maxIDKeys)
		q := `INSERT INTO serve_ids (kind, key, id) VALUES `
		args := make([]any, 0, 3*n)
		for i, k := range rest[:n] {
			if i > 0 {
				q += ", "
			}
			q += "(?, ?, ?)"
			args = append(args, kind, k, out[k])
		}
		if _, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(q), args...); err != nil {
			if n == 1 {
				return nil, fmt.Errorf("give %s %q an id: %w", kind, rest[0], err)
			}
			return nil, fmt.Errorf("give ids to %d %ss (%q to %q): %w", n, kind, rest[0], rest[n-1], err)
		}
		rest = rest[n:]
	}
	return out, nil
}

// PeopleWithoutLeadID lists the Ids of the stored people (deleted ones
// left out) who have no lead id yet, in ascending order: a start gives
// them theirs without reading everyone's.
func (t *ServeTx) PeopleWithoutLeadID() ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, t.s.d.rebind(`SELECT id FROM people p WHERE deleted = 0
AND NOT EXISTS (SELECT 1 FROM serve_ids s WHERE s.kind = 'lead' AND s.key = p.id) ORDER BY id`))
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// idRows reads the rows of serve_ids of a kind whose column col ("key"
// or "id") is one of vals, maxIDKeys to a statement, handing each to row.
func idRows[T string | int64](t *ServeTx, kind, col string, vals []T, row func(key string, id int64)) error {
	for rest := vals; len(rest) > 0; {
		n := min(len(rest), maxIDKeys)
		q := `SELECT key, id FROM serve_ids WHERE kind = ? AND ` + col + ` IN (`
		args := []any{kind}
		for i, v := range rest[:n] {
			if i > 0 {
				q += ", "
			}
			q += "?"
			args = append(args, v)
		}
		if err := scanIDRows(t, q+")", args, row); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return nil
}

func scanIDRows(t *ServeTx, q string, args []any, row func(key string, id int64)) error {
	rows, err := t.tx.QueryContext(t.ctx, t.s.d.rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			return err
		}
		row(k, id)
	}
	return rows.Err()
}

// KeysOf returns the keys of ids of a kind; ids that were never given are
// left out.
func (t *ServeTx) KeysOf(kind string, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if err := idRows(t, kind, "id", ids, func(k string, id int64) { out[id] = k }); err != nil {
		return nil, err
	}
	return out, nil
}

// State reads one of the service's settings ("" when unset).
func (t *ServeTx) State(name string) (string, error) {
	var v string
	err := t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT value FROM serve_state WHERE name = ?`), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetState writes one of the service's settings.
func (t *ServeTx) SetState(name, value string) error {
	_, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(`INSERT INTO serve_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`), name, value)
	return err
}

// APISchedule is a batch run that the API scheduled (schedule.json).
type APISchedule struct {
	ID        int64
	Workspace string
	Campaign  string
	RunAt     time.Time
	Tokens    string // the token overrides, as JSON
}

// AddSchedule stores a batch run for the API, and numbers it.
func (t *ServeTx) AddSchedule(s *APISchedule) error {
	return t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`INSERT INTO serve_schedules (workspace, campaign, run_at, tokens) VALUES (?, ?, ?, ?) RETURNING id`),
		s.Workspace, s.Campaign, fmtTime(s.RunAt), s.Tokens).Scan(&s.ID)
}

// DueSchedules lists the API's batch runs not yet done that are due at or
// before now, earliest first.
func (t *ServeTx) DueSchedules(now time.Time) ([]*APISchedule, error) {
	rows, err := t.tx.QueryContext(t.ctx, t.s.d.rebind(`SELECT id, workspace, campaign, run_at, tokens FROM serve_schedules WHERE done = 0 AND run_at <= ? ORDER BY run_at, id`), fmtTime(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*APISchedule
	for rows.Next() {
		s := &APISchedule{}
		var at int64
		if err := rows.Scan(&s.ID, &s.Workspace, &s.Campaign, &at, &s.Tokens); err != nil {
			return nil, err
		}
		s.RunAt = parseTime(at)
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].RunAt.Before(out[j].RunAt) })
	return out, rows.Err()
}

// ScheduleDone marks an API batch run done.
func (t *ServeTx) ScheduleDone(id int64) error {
	_, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(`UPDATE serve_schedules SET done = 1 WHERE id = ?`), id)
	return err
}

// ActivityPage is one page of the activity log, for the API: activities
// after seq (exclusive), at or after since, oldest first, at most limit.
func (t *ServeTx) ActivityPage(after int64, since time.Time, limit int) ([]*storage.Activity, error) {
	rows, err := t.tx.QueryContext(t.ctx, t.s.d.rebind(`SELECT seq, person, time, type, campaign, workspace, primary_value, attributes FROM activities WHERE seq > ? AND time >= ? ORDER BY seq LIMIT ?`),
		after, fmtTime(since), limit)
	if err != nil {
		return nil, err
	}
	return scanActivities(rows)
}

// FirstSeqSince is the sequence number before the first activity at or
// after t: a paging token's place in the log.
func (t *ServeTx) FirstSeqSince(since time.Time) (int64, error) {
	var seq sql.NullInt64
	if err := t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT MIN(seq) FROM activities WHERE time >= ?`), fmtTime(since)).Scan(&seq); err != nil {
		return 0, err
	}
	if !seq.Valid {
		var last sql.NullInt64
		if err := t.tx.QueryRowContext(t.ctx, `SELECT MAX(seq) FROM activities`).Scan(&last); err != nil {
			return 0, err
		}
		return last.Int64, nil
	}
	return seq.Int64 - 1, nil
}

// PersonIDs lists every person's Id (deleted people left out) in
// ascending order, as the transaction sees them.
func (t *ServeTx) PersonIDs() ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, queries["personIDs"])
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// Exists reports whether a person Id is stored, deleted or not: an Id is
// never given to a new person again.
func (t *ServeTx) Exists(id string) (bool, error) {
	if _, ok := t.people[id]; ok {
		return true, nil
	}
	var n int
	err := t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT count(*) FROM people WHERE id = ?`), id).Scan(&n)
	return n > 0, err
}

// NextID is the id IDs would give a new key of a kind that asks for none.
func (t *ServeTx) NextID(kind string) (int64, error) {
	var next int64
	err := t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT COALESCE(MAX(id), 0) + 1 FROM serve_ids WHERE kind = ?`), kind).Scan(&next)
	return next, err
}
