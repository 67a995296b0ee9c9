package vm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

func compileSrc(t testing.TB, src string) *ir.Program {
	t.Helper()
	res := compiler.Compile([]lang.Source{{Name: "t.camp", Text: src}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	return prog
}

const raceProject = `workspace "W"
list "Seen"
program "P" {
  batch campaign "Score All" {
    smart list { filter Email is not empty }
    flow {
      change score LeadScore by "+1"
      add to list "Seen"
    }
    qualify every time
  }
  trigger campaign "On Form" {
    smart list { trigger fills out form "Contact" }
    flow { change score LeadScore by "+100" }
    active
    qualify every time
  }
  form "Contact"
}
`

// A batch run and events delivered at the same time, several for each
// person: the engine applies them one at a time, or with
// Options.Concurrent at once under the store's person locks; either way
// no score update is lost.
func TestConcurrentBatchAndEvents(t *testing.T) {
	for _, concurrent := range []bool{false, true} {
		t.Run(fmt.Sprintf("concurrent=%v", concurrent), func(t *testing.T) { testConcurrentBatchAndEvents(t, concurrent) })
	}
}

func testConcurrentBatchAndEvents(t *testing.T, concurrent bool) {
	prog := compileSrc(t, raceProject)
	store := memstore.New()
	const n, fills = 200, 3
	for i := 0; i < n; i++ {
		store.PutPeople(&storage.Person{ID: fmt.Sprintf("%04d", i), Fields: map[string]ir.Value{
			"Email": ir.NewText(stdlib.Email, fmt.Sprintf("p%d@x.example", i))}})
	}
	eng, err := New(prog, Options{Store: store, Concurrent: concurrent})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, n*fills+2)
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Two runs at one clock time: the second is asked for again.
			if _, err := eng.RunBatch(ctx, "Score All", RunOptions{Again: true}); err != nil {
				errs <- err
			}
		}()
	}
	for i := 0; i < n*fills; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := eng.Deliver(ctx, storage.Event{Kind: ir.TrigFillsOutForm, Person: fmt.Sprintf("%04d", i%n), Form: "Contact"}); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		p, _ := store.LoadPerson(ctx, fmt.Sprintf("%04d", i))
		if got := p.Fields["LeadScore"].Num; got != 2+100*fills {
			t.Fatalf("person %d: score %v, want %d (two batch runs +1, %d forms +100)", i, got, 2+100*fills, fills)
		}
	}
}

// The same program, people and clock give the same log, byte for byte.
func TestDeterministicLog(t *testing.T) {
	prog := compileSrc(t, raceProject)
	logOf := func() string {
		store := memstore.New()
		for i := 0; i < 50; i++ {
			store.PutPeople(&storage.Person{ID: fmt.Sprint(i), Fields: map[string]ir.Value{
				"Email": ir.NewText(stdlib.Email, fmt.Sprintf("p%d@x.example", i))}})
		}
		eng, _ := New(prog, Options{Store: store})
		eng.RunBatch(context.Background(), "Score All", RunOptions{})
		acts, _ := store.Activities(context.Background(), "")
		var b strings.Builder
		for _, a := range acts {
			fmt.Fprintf(&b, "%d %s %s %s %s %s %v\n", a.Seq, a.Time, a.Person, a.Type, a.Campaign, a.Primary, a.Attributes)
		}
		return b.String()
	}
	a, b := logOf(), logOf()
	if a != b || a == "" {
		t.Fatalf("logs differ or are empty:\n%s\n---\n%s", a, b)
	}
}

