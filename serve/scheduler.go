package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
)

// stateThrough is the time through which the program's schedules and
// waits have run (RFC 3339, UTC); "run now:KEY" says that campaign KEY's
// run now has run.
const stateThrough = "scheduled through"

// waitLag is how overdue a wait must be before the tick resumes it when
// River's jobs resume the waits.
const waitLag = 5 * time.Minute

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) state(ctx context.Context, name string) (string, error) {
	var v string
	err := s.inTxLocked(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		var err error
		v, err = tx.State(name)
		return err
	})
	return v, err
}

func (s *Service) setState(ctx context.Context, name, value string) error {
	return s.inTxLocked(ctx, func(ctx context.Context, tx *store.ServeTx) error { return tx.SetState(name, value) })
}

// Start brings the database up to the clock before the service takes
// calls: the queued runs a stopped service left are run; a schedule (run
// at, run every) missed while the service was down runs once, at its
// latest missed time, and is logged; the waits due resume; each run now
// campaign that has not run yet runs. A batch run that a stopped service
// left unfinished is finished, not started again. The first start of a
// service on a database runs no schedule from before it. Before all
// that, a deploy campc deploy left pending is applied, or the service's
// own project, when the database ran another, is deployed (deploy.go).
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The project to run first: a deploy left pending, or this one.
	if err := s.syncDeploy(ctx, true); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	now := s.now()
	through, err := s.through(ctx)
	if err != nil {
		return err
	}
	if through.IsZero() {
		through = now
	} else if through.Before(now) {
		missed := s.eng.Schedules(through.Add(time.Microsecond), now)
		latest := map[*ir.Campaign]vm.Scheduled{}
		count := map[*ir.Campaign]int{}
		var order []*ir.Campaign
		for _, sc := range missed {
			if _, ok := latest[sc.Campaign]; !ok {
				order = append(order, sc.Campaign)
			}
			latest[sc.Campaign] = sc
			count[sc.Campaign]++
		}
		for _, c := range order {
			sc := latest[c]
			s.log.Warn("schedule missed while the service was down: running it once", "campaign", c.Name, "workspace", c.Workspace.Name,
				"at", sc.At.Format(time.RFC3339), "missed", count[c])
			if err := s.runScheduled(ctx, sc); errors.Is(err, errRunInProgress) {
				// Other processes are still running the campaign's
				// previous shared run: the missed one is left (as it
				// would be were that run this one's).
				s.log.Warn("schedule missed while the service was down: not run, the campaign's previous run is still in progress", "campaign", c.Name, "workspace", c.Workspace.Name)
			} else if err != nil {
				return err
			}
		}
	}
	rep, err := s.eng.CatchUp(ctx, now, now) // queued runs, and the waits due by now
	s.record(rep...)
	if err != nil {
		return err
	}
	if err := s.setState(ctx, stateThrough, now.Format(time.RFC3339Nano)); err != nil {
		return err
	}
	if err := s.runNow(ctx, now); err != nil {
		return err
	}
	if err := s.apiSchedules(ctx, now); err != nil {
		return err
	}
	s.ready.Store(true)
	return nil
}

func (s *Service) through(ctx context.Context) (time.Time, error) {
	v, err := s.state(ctx, stateThrough)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("the service's state %q is damaged: %q", stateThrough, v)
	}
	return t, nil
}

func (s *Service) runScheduled(ctx context.Context, sc vm.Scheduled) error {
	var rep *vm.Report
	var err error
	if s.river != nil {
		// Shared: the job that finishes the run's last chunk logs it.
		var shared bool
		if rep, shared, err = s.startBatch(ctx, sc.Campaign, sc.At, vm.RunOptions{Workspace: sc.Campaign.Workspace.Name}); err == nil && shared {
			return nil
		}
	} else {
		rep, err = s.eng.RunScheduled(ctx, sc)
	}
	s.record(rep)
	if err != nil {
		return fmt.Errorf("scheduled run of %q at %s: %w", sc.Campaign.Name, sc.At.Format(time.RFC3339), err)
	}
	s.m.batchRuns.Inc()
	s.log.Info("batch run", "campaign", sc.Campaign.Name, "workspace", sc.Campaign.Workspace.Name, "at", sc.At.Format(time.RFC3339),
		"entered", len(rep.Entered), "activities", len(rep.Activities))
	return nil
}

