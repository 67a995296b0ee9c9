package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/campc/campc/vm/storage"
)

// The outbox: the email and alerts that committed passes send
// (vm.Commit.Outbox, when the engine runs with vm.Options.Outbox). A
// message is written in the same transaction as its Send Email activity,
// so a committed pass never loses its email, and a rolled-back one sends
// none. A deliverer then claims a row, sends it and marks it (see
// ClaimOutbox). The table is a migration of its own, appended after the
// service's.
func outboxMigrations() {
	sqliteDialect.migrations = append(sqliteDialect.migrations, `
CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE, workspace TEXT NOT NULL,
  person TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL, last_error TEXT NOT NULL DEFAULT '', sent_at INTEGER);
CREATE INDEX outbox_due ON outbox (state, next_at, id);
`)
	postgresDialect.migrations = append(postgresDialect.migrations, `
CREATE TABLE outbox (id BIGSERIAL PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, workspace TEXT NOT NULL,
  person TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '', sent_at BIGINT);
CREATE INDEX outbox_due ON outbox (state, next_at, id);
`)
}

// The states of an outbox row. Pending and sending rows are still to be
// delivered (a sending row whose claim ran out is claimed again); the
// others are final.
const (
	OutboxPending = "pending" // waiting for its next attempt (next_at)
	OutboxSending = "sending" // claimed by a deliverer until next_at
	OutboxSent    = "sent"    // the relay accepted it
	OutboxBounced = "bounced" // the relay refused it for good (5xx)
	OutboxFailed  = "failed"  // every attempt failed
)

// OutboxRow is one message of the outbox.
type OutboxRow struct {
	ID        int64
	Message   storage.Message // its ID is the stable Message-ID
	State     string
	Attempts  int // attempts started, this one included once claimed
	NextAt    time.Time
	LastError string
	SentAt    time.Time // zero unless sent
}

// outboxDoc is a message as stored (its activity is in the log).
type outboxDoc struct {
	Campaign    string `json:"campaign"`
	Step        string `json:"step,omitempty"`
	Name        string `json:"name,omitempty"`
	From        string `json:"from,omitempty"`
	To          string `json:"to"`
	Subject     string `json:"subject"`
	Text        string `json:"text,omitempty"`
	HTML        string `json:"html,omitempty"`
	Body        string `json:"body,omitempty"`
	Operational bool   `json:"operational,omitempty"`
	Activity    int64  `json:"activity,omitempty"`
}

// writeOutbox keeps this transaction's messages, after the activities
// are numbered: each message's Message-ID is made from its activity's
// number (vm.MessageID), and is due at once. The rows go in as the
// people do (write.go): one statement of arrays on PostgreSQL, SQLite's
// prepared multi-row statements otherwise, in the order of the messages.
func (t *sqlTx) writeOutbox() error {
	n := len(t.outbox)
	if n == 0 {
		return nil
	}
	ids, wss, people, docs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	due := make([]int64, n)
	for i, m := range t.outbox {
		m.ID = storage.MessageID(m)
		var seq int64
		at := time.Time{}
		if m.Activity != nil {
			seq, at = m.Activity.Seq, m.Activity.Time
		}
		doc, err := json.Marshal(outboxDoc{Campaign: m.Campaign, Step: m.Step, Name: m.Name, From: m.From, To: m.To, Subject: m.Subject,
			Text: m.Text, HTML: m.HTML, Body: m.Body, Operational: m.Operational, Activity: seq})
		if err != nil {
			return fmt.Errorf("message %s: %w", m.ID, err)
		}
		ids[i], wss[i], people[i], docs[i], due[i] = m.ID, m.Workspace, m.Person, string(doc), fmtTime(at)
	}
	if t.s.d.dollar {
		_, err := t.tx.StmtContext(t.ctx, t.s.w.pgOutbox).ExecContext(t.ctx, ids, wss, people, docs, due)
		return err
	}
	args := make([]any, 0, 5*chunk(n))
	for i := 0; i < n; {
		c := chunk(n - i)
		args = args[:0]
		for k := i; k < i+c; k++ {
			args = append(args, ids[k], wss[k], people[k], docs[k], due[k])
		}
		if _, err := t.tx.StmtContext(t.ctx, t.s.w.outbox[c]).ExecContext(t.ctx, args...); err != nil {
			return err
		}
		i += c
	}
	return nil
}

// PendingOutbox is how many messages the transaction will put in the
// outbox when it commits.
func (t *ServeTx) PendingOutbox() int { return len(t.outbox) }