func TestBudgetsAndCancellation(t *testing.T) {
	src := `workspace "W"
program "P" {
  trigger campaign "Ping" {
    smart list { trigger score is changed LeadScore }
    flow { change score LeadScore by "+1" }
    active
    qualify every time
  }
  batch campaign "Start" {
    smart list { filter Email is not empty }
    flow { change score LeadScore by "+1" }
  }
}
`
	prog := compileSrc(t, src)
	store := memstore.New()
	store.PutPeople(&storage.Person{ID: "1", Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "a@x.example")}})
	eng, _ := New(prog, Options{Store: store, CascadeBudget: 5})
	_, err := eng.RunBatch(context.Background(), "Start", RunOptions{})
	var re *Error
	if !errors.Is(err, ErrCascadeBudget) || !errors.As(err, &re) || re.Campaign != "Ping" || re.Person != "1" {
		t.Fatalf("want a cascade budget error naming Ping and person 1, got %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := eng.RunBatch(ctx, "Start", RunOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestRunErrors(t *testing.T) {
	prog := compileSrc(t, raceProject)
	eng, _ := New(prog, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"unknown campaign", func() error { _, err := eng.RunBatch(ctx, "Nope", RunOptions{}); return err }, `no campaign "Nope"`},
		{"trigger as batch", func() error { _, err := eng.RunBatch(ctx, "On Form", RunOptions{}); return err }, "not a batch campaign"},
		{"no api source", func() error { _, err := eng.Request(ctx, "On Form", nil, RunOptions{}); return err }, "does not listen for API requests"},
		{"unknown override", func() error {
			_, err := eng.RunBatch(ctx, "Score All", RunOptions{Tokens: map[string]string{"Nope": "1"}})
			return err
		}, `has no My Token "Nope"`},
		{"missing person", func() error {
			_, err := eng.Deliver(ctx, storage.Event{Kind: ir.TrigFillsOutForm, Person: "x", Form: "Contact"})
			return err
		}, `no person with Id "x"`},
	} {
		err := tc.run()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestMatcher(t *testing.T) {
	prog := compileSrc(t, `workspace "W"
list "Subscribers"
program "P" {
  batch campaign "C" {
    smart list {
      filter Country in ["DE", "AT"]
      filter LeadScore > 10
      filter member of list "Subscribers"
      logic 1 and (2 or 3)
    }
    flow { delete person }
  }
}
`)
	eng, _ := New(prog, Options{})
	m, err := eng.Matcher("C")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(country string, score float64, sub bool) *storage.Person {
		return &storage.Person{ID: "x", Fields: map[string]ir.Value{"Country": ir.NewText(stdlib.Text, country),
			"LeadScore": ir.NewNumber(stdlib.Score, score)}, Lists: map[string]bool{"W/Subscribers": sub}}
	}
	for _, tc := range []struct {
		p    *storage.Person
		want bool
	}{{mk("de", 20, false), true}, {mk("AT", 5, true), true}, {mk("AT", 5, false), false}, {mk("US", 50, true), false}} {
		if got := m.Match(tc.p, testStart); got != tc.want {
			t.Errorf("%v: got %v, want %v", tc.p.Fields, got, tc.want)
		}
	}
	p := mk("DE", 20, true)
	if allocs := testing.AllocsPerRun(100, func() { m.Match(p, testStart) }); allocs != 0 {
		t.Errorf("Match allocates %v times per call, want 0", allocs)
	}
}

// A batch run on several workers writes the same log, byte for byte, as a
// run on one, and stops at the same person when one person's work fails.
func TestParallelBatchSameLog(t *testing.T) {
	src := `workspace "W"
list "Hot"
folder "F" {
  token "P" score "+3"
  program "S" {
    executable campaign "Child" {
      smart list { filter Email is not empty }
      flow { change score LeadScore by "{{my.P}}" }
      qualify every time
    }
  }
}
program "M" {
  token "P" score "+5"
  batch campaign "B" {
    smart list { filter Email is not empty }
    flow {
      execute campaign "Child" use parent tokens
      if LeadScore >= 50 { add to list "Hot" }
    }
  }
  trigger campaign "Loop" {
    smart list {
      trigger added to list "Hot"
      filter Email is "loop@x.example"
    }
    flow {
      remove from list "Hot"
      add to list "Hot"
    }
    active
    qualify every time
  }
}
`
	prog := compileSrc(t, src)
	logOf := func(workers int, loopAt int) (string, error) {
		store := memstore.New()
		for i := 0; i < 600; i++ {
			email := fmt.Sprintf("p%d@x.example", i)
			if i == loopAt {
				email = "loop@x.example"
			}
			store.PutPeople(&storage.Person{ID: fmt.Sprintf("%04d", i), Fields: map[string]ir.Value{
				"Email": ir.NewText(stdlib.Email, email), "LeadScore": ir.NewNumber(stdlib.Score, float64(i%100))}})
		}
		eng, _ := New(prog, Options{Store: store, Workers: workers, BatchGroup: 50, CascadeBudget: 10})
		_, err := eng.RunBatch(context.Background(), "B", RunOptions{})
		acts, _ := store.Activities(context.Background(), "")
		var b strings.Builder
		for _, a := range acts {
			fmt.Fprintf(&b, "%d %s %s %s %s %v\n", a.Seq, a.Person, a.Type, a.Campaign, a.Primary, a.Attributes)
		}
		if open, _ := store.OpenRun(context.Background(), "W", "B"); open != nil {
			fmt.Fprintf(&b, "open run at %q\n", open.Cursor)
		}
		// The run's summary is counted the same way too (workers count
		// their group before their turn, and the turn adds).
		for _, r := range store.Runs() {
			fmt.Fprintf(&b, "run done %v: %+v\n", r.Done, r.Summary)
		}
		return b.String(), err
	}
	for _, loopAt := range []int{-1, 45, 348} {
		one, err1 := logOf(1, loopAt)
		four, err4 := logOf(4, loopAt)
		if one != four || fmt.Sprint(err1) != fmt.Sprint(err4) {
			t.Fatalf("loop at %d: logs or errors differ between 1 and 4 workers\nerr %v / %v", loopAt, err1, err4)
		}
		if (loopAt >= 0) != (err1 != nil) {
			t.Fatalf("loop at %d: error %v", loopAt, err1)
		}
	}
}

// TestRunSummaryCountsPeople checks that a step a person passes twice
// counts the person once, whether the report's activities are person by
// person (a batch group's, counted with a list per person) or not (counted
// with a set).
func TestRunSummaryCountsPeople(t *testing.T) {
	st1 := &ir.StepBase{Pos: ir.Position{Filename: "f.camp", Line: 3, Column: 5}}
	st2 := &ir.StepBase{Pos: ir.Position{Filename: "f.camp", Line: 4, Column: 5}}
	act := func(person string, st *ir.StepBase) *storage.Activity {
		a := &storage.Activity{Person: person, Campaign: "C", Type: "T"}
		a.SetStep(st)
		return a
	}
	for _, tc := range []struct {
		name string
		acts []*storage.Activity
	}{
		{"person by person", []*storage.Activity{act("a", st1), act("a", st2), act("a", st1), act("b", st1), act("c", st2)}},
		{"interleaved", []*storage.Activity{act("b", st1), act("a", st1), act("b", st1), act("a", st2), act("a", st1), act("c", st2)}},
	} {
		s := summaryAdd(storage.RunSummary{}, &Report{Activities: tc.acts})
		got := map[int]int{}
		for _, c := range s.Steps {
			got[c.Line] = c.People
		}
		if got[3] != 2 || got[4] != 2 || len(s.Steps) != 2 {
			t.Errorf("%s: %+v, want line 3 and line 4 two people each", tc.name, s.Steps)
		}
	}
}

// Options.Concurrent is refused where it cannot hold: on a store whose
// transactions cannot overlap, and with a tracer.
func TestConcurrentOptionRefused(t *testing.T) {
	prog := compileSrc(t, raceProject)
	type plain struct{ storage.Store } // hides memstore.Store's ConcurrentTx
	if _, err := New(prog, Options{Store: plain{memstore.New()}, Concurrent: true}); err == nil || !strings.Contains(err.Error(), "at the same time") {
		t.Errorf("a store without concurrent transactions: got %v", err)
	}
	if _, err := New(prog, Options{Concurrent: true, Tracer: TraceFunc(func(TraceEvent) {})}); err == nil || !strings.Contains(err.Error(), "tracer") {
		t.Errorf("a tracer: got %v", err)
	}
	if _, err := New(prog, Options{Concurrent: true}); err != nil {
		t.Errorf("the in-memory store: %v", err)
	}
}
