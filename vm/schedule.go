package vm

import (
	"context"
	"sort"
	"time"

	"github.com/campc/campc/ir"
)

// Scheduled is one run that a batch campaign's schedule (run at, run
// every) puts at a time.
type Scheduled struct {
	Campaign *ir.Campaign
	At       time.Time
}

// Schedules lists the scheduled batch runs due from from to to, both
// included, in time order, campaigns at the same time in program order.
// "run at T" is due at T; "run every D starting S" at S, S+D, S+2D, …;
// "run every D" without a start at whole multiples of D since the Unix
// epoch, so that every process and every restart puts them at the same
// times. "run now" is for the host that deploys the project: it has no
// time of its own, so no schedule lists it.
func (e *Engine) Schedules(from, to time.Time) []Scheduled {
	var out []Scheduled
	for _, c := range e.prog.Campaigns {
		if c.Kind != ir.Batch || c.Run == nil {
			continue
		}
		s := c.Run
		switch {
		case s.Every > 0:
			start := s.At
			if start.IsZero() {
				start = time.Unix(0, 0).UTC()
			}
			t := start
			if t.Before(from) {
				// The first occurrence at or after from, counted without a loop.
				n := (from.Sub(start) + s.Every - 1) / s.Every
				t = start.Add(n * s.Every)
			}
			for ; !t.After(to); t = t.Add(s.Every) {
				out = append(out, Scheduled{c, t.UTC()})
			}
		case !s.At.IsZero():
			if !s.At.Before(from) && !s.At.After(to) {
				out = append(out, Scheduled{c, s.At.UTC()})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// RunScheduled runs a scheduled batch run at its own time, whatever the
// clock says. A run is named by its campaign and start time (see
// Store.StartRun), so one that is complete does not run again: its report
// is then empty, so that a restart, or two processes bringing one database
// up to date, never run a schedule twice nor show its log twice.
func (e *Engine) RunScheduled(ctx context.Context, s Scheduled) (*Report, error) {
	rep, err := e.runBatch(ctx, s.Campaign, s.At.UTC().Truncate(time.Microsecond), RunOptions{Workspace: s.Campaign.Workspace.Name})
	if rep != nil && rep.Completed != nil {
		return &Report{}, err
	}
	return rep, err
}

// CatchUp brings the store from from to to (both included) in time
// order: before each scheduled run, the waits due at or before its time
// resume (each at its due time); then the run runs, at its time; last,
// the waits due by to resume. The host's clock is not read: the times
// are given.
func (e *Engine) CatchUp(ctx context.Context, from, to time.Time) ([]*Report, error) {
	var reps []*Report
	for _, s := range e.Schedules(from, to) {
		rep, err := e.advance(ctx, s.At)
		reps = append(reps, rep)
		if err != nil {
			return reps, err
		}
		rep, err = e.RunScheduled(ctx, s)
		reps = append(reps, rep)
		if err != nil {
			return reps, err
		}
	}
	rep, err := e.advance(ctx, to.UTC().Truncate(time.Microsecond))
	return append(reps, rep), err
}
