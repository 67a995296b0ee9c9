package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/campc/campc/vm/storage"
)

// The chunks of shared batch runs (vm.ChunkStore): a batch run that the
// processes of campc serve share through River stores its people as
// chunks of consecutive Ids, each with its own cursor, summary and range
// of activity numbers, and the process that last moved it (worker). The
// run's row is finished by the commit that finishes its last chunk.

var (
	_ storage.ChunkStore = (*Store)(nil)
	_ storage.ChunkTx    = (*sqlTx)(nil)
)

// chunkMigrations adds batch_chunks, after River's tables (so that both
// dialects keep numbering their versions alike). The partial index is for
// the unfinished chunks, which serve's campc_requeue looks for every few
// seconds however many finished ones the table holds.
func chunkMigrations() {
	sqliteDialect.migrations = append(sqliteDialect.migrations, `
CREATE TABLE batch_chunks (run_id INTEGER NOT NULL REFERENCES batch_runs (id), chunk INTEGER NOT NULL,
  first_id TEXT NOT NULL, last_id TEXT NOT NULL, cursor TEXT NOT NULL DEFAULT '', done INTEGER NOT NULL DEFAULT 0,
  summary TEXT NOT NULL DEFAULT '', activities INTEGER NOT NULL DEFAULT 0, first_seq INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0, worker TEXT NOT NULL DEFAULT '', PRIMARY KEY (run_id, chunk));
CREATE INDEX batch_chunks_open ON batch_chunks (run_id, chunk) WHERE done = 0;
`)
	postgresDialect.migrations = append(postgresDialect.migrations, `
CREATE TABLE batch_chunks (run_id BIGINT NOT NULL REFERENCES batch_runs (id), chunk INTEGER NOT NULL,
  first_id TEXT COLLATE "C" NOT NULL, last_id TEXT COLLATE "C" NOT NULL, cursor TEXT COLLATE "C" NOT NULL DEFAULT '',
  done INTEGER NOT NULL DEFAULT 0, summary TEXT NOT NULL DEFAULT '', activities BIGINT NOT NULL DEFAULT 0,
  first_seq BIGINT NOT NULL DEFAULT 0, last_seq BIGINT NOT NULL DEFAULT 0, worker TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (run_id, chunk));
CREATE INDEX batch_chunks_open ON batch_chunks (run_id, chunk) WHERE done = 0;
`)
}

// ChunkJobHook is the part of a JobHook that queues the jobs of a shared
// batch run's chunks, in the transaction that stores them.
type ChunkJobHook interface {
	InsertChunkJobs(ctx context.Context, tx *sql.Tx, run int64, chunks int) error
}

// sharedRun reports whether a batch run has chunks (is shared).
func sharedRun(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, d dialect, run int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, d.rebind(`SELECT count(*) FROM batch_chunks WHERE run_id = ?`), run).Scan(&n)
	return n > 0, err
}

