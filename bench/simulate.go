package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/campc/campc/bench/gen"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// SimDays is how many days of virtual time the simulation runs.
const SimDays = 30

// SimResult is what a simulation did.
type SimResult struct {
	People, Days int
	Events       int // delivered
	BatchRuns    int // runs of the recurring batch
	Advances     int // calls of Engine.Advance
	Activities   int // written by every operation
}

// discard is Effects that deliver nothing and remember nothing (the
// default vm.Recorder keeps every message, which would grow with the
// simulation).
type discard struct{}

func (discard) SendEmail(context.Context, storage.Message) error { return nil }
func (discard) SendAlert(context.Context, storage.Message) error { return nil }
func (discard) CallWebhook(context.Context, storage.WebhookRequest) (storage.WebhookResponse, error) {
	return storage.WebhookResponse{Status: 200}, nil
}
func (discard) HostAction(context.Context, vm.Action) error { return nil }

// NewSimulation makes an engine for the simulation project over store,
// with a clock of its own at gen.SimStart.
func NewSimulation(prog *ir.Program, store storage.Store) (*vm.Engine, *vm.ManualClock, error) {
	clock := vm.NewManualClock(gen.SimStart)
	eng, err := vm.New(prog, vm.Options{Store: store, Clock: clock, Effects: discard{}})
	return eng, clock, err
}

// Simulate drives `days` days of virtual time from gen.SimStart through
// the engine's API, as a host would: every hour the clock moves to the
// hour and Engine.Advance resumes the waits that came due (each at its
// own due time); at each of the recurring batch campaign's scheduled times
// Engine.RunBatch runs it (the engine has no schedule API yet, so the
// times are read from the campaign's run clause here); and the day's
// events (gen.SimEvent) are delivered with Engine.Deliver, each with the
// clock at its own time. The store must hold persons [0, people) of the
// generated population.
func Simulate(ctx context.Context, eng *vm.Engine, clock *vm.ManualClock, people, days int) (SimResult, error) {
	res := SimResult{People: people, Days: days}
	c, err := eng.Campaign(gen.SimBatch)
	if err != nil {
		return res, err
	}
	if c.Run == nil || c.Run.Every <= 0 {
		return res, fmt.Errorf("campaign %q has no recurring schedule", gen.SimBatch)
	}
	nextRun := c.Run.At
	end := gen.SimStart.Add(time.Duration(days) * 24 * time.Hour)
	perDay := gen.SimEvents(people)
	day, i := 0, 0 // the next event to deliver
	for tick := gen.SimStart; ; tick = tick.Add(time.Hour) {
		clock.Set(tick)
		rep, err := eng.Advance(ctx)
		if err != nil {
			return res, fmt.Errorf("advance to %v: %w", tick, err)
		}
		res.Advances++
		res.Activities += len(rep.Activities)
		if !tick.Before(end) {
			return res, nil
		}
		for ; !nextRun.After(tick); nextRun = nextRun.Add(c.Run.Every) {
			if nextRun.Before(tick) {
				continue // before the simulation started
			}
			rep, err := eng.RunBatch(ctx, gen.SimBatch, vm.RunOptions{})
			if err != nil {
				return res, fmt.Errorf("batch run at %v: %w", tick, err)
			}
			res.BatchRuns++
			res.Activities += len(rep.Activities)
		}
		for day < days {
			at, ev := gen.SimEvent(day, i, people)
			if !at.Before(tick.Add(time.Hour)) {
				break
			}
			clock.Set(at)
			rep, err := eng.Deliver(ctx, ev)
			if err != nil {
				return res, fmt.Errorf("event %d of day %d: %w", i, day, err)
			}
			res.Events++
			res.Activities += len(rep.Activities)
			if i++; i == perDay {
				day, i = day+1, 0
			}
		}
	}
}
