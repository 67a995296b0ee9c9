// Package graph builds the call graph of a checked campc program (which
// campaign executes or requests which) and renders it as Graphviz DOT or as
// a Mermaid flowchart. It does no I/O: the command line writes the text.
//
// Campaigns are the nodes, grouped by workspace and then by program. An
// Execute Campaign step is a solid edge (labelled "parent tokens" when it
// uses them), a Request Campaign step a dashed one. Each node carries its
// kind and its depth: the deepest level at which it is executed below a
// campaign that starts a chain, as the execute_depth check counts levels.
// Chains deeper than ir.MaxExecuteDepth and Execute Campaign cycles
// are marked, nodes and edges alike, and so are the edges that the checks
// reject for other reasons (a target that is not executable, not
// requestable, or in another workspace).
package graph

import (
	"slices"
	"strconv"
	"strings"

	"github.com/campc/campc/ir"
)

// Graph is the call graph of a program.
type Graph struct {
	Workspaces []*Workspace
	Nodes      []*Node // in campaign order (ir.Campaign.ID)
	Edges      []*Edge // by caller, then in step order
}

// Workspace is a workspace and its programs that have campaigns.
type Workspace struct {
	Name     string
	Programs []*Program
}

// Program is a program and its campaigns.
type Program struct {
	Name    string
	Folders []string // the folders it stands in, outermost first
	CloneOf string   // the program it was cloned from, if it was
	Nodes   []*Node
}

// Node is one campaign.
type Node struct {
	ID   string // "c" and the campaign's ID: safe in DOT and in Mermaid
	Name string
	Kind ir.Kind
	// Depth is the deepest level at which the campaign is executed below
	// a campaign that starts a chain: 0 for batch and trigger campaigns,
	// 1 or more for executables (an executable that nothing executes counts
	// as 1, as the execute_depth check counts it). It is -1 for an
	// executable that no chain reaches (one executed only from a cycle that
	// nothing starts). A chain goes through a cycle once.
	Depth   int
	TooDeep bool // on a chain deeper than ir.MaxExecuteDepth
	InCycle bool // on an Execute Campaign cycle
}

// Bad reports whether the node is on a chain that is too deep or a cycle.
func (n *Node) Bad() bool { return n.TooDeep || n.InCycle }

// Op is the kind of an edge.
type Op int

// Edge kinds.
const (
	Execute Op = iota // execute campaign: runs the target in series
	Request           // request campaign: queues the target
)

// Edge is one or more steps of From that execute or request To, with the
// same "use parent tokens".
type Edge struct {
	From, To     *Node
	Op           Op
	ParentTokens bool
	// Problems name what the checks reject on this edge, in this order:
	// "cycle", "too deep", "not executable", "not requestable",
	// "other workspace".
	Problems []string
}

// Bad reports whether a check rejects the edge.
func (e *Edge) Bad() bool { return len(e.Problems) > 0 }

// Label is the edge's text: "parent tokens" and its problems.
func (e *Edge) Label() string {
	var parts []string
	if e.ParentTokens {
		parts = append(parts, "parent tokens")
	}
	return strings.Join(append(parts, e.Problems...), ", ")
}