// StartShared implements vm.ChunkStore. It takes StartRun's turn (the run
// lock), so a run starts once across processes, and its chunks and their
// jobs commit with it.
func (s *Store) StartShared(ctx context.Context, want *storage.BatchRun, again bool, size int) (*storage.BatchRun, storage.RunState, bool, error) {
	if size <= 0 {
		return nil, 0, false, fmt.Errorf("a shared batch run's chunks need a size, not %d", size)
	}
	hook, ok := s.jobs.(ChunkJobHook)
	if !ok {
		return nil, 0, false, errors.New("a shared batch run needs a job queue for its chunks (campc serve with River, on PostgreSQL)")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, false, err
	}
	defer tx.Rollback()
	if s.d.runLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.runLock); err != nil {
			return nil, 0, false, fmt.Errorf("lock the batch runs: %w", err)
		}
	}
	q := func(sql string) string { return s.d.rebind(`SELECT ` + runColumns + ` FROM batch_runs WHERE ` + sql) }
	r, _, _, err := scanRun(tx.QueryRowContext(ctx, q(`workspace = ? AND campaign = ? AND done = 0 ORDER BY id LIMIT 1`), want.Workspace, want.Campaign))
	switch {
	case err == nil:
		shared, err := sharedRun(ctx, tx, s.d, r.ID)
		return r, storage.RunResumed, shared, err
	case !errors.Is(err, sql.ErrNoRows):
		return nil, 0, false, err
	}
	if !again {
		r, _, _, err := scanRun(tx.QueryRowContext(ctx, q(`workspace = ? AND campaign = ? AND started = ? ORDER BY id DESC LIMIT 1`), want.Workspace, want.Campaign, fmtTime(want.Started)))
		if err == nil {
			return r, storage.RunDone, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, 0, false, err
		}
	}
	var ids []string
	rows, err := tx.QueryContext(ctx, queries["personIDs"])
	if err != nil {
		return nil, 0, false, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, 0, false, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, false, err
	}
	r = &storage.BatchRun{Workspace: want.Workspace, Campaign: want.Campaign, Started: want.Started, Tokens: want.Tokens, Done: len(ids) == 0}
	tokens, _ := json.Marshal(r.Tokens)
	if err := tx.QueryRowContext(ctx, s.d.rebind(queries["newRun"]), r.Workspace, r.Campaign, fmtTime(r.Started), tokens, "", boolInt(r.Done), s.lease.Owner, s.leaseNow()).Scan(&r.ID); err != nil {
		return nil, 0, false, err
	}
	n := 0
	for ; len(ids) > 0; n++ {
		k := min(size, len(ids))
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO batch_chunks (run_id, chunk, first_id, last_id) VALUES (?, ?, ?, ?)`), r.ID, n, ids[0], ids[k-1]); err != nil {
			return nil, 0, false, fmt.Errorf("store chunk %d of batch run %d: %w", n, r.ID, err)
		}
		ids = ids[k:]
	}
	if n > 0 {
		if err := hook.InsertChunkJobs(ctx, tx, r.ID, n); err != nil {
			return nil, 0, false, fmt.Errorf("queue the chunks of batch run %d: %w", r.ID, err)
		}
	}
	return r, storage.RunNew, true, tx.Commit()
}

// chunkColumns are the columns scanChunk reads.
const chunkColumns = `run_id, chunk, first_id, last_id, cursor, done, summary, activities`

func scanChunk(row scanner) (*storage.Chunk, error) {
	ch := &storage.Chunk{}
	var done int
	var summary string
	if err := row.Scan(&ch.Run, &ch.Index, &ch.First, &ch.Last, &ch.Cursor, &done, &summary, &ch.Activities); err != nil {
		return nil, err
	}
	ch.Done = done != 0
	if summary != "" {
		if err := json.Unmarshal([]byte(summary), &ch.Summary); err != nil {
			return nil, fmt.Errorf("batch run %d, chunk %d: %w", ch.Run, ch.Index, err)
		}
	}
	return ch, nil
}

// ChunkOf implements vm.ChunkStore.
func (s *Store) ChunkOf(ctx context.Context, run int64, index int) (*storage.BatchRun, *storage.Chunk, error) {
	r, _, _, err := scanRun(s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+runColumns+` FROM batch_runs WHERE id = ?`), run))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("no batch run %d", run)
	}
	if err != nil {
		return nil, nil, err
	}
	ch, err := scanChunk(s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+chunkColumns+` FROM batch_chunks WHERE run_id = ? AND chunk = ?`), run, index))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("batch run %d has no chunk %d", run, index)
	}
	return r, ch, err
}

// PersonIDsIn implements vm.ChunkStore.
func (s *Store) PersonIDsIn(ctx context.Context, first, last string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT id FROM people WHERE deleted = 0 AND id >= ? AND id <= ? ORDER BY id`), first, last)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// LockChunk implements vm.ChunkTx.
func (t *sqlTx) LockChunk(run int64, index int) (*storage.Chunk, error) {
	ch, err := scanChunk(t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT `+chunkColumns+` FROM batch_chunks WHERE run_id = ? AND chunk = ?`+t.s.d.forUpdate), run, index))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("batch run %d has no chunk %d", run, index)
	}
	return ch, err
}

// MoveChunk implements vm.ChunkTx: the chunk is written at Commit, after
// the activities (which belong to its run).
func (t *sqlTx) MoveChunk(ch *storage.Chunk) error {
	if t.run != nil || t.chunk != nil {
		return errors.New("a transaction moves one batch run or chunk")
	}
	t.chunk = ch
	t.run = &storage.BatchRun{ID: ch.Run}
	return nil
}

// saveChunk writes the progress of the chunk this transaction moves and,
// when it finishes the run's last chunk, finishes the run. The run's row
// is locked before the chunks are read, so that of two chunks finishing
// at once the second to lock sees the first done (a statement of its
// own, after the lock: PostgreSQL's read committed reads what committed
// before it) and finishes the run.
func (t *sqlTx) saveChunk() error {
	ch := t.chunk
	first, last := t.actRange()
	summary := summaryDoc(ch.Summary)
	if _, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(`UPDATE batch_chunks SET cursor = ?, done = ?, summary = ?, activities = ?, worker = ?,
first_seq = CASE WHEN first_seq = 0 OR (? > 0 AND ? < first_seq) THEN ? ELSE first_seq END, last_seq = CASE WHEN ? > last_seq THEN ? ELSE last_seq END
WHERE run_id = ? AND chunk = ?`), ch.Cursor, boolInt(ch.Done), string(summary), ch.Activities, t.s.lease.Owner,
		first, first, first, last, last, ch.Run, ch.Index); err != nil {
		return err
	}
	if !ch.Done {
		return nil
	}
	r, _, _, err := scanRun(t.tx.QueryRowContext(t.ctx, t.s.d.rebind(`SELECT `+runColumns+` FROM batch_runs WHERE id = ?`+t.s.d.forUpdate), ch.Run))
	if err != nil {
		return fmt.Errorf("batch run %d: %w", ch.Run, err)
	}
	if r.Done {
		return nil
	}
	rows, err := t.tx.QueryContext(t.ctx, t.s.d.rebind(`SELECT done, summary, activities, first_seq, last_seq, last_id FROM batch_chunks WHERE run_id = ? ORDER BY chunk`), ch.Run)
	if err != nil {
		return err
	}
	defer rows.Close()
	var sum storage.RunSummary
	var acts int
	var firstSeq, lastSeq int64
	var cursor string
	for rows.Next() {
		var done, n int
		var s string
		var f, l int64
		if err := rows.Scan(&done, &s, &n, &f, &l, &cursor); err != nil {
			return err
		}
		if done == 0 {
			return rows.Close()
		}
		if s != "" {
			var cs storage.RunSummary
			if err := json.Unmarshal([]byte(s), &cs); err != nil {
				return fmt.Errorf("batch run %d: a chunk's summary: %w", ch.Run, err)
			}
			sum = sum.Merge(cs)
		}
		acts += n
		if f > 0 && (firstSeq == 0 || f < firstSeq) {
			firstSeq = f
		}
		lastSeq = max(lastSeq, l)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	var js []byte
	if len(sum.Entered)+len(sum.Steps) > 0 {
		js, _ = json.Marshal(sum)
	}
	if _, err := t.tx.ExecContext(t.ctx, t.s.d.rebind(`UPDATE batch_runs SET cursor = ?, done = 1, summary = ?, heartbeat = ?, first_seq = ?, last_seq = ? WHERE id = ?`),
		cursor, string(js), t.s.leaseNow(), firstSeq, lastSeq, ch.Run); err != nil {
		return err
	}
	r.Cursor, r.Done, r.Summary = cursor, true, sum
	ch.Finished, ch.RunActivities = r, acts
	return nil
}
