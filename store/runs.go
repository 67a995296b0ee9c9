package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/campc/campc/vm/storage"
)

// Lease is how a process holds the batch runs it is running, so that
// other processes on the same database tell a run in progress from one
// that stopped part way. The host (campc) gives the store its lease: the
// engine never reads the host's clock.
type Lease struct {
	// Owner names this process (unique among the processes that share
	// the database); it is stored with the runs it holds.
	Owner string
	// Now is the host's clock, stored as a run's heartbeat.
	Now func() time.Time
	// Live tells whether another process's lease, last renewed at
	// heartbeat, still holds. When Live is nil every unfinished run is
	// taken as stopped.
	Live func(owner string, heartbeat time.Time) bool
}

// SetLease sets the lease of this process. Call it before running
// anything, and renew it with Heartbeat while a batch run goes on.
func (s *Store) SetLease(l Lease) { s.lease = l }

func (s *Store) leaseNow() int64 {
	if s.lease.Now == nil {
		return 0
	}
	return s.lease.Now().UnixNano()
}

// Heartbeat renews this process's lease on the unfinished runs it holds.
func (s *Store) Heartbeat(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, s.d.rebind(`UPDATE batch_runs SET heartbeat = ? WHERE owner = ? AND done = 0`), s.leaseNow(), s.lease.Owner)
	return err
}

// RunBusyError is StartRun's error for an unfinished run that another
// process holds a live lease on: it is in progress, not stopped.
type RunBusyError struct {
	Workspace, Campaign string
	Started             time.Time // the run's clock
	Owner               string    // the process running it
	Heartbeat           time.Time // when that process last said it was alive
}

func (e *RunBusyError) Error() string {
	return fmt.Sprintf("the batch run of %q started at %s is in progress in another process (%s)",
		e.Campaign, e.Started.UTC().Format(time.RFC3339), e.Owner)
}

// runColumns are the columns scanRun reads.
const runColumns = `id, workspace, campaign, started, tokens, cursor, done, summary, owner, heartbeat`

func scanRun(row scanner) (*storage.BatchRun, string, int64, error) {
	r := &storage.BatchRun{}
	var summary, owner string
	var tokens []byte
	var done int
	var started, heartbeat int64
	if err := row.Scan(&r.ID, &r.Workspace, &r.Campaign, &started, &tokens, &r.Cursor, &done, &summary, &owner, &heartbeat); err != nil {
		return nil, "", 0, err
	}
	r.Done = done != 0
	r.Started = parseTime(started)
	if err := json.Unmarshal(tokens, &r.Tokens); err != nil {
		return nil, "", 0, fmt.Errorf("batch run %d: %w", r.ID, err)
	}
	if summary != "" {
		if err := json.Unmarshal([]byte(summary), &r.Summary); err != nil {
			return nil, "", 0, fmt.Errorf("batch run %d: %w", r.ID, err)
		}
	}
	return r, owner, heartbeat, nil
}

