package vmtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// pathWaits checks that waits parked before step identities, by a path of
// step indexes (what a store holds from older versions: {"path":[…]}),
// resume where they stood while the program is unchanged, and that one
// whose path no longer ends after a wait is dropped, not resumed elsewhere.
func pathWaits(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	src := `workspace "W"
program "P" {
  batch campaign "C" {
    smart list { filter Email is not empty }
    flow {
      interesting moment web "before"
      if Email is not empty {
        wait 1 day
        interesting moment web "after, in the branch"
      }
      interesting moment web "end"
    }
  }
}
`
	res := compiler.Compile([]lang.Source{{Name: "p.camp", Text: src}}, compiler.Options{MaxErrors: -1})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	s := newStore(t)
	person := func(id string) *storage.Person {
		return &storage.Person{ID: id, Fields: map[string]ir.Value{
			"Id": ir.NewText(stdlib.Text, id), "Email": ir.NewText(stdlib.Email, id+"@x.example")}}
	}
	if err := s.Import(ctx, []*storage.Person{person("a"), person("b")}, nil); err != nil {
		t.Fatal(err)
	}
	tx, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = tx.Apply(&storage.Commit{Park: []*storage.Parked{
		// after the wait in the if's first branch: the program's place
		{Person: "a", Workspace: "W", Campaign: "C", Path: []int{1, 1, 1}, Due: t0.Add(24 * time.Hour)},
		// after the branch's second step, which is no wait: the flow changed
		{Person: "b", Workspace: "W", Campaign: "C", Path: []int{1, 1, 2}, Due: t0.Add(24 * time.Hour)},
	}})
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		t.Fatal(err)
	}
	e, err := vm.New(prog, vm.Options{Store: s, Clock: vm.NewManualClock(t0.Add(24 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	acts, err := s.Activities(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acts {
		line := a.Person + " " + a.Type + " " + a.Primary
		for _, at := range a.Attributes {
			if at.Key == "Reason" {
				line += ": " + at.Value.String()
			}
		}
		got = append(got, line)
	}
	want := []string{
		"a Interesting Moment after, in the branch",
		"a Interesting Moment end",
		`b Wait Dropped C: "the flow of campaign \"C\" changed since the person started waiting"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if due, _ := s.DueWaits(ctx, t0.Add(48*time.Hour)); len(due) != 0 {
		t.Errorf("%d waits left after resuming", len(due))
	}
}
