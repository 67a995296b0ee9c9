// Package bench holds campc's benchmarks and the pieces they share: the
// canonical workload compiled and loaded, the hand-written Go baseline
// that does the same work, and the predicates compared with expr.
//
// Run the benchmarks with bench/run.sh, which also regenerates
// BENCHMARKS.md at the repository root.
package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/campc/campc/bench/gen"
	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// Now is the clock reading of every run.
var Now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// Compile compiles sources that must check without errors.
func Compile(srcs []lang.Source) (*ir.Program, error) {
	res := compiler.Compile(srcs, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		return nil, fmt.Errorf("%v:\n%s", err, res)
	}
	return prog, nil
}

// NewEngine makes an engine over store at the fixed clock, running batch
// groups on `workers` goroutines.
func NewEngine(prog *ir.Program, store storage.Store, workers int) (*vm.Engine, error) {
	return vm.New(prog, vm.Options{Store: store, Clock: vm.NewManualClock(Now), Workers: workers})
}

// LoadMem makes a MemStore holding persons [from, to) of the population.
// It loads them in pieces so that a large population is never held twice.
func LoadMem(from, to int) *memstore.Store {
	s := memstore.New()
	for i := from; i < to; i += 10_000 {
		s.PutPeople(gen.People(gen.Seed, i, min(i+10_000, to))...)
	}
	return s
}

// Handwritten is the canonical workload written by hand in plain Go: the
// physical-limit yardstick for the engine. It does the same work on the
// same store through the same Store and Tx API (each person loaded in the
// transaction, its maps copied before they are written, as the Tx contract
// asks and the engine does; whole passes committed 500 people to a
// transaction; the batch run's progress recorded with each group), and
// writes the same activities with the same attributes in the same order.
// What it does not do is what only a general engine needs: it knows the
// program, so it resolves nothing at run time, reads the My Token's value
// once, and looks for no trigger campaigns (the canonical project has
// none).
type Handwritten struct {
	countries map[string]bool // folded
	segment   ir.Value
	delta     float64
	batchRun  string // keys of the qualification history
	childRun  string
	updated   ir.Value // UpdatedAt, the run's clock
}

// NewHandwritten prepares the baseline.
func NewHandwritten() *Handwritten {
	h := &Handwritten{countries: map[string]bool{}, segment: ir.NewText(stdlib.Text, gen.SegmentValue),
		delta: gen.ScoreChange, batchRun: gen.Workspace + "/" + gen.Batch, childRun: gen.Workspace + "/" + gen.Child,
		updated: ir.Value{Type: stdlib.DateTime, Time: Now}}
	for _, c := range gen.FilterCountries {
		h.countries[strings.ToLower(c)] = true
	}
	return h
}

// group is how many passes one transaction commits, as the engine's
// default vm.DefaultBatchGroup.
const group = vm.DefaultBatchGroup

// Run runs the canonical batch over every person of the store and returns
// the activities written, in order.
func (h *Handwritten) Run(ctx context.Context, s storage.Store) ([]*storage.Activity, error) {
	ids, err := s.PersonIDs(ctx)
	if err != nil {
		return nil, err
	}
	br := &storage.BatchRun{Workspace: gen.Workspace, Campaign: gen.Batch, Started: Now}
	var out []*storage.Activity
	for first := true; first || len(ids) > 0; first = false {
		n := min(group, len(ids))
		tx, err := s.Begin(ctx)
		if err != nil {
			return out, err
		}
		var pending []*storage.Activity
		for _, id := range ids[:n] {
			p, err := tx.LoadPerson(id)
			if err != nil {
				tx.Rollback()
				return out, err
			}
			if p != nil && (p.Partition == "" || p.Partition == "Default") && h.qualifies(p) {
				acts := h.pass(p)
				if err := tx.Apply(&storage.Commit{Person: p, Activities: acts}); err != nil {
					tx.Rollback()
					return out, err
				}
				pending = append(pending, acts...)
			}
			br.Cursor = id
		}
		ids = ids[n:]
		br.Done = len(ids) == 0
		if err := tx.Apply(&storage.Commit{Run: br}); err != nil {
			tx.Rollback()
			return out, err
		}
		if err := tx.Commit(); err != nil {
			return out, err
		}
		out = append(out, pending...)
	}
	return out, nil
}

