package bench

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/bench/gen"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// The limit (the canonical workload over columns) writes the same
// activities as the engine, in the same order, and leaves every person in
// the same state.
func TestLimitMatchesEngine(t *testing.T) {
	ctx := context.Background()
	prog := mustCompile(t, gen.CanonicalSources())
	people := population(3000)
	// The engine runs people in Id order; so does the table, in the order
	// it is given them.
	slices.SortFunc(people, func(a, b *storage.Person) int { return strings.Compare(a.ID, b.ID) })

	s := memstore.New()
	s.PutPeople(people...)
	eng, err := NewEngine(prog, s, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.RunBatch(ctx, gen.Batch, vm.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	want, _ := s.Activities(ctx, "")

	c := CanonicalColumns()
	if err := c.Add(people...); err != nil {
		t.Fatal(err)
	}
	var l Limit
	acts, err := l.Run(c)
	if err != nil {
		t.Fatal(err)
	}
	got := l.Activities(c, acts)
	if len(got) != len(want) {
		t.Errorf("the limit wrote %d activities, the engine %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if g, w := keyOf(got[i]), keyOf(want[i]); g != w {
			t.Fatalf("activity %d:\nlimit  %+v\nengine %+v", i, g, w)
		}
	}
	if len(want) < len(people)*2 {
		t.Fatalf("only %d activities for %d people: the workload does not run", len(want), len(people))
	}

	if c.Len() != len(people) {
		t.Fatalf("the table holds %d people, not %d", c.Len(), len(people))
	}
	for i, p := range people {
		ep, _ := s.LoadPerson(ctx, p.ID)
		lp := c.Person(i)
		if e, l := settled(ep), settled(lp); !reflect.DeepEqual(e, l) {
			t.Fatalf("person %s ends differently:\nlimit  %+v\nengine %+v", p.ID, l, e)
		}
	}
}

// settled is a person less what may differ without meaning anything:
// its log, a text value's cached lower case, and nil against empty maps.
func settled(p *storage.Person) *storage.Person {
	q := *p
	q.Log = nil
	q.Fields = map[string]ir.Value{}
	for k, v := range p.Fields {
		v.Fold = ""
		if !v.Time.IsZero() {
			v.Time = v.Time.UTC()
		}
		q.Fields[k] = v
	}
	if len(q.Lists) == 0 {
		q.Lists = nil
	}
	if len(q.Programs) == 0 {
		q.Programs = nil
	}
	q.Runs = map[string]time.Time{}
	for k, v := range p.Runs {
		q.Runs[k] = v.UTC()
	}
	if q.Partition == "Default" {
		q.Partition = ""
	}
	return &q
}
