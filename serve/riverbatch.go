package serve

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
	"github.com/riverqueue/river"
)

// Shared batch runs: with River, a batch run's people are split into
// chunks (vm.StartShared, in the transaction that starts the run), each a
// campc_batch job that any process may work (vm.RunChunk). See
// docs/river.md.

const (
	kindBatch   = "campc_batch"   // a chunk of a shared batch run
	kindRequeue = "campc_requeue" // requeueChunks, every ProcessBeat
)

// RequeueArgs is the periodic job that gives the jobs of a killed process
// to the others: new jobs for its chunks (requeueChunks), its other
// running jobs back to retryable (rescueDead). It is a job of its own,
// not part of the tick, because the tick may be the very job the killed
// process was running, and a killed tick stops the ticks until it is
// rescued. Unique like the tick.
type RequeueArgs struct{}

func (RequeueArgs) Kind() string { return kindRequeue }
func (RequeueArgs) InsertOpts() river.InsertOpts {
	return TickArgs{}.InsertOpts()
}

type requeueWorker struct {
	river.WorkerDefaults[RequeueArgs]
	s *Service
}

// Work needs no service lock: it reads the database and inserts jobs.
func (w *requeueWorker) Work(ctx context.Context, job *river.Job[RequeueArgs]) error {
	if err := w.s.requeueChunks(ctx); err != nil {
		return err
	}
	return w.s.rescueDead(ctx)
}