// qualifies is the smart list: Country in [...], LeadScore >= 10, member of
// list "Subscribers"; text compares case-insensitively; an empty field
// matches neither filter.
func (h *Handwritten) qualifies(p *storage.Person) bool {
	c, ok := p.Fields["Country"]
	if !ok || c.Null || !h.countries[fold(c)] {
		return false
	}
	s, ok := p.Fields["LeadScore"]
	if !ok || s.Null || s.Num < gen.FilterMinScore {
		return false
	}
	return p.Lists[gen.SubscribersKey]
}

func fold(v ir.Value) string {
	if v.Fold != "" || v.Text == "" {
		return v.Fold
	}
	return strings.ToLower(v.Text)
}

// pass is the flow for one qualifying person. The person's maps may be the
// store's: each is copied before its first write.
func (h *Handwritten) pass(p *storage.Person) []*storage.Activity {
	acts := make([]*storage.Activity, 0, 4)
	p.Log = slices.Clip(p.Log)
	act := func(campaign, typ, primary string, attrs storage.Attrs) {
		a := &storage.Activity{Time: Now, Person: p.ID, Type: typ, Campaign: campaign, Workspace: gen.Workspace, Primary: primary, Attributes: attrs}
		acts = append(acts, a)
		p.Log = append(p.Log, a)
	}
	p.Fields = copyMap(p.Fields)
	p.Runs = copyMap(p.Runs)
	p.Runs[h.batchRun] = Now
	// execute campaign "Add Score" use parent tokens: its smart list is
	// "Email is not empty", its rule "every time".
	e, ok := p.Fields["Email"]
	child := ok && !e.Null && e.Text != ""
	act(gen.Batch, "Executed Campaign", gen.Child, storage.Attrs{{Key: "Qualified", Value: storage.AttrBool(child)}, {Key: "Use Parent Token Context", Value: storage.AttrBool(true)}})
	if child {
		p.Runs[h.childRun] = Now
		// change score LeadScore by "{{my.Score Change}}", the caller's "+15".
		old := p.Fields["LeadScore"].Num
		nw := old + h.delta
		p.Fields["LeadScore"] = ir.Value{Type: stdlib.Score, Num: nw}
		p.Fields["UpdatedAt"] = h.updated // a field changed value (spec §5.3)
		act(gen.Child, "Change Score", "LeadScore", storage.Attrs{{Key: "Change Value", Value: storage.AttrNum(nw - old)},
			{Key: "Old Value", Value: storage.AttrNum(old)}, {Key: "New Value", Value: storage.AttrNum(nw)}})
	}
	// if LeadScore >= 50 { add to list "Hot Leads" }
	if s := p.Fields["LeadScore"]; !s.Null && s.Num >= gen.HotThreshold && !p.Lists[gen.HotLeadsKey] {
		p.Lists = copyMap(p.Lists)
		p.Lists[gen.HotLeadsKey] = true
		act(gen.Batch, "Add to List", gen.HotLeads, storage.Attrs{{Key: "Choice", Value: storage.AttrNum(1)}})
	}
	// change data value Segment to "Engaged": a person whose Segment is
	// exactly that already is left alone, with nothing written.
	old, had := p.Fields["Segment"]
	if had && !old.Null && old.Text == h.segment.Text {
		return acts
	}
	oldAttr := storage.AttrNull()
	if had && !old.Null {
		oldAttr = storage.AttrStr(old.Text)
	}
	p.Fields["Segment"] = h.segment
	p.Fields["UpdatedAt"] = h.updated
	act(gen.Batch, "Change Data Value", "Segment", storage.Attrs{{Key: "Old Value", Value: oldAttr}, {Key: "New Value", Value: storage.AttrStr(h.segment.Text)}})
	return acts
}

// copyMap copies a map with room for one more entry.
func copyMap[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}
