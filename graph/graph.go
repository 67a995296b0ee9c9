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
// with errors: unresolved targets are simply not drawn. Depths, too-deep
// chains and cycles are the program's own (ir.Program.ExecDepth and the
// rest), the ones the execute_depth and execute_cycle checks read.
func Build(p *ir.Program) *Graph {
	g := &Graph{}
	nodes := map[*ir.Campaign]*Node{}
	for _, cp := range p.Campaigns {
		n := &Node{ID: "c" + strconv.Itoa(cp.ID), Name: cp.Name, Kind: cp.Kind,
			Depth: p.ExecDepth(cp), TooDeep: p.ExecTooDeep(cp), InCycle: p.ExecInCycle(cp)}
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
	edges := map[key]*Edge{}
	type marks struct{ cycle, deep bool }
	marked := map[*Edge]*marks{}
	for _, cp := range p.Campaigns {
		ir.WalkSteps(cp.Flow, func(st ir.Step) {
			var target *ir.Campaign
			var k key
			ex, _ := st.(*ir.Execute) // nil for a request: never on a chain
			switch s := st.(type) {
			case *ir.Execute:
				target = s.Target
				k = key{from: nodes[cp], to: nodes[target], op: Execute, parent: s.Parent}
			case *ir.Request:
				target = s.Target
				k = key{from: nodes[cp], to: nodes[target], op: Request}
			}
			if target == nil || k.to == nil {
				return
			}
			if e := edges[k]; e != nil {
				// The same call again: its marks are the first's, but
				// adding them up does not depend on that.
				m := marked[e]
				m.cycle = m.cycle || p.StepInCycle(ex)
				m.deep = m.deep || p.StepTooDeep(ex)
				return
			}
			e := &Edge{From: k.from, To: k.to, Op: k.op, ParentTokens: k.parent}
			edges[k] = e
			marked[e] = &marks{cycle: p.StepInCycle(ex), deep: p.StepTooDeep(ex)}
			switch {
			case e.Op == Execute && target.Kind != ir.Executable:
				e.Problems = append(e.Problems, "not executable")
			case e.Op == Request && target.Workspace == cp.Workspace && !target.Requestable("flow"):
				e.Problems = append(e.Problems, "not requestable")
			}
			if target.Workspace != cp.Workspace {
				e.Problems = append(e.Problems, "other workspace")
			}
			g.Edges = append(g.Edges, e)
		})
	}
	for _, e := range g.Edges {
		m := marked[e]
		if m.deep {
			e.Problems = append([]string{"too deep"}, e.Problems...)
		}
		if m.cycle {
			e.Problems = append([]string{"cycle"}, e.Problems...)
		}
	}
	return g
}
