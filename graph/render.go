package graph

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/campc/campc/ir"
)

// Colours shared by both renderers.
const (
	red           = "#cc0000"
	batchFill     = "#dae8fc"
	batchLine     = "#6c8ebf"
	triggerFill   = "#d5e8d4"
	triggerLine   = "#82b366"
	execFill      = "#fff2cc"
	execLine      = "#d6b656"
	programFill   = "#f5f5f5"
	programLine   = "#bbbbbb"
	workspaceLine = "#666666"
)

// nodeText is a node's lines: its name, then its kind and depth.
func nodeText(n *Node) []string {
	info := fmt.Sprintf("%s, depth %d", n.Kind, n.Depth)
	if n.Depth < 0 {
		info = fmt.Sprintf("%s, no chain reaches it", n.Kind)
	}
	switch {
	case n.InCycle:
		info += ", cycle"
	case n.TooDeep && n.Depth > ir.MaxExecuteDepth:
		info += ", too deep"
	}
	return []string{n.Name, info}
}

func workspaceText(w *Workspace) string { return "workspace " + quote(w.Name) }

func programText(p *Program) string {
	s := "program " + quote(p.Name)
	if len(p.Folders) > 0 {
		s += " in " + quote(strings.Join(p.Folders, "/"))
	}
	if p.CloneOf != "" {
		s += ", a clone of " + quote(p.CloneOf)
	}
	return s
}

// quote writes a name in double quotes as it is, without Go's escapes; the
// renderers escape what their syntax needs.
func quote(s string) string { return `"` + s + `"` }

// clean replaces control characters (a name may hold "\n" or "\t"
// escapes) by spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// DOT renders the graph in the Graphviz language: one cluster per
// workspace, one per program inside it.
func (g *Graph) DOT() string {
	var b strings.Builder
	b.WriteString("digraph campaigns {\n")
	b.WriteString("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.3, ranksep=0.7];\n")
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=11];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=10];\n")
	for i, w := range g.Workspaces {
		fmt.Fprintf(&b, "\n  subgraph cluster_w%d {\n", i)
		fmt.Fprintf(&b, "    label=%s;\n    style=\"rounded\";\n    color=%q;\n", dotString(workspaceText(w)), workspaceLine)
		for j, p := range w.Programs {
			fmt.Fprintf(&b, "\n    subgraph cluster_w%dp%d {\n", i, j)
			fmt.Fprintf(&b, "      label=%s;\n      style=\"rounded,filled\";\n      fillcolor=%q;\n      color=%q;\n", dotString(programText(p)), programFill, programLine)
			for _, n := range p.Nodes {
				fmt.Fprintf(&b, "      %s [%s];\n", n.ID, dotNodeAttrs(n))
			}
			b.WriteString("    }\n")
		}
		b.WriteString("  }\n")
	}
	if len(g.Edges) > 0 {
		b.WriteString("\n")
	}
	for _, e := range g.Edges {
		var attrs []string
		if e.Op == Request {
			attrs = append(attrs, "style=dashed")
		}
		if l := e.Label(); l != "" {
			attrs = append(attrs, "label="+dotString(l))
		}
		if e.Bad() {
			attrs = append(attrs, fmt.Sprintf("color=%q, fontcolor=%q, penwidth=2", red, red))
		}
		fmt.Fprintf(&b, "  %s -> %s", e.From.ID, e.To.ID)
		if len(attrs) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(attrs, ", "))
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func dotNodeAttrs(n *Node) string {
	lines := nodeText(n)
	for i, l := range lines {
		lines[i] = dotEscape(l)
	}
	shape, style, fill, line := "box", "filled", batchFill, batchLine
	switch n.Kind {
	case ir.Trigger:
		shape, fill, line = "ellipse", triggerFill, triggerLine
	case ir.Executable:
		style, fill, line = "rounded,filled,bold", execFill, execLine
	}
	attrs := fmt.Sprintf(`label="%s", shape=%s, style="%s", fillcolor="%s"`, strings.Join(lines, `\n`), shape, style, fill)
	if n.Bad() {
		return attrs + fmt.Sprintf(`, color="%s", fontcolor="%s", penwidth=2.5`, red, red)
	}
	return attrs + fmt.Sprintf(`, color="%s"`, line)
}

