package vm

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// WaitMove is where a deploy takes one parked wait: to the wait step with
// the same identity in the new program, or out of the flow (Dropped).
type WaitMove struct {
	Wait *storage.Parked
	// From describes the wait step the person waits in: its text and
	// place in the old program when that is known, else its identity.
	From string
	// Step is the wait step's identity in the new program, and To its
	// text and place; both empty when the wait is dropped.
	Step, To string
	Dropped  bool
	Reason   string // why it is dropped, as its Wait Dropped activity says
}

// PlanWaits says where each parked wait goes when the program old (nil:
// unknown) is replaced by new. A wait stays in its campaign's flow when
// the new flow has a wait step with its identity (steps inserted, deleted
// or moved around it change nothing); otherwise it is dropped, with the
// reason. A wait stored by path (before identities) is read against the
// old program when it is known, else against the new one. The moves are
// in the order of waits.
func PlanWaits(old, new *ir.Program, waits []*storage.Parked) []WaitMove {
	out := make([]WaitMove, 0, len(waits))
	for _, w := range waits {
		m := WaitMove{Wait: w}
		id := w.Step
		var oc *ir.Campaign
		if old != nil {
			oc = old.Campaign(w.Workspace, w.Campaign)
		}
		nc := new.Campaign(w.Workspace, w.Campaign)
		if id == "" && w.Path != nil {
			// A wait stored by path: its step is the one the path names
			// in the program it was parked by.
			at := oc
			if at == nil {
				at = nc
			}
			if at != nil {
				if st := waitAtPath(at.Flow, w.Path); st != nil {
					id = st.Base().ID
				}
			}
		}
		m.From = describeStep(oc, id, w)
		switch {
		case nc == nil:
			m.Dropped, m.Reason = true, "the campaign no longer exists"
		case id == "":
			m.Dropped, m.Reason = true, fmt.Sprintf("the flow of campaign %q changed since the person started waiting", w.Campaign)
		default:
			st := findStep(nc.Flow, id)
			if st == nil || !parksAt(w, st) {
				m.Dropped, m.Reason = true, fmt.Sprintf("%s step %s is no longer in the flow of campaign %q", parkedKind(w), id, nc.Name)
				break
			}
			m.Step, m.To = id, stepText(st)
		}
		out = append(out, m)
	}
	return out
}

// describeStep is the text and place of step id in campaign c (nil: the
// old program is unknown), or what the wait holds of its place.
func describeStep(c *ir.Campaign, id string, w *storage.Parked) string {
	if c != nil && id != "" {
		if st := findStep(c.Flow, id); st != nil {
			return stepText(st)
		}
	}
	if id != "" {
		return "step " + id
	}
	return fmt.Sprintf("path %v", w.Path)
}

func stepText(st ir.Step) string {
	b := st.Base()
	return fmt.Sprintf("%q at %s", b.Source, b.Pos)
}

// findStep is the step with identity id in steps, or nil.
func findStep(steps []ir.Step, id string) ir.Step {
	if p := stepPath(steps, id); p != nil {
		return stepAtPath(steps, p)
	}
	return nil
}

// stepAtPath is the step a parked path ends after, or nil when the path
// does not fit the flow.
func stepAtPath(steps []ir.Step, path []int) ir.Step {
	for len(path) > 1 {
		i, b := path[0], path[1]
		if i < 0 || i >= len(steps) {
			return nil
		}
		st, ok := steps[i].(*ir.If)
		if !ok {
			return nil
		}
		switch {
		case b == 0 && st.HasElse:
			steps = st.Else
		case b >= 1 && b <= len(st.Branches):
			steps = st.Branches[b-1].Steps
		default:
			return nil
		}
		path = path[2:]
	}
	if len(path) != 1 || path[0] < 1 || path[0] > len(steps) {
		return nil
	}
	return steps[path[0]-1]
}

// waitAtPath is the wait step a parked path ends after, or nil.
func waitAtPath(steps []ir.Step, path []int) ir.Step {
	st := stepAtPath(steps, path)
	if _, ok := st.(*ir.Wait); !ok {
		return nil
	}
	return st
}

// SortWaits orders waits as plans list them: by workspace, campaign,
// person, then ID.
func SortWaits(waits []*storage.Parked) {
	sort.SliceStable(waits, func(i, j int) bool {
		a, b := waits[i], waits[j]
		if a.Workspace != b.Workspace {
			return a.Workspace < b.Workspace
		}
		if a.Campaign != b.Campaign {
			return a.Campaign < b.Campaign
		}
		if a.Person != b.Person {
			return a.Person < b.Person
		}
		return a.ID < b.ID
	})
}

// DropWait takes a person out of a parked flow without resuming it: the
// wait is removed and a Wait Dropped activity, at the clock's time, gives
// the reason (a deploy removed the wait's step or campaign). A wait that
// is gone already (another process resumed or dropped it) is left alone.
func (e *Engine) DropWait(ctx context.Context, w *storage.Parked, reason string) (*Report, error) {
	defer e.lock()()
	r := e.newRun(ctx)
	err := r.inTx(func() error {
		p, err := r.load(w.Person)
		if err != nil {
			return err
		}
		waits, err := r.tx.WaitsOf(w.Person)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(waits, func(x *storage.Parked) bool { return x.ID == w.ID }) {
			return nil
		}
		if p == nil {
			return r.tx.Apply(&storage.Commit{Unpark: []int64{w.ID}})
		}
		ps := r.newPass(p, nil)
		ps.unpark = append(ps.unpark, w.ID)
		ps.add(&storage.Activity{Type: stdlib.ActWaitDropped, Workspace: w.Workspace, Campaign: w.Campaign, Primary: w.Campaign,
			Attributes: storage.Attrs{{Key: "Reason", Value: storage.AttrStr(reason)}}}, nil, nil)
		return ps.finish(nil)
	})
	return r.report, err
}
