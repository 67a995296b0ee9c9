package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/campc/campc/vm/storage"
)

// Deploys: every project campc serve has run, and the ones campc deploy
// asked it to run next. A row holds the project itself (its sources, as
// JSON), so that every process serving the database can load it; its
// state says whether its wait moves are done (applied), still to do
// (pending: the first service to see it applies them, once), or whether
// a service refused it (refused, with the reason in summary). A migration
// of its own, after the outbox's.
func deployMigrations() {
	sqliteDialect.migrations = append(sqliteDialect.migrations, `
CREATE TABLE serve_deploys (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, who TEXT NOT NULL, hash TEXT NOT NULL,
  state TEXT NOT NULL, project TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '');
CREATE INDEX serve_deploys_state ON serve_deploys (state, id);
`)
	postgresDialect.migrations = append(postgresDialect.migrations, `
CREATE TABLE serve_deploys (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, who TEXT NOT NULL, hash TEXT NOT NULL,
  state TEXT NOT NULL, project TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '');
CREATE INDEX serve_deploys_state ON serve_deploys (state, id);
`)
}

// The states of a deploy.
const (
	DeployPending = "pending" // recorded by campc deploy; its wait moves are still to do
	DeployApplied = "applied" // its wait moves are done; the project is the one to run
	DeployRefused = "refused" // a service refused it (summary says why); never run
)

// Deploy is one row of serve_deploys.
type Deploy struct {
	ID      int64
	At      time.Time
	Who     string // who asked: "campc deploy (user@host)", "SIGHUP", "campc serve start"
	Hash    string // the project's hash (hex SHA-256 of its sources)
	State   string
	Project string // the project's sources, as JSON (serve.Project)
	Summary string
}

// AddDeploy records a deploy and numbers it.
func (t *ServeTx) AddDeploy(d *Deploy) error {
	return t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`INSERT INTO serve_deploys (at, who, hash, state, project, summary) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		fmtTime(d.At), d.Who, d.Hash, d.State, d.Project, d.Summary).Scan(&d.ID)
}

// LatestDeploy is the newest deploy that was not refused, or nil when
// there is none.
func (t *ServeTx) LatestDeploy() (*Deploy, error) {
	d := &Deploy{}
	var at int64
	err := t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT id, at, who, hash, state, project, summary FROM serve_deploys WHERE state <> ? ORDER BY id DESC LIMIT 1`), DeployRefused).
		Scan(&d.ID, &at, &d.Who, &d.Hash, &d.State, &d.Project, &d.Summary)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d.At = parseTime(at)
	return d, nil
}

// Deploys lists every deploy, oldest first, without their projects.
func (t *ServeTx) Deploys() ([]*Deploy, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, at, who, hash, state, summary FROM serve_deploys ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Deploy
	for rows.Next() {
		d := &Deploy{}
		var at int64
		if err := rows.Scan(&d.ID, &at, &d.Who, &d.Hash, &d.State, &d.Summary); err != nil {
			return nil, err
		}
		d.At = parseTime(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// FinishDeploy moves a pending deploy to state (applied or refused) with
// its summary. It reports false, changing nothing, when the deploy is no
// longer pending: another service finished it first. On PostgreSQL the
// UPDATE waits for that other service's transaction, so the wait moves
// of a deploy are done once.
func (t *ServeTx) FinishDeploy(id int64, state, summary string) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(`UPDATE serve_deploys SET state = ?, summary = ? WHERE id = ? AND state = ?`), state, summary, id, DeployPending)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AllWaits lists every parked wait, by ID, as the transaction sees them.
func (t *ServeTx) AllWaits() ([]*storage.Parked, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, person, workspace, campaign, due, data FROM parked ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return scanParked(rows)
}

// SetWaitStep stores a wait by the identity of its step (a wait parked by
// path, before identities, that a deploy reads against the program it was
// parked by), keeping its tokens, trigger and webhook request.
func (t *ServeTx) SetWaitStep(w *storage.Parked, step string) error {
	data, err := json.Marshal(parkedDoc{Step: step, Tokens: w.Tokens, Trigger: w.Trigger, Webhook: w.Webhook})
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(t.ctx, t.s.d.rebind(`UPDATE parked SET data = ? WHERE id = ?`), data, w.ID)
	return err
}
