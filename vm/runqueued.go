package vm

import (
	"context"
	"errors"
	"slices"

	"github.com/campc/campc/vm/storage"
)

// RunQueued runs the queued flow runs of people, as a host's job does
// for the runs an operation left with Options.DeferRuns: all in one
// transaction that locks the people (in Id order) before it reads each
// one's queue and runs it in order (and what those runs set off), so one
// person's runs never overlap and run in the order they were queued; a
// run taken off the queue in the transaction that runs it is not run
// again by a job done twice. If that transaction fails, each person is
// run in a transaction of their own: a run another process took first is
// skipped, a person whose run fails keeps it queued, the others go on,
// and the first error is returned.
func (e *Engine) RunQueued(ctx context.Context, people []string) (*Report, error) {
	return e.together(ctx, people, e.runQueuedGroup, func(ctx context.Context, id string) (*Report, error) {
		rep, err := e.runQueuedGroup(ctx, []string{id})
		if errors.Is(err, storage.ErrTaken) {
			err = nil // another process ran it first
		}
		return rep, err
	})
}

// together runs people's work in one transaction (group, given them in Id
// order, without repeats); if that fails, each person's alone (one), so
// that one person's error holds back no one else's work. Their reports
// are gathered and the first error is returned.
func (e *Engine) together(ctx context.Context, people []string, group func(context.Context, []string) (*Report, error),
	one func(context.Context, string) (*Report, error)) (*Report, error) {
	ids := slices.Clone(people)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 1 {
		if rep, err := group(ctx, ids); err == nil || ctx.Err() != nil {
			return rep, err
		}
	}
	all := &Report{}
	var first error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return all, err
		}
		rep, err := one(ctx, id)
		if rep != nil {
			all.Activities = append(all.Activities, rep.Activities...)
			all.Entered = append(all.Entered, rep.Entered...)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return all, first
}

func (e *Engine) runQueuedGroup(ctx context.Context, ids []string) (*Report, error) {
	defer e.lock()()
	r := e.newRun(ctx)
	err := r.inTx(func() error {
		qr, ok := r.tx.(storage.QueueReader)
		if !ok {
			return errors.New("vm: the store cannot list a person's queued runs")
		}
		if err := r.prefetch(ids); err != nil {
			return err
		}
		for _, id := range ids {
			// The person first: their lock, before their queue is read.
			if _, err := r.load(id); err != nil {
				return err
			}
			if err := r.queueOf(qr, id); err != nil {
				return err
			}
			if err := r.drain(); err != nil {
				return err
			}
		}
		return nil
	})
	return r.report, err
}

// queueOf puts a person's queued runs on the run's queue, in order; a
// run whose campaign is gone is taken off the store's queue.
func (r *run) queueOf(qr storage.QueueReader, id string) error {
	queued, err := qr.QueuedOf(id)
	if err != nil {
		return err
	}
	for _, q := range queued {
		w, ok := r.e.workOf(q)
		if !ok {
			if err := r.tx.Apply(&storage.Commit{Dequeue: []int64{q.ID}}); err != nil {
				return err
			}
			continue
		}
		r.queue = append(r.queue, w)
	}
	return nil
}
