package vm

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/campc/campc/vm/storage"
)

// ResumePerson resumes one person's parked waits due at or before until,
// in due order, each at its due time, and runs what they set off: what a
// job queue runs for one due wait (campc serve on several processes),
// so that processes resuming different people's waits never meet. A wait
// another process resumed first is skipped; nothing is resumed twice (the
// resuming transaction deletes the parked row).
func (e *Engine) ResumePerson(ctx context.Context, person string, until time.Time) (*Report, error) {
	defer e.lock()()
	r := e.newRun(ctx)
	until = until.UTC()
	skip := map[int64]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return r.report, err
		}
		var next *storage.Parked
		err := r.inTx(func() error {
			waits, err := r.tx.WaitsOf(person)
			if err != nil {
				return err
			}
			byDue(waits)
			for _, w := range waits {
				if !w.Due.After(until) && !skip[w.ID] && w.Webhook == nil { // a webhook call is its job's
					next = w
					break
				}
			}
			if next == nil {
				return nil
			}
			r.now = next.Due.UTC()
			r.parkedMin = time.Time{}
			if err := r.resume(next); err != nil {
				return err
			}
			return r.drain()
		})
		if next == nil {
			return r.report, err
		}
		if errors.Is(err, storage.ErrTaken) {
			skip[next.ID] = true // another process resumed it
			continue
		}
		if err != nil {
			return r.report, err
		}
		skip[next.ID] = true
	}
}

// AdvanceUntil is Advance up to until rather than the clock's time: the
// waits due at or before until resume, and the queued runs run. A host
// whose waits are resumed by a job queue calls it with a lag, as a net
// for waits no job covers.
func (e *Engine) AdvanceUntil(ctx context.Context, until time.Time) (*Report, error) {
	return e.advance(ctx, until.UTC().Truncate(time.Microsecond))
}

// ResumeWaitsUntil resumes the waits due at or before until, as
// AdvanceUntil does, but leaves the queued runs to whoever runs them (a
// host whose queued runs are jobs: Options.DeferRuns).
func (e *Engine) ResumeWaitsUntil(ctx context.Context, until time.Time) (*Report, error) {
	return e.advanceQueue(ctx, until.UTC().Truncate(time.Microsecond), false)
}

// ResumePeople is ResumePerson for several people at once, as a job queue
// runs the waits one transaction parked (a batch group's): the waits each
// person has due at or before until are resumed in one transaction, the
// people read and locked together (in Id order, as batch groups lock
// them), each person's in due order. Waits the resumed flows park are
// not resumed here: they have jobs of their own. If the transaction
// fails (a pass's error, a wait another process took), each person is
// resumed on their own instead (ResumePerson), so that one person's error
// holds back no one else's waits; the error of the first that fails is
// returned.
func (e *Engine) ResumePeople(ctx context.Context, people []string, until time.Time) (*Report, error) {
	return e.together(ctx, people,
		func(ctx context.Context, ids []string) (*Report, error) { return e.resumeGroup(ctx, ids, until.UTC()) },
		func(ctx context.Context, id string) (*Report, error) { return e.ResumePerson(ctx, id, until) })
}

func (e *Engine) resumeGroup(ctx context.Context, ids []string, until time.Time) (*Report, error) {
	defer e.lock()()
	r := e.newRun(ctx)
	err := r.inTx(func() error {
		if err := r.prefetch(ids); err != nil {
			return err
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			waits, err := r.tx.WaitsOf(id)
			if err != nil {
				return err
			}
			// Not yet due, or a webhook call (its own job resumes it).
			waits = slices.DeleteFunc(slices.Clone(waits), func(w *storage.Parked) bool { return w.Due.After(until) || w.Webhook != nil })
			byDue(waits)
			for _, w := range waits {
				r.now = w.Due.UTC()
				r.parkedMin = time.Time{}
				if err := r.resume(w); err != nil {
					return err
				}
				if err := r.drain(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return r.report, err
}

// byDue orders waits by due time, then ID: the order they resume in.
func byDue(waits []*storage.Parked) {
	sort.SliceStable(waits, func(i, j int) bool {
		if !waits[i].Due.Equal(waits[j].Due) {
			return waits[i].Due.Before(waits[j].Due)
		}
		return waits[i].ID < waits[j].ID
	})
}