// DueOutbox lists, oldest first, up to limit rows to deliver at now:
// pending rows whose attempt is due and sending rows whose claim ran out
// (their deliverer stopped).
func (t *ServeTx) DueOutbox(now time.Time, limit int) ([]int64, error) {
	rows, err := t.tx.QueryContext(t.ctx, t.s.d.rebind(`SELECT id FROM outbox WHERE state IN ('pending', 'sending') AND next_at <= ? ORDER BY next_at, id LIMIT ?`), fmtTime(now), limit)
	if err != nil {
		return nil, err
	}
	return scanInts(rows)
}

// ClaimOutbox claims a row for one attempt: when it is due at now (see
// DueOutbox), it becomes sending until until, its attempts grow by one,
// and the row is returned; otherwise (delivered, claimed by another, not
// due, gone) it returns nil. The claim is one conditional UPDATE, so two
// deliverers never both claim a row; a deliverer that dies leaves a claim
// that runs out at until.
func (t *ServeTx) ClaimOutbox(id int64, now, until time.Time) (*OutboxRow, error) {
	res, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(`UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_at = ? WHERE id = ? AND state IN ('pending', 'sending') AND next_at <= ?`),
		fmtTime(until), id, fmtTime(now))
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, err
	}
	return t.OutboxRow(id)
}

// OutboxRow reads one row, nil when there is none.
func (t *ServeTx) OutboxRow(id int64) (*OutboxRow, error) {
	var r OutboxRow
	var payload string
	var next int64
	var sent sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT id, message_id, workspace, person, payload, state, attempts, next_at, last_error, sent_at FROM outbox WHERE id = ?`), id).
		Scan(&r.ID, &r.Message.ID, &r.Message.Workspace, &r.Message.Person, &payload, &r.State, &r.Attempts, &next, &r.LastError, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var d outboxDoc
	if err := json.Unmarshal([]byte(payload), &d); err != nil {
		return nil, damaged("outbox message %d: %v", id, err)
	}
	m := &r.Message
	m.Campaign, m.Step, m.Name, m.From, m.To, m.Subject = d.Campaign, d.Step, d.Name, d.From, d.To, d.Subject
	m.Text, m.HTML, m.Body, m.Operational = d.Text, d.HTML, d.Body, d.Operational
	r.NextAt = parseTime(next)
	if sent.Valid {
		r.SentAt = parseTime(sent.Int64)
	}
	return &r, nil
}

// RetryOutbox puts a claimed row back to wait for another attempt at next.
func (t *ServeTx) RetryOutbox(id int64, next time.Time, lastErr string) error {
	return t.outboxSet(`UPDATE outbox SET state = 'pending', next_at = ?, last_error = ? WHERE id = ? AND state = 'sending'`, fmtTime(next), lastErr, id)
}

// FinishOutbox gives a claimed row its final state (OutboxSent, Bounced
// or Failed) at at.
func (t *ServeTx) FinishOutbox(id int64, state string, at time.Time, lastErr string) error {
	switch state {
	case OutboxSent:
		return t.outboxSet(`UPDATE outbox SET state = ?, sent_at = ?, last_error = ? WHERE id = ? AND state = 'sending'`, state, fmtTime(at), lastErr, id)
	case OutboxBounced, OutboxFailed:
		return t.outboxSet(`UPDATE outbox SET state = ?, last_error = ? WHERE id = ? AND state = 'sending'`, state, lastErr, id)
	}
	return fmt.Errorf("outbox: %q is not a final state", state)
}

// outboxSet runs an update of one claimed row; a row that is no longer
// sending (another deliverer took it over after the claim ran out) is an
// error, so that the caller's transaction logs nothing twice.
func (t *ServeTx) outboxSet(q string, args ...any) error {
	res, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(q), args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrOutboxLost
	}
	return nil
}

// ErrOutboxLost says an outbox row was no longer claimed when its attempt
// ended: its claim ran out and another deliverer took it.
var ErrOutboxLost = errors.New("the outbox row is no longer claimed by this deliverer")

// OutboxDepth counts the messages still to deliver (pending or sending).
func (t *ServeTx) OutboxDepth() (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')`).Scan(&n)
	return n, err
}

// OutboxRows lists every row, by id (for tests and operators).
func (t *ServeTx) OutboxRows() ([]*OutboxRow, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id FROM outbox ORDER BY id`)
	if err != nil {
		return nil, err
	}
	ids, err := scanInts(rows)
	if err != nil {
		return nil, err
	}
	out := make([]*OutboxRow, 0, len(ids))
	for _, id := range ids {
		r, err := t.OutboxRow(id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func scanInts(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
