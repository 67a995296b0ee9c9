package vm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm/storage"
)

// Shared batch runs: a batch run whose people several processes on one
// store run at once. StartShared splits the run's people (their Ids at
// its start, in order) into chunks of consecutive Ids and stores them with
// the run, in one transaction with the jobs that will run them (the
// store's job queue); RunChunk, on any process, runs one chunk in groups,
// each group one transaction that moves the chunk's own cursor. The
// in-process path (RunBatch, RunScheduled) is unchanged: a store that is
// not a ChunkStore never sees a chunk.

// DefaultBatchChunk is how many people a chunk of a shared batch run
// holds: enough that a chunk's job costs little next to its passes, few
// enough that the processes share a run of some thousands.
const DefaultBatchChunk = 2000

// SharedStart is what StartShared did.
type SharedStart struct {
	Run   *storage.BatchRun
	State storage.RunState // RunNew: its chunks' jobs are queued; RunResumed: the campaign's unfinished shared run goes on; RunDone: complete already
	// Report is set when the run ran here, in this call, as RunBatchAt
	// runs it: the store shares no runs, the campaign's smart list is
	// invalid (one activity says so), or the campaign's unfinished run is
	// not a shared one.
	Report *Report
}

// StartShared starts the batch run of campaign c at at, as RunBatchAt
// would, but leaves its people to RunChunk, on any process: it returns
// once the run and its chunks are stored. A campaign with an unfinished
// shared run does not start another: StartShared returns that run
// (RunResumed) and the caller decides (campc serve waits for it when it
// is another start's).
func (e *Engine) StartShared(ctx context.Context, c *ir.Campaign, at time.Time, opts RunOptions, size int) (*SharedStart, error) {
	if c.Kind != ir.Batch {
		return nil, fmt.Errorf("campaign %q is a %s campaign, not a batch campaign", c.Name, c.Kind)
	}
	if err := checkOverrides(c, opts.Tokens); err != nil {
		return nil, err
	}
	at = at.UTC().Truncate(time.Microsecond)
	cs, ok := e.store.(storage.ChunkStore)
	if !ok || c.SmartList.Invalid != "" {
		rep, err := e.runBatch(ctx, c, at, opts)
		return &SharedStart{Report: rep}, err
	}
	if size <= 0 {
		size = DefaultBatchChunk
	}
	want := &storage.BatchRun{Workspace: c.Workspace.Name, Campaign: c.Name, Started: at, Tokens: opts.Tokens}
	br, state, shared, err := cs.StartShared(ctx, want, opts.Again, size)
	if err != nil {
		return nil, fmt.Errorf("start the shared batch run of %q: %w", c.Name, err)
	}
	if state == storage.RunResumed && !shared {
		// An unfinished run of one process (from before the processes
		// shared runs): it is finished as it was started.
		rep, err := e.runBatch(ctx, c, at, opts)
		return &SharedStart{Run: br, State: storage.RunResumed, Report: rep}, err
	}
	return &SharedStart{Run: br, State: state}, nil
}

// errChunkMoved says that a chunk's stored cursor is not where this job
// left it: another job (a retried one, or one River rescued while this one
// still ran) committed its next group.
var errChunkMoved = errors.New("vm: the chunk moved on")

// ErrCampaignGone is RunChunk's error for a chunk of a run whose batch
// campaign the program no longer has (a deploy removed it while the run
// was in progress): the chunk is marked done with nobody more run, so the
// run ends where it was; the call that marks the last chunk finishes it
// (finished is set beside the error). Nothing is left to retry.
var ErrCampaignGone = errors.New("the program no longer has the run's batch campaign")

