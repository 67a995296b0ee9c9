package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/campc/campc/vm/storage"
)

// The web console's tables and indexes (campc serve's /console): the
// step that wrote each activity (a column of its own, so that a
// campaign's funnel is one indexed count), the passes that entered each
// campaign (console_entries: people who entered in the last 24 hours, 7
// and 30 days), who did what from the console (console_audit), and the
// activate/deactivate overrides of trigger campaigns (console_overrides),
// kept across restarts. A migration of its own, after the outbox's.
func consoleMigrations() {
	sqliteDialect.migrations = append(sqliteDialect.migrations, `
ALTER TABLE activities ADD COLUMN step TEXT NOT NULL DEFAULT '';
CREATE INDEX activities_step ON activities (workspace, campaign, step, person);
CREATE INDEX activities_campaign ON activities (workspace, campaign, seq);
CREATE INDEX parked_campaign ON parked (workspace, campaign);
CREATE TABLE console_entries (workspace TEXT NOT NULL, campaign TEXT NOT NULL, person TEXT NOT NULL, time INTEGER NOT NULL,
  PRIMARY KEY (workspace, campaign, person));
CREATE INDEX console_entries_campaign ON console_entries (workspace, campaign, time);
CREATE INDEX console_entries_time ON console_entries (time);
CREATE TABLE console_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, who TEXT NOT NULL,
  workspace TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE console_overrides (workspace TEXT NOT NULL, campaign TEXT NOT NULL, active INTEGER NOT NULL,
  who TEXT NOT NULL, time INTEGER NOT NULL, PRIMARY KEY (workspace, campaign));
`)
	postgresDialect.migrations = append(postgresDialect.migrations, `
ALTER TABLE activities ADD COLUMN step TEXT NOT NULL DEFAULT '';
CREATE INDEX activities_step ON activities (workspace, campaign, step, person);
CREATE INDEX activities_campaign ON activities (workspace, campaign, seq);
CREATE INDEX parked_campaign ON parked (workspace, campaign);
CREATE TABLE console_entries (workspace TEXT NOT NULL, campaign TEXT NOT NULL, person TEXT NOT NULL, time BIGINT NOT NULL,
  PRIMARY KEY (workspace, campaign, person));
CREATE INDEX console_entries_campaign ON console_entries (workspace, campaign, time);
CREATE INDEX console_entries_time ON console_entries (time);
CREATE TABLE console_audit (id BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL, who TEXT NOT NULL,
  workspace TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE console_overrides (workspace TEXT NOT NULL, campaign TEXT NOT NULL, active INTEGER NOT NULL,
  who TEXT NOT NULL, time BIGINT NOT NULL, PRIMARY KEY (workspace, campaign));
`)
	// A person's last entry into each campaign: the people who entered in
	// a window are the rows whose last entry is in it.
	queries["consoleEnter"] = `INSERT INTO console_entries (workspace, campaign, person, time) VALUES (?, ?, ?, ?)
ON CONFLICT (workspace, campaign, person) DO UPDATE SET time = excluded.time`
}

// entry is a pass that entered a campaign, written at commit.
type entry struct {
	workspace, campaign, person string
	at                          time.Time
}

// writeEntries keeps the commit's entries (vm.Commit.Entered).
func (t *sqlTx) writeEntries() error {
	for _, e := range t.entries {
		if _, err := t.stmt("consoleEnter").ExecContext(t.ctx, e.workspace, e.campaign, e.person, fmtTime(e.at)); err != nil {
			return err
		}
	}
	return nil
}

// stepOf is the identity of the step that wrote an activity ("" for
// none), stored with it.
func stepOf(a *storage.Activity) string {
	if s := a.Step(); s != nil {
		return s.ID
	}
	return ""
}

// EntryCounts are the people who entered a campaign's flow in the last
// 24 hours, 7 days and 30 days.
type EntryCounts struct {
	Workspace, Campaign string
	Day, Week, Month    int
	Last                time.Time // the last entry (zero: none in 30 days)
}