// StartRun implements vm.Store. Its transaction is one at a time across
// processes (SQLite: the write lock it takes when it begins; PostgreSQL:
// an advisory lock), so two processes never both start a run: the second
// finds the first's, and its live lease.
func (s *Store) StartRun(ctx context.Context, want *storage.BatchRun, again bool) (*storage.BatchRun, storage.RunState, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	if s.d.runLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.runLock); err != nil {
			return nil, 0, fmt.Errorf("lock the batch runs: %w", err)
		}
	}
	q := func(sql string) string { return s.d.rebind(`SELECT ` + runColumns + ` FROM batch_runs WHERE ` + sql) }
	// The unfinished run is locked as it is read: a group its process is
	// committing now is then in the cursor read here.
	r, owner, heartbeat, err := scanRun(tx.QueryRowContext(ctx, q(`workspace = ? AND campaign = ? AND done = 0 ORDER BY id LIMIT 1`+s.d.forUpdate), want.Workspace, want.Campaign))
	switch {
	case err == nil:
		// A shared run is its chunks' jobs' to finish (chunks.go), never
		// one process's to take over.
		if shared, err := sharedRun(ctx, tx, s.d, r.ID); err != nil {
			return nil, 0, err
		} else if shared {
			return nil, 0, &RunBusyError{Workspace: r.Workspace, Campaign: r.Campaign, Started: r.Started, Owner: "the processes sharing it (River jobs)", Heartbeat: time.Unix(0, heartbeat).UTC()}
		}
		if owner != "" && owner != s.lease.Owner && s.lease.Live != nil && s.lease.Live(owner, time.Unix(0, heartbeat)) {
			return nil, 0, &RunBusyError{Workspace: r.Workspace, Campaign: r.Campaign, Started: r.Started, Owner: owner, Heartbeat: time.Unix(0, heartbeat).UTC()}
		}
		// Stopped part way: this process takes it over. A process that
		// still thinks it holds it fails at its next commit (checkRun).
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE batch_runs SET owner = ?, heartbeat = ? WHERE id = ?`), s.lease.Owner, s.leaseNow(), r.ID); err != nil {
			return nil, 0, err
		}
		return r, storage.RunResumed, tx.Commit()
	case !errors.Is(err, sql.ErrNoRows):
		return nil, 0, err
	}
	if !again {
		r, _, _, err := scanRun(tx.QueryRowContext(ctx, q(`workspace = ? AND campaign = ? AND started = ? ORDER BY id DESC LIMIT 1`), want.Workspace, want.Campaign, fmtTime(want.Started)))
		if err == nil {
			return r, storage.RunDone, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, 0, err
		}
	}
	r = &storage.BatchRun{Workspace: want.Workspace, Campaign: want.Campaign, Started: want.Started, Tokens: want.Tokens}
	tokens, _ := json.Marshal(r.Tokens)
	if err := tx.StmtContext(ctx, s.st["newRun"]).QueryRowContext(ctx, r.Workspace, r.Campaign, fmtTime(r.Started), tokens, "", 0, s.lease.Owner, s.leaseNow()).Scan(&r.ID); err != nil {
		return nil, 0, err
	}
	return r, storage.RunNew, tx.Commit()
}

// RunLog implements vm.Store.
func (s *Store) RunLog(ctx context.Context, run int64) ([]*storage.Activity, error) {
	var first, last int64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT first_seq, last_seq FROM batch_runs WHERE id = ?`), run).Scan(&first, &last)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && first == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The run's activities lie between its first and last: the primary
	// key finds them; the run column leaves out other processes' there.
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT seq, person, time, type, campaign, workspace, primary_value, attributes FROM activities WHERE seq >= ? AND seq <= ? AND run = ? ORDER BY seq`), first, last, run)
	if err != nil {
		return nil, err
	}
	return scanActivities(rows)
}

// scanActivities reads every row of rows as an activity (the columns of
// scanActivity, each row naming its person) and closes rows.
func scanActivities(rows *sql.Rows) ([]*storage.Activity, error) {
	defer rows.Close()
	var out []*storage.Activity
	for rows.Next() {
		a, err := scanActivity(rows, "")
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// runID is the batch run this transaction's activities belong to, or 0.
func (t *sqlTx) runID() int64 {
	if t.run == nil {
		return 0
	}
	return t.run.ID
}

// saveRun writes the progress of the batch run this transaction moves,
// with the range of sequence numbers its activities take.
func (t *sqlTx) saveRun() error {
	r := t.run
	if t.chunk != nil {
		return t.saveChunk()
	}
	if r == nil {
		return nil
	}
	first, last := t.actRange()
	summary := summaryDoc(r.Summary)
	_, err := t.stmt("updateRun").ExecContext(t.ctx, r.Cursor, boolInt(r.Done), string(summary), t.s.leaseNow(), first, last, last, r.ID)
	return err
}

// actRange is the first and last sequence numbers of the activities this
// transaction writes (0, 0: none).
func (t *sqlTx) actRange() (first, last int64) {
	for _, a := range t.acts {
		if first == 0 || a.Seq < first {
			first = a.Seq
		}
		last = max(last, a.Seq)
	}
	return first, last
}

// summaryDoc is a run's or chunk's summary as stored: empty when it
// counts nothing.
func summaryDoc(s storage.RunSummary) []byte {
	if len(s.Entered)+len(s.Steps) == 0 {
		return nil
	}
	b, _ := json.Marshal(s)
	return b
}
