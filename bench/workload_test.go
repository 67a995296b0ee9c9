package bench

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/campc/campc/bench/gen"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// edgePeople are people the generator makes rarely or never: no country,
// a country in another case, a null score, a score at the bound, no email
// (the child does not qualify), already hot, in another partition.
func edgePeople() []*storage.Person {
	p := func(id string, f map[string]ir.Value, lists ...string) *storage.Person {
		f["Id"] = ir.NewText(stdlib.Text, id)
		l := map[string]bool{}
		for _, k := range lists {
			l[k] = true
		}
		return &storage.Person{ID: id, Fields: f, Lists: l}
	}
	de := ir.NewText(stdlib.Text, "DE")
	mail := ir.NewText(stdlib.Email, "x@y.example")
	score := func(n float64) ir.Value { return ir.NewNumber(stdlib.Score, n) }
	sub, hot := gen.SubscribersKey, gen.HotLeadsKey
	out := []*storage.Person{
		p("E01", map[string]ir.Value{"Email": mail, "LeadScore": score(40)}, sub),
		p("E02", map[string]ir.Value{"Email": mail, "Country": ir.NewText(stdlib.Text, "dE"), "LeadScore": score(40)}, sub),
		p("E03", map[string]ir.Value{"Email": mail, "Country": de, "LeadScore": {Type: stdlib.Score, Null: true}}, sub),
		p("E04", map[string]ir.Value{"Email": mail, "Country": de, "LeadScore": score(10)}, sub),
		p("E05", map[string]ir.Value{"Email": mail, "Country": de, "LeadScore": score(9.5)}, sub),
		p("E06", map[string]ir.Value{"Country": de, "LeadScore": score(80)}, sub),
		p("E07", map[string]ir.Value{"Email": mail, "Country": de, "LeadScore": score(80)}, sub, hot),
		p("E08", map[string]ir.Value{"Email": mail, "Country": de, "LeadScore": score(35)}, sub),
		p("E09", map[string]ir.Value{"Email": mail, "Country": de, "LeadScore": score(34.5)}, hot),
		p("E10", map[string]ir.Value{"Email": mail, "Country": ir.NewText(stdlib.Text, "US"), "LeadScore": score(80)}, sub),
		p("E11", map[string]ir.Value{"Email": mail, "Country": de, "LeadScore": score(80),
			"Segment": ir.NewText(stdlib.Text, "Engaged")}, sub),
		p("E12", map[string]ir.Value{"Email": ir.NewText(stdlib.Email, ""), "Country": de, "LeadScore": score(60)}, sub),
		p("E13", map[string]ir.Value{"Email": mail, "Country": {Type: stdlib.Text, Text: "AT"}, "LeadScore": score(60)}, sub),
	}
	moved := p("E14", map[string]ir.Value{"Email": mail, "Country": de, "LeadScore": score(60)}, sub)
	moved.Partition = "Elsewhere"
	return append(out, moved)
}

func population(n int) []*storage.Person {
	return append(gen.People(gen.Seed, 0, n), edgePeople()...)
}

// key is what an activity says, less its sequence number.
type key struct {
	Person, Type, Campaign, Workspace, Primary, Attributes string
}

func keyOf(a *storage.Activity) key {
	if !a.Time.Equal(Now) {
		panic(fmt.Sprintf("activity at %v, not %v", a.Time, Now))
	}
	return key{a.Person, a.Type, a.Campaign, a.Workspace, a.Primary, fmt.Sprint(a.Attributes)}
}

// The engine (with one worker, and with several as BatchParallel runs it)
// and the hand-written baseline write the same activities, in the same
// order, leave every person in the same state, and record the same batch
// run.
func TestHandwrittenMatchesEngine(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) { testHandwritten(t, workers) })
	}
}