// Entries counts, per campaign, the people who entered its flow in the
// 30 days before now (workspace "": every workspace), sorted by
// workspace and campaign.
func (s *Store) Entries(ctx context.Context, workspace string, now time.Time) ([]EntryCounts, error) {
	day, week, month := fmtTime(now.Add(-24*time.Hour)), fmtTime(now.Add(-7*24*time.Hour)), fmtTime(now.Add(-30*24*time.Hour))
	q := `SELECT workspace, campaign,
  sum(CASE WHEN time >= ? THEN 1 ELSE 0 END), sum(CASE WHEN time >= ? THEN 1 ELSE 0 END), count(*), MAX(time)
FROM console_entries WHERE time >= ? AND time <= ?`
	args := []any{day, week, month, fmtTime(now)}
	if workspace != "" {
		q += ` AND workspace = ?`
		args = append(args, workspace)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q+` GROUP BY workspace, campaign`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EntryCounts
	for rows.Next() {
		var e EntryCounts
		var last int64
		if err := rows.Scan(&e.Workspace, &e.Campaign, &e.Day, &e.Week, &e.Month, &last); err != nil {
			return nil, err
		}
		e.Last = parseTime(last)
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Workspace != out[j].Workspace {
			return out[i].Workspace < out[j].Workspace
		}
		return out[i].Campaign < out[j].Campaign
	})
	return out, rows.Err()
}

// CampaignEntries counts one campaign's entries as Entries does, in one
// pass over its index's last 30 days.
func (s *Store) CampaignEntries(ctx context.Context, workspace, campaign string, now time.Time) (EntryCounts, error) {
	e := EntryCounts{Workspace: workspace, Campaign: campaign}
	var last sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT
  COALESCE(sum(CASE WHEN time >= ? THEN 1 ELSE 0 END), 0), COALESCE(sum(CASE WHEN time >= ? THEN 1 ELSE 0 END), 0), count(*), MAX(time)
FROM console_entries WHERE workspace = ? AND campaign = ? AND time >= ? AND time <= ?`),
		fmtTime(now.Add(-24*time.Hour)), fmtTime(now.Add(-7*24*time.Hour)), workspace, campaign, fmtTime(now.Add(-30*24*time.Hour)), fmtTime(now)).
		Scan(&e.Day, &e.Week, &e.Month, &last)
	if last.Valid {
		e.Last = parseTime(last.Int64)
	}
	return e, err
}

// StepPeople counts, per step identity, the people that step of a
// campaign wrote an activity for (ever): the campaign's funnel, with
// upTo, the campaign's last activity before counting (LastSeq).
func (s *Store) StepPeople(ctx context.Context, workspace, campaign string) (counts map[string]int, upTo int64, err error) {
	// One snapshot for both reads, so that upTo says what was counted:
	// SQLite's transactions exclude writers; PostgreSQL's repeatable read
	// sees one snapshot.
	var opts *sql.TxOptions
	if s.d.dollar {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COALESCE(MAX(seq), 0) FROM activities WHERE workspace = ? AND campaign = ?`), workspace, campaign).Scan(&upTo); err != nil {
		return nil, 0, err
	}
	// The covering index (workspace, campaign, step, person) answers alone.
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT step, count(DISTINCT person) FROM activities WHERE workspace = ? AND campaign = ? AND step <> '' GROUP BY step`), workspace, campaign)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	counts = map[string]int{}
	for rows.Next() {
		var step string
		var n int
		if err := rows.Scan(&step, &n); err != nil {
			return nil, 0, err
		}
		counts[step] = n
	}
	return counts, upTo, rows.Err()
}

// LastSeq is the number of a campaign's last activity (0: none).
func (s *Store) LastSeq(ctx context.Context, workspace, campaign string) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT COALESCE(MAX(seq), 0) FROM activities WHERE workspace = ? AND campaign = ?`), workspace, campaign).Scan(&seq)
	return seq, err
}

// StepPair is a step and a person it wrote an activity for.
type StepPair struct{ Step, Person string }