// Tick runs what fell due since the last tick: the program's scheduled
// batch runs and the waits due, in time order, then the runs the API
// scheduled. The scheduler calls it every Poll; tests call it after
// moving their clock.
func (s *Service) Tick(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A deploy recorded since (campc deploy, another service) comes first.
	if err := s.syncDeploy(ctx, false); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	now := s.now()
	through, err := s.through(ctx)
	if err != nil {
		return err
	}
	if !through.Before(now) {
		return nil
	}
	if due, err := s.st.DueWaits(ctx, now); err == nil {
		s.m.waitsDue.Set(float64(len(due)))
		if len(due) > 0 {
			s.log.Info("waits due", "count", len(due))
		}
	}
	held := false
	for _, sc := range s.eng.Schedules(through.Add(time.Microsecond), now) {
		reps, err := s.eng.CatchUp(ctx, through.Add(time.Microsecond), sc.At.Add(-time.Microsecond))
		s.record(reps...)
		if err != nil {
			return err
		}
		if err := s.runScheduled(ctx, sc); errors.Is(err, errRunInProgress) {
			// The campaign's previous shared run is still going: this
			// schedule, and those after it, wait for a later tick, as they
			// waited for the run when the tick ran it whole.
			held = true
			break
		} else if err != nil {
			return err
		}
		through = sc.At
	}
	if s.river != nil {
		// The waits are River's jobs (one per wait, at its due time): the
		// tick resumes only those overdue by waitLag, which no job has
		// covered (waits parked before the upgrade to River, a job
		// discarded), rather than contend with the jobs for the people.
		// The queued runs are jobs too (campc_runs); those a start finds
		// left over it runs (CatchUp).
		rep, err := s.eng.ResumeWaitsUntil(ctx, now.Add(-waitLag))
		s.record(rep)
		if err != nil {
			return err
		}
	} else {
		reps, err := s.eng.CatchUp(ctx, now, now)
		s.record(reps...)
		if err != nil {
			return err
		}
	}
	if err := s.apiSchedules(ctx, now); err != nil {
		return err
	}
	if held {
		return s.setState(ctx, stateThrough, through.Format(time.RFC3339Nano))
	}
	return s.setState(ctx, stateThrough, now.Format(time.RFC3339Nano))
}

// apiSchedules runs the batch runs the API scheduled that are due, each
// at its time with its token overrides, and marks them done. A run left
// unfinished by a stop is finished by the next.
func (s *Service) apiSchedules(ctx context.Context, now time.Time) error {
	var due []*store.APISchedule
	if err := s.inTxLocked(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		var err error
		due, err = tx.DueSchedules(now)
		return err
	}); err != nil {
		return err
	}
	for _, sc := range due {
		c := s.prog.Campaign(sc.Workspace, sc.Campaign)
		if c == nil || c.Kind != ir.Batch {
			s.log.Warn("scheduled run dropped: the campaign is gone or no longer a batch campaign", "campaign", sc.Campaign, "workspace", sc.Workspace)
		} else {
			var tokens map[string]string
			if err := json.Unmarshal([]byte(sc.Tokens), &tokens); err != nil {
				return fmt.Errorf("scheduled run %d: damaged tokens: %v", sc.ID, err)
			}
			rep, shared, err := s.startBatch(ctx, c, sc.RunAt, vm.RunOptions{Workspace: c.Workspace.Name, Tokens: tokens})
			s.record(rep)
			if errors.Is(err, errRunInProgress) {
				continue // a later tick starts it, once the campaign's run in progress is done
			}
			if err != nil {
				return fmt.Errorf("scheduled run of %q: %w", c.Name, err)
			}
			if !shared {
				s.m.batchRuns.Inc()
				s.log.Info("batch run (scheduled by the API)", "campaign", c.Name, "workspace", c.Workspace.Name, "at", sc.RunAt.Format(time.RFC3339),
					"entered", len(rep.Entered), "activities", len(rep.Activities))
			}
		}
		if err := s.inTxLocked(ctx, func(ctx context.Context, tx *store.ServeTx) error { return tx.ScheduleDone(sc.ID) }); err != nil {
			return err
		}
	}
	return nil
}

// Run ticks every Poll until stop is closed, and returns once the tick in
// progress has finished: passes in flight are drained, not cut. A tick's
// error is logged and the next tick tries again. Beside it the deliverer
// sends the outbox every Poll, and at once after a commit; an attempt in
// flight at stop is finished (it is bounded by the relay timeout).
func (s *Service) Run(ctx context.Context, stop <-chan struct{}) {
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		s.deliverLoop(ctx, stop)
	}()
	defer func() { <-delivered }()
	if s.river != nil {
		// River's leader inserts the tick (TickArgs) every Poll, and any
		// process works it and the other jobs.
		s.river.run(ctx, stop)
		return
	}
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Tick(ctx); err != nil {
				s.log.Error("scheduler", "error", err.Error())
			}
		}
	}
}

// deliverLoop delivers what is due every Poll and whenever a commit may
// have put mail in the outbox.
func (s *Service) deliverLoop(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := s.DeliverDue(ctx); err != nil {
			s.log.Error("deliverer", "error", err.Error())
		}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}
