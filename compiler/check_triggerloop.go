package compiler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// A trigger campaign whose flow raises an event that one of its own
// triggers listens to, directly or through other trigger campaigns, can
// start itself again and again: at run time only the cascade budget stops
// it. checkTriggerLoops warns of every such cycle at check time, with the
// chain that closes it. Filters or the qualification rule may well break
// the cycle, so it is a warning, not an error.

// raise is one event a flow can cause, and the step that causes it.
type raise struct {
	step ir.Step
	// what the event is: the trigger kind and its subject
	kind    ir.TriggerKind
	field   *ir.Field
	list    *ir.List
	program *ir.ProgramDef
	status  string
	target  *ir.Campaign // TrigRequested: the campaign asked for
}

// raises lists the events a flow can cause, through executed children too
// (they run in series, in the same pass); seen guards against execute
// cycles, which execute_cycle reports.
func raises(flow []ir.Step, seen map[*ir.Campaign]bool) []raise {
	var out []raise
	ir.WalkSteps(flow, func(s ir.Step) {
		switch s := s.(type) {
		case *ir.ChangeData:
			if s.Field != nil {
				out = append(out, raise{step: s, kind: ir.TrigDataChanges, field: s.Field})
			}
		case *ir.ChangeScore:
			if s.Field != nil && (s.Score.Token != nil || s.Score.Set || s.Score.Delta != 0) {
				out = append(out, raise{step: s, kind: ir.TrigScoreChanged, field: s.Field})
			}
		case *ir.AddToList:
			if s.List != nil {
				out = append(out, raise{step: s, kind: ir.TrigAddedToList, list: s.List})
			}
		case *ir.RemoveFromList:
			if s.List != nil {
				out = append(out, raise{step: s, kind: ir.TrigRemovedFromList, list: s.List})
			}
		case *ir.ChangeStatus:
			if s.Program != nil {
				out = append(out, raise{step: s, kind: ir.TrigStatusChanged, program: s.Program, status: s.Status})
			}
		case *ir.Request:
			if s.Target != nil {
				out = append(out, raise{step: s, kind: ir.TrigRequested, target: s.Target})
			}
		case *ir.Execute:
			if s.Target != nil && !seen[s.Target] {
				seen[s.Target] = true
				out = append(out, raises(s.Target.Flow, seen)...)
			}
		}
	})
	return out
}

// listens reports whether trigger t starts its campaign on event r.
func listens(t *ir.TriggerDef, to *ir.Campaign, r raise) bool {
	if t.Kind != r.kind {
		return false
	}
	switch r.kind {
	case ir.TrigDataChanges, ir.TrigScoreChanged:
		return t.Field == r.field && !constraintExcludes(t, r.step)
	case ir.TrigAddedToList, ir.TrigRemovedFromList:
		return t.List == r.list
	case ir.TrigStatusChanged:
		return (t.Program == nil || t.Program == r.program) && (t.Status == "" || t.Status == r.status)
	case ir.TrigRequested:
		return r.target == to && (len(t.Sources) == 0 || contains(t.Sources, "flow"))
	}
	return false
}

// constraintExcludes reports whether a trigger's constraint (to V, by at
// least n) can never hear the change a step makes: a literal value other
// than V, a literal score change smaller than n. A value from a token or
// an old value ("from") is known only at run time, so it may loop.
func constraintExcludes(t *ir.TriggerDef, step ir.Step) bool {
	switch s := step.(type) {
	case *ir.ChangeData:
		if t.To == nil {
			return false
		}
		if !s.Text.Static() {
			return false
		}
		v, to := s.Value, *t.To
		switch {
		case v.Null:
			return true
		case to.Type.IsText():
			return v.Fold != to.Fold
		case to.Type.IsNumeric():
			return v.Num != to.Num
		case to.Type.IsTime():
			return !v.Time.Equal(to.Time)
		default:
			return v.Bool != to.Bool
		}
	case *ir.ChangeScore:
		if !t.HasAtLeast {
			return false
		}
		if s.Score.Token != nil || s.Score.Set {
			return false
		}
		d := s.Score.Delta
		return (t.AtLeast > 0 && d < t.AtLeast) || (t.AtLeast < 0 && d > t.AtLeast)
	}
	return false
}

// hearKey is what a trigger can hear, as far as an index can tell: the
// workspace, the event's kind and its subject. listens decides the rest.
type hearKey struct {
	ws      *ir.Workspace
	kind    ir.TriggerKind
	field   *ir.Field
	list    *ir.List
	program *ir.ProgramDef // TrigStatusChanged: nil for a trigger on any program
	target  *ir.Campaign   // TrigRequested: the trigger's own campaign
}