// NewStepPeople lists the steps and people of a campaign's activities
// numbered after after and up to upTo that are the first of their step
// and person, at most limit of them (more: ok is false, count again
// with StepPeople).
func (s *Store) NewStepPeople(ctx context.Context, workspace, campaign string, after, upTo int64, limit int) (pairs []StepPair, ok bool, err error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT DISTINCT step, person FROM activities WHERE workspace = ? AND campaign = ? AND seq > ? AND seq <= ? AND step <> '' LIMIT ?`),
		workspace, campaign, after, upTo, limit+1)
	if err != nil {
		return nil, false, err
	}
	var all []StepPair
	for rows.Next() {
		var p StepPair
		if err := rows.Scan(&p.Step, &p.Person); err != nil {
			rows.Close()
			return nil, false, err
		}
		all = append(all, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(all) > limit {
		return nil, false, nil
	}
	q := s.d.rebind(`SELECT count(*) FROM activities WHERE workspace = ? AND campaign = ? AND step = ? AND person = ? AND seq <= ?`)
	for _, p := range all {
		var n int
		if err := s.db.QueryRowContext(ctx, q, workspace, campaign, p.Step, p.Person, after).Scan(&n); err != nil {
			return nil, false, err
		}
		if n == 0 {
			pairs = append(pairs, p)
		}
	}
	return pairs, true, nil
}

// Waiting counts, per wait step identity, the people parked in a
// campaign's waits now.
func (s *Store) Waiting(ctx context.Context, workspace, campaign string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT id, data FROM parked WHERE workspace = ? AND campaign = ?`), workspace, campaign)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		var d parkedDoc
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, damaged("parked wait %d: %v", id, err)
		}
		out[d.Step]++
	}
	return out, rows.Err()
}

// ActivityQuery selects activities for the console, newest first.
type ActivityQuery struct {
	Workspace string // "": every workspace
	Campaign  string // with Workspace
	Person    string
	Type      string
	Before    int64 // only activities numbered below this (0: from the newest)
	Limit     int
}

// typeWindow is how many activities back a search by type alone looks.
const typeWindow = 200_000

// ConsoleActivities lists the activities a query selects, newest first.
// A query by type alone looks at the typeWindow activities before its
// page only.
func (s *Store) ConsoleActivities(ctx context.Context, q ActivityQuery) ([]*storage.Activity, error) {
	var where []string
	var args []any
	if q.Workspace != "" {
		where, args = append(where, "workspace = ?"), append(args, q.Workspace)
	}
	if q.Campaign != "" {
		where, args = append(where, "campaign = ?"), append(args, q.Campaign)
	}
	if q.Person != "" {
		where, args = append(where, "person = ?"), append(args, q.Person)
	}
	if q.Type != "" {
		where, args = append(where, "type = ?"), append(args, q.Type)
	}
	if q.Before > 0 {
		where, args = append(where, "seq < ?"), append(args, q.Before)
	}
	if q.Type != "" && q.Person == "" && q.Campaign == "" {
		// No index has the type (each would cost every write): the scan
		// looks at most typeWindow activities back from the page's start.
		if q.Before > 0 {
			where, args = append(where, "seq >= ?"), append(args, q.Before-typeWindow)
		} else {
			where = append(where, fmt.Sprintf("seq >= (SELECT COALESCE(MAX(seq), 0) FROM activities) - %d", typeWindow))
		}
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	stmt := `SELECT seq, person, time, type, campaign, workspace, primary_value, attributes FROM activities`
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(stmt+" ORDER BY seq DESC LIMIT ?"), append(args, q.Limit)...)
	if err != nil {
		return nil, err
	}
	return scanActivities(rows)
}