// Build makes the graph of a program. The program may come from a project
// with errors: unresolved targets are simply not drawn.
func Build(p *ir.Program) *Graph {
	g := &Graph{}
	nodes := map[*ir.Campaign]*Node{}
	for _, cp := range p.Campaigns {
		n := &Node{ID: "c" + strconv.Itoa(cp.ID), Name: cp.Name, Kind: cp.Kind}
		nodes[cp] = n
		g.Nodes = append(g.Nodes, n)
	}
	for _, ws := range p.Workspaces {
		w := &Workspace{Name: ws.Name}
		for _, pd := range ws.Programs {
			pr := &Program{Name: pd.Name}
			if pd.CloneOf != nil {
				pr.CloneOf = pd.CloneOf.Name
			}
			for f := pd.Folder; f != nil; f = f.Parent {
				pr.Folders = append([]string{f.Name}, pr.Folders...)
			}
			for _, cp := range ws.Campaigns {
				if cp.Program == pd {
					pr.Nodes = append(pr.Nodes, nodes[cp])
				}
			}
			if len(pr.Nodes) > 0 {
				w.Programs = append(w.Programs, pr)
			}
		}
		if len(w.Programs) > 0 {
			g.Workspaces = append(g.Workspaces, w)
		}
	}

	type key struct {
		from, to *Node
		op       Op
		parent   bool
	}
	seen := map[key]bool{}
	for _, cp := range p.Campaigns {
		ir.WalkSteps(cp.Flow, func(s *ir.Step) {
			if s.Target == nil || (s.Op != ir.StepExecute && s.Op != ir.StepRequest) {
				return
			}
			k := key{from: nodes[cp], to: nodes[s.Target], op: Execute, parent: s.Parent}
			if s.Op == ir.StepRequest {
				k.op, k.parent = Request, false
			}
			if k.to == nil || seen[k] {
				return
			}
			seen[k] = true
			e := &Edge{From: k.from, To: k.to, Op: k.op, ParentTokens: k.parent}
			switch {
			case e.Op == Execute && s.Target.Kind != ir.Executable:
				e.Problems = append(e.Problems, "not executable")
			case e.Op == Request && s.Target.Workspace == cp.Workspace && !s.Target.Requestable("flow"):
				e.Problems = append(e.Problems, "not requestable")
			}
			if s.Target.Workspace != cp.Workspace {
				e.Problems = append(e.Problems, "other workspace")
			}
			g.Edges = append(g.Edges, e)
		})
	}
	g.markCycles()
	g.markDepths()
	return g
}

// markCycles marks the nodes and edges of every Execute Campaign cycle: an
// edge is on one when both its ends are in the same strongly connected
// component of the execute edges (any target kind, as execute_cycle
// counts them).
func (g *Graph) markCycles() {
	comp, _ := g.components(func(e *Edge) bool { return e.Op == Execute })
	for _, e := range g.Edges {
		if e.Op == Execute && comp[e.From] == comp[e.To] {
			e.Problems = append([]string{"cycle"}, e.Problems...)
			e.From.InCycle, e.To.InCycle = true, true
		}
	}
}

