package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/people"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// errBackInTime is a --now earlier than what the database already holds.
type errBackInTime struct {
	now, end time.Time
	what     string // what gave now, when not --now
}

func (e *errBackInTime) Error() string {
	what := "--now " + e.now.Format(time.RFC3339Nano)
	if e.what != "" {
		what = fmt.Sprintf("%s, at %s,", e.what, e.now.Format(time.RFC3339Nano))
	}
	return fmt.Sprintf("%s is earlier than the database's latest activity or batch run, at %s; time does not go back: give a --now at or after it",
		what, e.end.Format(time.RFC3339Nano))
}

// historyEnd is the latest time a store's history holds (zero for none,
// and for a store that cannot say).
func historyEnd(ctx context.Context, st storage.Store) (time.Time, error) {
	if h, ok := st.(storage.HistoryEnder); ok {
		return h.HistoryEnd(ctx)
	}
	return time.Time{}, nil
}

// checkNotBack refuses a --now before the store's history (bug 9).
func checkNotBack(ctx context.Context, st storage.Store, now time.Time) (end time.Time, err error) {
	end, err = historyEnd(ctx, st)
	if err != nil {
		return end, err
	}
	if now.Before(end) {
		return end, &errBackInTime{now: now, end: end}
	}
	return end, nil
}

// bringUp brings a store up to now before a command acts at now (bug 9):
// the scheduled batch runs due after its history's end and before now
// run, each at its time, and the waits due by now resume, all in time
// order (vm.Engine.CatchUp). A store with no history has nothing to catch
// up: schedules from before its first command are not run late. A now
// given with --now (explicit) before the history's end is refused
// (errBackInTime), with nothing done; the current time, when no --now is
// given, is taken as it is.
func bringUp(ctx context.Context, eng *vm.Engine, now time.Time, inclusive, explicit bool) ([]*vm.Report, error) {
	end, err := checkNotBack(ctx, eng.Store(), now)
	var back *errBackInTime
	if errors.As(err, &back) && !explicit {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	from := end
	if from.IsZero() {
		from = now
	}
	to := now
	if !inclusive {
		// The command itself acts at now: what is scheduled at now is its
		// own business (campc run runs its campaign at now; a later
		// advance runs the others).
		to = now.Add(-time.Microsecond)
	}
	reps, err := eng.CatchUp(ctx, from, to)
	if err != nil || inclusive {
		return reps, err
	}
	// Waits due at now itself resume before the command acts (the
	// engine's clock stands at now).
	rep, err := eng.Advance(ctx)
	return append(reps, rep), err
}

// readEventsFile reads and checks --events before anything runs.
func readEventsFile(path string, prog *ir.Program) ([]*vm.TimedEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return people.ReadEvents(path, f, prog)
}

// runTimeline applies events in order on the virtual clock, from start:
// before each event, the waits and scheduled runs due by its time (in time
// order, vm.Engine.CatchUp); then the event, at its time; at the end, what
// is due by end. Waits and schedules at an event's time come before it.
func runTimeline(ctx context.Context, eng *vm.Engine, clock *vm.ManualClock, events []*vm.TimedEvent, start, end time.Time) ([]*vm.Report, error) {
	var reps []*vm.Report
	next := start
	for _, te := range events {
		more, err := eng.CatchUp(ctx, next, te.Time)
		reps = append(reps, more...)
		if err != nil {
			return reps, err
		}
		clock.Set(te.Time)
		rep, err := eng.Apply(ctx, te)
		reps = append(reps, rep)
		if err != nil {
			return reps, fmt.Errorf("%s: %w", te.Pos(), err)
		}
		next = te.Time.Add(time.Microsecond)
	}
	if !end.Before(next) {
		more, err := eng.CatchUp(ctx, next, end)
		reps = append(reps, more...)
		if err != nil {
			return reps, err
		}
	}
	clock.Set(end)
	return reps, nil
}

// eventPeopleExist checks, before anything runs, that every person an
// event names is in the people file or the store.
func eventPeopleExist(ctx context.Context, st storage.Store, people *checkedPeople, events []*vm.TimedEvent) error {
	if len(events) == 0 {
		return nil
	}
	inFile := map[string]bool{}
	if people != nil {
		for _, id := range people.ids() {
			inFile[id] = true
		}
	}
	tx, err := st.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	known := map[string]bool{}
	for _, te := range events {
		id := te.Event.Person
		if inFile[id] || known[id] {
			continue
		}
		p, err := tx.LoadPerson(id)
		if err != nil {
			return err
		}
		if p == nil {
			return fmt.Errorf("%s: error[events]: no person with Id %s (give them in --people, or import them into --db)", te.PersonPos(), lang.QuoteIfNeeded(id))
		}
		known[id] = true
	}
	return nil
}