// hearers indexes trigger campaigns (by their index in triggers, in
// order, once each) by the events their triggers may hear, so that
// checkTriggerLoops looks at the campaigns that may hear an event rather
// than at every trigger campaign for every event (quadratic in a project
// of thousands of them).
func hearers(triggers []*ir.Campaign) map[hearKey][]int {
	idx := map[hearKey][]int{}
	for i, to := range triggers {
		for _, t := range to.SmartList.Triggers {
			k := hearKey{ws: to.Workspace, kind: t.Kind}
			switch t.Kind {
			case ir.TrigDataChanges, ir.TrigScoreChanged:
				k.field = t.Field
			case ir.TrigAddedToList, ir.TrigRemovedFromList:
				k.list = t.List
			case ir.TrigStatusChanged:
				k.program = t.Program
			case ir.TrigRequested:
				k.target = to
			default:
				continue // no flow step raises it
			}
			if l := idx[k]; len(l) == 0 || l[len(l)-1] != i {
				idx[k] = append(l, i)
			}
		}
	}
	return idx
}

// candidates appends the indexes of the trigger campaigns of workspace ws
// that may hear r, in order, once each.
func (r raise) candidates(idx map[hearKey][]int, ws *ir.Workspace, out []int) []int {
	k := hearKey{ws: ws, kind: r.kind, field: r.field, list: r.list, target: r.target}
	if r.kind != ir.TrigStatusChanged {
		return append(out, idx[k]...)
	}
	// A status change is heard by triggers on its program and by triggers
	// on any program: merge the two ordered lists.
	k.program = r.program
	a := idx[k]
	k.program = nil
	b := idx[k]
	if r.program == nil {
		a = nil
	}
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0] < b[0]):
			out, a = append(out, a[0]), a[1:]
		case len(a) == 0 || b[0] < a[0]:
			out, b = append(out, b[0]), b[1:]
		default:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return out
}

// loopEdge is one campaign's flow starting another trigger campaign.
type loopEdge struct {
	to      *ir.Campaign
	step    ir.Step
	trigger *ir.TriggerDef
}

func checkTriggerLoops(c *checker) {
	var triggers []*ir.Campaign
	for _, cp := range c.prog.Campaigns {
		if cp.Kind == ir.Trigger && cp.Active && cp.SmartList != nil && cp.SmartList.Invalid == "" {
			triggers = append(triggers, cp)
		}
	}
	hear := hearers(triggers)
	edges := map[*ir.Campaign][]loopEdge{}
	var cand []int
	for _, from := range triggers {
		for _, r := range raises(from.Flow, map[*ir.Campaign]bool{from: true}) {
			// Events stay in the workspace where they happen.
			cand = r.candidates(hear, from.Workspace, cand[:0])
			for _, i := range cand {
				to := triggers[i]
				for _, t := range to.SmartList.Triggers {
					if listens(t, to, r) {
						edges[from] = append(edges[from], loopEdge{to: to, step: r.step, trigger: t})
						break
					}
				}
			}
		}
	}
	// One warning per cycle, found from its first campaign in program
	// order, so that the report is the same on every run.
	reported := map[*ir.Campaign]bool{}
	for _, start := range triggers {
		if reported[start] {
			continue
		}
		path := shortestLoop(start, edges)
		if path == nil {
			continue
		}
		names := []string{quote(start.Name)}
		var rel []lang.Related
		for _, e := range path {
			names = append(names, quote(e.to.Name))
			reported[e.to] = true
			rel = append(rel, lang.Related{Message: fmt.Sprintf("raises %s of %q", triggerWords(e.trigger), e.to.Name), Start: e.step.Base().Pos, End: e.step.Base().End})
		}
		// The last edge comes back to start: its trigger is start's own.
		first := path[len(path)-1].trigger
		what := "its own trigger"
		if len(path) > 1 {
			what = "its own trigger through other trigger campaigns"
		}
		d := c.warnf(start, lang.CodeTriggerLoop, first.Pos, first.Pos,
			"trigger campaign %q can start itself again: its flow raises %s (%s); only the cascade budget would stop the loop at run time, unless filters or the qualification rule break it",
			start.Name, what, strings.Join(names, " > "))
		d.Related = rel
	}
}

// shortestLoop is the shortest chain of edges from start back to start, by
// breadth-first search in edge order.
func shortestLoop(start *ir.Campaign, edges map[*ir.Campaign][]loopEdge) []loopEdge {
	type node struct {
		at   *ir.Campaign
		path []loopEdge
	}
	queue := []node{{at: start}}
	seen := map[*ir.Campaign]bool{}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range edges[n.at] {
			p := append(slices.Clone(n.path), e)
			if e.to == start {
				return p
			}
			if !seen[e.to] {
				seen[e.to] = true
				queue = append(queue, node{at: e.to, path: p})
			}
		}
	}
	return nil
}

// triggerWords names the event a trigger listens to, for messages.
func triggerWords(t *ir.TriggerDef) string {
	switch t.Kind {
	case ir.TrigDataChanges:
		return "a change of " + t.Field.Name
	case ir.TrigScoreChanged:
		return "a change of " + t.Field.Name
	case ir.TrigAddedToList:
		return fmt.Sprintf("an add to list %q", t.List.Name)
	case ir.TrigRemovedFromList:
		return fmt.Sprintf("a removal from list %q", t.List.Name)
	case ir.TrigStatusChanged:
		return "a program status change"
	case ir.TrigRequested:
		return "a request"
	}
	return "an event"
}
