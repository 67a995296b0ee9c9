package bench

import (
	"context"
	"testing"
	"time"

	"github.com/campc/campc/bench/gen"
)

// The simulation is what it says: the recurring batch runs at each of its
// 30 daily times and finds people every day, every event is delivered,
// and the flows' waits resume (the steps after them write their
// activities), setting off more trigger campaigns.
func TestSimulateWorkload(t *testing.T) {
	ctx := context.Background()
	const people = 2000
	prog := mustCompile(t, gen.SimulationSources())
	s := LoadMem(0, people)
	eng, clock, err := NewSimulation(prog, s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Simulate(ctx, eng, clock, people, SimDays)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.BatchRuns != SimDays || res.Events != SimDays*gen.SimEvents(people) || res.Advances != SimDays*24+1 {
		t.Errorf("%d batch runs, %d events, %d advances; want %d, %d, %d", res.BatchRuns, res.Events, res.Advances,
			SimDays, SimDays*gen.SimEvents(people), SimDays*24+1)
	}
	acts, _ := s.Activities(ctx, "")
	if len(acts) != res.Activities {
		t.Errorf("the store holds %d activities, the reports %d", len(acts), res.Activities)
	}
	end := gen.SimStart.Add(SimDays * 24 * time.Hour)
	count, types := map[string]int{}, map[string]int{}
	batchDays := map[string]bool{}
	for _, a := range acts {
		if a.Time.Before(gen.SimStart) || a.Time.After(end) {
			t.Fatalf("activity at %v, outside the simulation: %+v", a.Time, a)
		}
		count[a.Campaign+": "+a.Type+" "+a.Primary]++
		types[a.Campaign+": "+a.Type]++
		if a.Campaign == gen.SimBatch {
			batchDays[a.Time.Format(time.DateOnly)] = true
		}
	}
	t.Logf("%d activities: %v", len(acts), types)
	if len(batchDays) != SimDays {
		t.Errorf("the batch found people on %d days of %d", len(batchDays), SimDays)
	}
	for _, k := range []string{
		"Welcome Series: Send Email Follow Up",                       // after a wait of 2 days
		"Welcome Series: Change Data Value Segment",                  // after 7 days
		"Segment Watch: Change Score LeadScore",                      // set off by the step after the wait
		"Hot Lead Alert: Change Data Value Segment",                  // after a day
		"Webinar Follow Up: Interesting Moment attended the webinar", // after 3 days
		"Contact Sales: Add to List Hot Leads",
		gen.SimBatch + ": Add to List Hot Leads",
	} {
		if count[k] == 0 {
			t.Errorf("no %q", k)
		}
	}
}
