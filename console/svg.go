package console

import (
	"bytes"
	"fmt"
	"html"
	"slices"

	"github.com/campc/campc/graph"
	"github.com/campc/campc/ir"
)

// maxGraphNodes bounds the neighbourhood drawn around a campaign.
const maxGraphNodes = 40

// Sizes of the drawing, in pixels.
const (
	boxW, boxH   = 210, 48
	colGap, rowH = 70, 64
	margin       = 12
)

// drawGraph draws the part of the call graph (graph.Build, as campc graph)
// that a campaign is in: its callers to the left, its callees to the
// right, a column per step away, up to maxGraphNodes campaigns. A node
// shows its kind and its Execute Campaign depth; nodes and edges on a
// cycle or a chain too deep, and other violations, are red. Every text
// is escaped; a campaign of a workspace the user does not see is drawn
// without its name.
func (c *Console) drawGraph(v *view, cp *ir.Campaign, u *user) []byte {
	start := v.nodes[cp]
	layer := map[*graph.Node]int{start: 0}
	order := []*graph.Node{start}
	for i := 0; i < len(order) && len(order) < maxGraphNodes; i++ {
		n := order[i]
		for _, e := range v.graph.Edges {
			var next *graph.Node
			l := layer[n]
			switch n {
			case e.From:
				next, l = e.To, l+1
			case e.To:
				next, l = e.From, l-1
			default:
				continue
			}
			if _, seen := layer[next]; !seen && len(order) < maxGraphNodes {
				layer[next] = l
				order = append(order, next)
			}
		}
	}
	minL, maxL := 0, 0
	for _, l := range layer {
		minL, maxL = min(minL, l), max(maxL, l)
	}
	rows := map[int]int{}
	type pos struct{ x, y int }
	at := map[*graph.Node]pos{}
	maxRows := 0
	for _, n := range order {
		l := layer[n]
		at[n] = pos{margin + (l-minL)*(boxW+colGap), margin + rows[l]*rowH}
		rows[l]++
		maxRows = max(maxRows, rows[l])
	}
	width := margin*2 + (maxL-minL+1)*boxW + (maxL-minL)*colGap
	height := margin*2 + maxRows*rowH - (rowH - boxH)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="callgraph" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="call graph">`, width, height, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>` +
		`<marker id="arrow-bad" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c00"/></marker></defs>`)
	for _, e := range v.graph.Edges {
		from, ok1 := at[e.From]
		to, ok2 := at[e.To]
		if !ok1 || !ok2 {
			continue
		}
		color, marker := "#555", "arrow"
		if e.Bad() {
			color, marker = "#c00", "arrow-bad"
		}
		dash := ""
		if e.Op == graph.Request {
			dash = ` stroke-dasharray="6 4"`
		}
		x1, y1 := from.x+boxW, from.y+boxH/2
		x2, y2 := to.x, to.y+boxH/2
		if to.x <= from.x { // a back edge (a cycle): from the box's left
			x1 = from.x
			x2 = to.x + boxW
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5"%s marker-end="url(#%s)"><title>%s</title></line>`,
			x1, y1, x2, y2, color, dash, marker, html.EscapeString(edgeTitle(e)))
	}
	for _, n := range order {
		p := at[n]
		oc := v.byNode[n]
		name := n.Name
		seen := u.sees(oc.Workspace)
		if !seen {
			name = "(another workspace)"
		}
		stroke, fill := "#444", "#fff"
		if n.Bad() {
			stroke, fill = "#c00", "#fee"
		}
		if n == start {
			fill = "#eef4ff"
			if n.Bad() {
				fill = "#fdd"
			}
		}
		detail := fmt.Sprintf("%s · depth %d", n.Kind, n.Depth)
		if n.InCycle {
			detail += " · cycle"
		}
		if n.TooDeep {
			detail += " · too deep"
		}
		if seen {
			fmt.Fprintf(&b, `<a href="%s/campaigns/%d">`, Prefix, c.svc.CampaignID(oc))
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="%s" stroke="%s" stroke-width="%s"/>`, p.x, p.y, boxW, boxH, fill, stroke, map[bool]string{true: "2.5", false: "1.2"}[n == start])
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" font-weight="600" fill="%s">%s</text>`, p.x+8, p.y+19, stroke, html.EscapeString(clipRunes(name, 28)))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="%s">%s</text>`, p.x+8, p.y+37, stroke, html.EscapeString(detail))
		if seen {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

func edgeTitle(e *graph.Edge) string {
	op := "execute"
	if e.Op == graph.Request {
		op = "request"
	}
	if l := e.Label(); l != "" {
		return op + " (" + l + ")"
	}
	return op
}

// clipRunes shortens s to at most n characters.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(slices.Clone(r[:n-1])) + "…"
}