// rescueDead gives the other processes the jobs (other than chunks,
// which requeueChunks gives new jobs) that a process was running when it
// died: once its heartbeat has lapsed, each goes back to retryable with
// an error saying so, as River's rescuer does after RescueAfter, and is
// run again at once. Without it a killed process's tick would stop the
// schedules for RescueAfter (the tick is unique while it runs), and its
// waits, deliveries and webhook calls would wait as long. A job started
// less than 15 s ago is left alone, as is one whose process may still be
// starting (its first heartbeat comes when its client starts).
func (s *Service) rescueDead(ctx context.Context) error {
	lapsed := time.Now().Add(-3 * ProcessBeat)
	res, err := s.st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'retryable', scheduled_at = now(),
  errors = array_append(errors, jsonb_build_object('at', now(), 'attempt', attempt,
    'error', 'the process running it stopped: its heartbeat lapsed (campc serve rescued it)', 'trace', ''))
WHERE state = 'running' AND kind <> $1 AND attempted_at < $2
AND NOT EXISTS (SELECT 1 FROM serve_processes p WHERE p.id = attempted_by[array_length(attempted_by, 1)] AND p.heartbeat >= $3)`,
		kindBatch, lapsed, lapsed.UnixMicro())
	if err != nil {
		return fmt.Errorf("rescue the jobs of stopped processes: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		s.log.Warn("jobs of a stopped process given to the others", "jobs", n)
	}
	return nil
}

// BatchArgs is one chunk of a shared batch run.
type BatchArgs struct {
	Run   int64 `json:"run"`
	Chunk int   `json:"chunk"`
}

func (BatchArgs) Kind() string { return kindBatch }

// queueBatch is the River queue of the chunks, apart from the other jobs
// so that a long run's chunks never hold back waits, deliveries and
// webhook calls. Its MaxWorkers (UseRiver: one per core, at most
// --workers) is how many chunks a process runs at once: a process
// fetches a chunk only when it can run it, and does not hold several
// while other processes have none left to take.
const queueBatch = "campc_batch"

func (BatchArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: queueBatch} }

// batchWorker runs a chunk. The chunk's cursor moves in each group's
// transaction, checked against the stored one, so a retried job, or one
// River rescued while the first still ran, runs nobody twice.
type batchWorker struct {
	river.WorkerDefaults[BatchArgs]
	s *Service
}

func (w *batchWorker) Work(ctx context.Context, job *river.Job[BatchArgs]) error {
	s := w.s
	defer s.work()()
	rep, fin, err := s.eng.RunChunk(ctx, job.Args.Run, job.Args.Chunk)
	s.record(rep)
	if errors.Is(err, vm.ErrCampaignGone) {
		// A deploy removed the campaign while its run was in progress:
		// the run ends where it is, and the job has nothing to retry.
		// Said once, by the chunk that ends the run.
		if fin != nil {
			s.log.Warn("batch run stopped: its campaign is no longer deployed", "campaign", fin.Finished.Campaign, "workspace", fin.Finished.Workspace, "run", job.Args.Run)
		}
		err = nil
	}
	if err != nil {
		return err
	}
	if fin != nil {
		r := fin.Finished
		entered := 0
		for _, e := range r.Summary.Entered {
			entered += e.People
		}
		s.m.batchRuns.Inc()
		s.log.Info("batch run", "campaign", r.Campaign, "workspace", r.Workspace, "at", r.Started.UTC().Format(time.RFC3339),
			"entered", entered, "activities", fin.RunActivities)
	}
	return nil
}

// InsertChunkJobs implements store.ChunkJobHook: one job per chunk, in
// the transaction that stores the run and its chunks.
func (q *riverQueue) InsertChunkJobs(ctx context.Context, tx *sql.Tx, run int64, chunks int) error {
	params := make([]river.InsertManyParams, chunks)
	for i := range params {
		params[i] = river.InsertManyParams{Args: BatchArgs{Run: run, Chunk: i}}
	}
	_, err := q.client.InsertManyFastTx(ctx, tx, params)
	return err
}

// startBatch starts campaign c's batch run at at: with River a shared run
// whose chunks are jobs (it returns once they are queued, and the job
// that finishes the last chunk logs the run), else the whole run here.
// The report is that of what ran here; shared says that the run's chunks
// are jobs (nothing ran here). A campaign whose previous shared run is
// still going gets errRunInProgress.
func (s *Service) startBatch(ctx context.Context, c *ir.Campaign, at time.Time, opts vm.RunOptions) (rep *vm.Report, shared bool, err error) {
	if s.river == nil {
		rep, err := s.eng.RunBatchAt(ctx, c, at, opts)
		return rep, false, err
	}
	st, err := s.eng.StartShared(ctx, c, at, opts, s.cfg.BatchChunk)
	if err != nil {
		return nil, false, err
	}
	if st.Report != nil {
		return st.Report, false, nil
	}
	switch st.State {
	case storage.RunNew:
		s.log.Info("batch run started, shared by the processes", "campaign", c.Name, "workspace", c.Workspace.Name, "at", at.UTC().Format(time.RFC3339), "run", st.Run.ID)
	case storage.RunResumed:
		if !st.Run.Started.Equal(at.UTC().Truncate(time.Microsecond)) {
			return nil, false, fmt.Errorf("batch run of %q at %s: %w (run %d, started %s)", c.Name, at.UTC().Format(time.RFC3339), errRunInProgress,
				st.Run.ID, st.Run.Started.UTC().Format(time.RFC3339))
		}
	}
	return &vm.Report{}, true, nil
}

// errRunInProgress is startBatch's error for a campaign whose previous
// shared run is still going: a run does not start beside it (nor count as
// it, which would lose its start time and tokens); the caller tries again
// later. (The same run started again, a tick repeated, is no error.)
var errRunInProgress = errors.New("the campaign's previous batch run is still in progress")

// requeueChunks gives the chunks of unfinished shared runs whose jobs
// died with their process (SIGKILL: River would rescue the job only after
// RescueAfter) a new job, once that process's heartbeat has lapsed. A
// chunk whose job waits to run, or is running on a live process, or was
// discarded (campc retry decides), is left alone. A chunk run by two jobs
// is still run once (its cursor), so a job that was not dead after all
// costs nothing but its skip.
func (s *Service) requeueChunks(ctx context.Context) error {
	db := s.st.DB()
	alive := time.Now().Add(-3 * ProcessBeat)
	rows, err := db.QueryContext(ctx, `SELECT c.run_id, c.chunk FROM batch_chunks c JOIN batch_runs r ON r.id = c.run_id
WHERE r.done = 0 AND c.done = 0 AND NOT EXISTS (
  SELECT 1 FROM river_job j WHERE j.kind = $1 AND (j.args->>'run')::bigint = c.run_id AND (j.args->>'chunk')::int = c.chunk
  AND (j.state IN ('available', 'pending', 'scheduled', 'retryable', 'discarded')
    OR (j.state = 'running' AND j.attempted_by[array_length(j.attempted_by, 1)] IN (SELECT id FROM serve_processes WHERE heartbeat >= $2))))
ORDER BY c.run_id, c.chunk`, kindBatch, alive.UnixMicro())
	if err != nil {
		return fmt.Errorf("chunks to queue again: %w", err)
	}
	var params []river.InsertManyParams
	for rows.Next() {
		var a BatchArgs
		if err := rows.Scan(&a.Run, &a.Chunk); err != nil {
			rows.Close()
			return err
		}
		params = append(params, river.InsertManyParams{Args: a})
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(params) == 0 {
		return err
	}
	s.log.Warn("chunks of a batch run queued again: the process running them stopped", "chunks", len(params))
	_, err = s.river.client.InsertMany(ctx, params)
	return err
}