// LastRun is when a batch run of a campaign last started (zero: never).
func (s *Store) LastRun(ctx context.Context, workspace, campaign string) (time.Time, error) {
	var at sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT MAX(started) FROM batch_runs WHERE workspace = ? AND campaign = ?`), workspace, campaign).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, err
	}
	return parseTime(at.Int64), nil
}

// LastRuns is LastRun for every campaign (workspace "": every
// workspace), keyed by workspace and campaign.
func (s *Store) LastRuns(ctx context.Context, workspace string) (map[[2]string]time.Time, error) {
	q, args := `SELECT workspace, campaign, MAX(started) FROM batch_runs`, []any{}
	if workspace != "" {
		q, args = q+` WHERE workspace = ?`, append(args, workspace)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q+` GROUP BY workspace, campaign`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]time.Time{}
	for rows.Next() {
		var ws, c string
		var at int64
		if err := rows.Scan(&ws, &c, &at); err != nil {
			return nil, err
		}
		out[[2]string{ws, c}] = parseTime(at)
	}
	return out, rows.Err()
}

// ReadPerson reads a person and their parked waits, changing nothing
// (nil when there is no such person).
func (s *Store) ReadPerson(ctx context.Context, id string) (*storage.Person, []*storage.Parked, error) {
	tx, err := s.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	p, err := tx.LoadPerson(id)
	if err != nil || p == nil {
		return nil, nil, err
	}
	waits, err := tx.WaitsOf(id)
	return p, waits, err
}

// SearchPeople returns up to limit people (deleted ones left out) that
// match, in Id order, stopping at the first limit found. Matching reads
// every person (fields are stored encoded, not as columns), a thousand
// at a time, so that the service's writes are not held up for the whole
// scan (SQLite has one connection).
func (s *Store) SearchPeople(ctx context.Context, match func(*storage.Person) bool, limit int) ([]*storage.Person, error) {
	const page = 1000
	var out []*storage.Person
	after, first := "", true
	for {
		q, args := `SELECT id, data FROM people WHERE deleted = 0`, []any{}
		if !first {
			q, args = q+` AND id > ?`, append(args, after)
		}
		rows, err := s.db.QueryContext(ctx, s.d.rebind(q+` ORDER BY id LIMIT ?`), append(args, page)...)
		if err != nil {
			return nil, err
		}
		n := 0
		for rows.Next() {
			var id string
			var data []byte
			if err := rows.Scan(&id, &data); err != nil {
				rows.Close()
				return nil, err
			}
			n++
			after, first = id, false
			p, err := decodePerson(id, data)
			if err != nil {
				rows.Close()
				return nil, err
			}
			if match(p) {
				out = append(out, p)
				if len(out) >= limit {
					rows.Close()
					return out, nil
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if n < page {
			return out, nil
		}
	}
}

// AuditEntry is one action taken from the console.
type AuditEntry struct {
	ID        int64
	Time      time.Time
	Who       string // the API user's client id, or "admin"
	Workspace string
	Action    string // request, run-now, activate, deactivate, retry
	Target    string // the campaign or outbox row
	Detail    string
}

// Audit records an action, in the transaction that does it.
func (t *ServeTx) Audit(e *AuditEntry) error {
	return t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`INSERT INTO console_audit (time, who, workspace, action, target, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		fmtTime(e.Time), e.Who, e.Workspace, e.Action, e.Target, e.Detail).Scan(&e.ID)
}

// AuditLog lists the latest actions (workspace "": every workspace),
// newest first.
func (s *Store) AuditLog(ctx context.Context, workspace string, limit int) ([]*AuditEntry, error) {
	q, args := `SELECT id, time, who, workspace, action, target, detail FROM console_audit`, []any{}
	if workspace != "" {
		q, args = q+` WHERE workspace = ?`, append(args, workspace)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q+` ORDER BY id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*AuditEntry
	for rows.Next() {
		e := &AuditEntry{}
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Who, &e.Workspace, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.Time = parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Override is a trigger campaign activated or deactivated from the
// console: a deploy-time override of the project's word.
type Override struct {
	Workspace, Campaign string
	Active              bool
	Who                 string
	Time                time.Time
}

// SetOverride keeps an override, replacing the campaign's last.
func (t *ServeTx) SetOverride(o Override) error {
	_, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(`INSERT INTO console_overrides (workspace, campaign, active, who, time) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (workspace, campaign) DO UPDATE SET active = excluded.active, who = excluded.who, time = excluded.time`),
		o.Workspace, o.Campaign, boolInt(o.Active), o.Who, fmtTime(o.Time))
	return err
}

// Overrides lists every override, by workspace and campaign.
func (s *Store) Overrides(ctx context.Context) ([]Override, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT workspace, campaign, active, who, time FROM console_overrides ORDER BY workspace, campaign`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Override
	for rows.Next() {
		var o Override
		var active int
		var at int64
		if err := rows.Scan(&o.Workspace, &o.Campaign, &active, &o.Who, &at); err != nil {
			return nil, err
		}
		o.Active, o.Time = active != 0, parseTime(at)
		out = append(out, o)
	}
	return out, rows.Err()
}

// RetryDelivery makes a failed or bounced outbox row pending again, due
// at now, with its attempts counted from zero; an error when the row is
// not failed or bounced, or is another workspace's (workspace "": any).
func (t *ServeTx) RetryDelivery(id int64, workspace string, now time.Time) error {
	q, args := `UPDATE outbox SET state = 'pending', attempts = 0, next_at = ? WHERE id = ? AND state IN ('failed', 'bounced')`, []any{fmtTime(now), id}
	if workspace != "" {
		q, args = q+` AND workspace = ?`, append(args, workspace)
	}
	res, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(q), args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("outbox message %d: %w", id, ErrNotRetryable)
	}
	return nil
}