// dotString is s as a DOT double-quoted string.
func dotString(s string) string { return `"` + dotEscape(s) + `"` }

// dotEscape escapes s for a DOT double-quoted string: a backslash would
// otherwise start one of Graphviz's label escapes (\n, \N, \G …).
func dotEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(clean(s))
}

// Mermaid renders the graph as a Mermaid flowchart: one subgraph per
// workspace, one per program inside it.
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	classes := map[string][]string{}
	for i, w := range g.Workspaces {
		fmt.Fprintf(&b, "  subgraph w%d[\"%s\"]\n", i, mermaidEscape(workspaceText(w)))
		for j, p := range w.Programs {
			fmt.Fprintf(&b, "    subgraph w%dp%d[\"%s\"]\n", i, j, mermaidEscape(programText(p)))
			for _, n := range p.Nodes {
				lines := nodeText(n)
				for k, l := range lines {
					lines[k] = mermaidEscape(l)
				}
				label := `"` + strings.Join(lines, "<br/>") + `"`
				var open, close string
				switch n.Kind {
				case ir.Batch:
					open, close = "[", "]"
				case ir.Trigger:
					open, close = "([", "])"
				default:
					open, close = "[[", "]]"
				}
				fmt.Fprintf(&b, "      %s%s%s%s\n", n.ID, open, label, close)
				classes[n.Kind.String()] = append(classes[n.Kind.String()], n.ID)
				if n.Bad() {
					classes["bad"] = append(classes["bad"], n.ID)
				}
			}
			b.WriteString("    end\n")
		}
		b.WriteString("  end\n")
	}
	var bad []string
	for i, e := range g.Edges {
		arrow := "-->"
		if e.Op == Request {
			arrow = "-.->"
		}
		if l := e.Label(); l != "" {
			arrow += `|"` + mermaidEscape(l) + `"|`
		}
		fmt.Fprintf(&b, "  %s %s %s\n", e.From.ID, arrow, e.To.ID)
		if e.Bad() {
			bad = append(bad, strconv.Itoa(i))
		}
	}
	fmt.Fprintf(&b, "  classDef batch fill:%s,stroke:%s\n", batchFill, batchLine)
	fmt.Fprintf(&b, "  classDef trigger fill:%s,stroke:%s\n", triggerFill, triggerLine)
	fmt.Fprintf(&b, "  classDef executable fill:%s,stroke:%s,stroke-width:2px\n", execFill, execLine)
	fmt.Fprintf(&b, "  classDef bad stroke:%s,stroke-width:3px,color:%s\n", red, red)
	for _, c := range []string{"batch", "trigger", "executable", "bad"} {
		if ids := classes[c]; len(ids) > 0 {
			fmt.Fprintf(&b, "  class %s %s\n", strings.Join(ids, ","), c)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(&b, "  linkStyle %s stroke:%s,stroke-width:2px,color:%s\n", strings.Join(bad, ","), red, red)
	}
	return b.String()
}

// mermaidEscape makes s safe inside a double-quoted Mermaid label: quotes,
// brackets and the characters of markup become entity codes.
var mermaidEscape = func() func(string) string {
	r := strings.NewReplacer(
		`#`, "#35;", `"`, "#quot;", `&`, "#amp;", `<`, "#lt;", `>`, "#gt;",
		`[`, "#91;", `]`, "#93;", `(`, "#40;", `)`, "#41;", `{`, "#123;", `}`, "#125;",
		`|`, "#124;", "`", "#96;",
	)
	return func(s string) string { return r.Replace(clean(s)) }
}()
