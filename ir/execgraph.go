package ir

import "slices"

// The Execute Campaign graph: which campaign executes which, how deep each
// is executed, which chains are too deep and which calls form cycles. It
// is computed once, by Index, and read by the checker (execute_depth,
// execute_cycle, token contexts), graph and the command line.

// Chain is a path of Execute Campaign calls from Root: Calls[0].Caller is
// Root, and each call's target is the next call's caller.
type Chain struct {
	Root   *Campaign
	Calls  []Call
	Levels int // how many levels deep the last call's target runs
}

// execGraph is what Index computes about the Execute Campaign graph.
type execGraph struct {
	depth      []int  // by campaign ID; see ExecDepth
	tooDeep    []bool // by campaign ID
	inCycle    []bool // by campaign ID
	deepStep   map[*Execute]bool
	cycleStep  map[*Execute]bool
	deepChains []Chain
	cycles     []Chain
}

// ExecDepth is the deepest level at which c is executed below a campaign
// that starts a chain: 0 for batch and trigger campaigns, 1 or more for
// executables (an executable that nothing executes counts as 1), and -1 for
// an executable that no chain reaches (one executed only from a cycle that
// nothing starts). A chain goes through a cycle once.
func (p *Program) ExecDepth(c *Campaign) int {
	if !p.indexed(c) {
		return -1
	}
	return p.exec.depth[c.ID]
}

// ExecTooDeep reports whether c is on an Execute Campaign chain deeper than
// MaxExecuteDepth.
func (p *Program) ExecTooDeep(c *Campaign) bool { return p.indexed(c) && p.exec.tooDeep[c.ID] }

// ExecInCycle reports whether c is on an Execute Campaign cycle.
func (p *Program) ExecInCycle(c *Campaign) bool { return p.indexed(c) && p.exec.inCycle[c.ID] }

// indexed reports whether Index has analysed c.
func (p *Program) indexed(c *Campaign) bool { return c != nil && c.ID >= 0 && c.ID < len(p.exec.depth) }

// StepTooDeep reports whether an Execute Campaign step is on a chain deeper
// than MaxExecuteDepth.
func (p *Program) StepTooDeep(s *Execute) bool { return p.exec.deepStep[s] }

// StepInCycle reports whether an Execute Campaign step is on a cycle: its
// campaign and its target execute each other, directly or through others.
func (p *Program) StepInCycle(s *Execute) bool { return p.exec.cycleStep[s] }

// DeepChains lists, for each Execute Campaign step that runs its target one
// level deeper than MaxExecuteDepth, the first chain found that does so:
// chains are walked from each campaign that starts one, in campaign order,
// then in flow order, never through a campaign twice.
func (p *Program) DeepChains() []Chain { return p.exec.deepChains }

// ExecCycles lists the Execute Campaign cycles found by a depth-first
// search in campaign order, then flow order: each ends with the call that
// leads back to a campaign already on the chain.
func (p *Program) ExecCycles() []Chain { return p.exec.cycles }

// executes lists a campaign's Execute Campaign steps with a target,
// branches included, in flow order.
func executes(c *Campaign) []*Execute {
	var out []*Execute
	WalkSteps(c.Flow, func(st Step) {
		if s, ok := st.(*Execute); ok && s.Target != nil {
			out = append(out, s)
		}
	})
	return out
}

func (p *Program) analyzeExec() {
	n := len(p.Campaigns)
	g := &p.exec
	g.depth = make([]int, n)
	g.tooDeep = make([]bool, n)
	g.inCycle = make([]bool, n)
	g.deepStep = map[*Execute]bool{}
	g.cycleStep = map[*Execute]bool{}
	g.deepChains, g.cycles = nil, nil
	out := make([][]*Execute, n)
	for _, c := range p.Campaigns {
		out[c.ID] = executes(c)
	}
	p.findCycles(out)
	p.markDepths(out)
}

// findCycles runs the depth-first search of ExecCycles, and marks the
// campaigns and steps on a cycle: those whose two ends are in one strongly
// connected component of the execute calls (to a target of any kind).
func (p *Program) findCycles(out [][]*Execute) {
	g := &p.exec
	const white, grey, black = 0, 1, 2
	colour := make([]int, len(p.Campaigns))
	var stack []Call
	var visit func(c *Campaign)
	visit = func(c *Campaign) {
		colour[c.ID] = grey
		for _, s := range out[c.ID] {
			t := s.Target
			switch colour[t.ID] {
			case white:
				stack = append(stack, Call{Caller: c, Step: s})
				visit(t)
				stack = stack[:len(stack)-1]
			case grey:
				// The cycle is the part of the stack from t's own call on;
				// a campaign that executes itself has none.
				i := len(stack)
				for j := len(stack) - 1; j >= 0; j-- {
					if stack[j].Caller == t {
						i = j
						break
					}
				}
				cycle := append(append([]Call{}, stack[i:]...), Call{Caller: c, Step: s})
				g.cycles = append(g.cycles, Chain{Root: cycle[0].Caller, Calls: cycle, Levels: len(cycle)})
			}
		}
		colour[c.ID] = black
	}
	for _, c := range p.Campaigns {
		if colour[c.ID] == white {
			visit(c)
		}
	}
	comp, _ := components(out, func(*Execute) bool { return true })
	for _, c := range p.Campaigns {
		for _, s := range out[c.ID] {
			if comp[c.ID] == comp[s.Target.ID] {
				g.cycleStep[s] = true
				g.inCycle[c.ID], g.inCycle[s.Target.ID] = true, true
			}
		}
	}
}