// markDepths gives every node its depth and marks the chains deeper than
// ir.MaxExecuteDepth. Both follow the execute edges to executables,
// the only ones execute_depth follows, from the campaigns that start
// chains: every batch and trigger campaign (level 0) and every executable
// that nothing executes (level 1, as the check counts it).
//
// Two passes, whose marks add up. The first walks every chain the way the
// check does (never through a campaign twice, stopping one level past the
// limit), so a chain that the check reports is marked even through a
// cycle. The second takes each strongly connected component (a cycle) as
// one node and computes, for what the starts reach, the deepest level at
// which each component is reached and the longest chain below it: a node
// is on a too-deep chain when the two add up to more than the limit, and so
// is an edge when its caller's level, one, and its target's longest chain
// below do. Where there is no cycle this is exact, and it also marks, and
// gives depths to, the part of a chain past the point where the walk stops.
func (g *Graph) markDepths() {
	follows := func(e *Edge) bool { return e.Op == Execute && e.To.Kind == ir.Executable }
	out := map[*Node][]*Edge{}
	called := map[*Node]bool{}
	for _, e := range g.Edges {
		if follows(e) {
			out[e.From] = append(out[e.From], e)
			called[e.To] = true
		}
	}
	level := map[*Node]int{} // deepest level seen, for the nodes reached
	see := func(n *Node, l int) {
		if old, ok := level[n]; !ok || l > old {
			level[n] = l
		}
	}
	deep := map[*Edge]bool{}
	markChain := func(path []*Edge) {
		path[0].From.TooDeep = true
		for _, e := range path {
			deep[e] = true
			e.To.TooDeep = true
		}
	}

	// Pass 1: the check's walk.
	var walk func(n *Node, l int, path []*Edge, on map[*Node]bool)
	walk = func(n *Node, l int, path []*Edge, on map[*Node]bool) {
		for _, e := range out[n] {
			if on[e.To] {
				continue
			}
			p := append(path[:len(path):len(path)], e)
			see(e.To, l+1)
			if l+1 > ir.MaxExecuteDepth {
				markChain(p)
				continue
			}
			on[e.To] = true
			walk(e.To, l+1, p, on)
			delete(on, e.To)
		}
	}
	for _, n := range g.Nodes {
		start := -1
		switch {
		case n.Kind != ir.Executable:
			start = 0
		case !called[n]:
			start = 1
		}
		if start >= 0 {
			see(n, start)
			walk(n, start, nil, map[*Node]bool{n: true})
		}
	}

	// Pass 2: longest chains over the components. components numbers them
	// in reverse topological order: an edge between two goes from the
	// higher number to the lower.
	comp, ncomp := g.components(follows)
	up := make([]int, ncomp)
	down := make([]int, ncomp)
	for i := range up {
		up[i] = -1
	}
	for _, n := range g.Nodes {
		if n.Kind != ir.Executable {
			up[comp[n]] = 0
		} else if !called[n] {
			up[comp[n]] = max(up[comp[n]], 1)
		}
	}
	var across []*Edge
	for _, e := range g.Edges {
		if follows(e) && comp[e.From] != comp[e.To] {
			across = append(across, e)
		}
	}
	// Callers first: by the caller's component, highest number first.
	slices.SortStableFunc(across, func(a, b *Edge) int { return comp[b.From] - comp[a.From] })
	for _, e := range across {
		if u := up[comp[e.From]]; u >= 0 {
			up[comp[e.To]] = max(up[comp[e.To]], u+1)
		}
	}
	// Callees first: by the caller's component, lowest number first.
	slices.SortStableFunc(across, func(a, b *Edge) int { return comp[a.From] - comp[b.From] })
	for _, e := range across {
		down[comp[e.From]] = max(down[comp[e.From]], down[comp[e.To]]+1)
	}
	for _, n := range g.Nodes {
		if u := up[comp[n]]; u >= 0 {
			see(n, u)
			if u+down[comp[n]] > ir.MaxExecuteDepth {
				n.TooDeep = true
			}
		}
	}
	for _, e := range across {
		if u := up[comp[e.From]]; u >= 0 && u+1+down[comp[e.To]] > ir.MaxExecuteDepth {
			deep[e] = true
		}
	}

	for _, n := range g.Nodes {
		n.Depth = -1
		if l, ok := level[n]; ok {
			n.Depth = l
		}
	}
	for _, e := range g.Edges {
		if deep[e] {
			e.Problems = insertProblem(e.Problems, "too deep")
		}
	}
}

// insertProblem adds p after "cycle", keeping the documented order.
func insertProblem(ps []string, p string) []string {
	i := 0
	if len(ps) > 0 && ps[0] == "cycle" {
		i = 1
	}
	return slices.Insert(ps, i, p)
}

// components finds the strongly connected components of the nodes over the
// edges that keep says, with Tarjan's algorithm (iterative, so a long chain
// cannot overflow the stack). Components are numbered in reverse
// topological order: an edge between two components goes from the higher
// number to the lower.
func (g *Graph) components(keep func(*Edge) bool) (map[*Node]int, int) {
	out := map[*Node][]*Node{}
	for _, e := range g.Edges {
		if keep(e) {
			out[e.From] = append(out[e.From], e.To)
		}
	}
	index := map[*Node]int{}
	low := map[*Node]int{}
	onStack := map[*Node]bool{}
	comp := map[*Node]int{}
	var stack []*Node
	next, ncomp := 0, 0
	type frame struct {
		n *Node
		i int
	}
	for _, root := range g.Nodes {
		if _, ok := index[root]; ok {
			continue
		}
		work := []frame{{n: root}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(work) > 0 {
			f := &work[len(work)-1]
			if f.i < len(out[f.n]) {
				w := out[f.n][f.i]
				f.i++
				if _, ok := index[w]; !ok {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					work = append(work, frame{n: w})
				} else if onStack[w] {
					low[f.n] = min(low[f.n], index[w])
				}
				continue
			}
			v := f.n
			work = work[:len(work)-1]
			if len(work) > 0 {
				u := work[len(work)-1].n
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