func testHandwritten(t *testing.T, workers int) {
	ctx := context.Background()
	prog := mustCompile(t, gen.CanonicalSources())
	people := population(3000)

	engStore, handStore := memstore.New(), memstore.New()
	engStore.PutPeople(people...)
	handStore.PutPeople(people...)
	eng, err := NewEngine(prog, engStore, workers)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.RunBatch(ctx, gen.Batch, vm.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hand, err := NewHandwritten().Run(ctx, handStore)
	if err != nil {
		t.Fatal(err)
	}

	want, _ := engStore.Activities(ctx, "")
	got, _ := handStore.Activities(ctx, "")
	if len(rep.Activities) != len(want) || len(hand) != len(got) {
		t.Fatalf("reports and stores disagree: engine %d/%d, handwritten %d/%d", len(rep.Activities), len(want), len(hand), len(got))
	}
	if len(got) != len(want) {
		t.Errorf("handwritten wrote %d activities, the engine %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if g, w := keyOf(got[i]), keyOf(want[i]); g != w {
			t.Fatalf("activity %d:\nhandwritten %+v\nengine      %+v", i, g, w)
		}
	}
	// Per person, too: same count, types, primaries and attributes.
	for _, p := range people {
		w, _ := engStore.Activities(ctx, p.ID)
		g, _ := handStore.Activities(ctx, p.ID)
		if len(g) != len(w) {
			t.Fatalf("person %s: handwritten %d activities, engine %d", p.ID, len(g), len(w))
		}
		ep, _ := engStore.LoadPerson(ctx, p.ID)
		hp, _ := handStore.LoadPerson(ctx, p.ID)
		ep.Log, hp.Log = nil, nil
		if !reflect.DeepEqual(ep, hp) {
			t.Fatalf("person %s ends differently:\nhandwritten %+v\nengine      %+v", p.ID, hp, ep)
		}
	}
	if r, _ := handStore.OpenRun(ctx, gen.Workspace, gen.Batch); r != nil {
		t.Errorf("the handwritten run is left open: %+v", r)
	}

	// The workload is what it says: most people qualify, and a qualifying
	// person gets three or four activities.
	types := map[string]int{}
	for _, a := range want {
		types[a.Type]++
	}
	entered := len(rep.Entered)
	t.Logf("%d people, %d entered, %d activities (%.2f per person entered): %v", len(people), entered, len(want), float64(len(want))/float64(entered), types)
	if entered < len(people)*6/10 || entered > len(people)*9/10 {
		t.Errorf("%d of %d people qualify; the workload expects about 72%%", entered, len(people))
	}
	for _, typ := range []string{"Executed Campaign", "Change Score", "Add to List", "Change Data Value"} {
		if types[typ] < entered/2 {
			t.Errorf("only %d %q activities for %d people entered", types[typ], typ, entered)
		}
	}
	if r := float64(len(want)) / float64(entered); r < 3.5 || r > 4 {
		t.Errorf("%.2f activities per person entered; the workload expects about four", r)
	}
}

// The expr predicate, the engine's evaluation of the smart list (a
// vm.Matcher, as BenchmarkPredicate/campc uses) and the engine itself (who
// entered the batch run) agree on every generated person.
func TestPredicatesAgree(t *testing.T) {
	ctx := context.Background()
	prog, c := canonical(t)
	people := population(gen.Small)
	pred, err := NewExprPredicate()
	if err != nil {
		t.Fatal(err)
	}
	s := memstore.New()
	s.PutPeople(people...)
	eng, _ := NewEngine(prog, s, 1)
	m, err := eng.Matcher(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.RunBatch(ctx, gen.Batch, vm.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	entered := map[string]bool{}
	for _, e := range rep.Entered {
		entered[e.Person] = true
	}
	matched := 0
	for _, p := range people {
		campc := m.Match(p, Now)
		ex, err := pred.Match(p)
		if err != nil {
			t.Fatalf("person %s: %v", p.ID, err)
		}
		// The engine also requires the workspace to see the person.
		engine := entered[p.ID]
		visible := c.Workspace.Sees(p.Partition)
		if campc != ex || (visible && campc != engine) || (!visible && engine) {
			t.Fatalf("person %s (%v, %v): campc %v, expr %v, engine entered %v", p.ID, p.Fields, p.Lists, campc, ex, engine)
		}
		if campc {
			matched++
		}
	}
	if matched == 0 || matched == len(people) {
		t.Fatalf("%d of %d match: the predicate does not discriminate", matched, len(people))
	}
}

// Every event of the Events benchmark starts the five campaigns of its key
// (a list addition only when the person was not on the list yet).
func TestEventsWorkload(t *testing.T) {
	ctx := context.Background()
	prog := mustCompile(t, gen.EventsProject(Events))
	eng, err := NewEngine(prog, LoadMem(0, 1000), 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		ev := gen.Event(i, 1000, Events)
		rep, err := eng.Deliver(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		// The generated people all have a country but 3%.
		if len(rep.Entered) != 5 && len(rep.Entered) != 0 {
			t.Fatalf("event %d (%+v) started %d campaigns", i, ev, len(rep.Entered))
		}
		if len(rep.Entered) == 5 && len(rep.Activities) != 11 {
			t.Fatalf("event %d wrote %d activities, want 11", i, len(rep.Activities))
		}
	}
}

// LoadMem loads exactly the generated people.
func TestLoadMem(t *testing.T) {
	ctx := context.Background()
	s := LoadMem(0, 25_000)
	ids, _ := s.PersonIDs(ctx)
	if len(ids) != 25_000 || ids[0] != gen.PersonID(0) || ids[24_999] != gen.PersonID(24_999) {
		t.Fatalf("%d people, %s … %s", len(ids), ids[0], ids[len(ids)-1])
	}
	p, _ := s.LoadPerson(ctx, gen.PersonID(12_345))
	want := gen.Person(gen.Seed, 12_345)
	// Fold caches a text value's lower case; the store need not keep it.
	noFold := func(m map[string]ir.Value) map[string]ir.Value {
		out := map[string]ir.Value{}
		for k, v := range m {
			v.Fold = ""
			out[k] = v
		}
		return out
	}
	if !reflect.DeepEqual(noFold(p.Fields), noFold(want.Fields)) || !reflect.DeepEqual(p.Lists, want.Lists) {
		t.Fatalf("person 12345 is %+v, want %+v", p, want)
	}
}
