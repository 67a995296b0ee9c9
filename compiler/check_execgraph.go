package compiler

import (
	"fmt"
	"strings"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// executes lists a campaign's Execute Campaign steps, branches included.
func executes(cp *ir.Campaign) []*ir.Step {
	var out []*ir.Step
	ir.WalkSteps(cp.Flow, func(s *ir.Step) {
		if s.Op == ir.StepExecute && s.Target != nil {
			out = append(out, s)
		}
	})
	return out
}

// checkExecuteGraph reports Execute Campaign steps that target a campaign
// that is not executable, chains deeper than MaxExecuteDepth, and cycles.
func checkExecuteGraph(c *checker) {
	for _, cp := range c.prog.Campaigns {
		for _, s := range executes(cp) {
			if s.Target.Kind != ir.Executable {
				c.errorf(cp, lang.CodeNotExecutable, s.Pos, s.End, "campaign %q is a %s campaign, not executable; only executable campaigns can be executed (use request campaign for a trigger campaign)", s.Target.Name, s.Target.Kind)
			}
		}
	}
	c.checkCycles()
	c.checkDepth()
}

type hop struct {
	from *ir.Campaign
	step *ir.Step
}

func chainNames(start *ir.Campaign, hops []hop) string {
	parts := []string{quote(start.Name)}
	for _, h := range hops {
		parts = append(parts, quote(h.step.Target.Name))
	}
	return strings.Join(parts, " > ")
}

func hopRelated(hops []hop) []lang.Related {
	var out []lang.Related
	for _, h := range hops {
		out = append(out, lang.Related{Message: fmt.Sprintf("%q executes %q", h.from.Name, h.step.Target.Name), Start: h.step.Pos, End: h.step.End})
	}
	return out
}

// checkDepth walks every chain from each campaign that can start one (a
// campaign that is not executable, or an executable nobody calls, which
// counts as one level down) and reports the step that goes one level too deep.
func (c *checker) checkDepth() {
	reported := map[*ir.Step]bool{}
	var walk func(root *ir.Campaign, cp *ir.Campaign, level int, hops []hop, on map[*ir.Campaign]bool)
	walk = func(root *ir.Campaign, cp *ir.Campaign, level int, hops []hop, on map[*ir.Campaign]bool) {
		for _, s := range executes(cp) {
			t := s.Target
			if t.Kind != ir.Executable || on[t] {
				continue
			}
			path := append(hops[:len(hops):len(hops)], hop{from: cp, step: s})
			if level+1 > ir.MaxExecuteDepth {
				if !reported[s] {
					reported[s] = true
					d := c.errorf(cp, lang.CodeExecuteDepth, s.Pos, s.End,
						"Execute Campaign chain is %d levels deep: %s; executables nest at most %d levels below the campaign that starts the chain",
						level+1, chainNames(root, path), ir.MaxExecuteDepth)
					d.Related = hopRelated(path[:len(path)-1])
				}
				continue
			}
			on[t] = true
			walk(root, t, level+1, path, on)
			delete(on, t)
		}
	}
	for _, cp := range c.prog.Campaigns {
		switch {
		case cp.Kind != ir.Executable:
			walk(cp, cp, 0, nil, map[*ir.Campaign]bool{cp: true})
		case len(c.prog.Callers(cp)) == 0:
			walk(cp, cp, 1, nil, map[*ir.Campaign]bool{cp: true})
		}
	}
}

// checkCycles finds Execute Campaign calls that lead back to a campaign
// already in the chain, with a depth-first search that reports each back edge.
func (c *checker) checkCycles() {
	const white, grey, black = 0, 1, 2
	colour := map[*ir.Campaign]int{}
	var stack []hop
	var visit func(cp *ir.Campaign)
	visit = func(cp *ir.Campaign) {
		colour[cp] = grey
		for _, s := range executes(cp) {
			t := s.Target
			switch colour[t] {
			case white:
				stack = append(stack, hop{from: cp, step: s})
				visit(t)
				stack = stack[:len(stack)-1]
			case grey:
				// The cycle is the part of the stack from t's own step on;
				// a campaign that executes itself has none.
				i := len(stack)
				for j := len(stack) - 1; j >= 0; j-- {
					if stack[j].from == t {
						i = j
						break
					}
				}
				cycle := append(append([]hop{}, stack[i:]...), hop{from: cp, step: s})
				d := c.errorf(cp, lang.CodeExecuteCycle, s.Pos, s.End,
					"Execute Campaign calls form a cycle: %s", chainNames(cycle[0].from, cycle))
				d.Related = hopRelated(cycle[:len(cycle)-1])
			}
		}
		colour[cp] = black
	}
	for _, cp := range c.prog.Campaigns {
		if colour[cp] == white {
			visit(cp)
		}
	}
}
