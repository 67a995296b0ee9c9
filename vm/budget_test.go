package vm_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

const loopProject = `workspace "W"
field PingScore score
field PongScore score
program "P" {
  trigger campaign "Ping" {
    smart list { trigger score is changed PingScore }
    flow { change score PongScore by "+1" }
    active
    qualify every time
  }
  trigger campaign "Pong" {
    smart list { trigger score is changed PongScore }
    flow { change score PingScore by "+1" }
    active
    qualify every time
  }
}
`

// Issue 11 bug 8: the budget error carries the chain of campaigns that
// looped, so that a host can show it; nothing of the failing cascade is
// committed.
func TestCascadeBudgetErrorChain(t *testing.T) {
	res := compiler.Compile([]lang.Source{{Name: "t.camp", Text: loopProject}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	st := memstore.New()
	st.PutPeople(&storage.Person{ID: "1", Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "a@x.example")}})
	eng, err := vm.New(prog, vm.Options{Store: st, CascadeBudget: 3})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.Deliver(context.Background(), storage.Event{Kind: ir.TrigScoreChanged, Person: "1", Field: "PingScore", New: "1"})
	var e *vm.Error
	if !errors.As(err, &e) || !errors.Is(err, vm.ErrCascadeBudget) {
		t.Fatalf("want a cascade budget *vm.Error, got %v", err)
	}
	if want := []string{"Ping", "Pong", "Ping", "Pong"}; !slices.Equal(e.Chain, want) {
		t.Errorf("Chain = %q, want %q", e.Chain, want)
	}
	if got, want := e.ChainText(), `"Ping" > "Pong" > "Ping" > …`; got != want {
		t.Errorf("ChainText() = %s, want %s", got, want)
	}
	if e.Campaign != "Pong" || e.Person != "1" {
		t.Errorf("Campaign, Person = %q, %q; want Pong, 1", e.Campaign, e.Person)
	}
	if len(rep.Activities) != 0 {
		t.Errorf("the failed cascade committed %d activities", len(rep.Activities))
	}
}