// markDepths gives every campaign its depth and marks the chains deeper
// than MaxExecuteDepth. Both follow the calls to executables, from the
// campaigns that start chains: every batch and trigger campaign (level 0)
// and every executable that nothing executes (level 1).
//
// Two passes, whose marks add up. The first walks every chain (never
// through a campaign twice, stopping one level past the limit): what it
// finds too deep is DeepChains, and is marked even through a cycle. The
// second takes each strongly connected component (a cycle) as one node and
// computes, for what the starts reach, the deepest level at which each
// component is reached and the longest chain below it: a campaign is on a
// too-deep chain when the two add up to more than the limit, and so is a
// call when its caller's level, one, and its target's longest chain below
// do. Where there is no cycle this is exact, and it also marks, and gives
// depths to, the part of a chain past the point where the walk stops.
func (p *Program) markDepths(out [][]*Execute) {
	g := &p.exec
	follows := func(s *Execute) bool { return s.Target.Kind == Executable }
	called := make([]bool, len(p.Campaigns))
	for _, c := range p.Campaigns {
		for _, s := range out[c.ID] {
			if follows(s) {
				called[s.Target.ID] = true
			}
		}
	}
	for i := range g.depth {
		g.depth[i] = -1
	}
	see := func(c *Campaign, l int) { g.depth[c.ID] = max(g.depth[c.ID], l) }

	// Pass 1: the walk.
	reported := map[*Execute]bool{}
	var walk func(root, c *Campaign, l int, path []Call, on []bool)
	walk = func(root, c *Campaign, l int, path []Call, on []bool) {
		for _, s := range out[c.ID] {
			t := s.Target
			if !follows(s) || on[t.ID] {
				continue
			}
			pa := append(path[:len(path):len(path)], Call{Caller: c, Step: s})
			see(t, l+1)
			if l+1 > MaxExecuteDepth {
				g.tooDeep[pa[0].Caller.ID] = true
				for _, call := range pa {
					g.deepStep[call.Step] = true
					g.tooDeep[call.Step.Target.ID] = true
				}
				if !reported[s] {
					reported[s] = true
					g.deepChains = append(g.deepChains, Chain{Root: root, Calls: pa, Levels: l + 1})
				}
				continue
			}
			on[t.ID] = true
			walk(root, t, l+1, pa, on)
			on[t.ID] = false
		}
	}
	on := make([]bool, len(p.Campaigns)) // the chain walked; the walk leaves it clear
	for _, c := range p.Campaigns {
		start := -1
		switch {
		case c.Kind != Executable:
			start = 0
		case !called[c.ID]:
			start = 1
		}
		if start >= 0 {
			see(c, start)
			on[c.ID] = true
			walk(c, c, start, nil, on)
			on[c.ID] = false
		}
	}

	// Pass 2: longest chains over the components. components numbers them
	// in reverse topological order: a call between two goes from the
	// higher number to the lower.
	comp, ncomp := components(out, follows)
	up := make([]int, ncomp)
	down := make([]int, ncomp)
	for i := range up {
		up[i] = -1
	}
	for _, c := range p.Campaigns {
		if c.Kind != Executable {
			up[comp[c.ID]] = 0
		} else if !called[c.ID] {
			up[comp[c.ID]] = max(up[comp[c.ID]], 1)
		}
	}
	var across []Call
	for _, c := range p.Campaigns {
		for _, s := range out[c.ID] {
			if follows(s) && comp[c.ID] != comp[s.Target.ID] {
				across = append(across, Call{Caller: c, Step: s})
			}
		}
	}
	from := func(x Call) int { return comp[x.Caller.ID] }
	to := func(x Call) int { return comp[x.Step.Target.ID] }
	// Callers first: by the caller's component, highest number first.
	slices.SortStableFunc(across, func(a, b Call) int { return from(b) - from(a) })
	for _, x := range across {
		if u := up[from(x)]; u >= 0 {
			up[to(x)] = max(up[to(x)], u+1)
		}
	}
	// Callees first: by the caller's component, lowest number first.
	slices.SortStableFunc(across, func(a, b Call) int { return from(a) - from(b) })
	for _, x := range across {
		down[from(x)] = max(down[from(x)], down[to(x)]+1)
	}
	for _, c := range p.Campaigns {
		if u := up[comp[c.ID]]; u >= 0 {
			see(c, u)
			if u+down[comp[c.ID]] > MaxExecuteDepth {
				g.tooDeep[c.ID] = true
			}
		}
	}
	for _, x := range across {
		if u := up[from(x)]; u >= 0 && u+1+down[to(x)] > MaxExecuteDepth {
			g.deepStep[x.Step] = true
		}
	}
}

// components finds the strongly connected components of the campaigns over
// the calls that keep says, with Tarjan's algorithm (iterative, so a long
// chain cannot overflow the stack). Components are numbered in reverse
// topological order: a call between two components goes from the higher
// number to the lower. The result is indexed by campaign ID.
func components(out [][]*Execute, keep func(*Execute) bool) ([]int, int) {
	n := len(out)
	adj := make([][]int, n)
	for c := range out {
		for _, s := range out[c] {
			if keep(s) {
				adj[c] = append(adj[c], s.Target.ID)
			}
		}
	}
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	comp := make([]int, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	next, ncomp := 0, 0
	type frame struct{ v, i int }
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		work := []frame{{v: root}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(work) > 0 {
			f := &work[len(work)-1]
			if f.i < len(adj[f.v]) {
				w := adj[f.v][f.i]
				f.i++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					work = append(work, frame{v: w})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			work = work[:len(work)-1]
			if len(work) > 0 {
				u := work[len(work)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
		}
	}
	return comp, ncomp
}
