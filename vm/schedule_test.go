package vm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

const scheduled = `workspace "W"
program "P" {
  batch campaign "Hourly" {
    smart list { filter Email is not empty }
    flow { interesting moment web "hourly" }
    run every 6 hours
    qualify every time
  }
  batch campaign "Once" {
    smart list { filter Email is not empty }
    flow {
      interesting moment web "once"
      wait 1 hour
      interesting moment web "after the wait"
    }
    run at 2026-12-01T09:00:00Z
  }
  batch campaign "Weekly" {
    smart list { filter Email is not empty }
    flow { interesting moment web "weekly" }
    run every 1 week starting 2026-11-30T09:00:00Z
    qualify every time
  }
}
`

// TestCatchUp: schedules run at their own times, waits between them, all
// in time order; a second CatchUp over the same times runs nothing again.
func TestCatchUp(t *testing.T) {
	res := compiler.Compile([]lang.Source{{Name: "s.camp", Text: scheduled}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatal(res)
	}
	store := memstore.New()
	store.PutPeople(&storage.Person{ID: "1", Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "a@example.com")}})
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	eng, err := vm.New(prog, vm.Options{Store: store, Clock: vm.NewManualClock(at("2026-12-01T13:00:00Z"))})
	if err != nil {
		t.Fatal(err)
	}
	from, to := at("2026-12-01T06:00:00Z"), at("2026-12-07T09:00:00Z")
	var got []string
	for _, s := range eng.Schedules(from, at("2026-12-01T12:00:00Z")) {
		got = append(got, s.Campaign.Name+"@"+s.At.Format("02T15"))
	}
	// "run every 6 hours" without a start counts from the Unix epoch.
	if want := "Hourly@01T06 Once@01T09 Hourly@01T12"; strings.Join(got, " ") != want {
		t.Errorf("schedules: got %v, want %s", got, want)
	}
	ctx := context.Background()
	log := func(reps []*vm.Report) string {
		var b strings.Builder
		for _, r := range reps {
			for _, a := range r.Activities {
				fmt.Fprintf(&b, "%s %s\n", a.Time.Format("02T15"), a.Primary)
			}
		}
		return b.String()
	}
	reps, err := eng.CatchUp(ctx, from, at("2026-12-01T12:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	want := "01T06 hourly\n01T09 once\n01T09 1 hour\n01T10 after the wait\n01T12 hourly\n"
	if got := log(reps); got != want {
		t.Errorf("catch up: got\n%swant\n%s", got, want)
	}
	if reps, err = eng.CatchUp(ctx, from, at("2026-12-01T12:00:00Z")); err != nil || log(reps) != "" {
		t.Errorf("catching up again ran %q (%v); want nothing", log(reps), err)
	}
	reps, err = eng.CatchUp(ctx, at("2026-12-07T09:00:00Z"), to)
	if got, want := log(reps), "07T09 weekly\n"; err != nil || got != want {
		t.Errorf("weekly: got %q (%v), want %q", got, err, want)
	}
	if end, err := store.HistoryEnd(ctx); err != nil || !end.Equal(to) {
		t.Errorf("HistoryEnd = %v, %v; want %v", end, err, to)
	}
}