// RunChunk runs chunk index of shared batch run runID: its people after
// its cursor, in groups (Options.BatchGroup), each group one transaction
// that locks the chunk, checks that its cursor is where this call left it
// (else another job ran the group: this one skips forward to the stored
// cursor), runs the passes and moves the cursor. A chunk that is done
// runs nobody, so a job run twice writes nothing twice. finished is the
// run, when this call's last group finished it.
func (e *Engine) RunChunk(ctx context.Context, runID int64, index int) (rep *Report, finished *storage.Chunk, err error) {
	cs, ok := e.store.(storage.ChunkStore)
	if !ok {
		return nil, nil, errors.New("vm: the store keeps no shared batch runs")
	}
	br, ch, err := cs.ChunkOf(ctx, runID, index)
	if err != nil {
		return nil, nil, fmt.Errorf("batch run %d, chunk %d: %w", runID, index, err)
	}
	defer e.lock()()
	r := e.newRun(ctx)
	if ch.Done || br.Done {
		return r.report, nil, nil
	}
	c := e.prog.Campaign(br.Workspace, br.Campaign)
	if c == nil || c.Kind != ir.Batch {
		finished, err := r.endChunk(runID, index)
		if err == nil {
			err = ErrCampaignGone
		}
		return r.report, finished, fmt.Errorf("batch run %d of %q in workspace %q, chunk %d: %w", runID, br.Campaign, br.Workspace, index, err)
	}
	r.now = br.Started.UTC()
	ids, err := cs.PersonIDsIn(ctx, ch.First, ch.Last)
	if err != nil {
		return r.report, nil, fmt.Errorf("batch run %d, chunk %d: %w", runID, index, err)
	}
	// group runs people as one transaction, expecting the chunk at cursor.
	group := func(people []string, cursor string, last bool) (failed int, moved *storage.Chunk, err error) {
		failed = -1
		var cur *storage.Chunk
		err = r.inTx(func() error {
			ct, err := r.chunkTx()
			if err != nil {
				return err
			}
			if cur, err = ct.LockChunk(runID, index); err != nil {
				return err
			}
			if cur.Done || cur.Cursor != cursor {
				moved = cur
				return errChunkMoved
			}
			if err := r.prefetch(people); err != nil {
				return err
			}
			local := storage.BatchRun{ID: runID, Tokens: br.Tokens, Cursor: cursor}
			if failed, err = r.batchGroup(c, &local, people); err != nil {
				return err
			}
			cur.Cursor, cur.Done = local.Cursor, last
			cur.Summary = summaryAdd(cur.Summary, r.pending)
			cur.Activities += len(r.pending.Activities)
			return ct.MoveChunk(cur)
		})
		if err == nil && cur.Finished != nil {
			finished = cur // set by the commit
		}
		return failed, moved, err
	}
	cursor := ch.Cursor
	for {
		rest := after(ids, cursor)
		// With nobody left (all deleted since, or run by another job
		// whose Ids ended here), an empty group marks the chunk done.
		n := min(e.group, len(rest))
		people, last := rest[:n], n == len(rest)
		failed, moved, err := group(people, cursor, last)
		switch {
		case errors.Is(err, errChunkMoved):
			if moved.Done {
				return r.report, finished, nil
			}
			cursor = moved.Cursor
			continue
		case err != nil:
			// The people before the failing one are committed, as a batch
			// run's are (redoBefore); the error stops the job, and its
			// retry starts again at the failing person.
			if failed > 0 {
				if _, _, err2 := group(people[:failed], cursor, false); err2 != nil && !errors.Is(err2, errChunkMoved) {
					return r.report, nil, err2
				}
			}
			return r.report, nil, fmt.Errorf("batch run %d of %q, chunk %d: %w", runID, br.Campaign, index, err)
		}
		if last {
			return r.report, finished, nil
		}
		cursor = people[len(people)-1]
	}
}

// endChunk marks chunk index of run runID done where its cursor is,
// running nobody; finished is the run when that finished it.
func (r *run) endChunk(runID int64, index int) (finished *storage.Chunk, err error) {
	var cur *storage.Chunk
	err = r.inTx(func() error {
		ct, err := r.chunkTx()
		if err != nil {
			return err
		}
		if cur, err = ct.LockChunk(runID, index); err != nil || cur.Done {
			cur = nil
			return err
		}
		cur.Done = true
		return ct.MoveChunk(cur)
	})
	if err == nil && cur != nil && cur.Finished != nil {
		finished = cur // set by the commit
	}
	return finished, err
}

// chunkTx is the run's transaction as one that keeps chunks.
func (r *run) chunkTx() (storage.ChunkTx, error) {
	ct, ok := r.tx.(storage.ChunkTx)
	if !ok {
		return nil, errors.New("vm: the store's transaction keeps no chunks")
	}
	return ct, nil
}
