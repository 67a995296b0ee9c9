package vm

import (
	"context"
	"errors"
	"testing"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// With DeferRuns an outside operation applies its own effects and leaves
// the runs it sets off in the store's queue; RunQueued runs each person's
// in the order queued, once.
func TestDeferRuns(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	for _, id := range []string{"a", "b"} {
		st.PutPeople(&storage.Person{ID: id, Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, id+"@x.example")}})
	}
	eng, err := New(compileSrc(t, raceProject), Options{Store: st, DeferRuns: true})
	if err != nil {
		t.Fatal(err)
	}
	types := func(rep *Report) map[string]int {
		n := map[string]int{}
		for _, a := range rep.Activities {
			n[a.Person+" "+a.Type]++
		}
		return n
	}
	for range 2 {
		rep, err := eng.Deliver(ctx, storage.Event{Kind: ir.TrigFillsOutForm, Person: "a", Form: "Contact"})
		if err != nil {
			t.Fatal(err)
		}
		if got := types(rep); got["a "+stdlib.ActFillOutForm] != 1 || got["a "+stdlib.ActChangeScore] != 0 {
			t.Fatalf("Deliver: %v, want the form fill only (its trigger campaign queued)", got)
		}
	}
	if _, err := eng.Deliver(ctx, storage.Event{Kind: ir.TrigFillsOutForm, Person: "b", Form: "Contact"}); err != nil {
		t.Fatal(err)
	}
	q, _ := st.Queued(ctx)
	if len(q) != 3 {
		t.Fatalf("%d runs queued, want 3 (two for a, one for b)", len(q))
	}
	rep, err := eng.RunQueued(ctx, []string{"b", "a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := types(rep); got["a "+stdlib.ActChangeScore] != 2 || got["b "+stdlib.ActChangeScore] != 1 {
		t.Errorf("RunQueued: %v, want a's two runs and b's one", got)
	}
	// In the order queued: a's second run starts from the first's score.
	var scores []string
	for _, a := range rep.Activities {
		if a.Person == "a" && a.Type == stdlib.ActChangeScore {
			v, _ := a.Attributes.Get("New Value")
			scores = append(scores, v.String())
		}
	}
	if len(scores) != 2 || scores[0] != "100" || scores[1] != "200" {
		t.Errorf("a's scores %v, want [100 200]", scores)
	}
	if q, _ := st.Queued(ctx); len(q) != 0 {
		t.Errorf("%d runs still queued", len(q))
	}
	if rep, err := eng.RunQueued(ctx, []string{"a", "b"}); err != nil || len(rep.Activities) != 0 {
		t.Errorf("RunQueued again: %v, %d activities", err, len(rep.Activities))
	}
	// One person: their own transaction.
	if _, err := eng.Deliver(ctx, storage.Event{Kind: ir.TrigFillsOutForm, Person: "b", Form: "Contact"}); err != nil {
		t.Fatal(err)
	}
	if rep, err := eng.RunQueued(ctx, []string{"b"}); err != nil || types(rep)["b "+stdlib.ActChangeScore] != 1 {
		t.Errorf("RunQueued of b: %v, %v", err, types(rep))
	}
	// A batch run is no outside operation: what it sets off runs in it.
	if _, err := eng.RunBatch(ctx, "Score All", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if q, _ := st.Queued(ctx); len(q) != 0 {
		t.Errorf("a batch run left %d runs queued", len(q))
	}
}

const loopProject = `workspace "W"
program "P" {
  trigger campaign "On Form" {
    smart list { trigger fills out form "Contact" }
    flow { change score LeadScore by "+1" }
    active
    qualify every time
  }
  trigger campaign "Loop" {
    smart list {
      trigger score is changed LeadScore
      filter Email contains "loop"
    }
    flow { change score LeadScore by "+1" }
    active
    qualify every time
  }
  form "Contact"
}
`

// One person's failing run holds back no one else's: the shared
// transaction fails, and each person is then run alone; the failing
// person's run stays queued, and the error names them.
func TestRunQueuedOneFails(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	for _, id := range []string{"a", "bad", "c"} {
		email := id + "@x.example"
		if id == "bad" {
			email = "loop@x.example"
		}
		st.PutPeople(&storage.Person{ID: id, Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, email)}})
	}
	eng, err := New(compileSrc(t, loopProject), Options{Store: st, DeferRuns: true, CascadeBudget: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "bad", "c"} {
		if _, err := eng.Deliver(ctx, storage.Event{Kind: ir.TrigFillsOutForm, Person: id, Form: "Contact"}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := eng.RunQueued(ctx, []string{"a", "bad", "c"})
	var re *Error
	if !errors.Is(err, ErrCascadeBudget) || !errors.As(err, &re) || re.Person != "bad" {
		t.Fatalf("want bad's cascade budget error, got %v", err)
	}
	n := map[string]int{}
	for _, a := range rep.Activities {
		if a.Type == stdlib.ActChangeScore {
			n[a.Person]++
		}
	}
	if n["a"] != 1 || n["c"] != 1 || n["bad"] != 0 {
		t.Errorf("score changes %v, want a's and c's, none of bad's", n)
	}
	q, _ := st.Queued(ctx)
	if len(q) != 1 || q[0].Person != "bad" {
		t.Errorf("queued %v, want bad's run only", q)
	}
}