// ErrNotRetryable: the outbox row does not exist, is not the workspace's,
// or has not failed.
var ErrNotRetryable = errors.New("no failed or bounced message of that number")

// Operations are the counts of the console's operations page.
type Operations struct {
	Outbox       map[string]int // rows by state
	WaitsDue     int            // parked waits due at now (the scheduler resumes them)
	WaitsLater   int
	Queued       int // queued runs
	RunsOpen     int // batch runs not done
	RunsDone     int
	SchedulesDue int // the API's scheduled runs not yet done
}

// OperationsAt counts jobs, waits and the outbox at now (workspace "":
// every workspace; queued runs, which name no workspace column, are
// counted for every workspace).
func (s *Store) OperationsAt(ctx context.Context, workspace string, now time.Time) (*Operations, error) {
	o := &Operations{Outbox: map[string]int{}}
	wsWhere := func(q string) (string, []any) {
		if workspace == "" {
			return q, nil
		}
		if strings.Contains(q, " WHERE ") {
			return strings.Replace(q, " WHERE ", " WHERE workspace = ? AND ", 1), []any{workspace}
		}
		return q + " WHERE workspace = ?", []any{workspace}
	}
	q, args := wsWhere(`SELECT state, count(*) FROM outbox GROUP BY state`)
	if workspace != "" {
		q = `SELECT state, count(*) FROM outbox WHERE workspace = ? GROUP BY state`
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return nil, err
		}
		o.Outbox[st] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	count := func(dst *int, q string, extra ...any) error {
		q, args := wsWhere(q)
		return s.db.QueryRowContext(ctx, s.d.rebind(q), append(args, extra...)...).Scan(dst)
	}
	for _, c := range []struct {
		dst   *int
		q     string
		extra []any
	}{
		{&o.WaitsDue, `SELECT count(*) FROM parked WHERE due <= ?`, []any{fmtTime(now)}},
		{&o.WaitsLater, `SELECT count(*) FROM parked WHERE due > ?`, []any{fmtTime(now)}},
		{&o.RunsOpen, `SELECT count(*) FROM batch_runs WHERE done = 0`, nil},
		{&o.RunsDone, `SELECT count(*) FROM batch_runs WHERE done <> 0`, nil},
		{&o.SchedulesDue, `SELECT count(*) FROM serve_schedules WHERE done = 0`, nil},
	} {
		if err := count(c.dst, c.q, c.extra...); err != nil {
			return nil, err
		}
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM queue`).Scan(&o.Queued); err != nil {
		return nil, err
	}
	return o, nil
}

// FailedDeliveries lists the latest failed and bounced outbox rows
// (workspace "": every workspace), newest first.
func (s *Store) FailedDeliveries(ctx context.Context, workspace string, limit int) ([]*OutboxRow, error) {
	q, args := `SELECT id FROM outbox WHERE state IN ('failed', 'bounced')`, []any{}
	if workspace != "" {
		q, args = q+` AND workspace = ?`, append(args, workspace)
	}
	tx, err := s.BeginServe(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.tx.QueryContext(ctx, s.d.rebind(q+` ORDER BY id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, err
	}
	ids, err := scanInts(rows)
	if err != nil {
		return nil, err
	}
	var out []*OutboxRow
	for _, id := range ids {
		r, err := tx.OutboxRow(id)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}
