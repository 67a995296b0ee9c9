package vm

import (
	"context"
	"errors"
	"sort"
	"time"
)

// ResumePerson resumes one person's parked waits due at or before until,
// in due order, each at its due time, and runs what they set off: what a
// job queue runs for one due wait (campc serve on several processes),
// so that processes resuming different people's waits never meet. A wait
// another process resumed first is skipped; nothing is resumed twice (the
// resuming transaction deletes the parked row).
func (e *Engine) ResumePerson(ctx context.Context, person string, until time.Time) (*Report, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.newRun(ctx)
	until = until.UTC()
	skip := map[int64]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return r.report, err
		}
		var next *Parked
		err := r.inTx(func() error {
			waits, err := r.tx.WaitsOf(person)
			if err != nil {
				return err
			}
			sort.SliceStable(waits, func(i, j int) bool {
				if !waits[i].Due.Equal(waits[j].Due) {
					return waits[i].Due.Before(waits[j].Due)
				}
				return waits[i].ID < waits[j].ID
			})
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
		if errors.Is(err, ErrTaken) {
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
