package graph

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// loadDir reads every .camp file under dir as one project.
func loadDir(t *testing.T, dir string) []lang.Source {
	t.Helper()
	var srcs []lang.Source
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".camp" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		srcs = append(srcs, lang.Source{Name: filepath.ToSlash(p), Text: string(b)})
		return nil
	})
	if err != nil || len(srcs) == 0 {
		t.Fatalf("%s: %v (%d files)", dir, err, len(srcs))
	}
	return srcs
}

func build(t *testing.T, srcs []lang.Source) (*Graph, *compiler.Result) {
	t.Helper()
	res := compiler.Compile(srcs, compiler.Options{MaxErrors: -1})
	if res.Program == nil {
		t.Fatalf("no program: %v", res)
	}
	return Build(res.Program), res
}

// projects are the example projects and the test projects of testdata.
func projects(t *testing.T) []string {
	dirs, _ := filepath.Glob("../examples/*")
	more, _ := filepath.Glob("testdata/*")
	var out []string
	for _, d := range append(dirs, more...) {
		if info, err := os.Stat(d); err == nil && info.IsDir() && filepath.Base(d) != "golden" {
			out = append(out, d)
		}
	}
	if len(out) < 7 {
		t.Fatalf("want the five examples and two test projects, found %v", out)
	}
	return out
}

// TestGolden compares the DOT and Mermaid of two examples and two test
// projects (a too-deep chain and a cycle; names full of special
// characters) with testdata/golden. UPDATE_GOLDEN=1 rewrites them.
func TestGolden(t *testing.T) {
	for _, c := range []struct{ name, dir string }{
		{"lifecycle", "../examples/lifecycle"},
		{"acme", "../examples/acme"},
		{"bad", "testdata/bad"},
		{"names", "testdata/names"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, _ := build(t, loadDir(t, c.dir))
			for ext, got := range map[string]string{".dot": g.DOT(), ".mmd": g.Mermaid()} {
				path := filepath.Join("testdata", "golden", c.name+ext)
				if os.Getenv("UPDATE_GOLDEN") == "1" {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("%s differs (-want +got):\n%s", path, cmp.Diff(string(want), got))
				}
			}
		})
	}
}

// TestGraphvizRenders renders the DOT of every project with dot -Tsvg.
// Without Graphviz it skips, except in CI (CI set), where it fails.
func TestGraphvizRenders(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("Graphviz's dot is not on PATH; CI must install it (apt-get install -y graphviz)")
		}
		t.Skip("Graphviz's dot is not on PATH; install graphviz to run this test")
	}
	for _, dir := range projects(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			g, _ := build(t, loadDir(t, dir))
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = strings.NewReader(g.DOT())
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil || errOut.Len() > 0 {
				t.Fatalf("dot -Tsvg: %v\n%s\n%s", err, errOut.String(), g.DOT())
			}
			if !bytes.Contains(out.Bytes(), []byte("<svg")) {
				t.Fatalf("dot -Tsvg wrote no SVG")
			}
		})
	}
}

func find(t *testing.T, g *Graph, name string) *Node {
	t.Helper()
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no node %q", name)
	return nil
}

func edge(t *testing.T, g *Graph, from, to string) *Edge {
	t.Helper()
	for _, e := range g.Edges {
		if e.From.Name == from && e.To.Name == to {
			return e
		}
	}
	t.Fatalf("no edge %q -> %q", from, to)
	return nil
}

func TestDepthsAndMarks(t *testing.T) {
	g, _ := build(t, loadDir(t, "testdata/bad"))
	for _, c := range []struct {
		name           string
		depth          int
		tooDeep, cycle bool
	}{
		{"Root", 0, true, false},
		{"Shallow Start", 0, false, false},
		{"E1", 1, true, false},
		{"E2", 2, true, false},
		{"E3", 3, true, false},
		{"E4", 4, true, false},
		{"Loop Start", 0, false, false},
		{"A", 1, false, true},
		{"B", 2, false, true},
	} {
		n := find(t, g, c.name)
		if n.Depth != c.depth || n.TooDeep != c.tooDeep || n.InCycle != c.cycle {
			t.Errorf("%s: depth %d too deep %v cycle %v; want %d %v %v", c.name, n.Depth, n.TooDeep, n.InCycle, c.depth, c.tooDeep, c.cycle)
		}
	}
	for _, c := range []struct {
		from, to, label string
		op              Op
	}{
		{"Root", "E1", "too deep", Execute},
		{"E2", "E3", "parent tokens, too deep", Execute},
		{"E3", "E4", "too deep", Execute},
		{"Shallow Start", "E2", "parent tokens", Execute},
		{"Shallow Start", "Root", "not requestable", Request},
		{"Loop Start", "A", "", Execute},
		{"Loop Start", "Shallow Start", "not executable", Execute},
		{"A", "B", "cycle", Execute},
		{"B", "A", "cycle", Execute},
	} {
		e := edge(t, g, c.from, c.to)
		if e.Label() != c.label || e.Op != c.op {
			t.Errorf("%s -> %s: label %q op %v; want %q %v", c.from, c.to, e.Label(), e.Op, c.label, c.op)
		}
	}
}

// TestCycleNobodyStarts: executables that only execute one another are
// never reached (no chain starts there), as the check sees it.
func TestCycleNobodyStarts(t *testing.T) {
	g, res := build(t, []lang.Source{{Name: "c.camp", Text: `workspace "W"
program "P" {
  executable campaign "X" {
    smart list { filter LeadScore > 1 }
    flow { execute campaign "Y" }
    qualify every time
  }
  executable campaign "Y" {
    smart list { filter LeadScore > 1 }
    flow { execute campaign "X" execute campaign "Z" }
    qualify every time
  }
  executable campaign "Z" {
    smart list { filter LeadScore > 1 }
    flow { execute campaign "Z" }
    qualify every time
  }
}
`}})
	for _, d := range res.Diagnostics {
		if d.Code == lang.CodeExecuteDepth {
			t.Errorf("unexpected %s", d)
		}
	}
	for _, name := range []string{"X", "Y", "Z"} {
		if n := find(t, g, name); n.Depth != -1 || !n.InCycle || n.TooDeep {
			t.Errorf("%s: depth %d cycle %v too deep %v; want -1, a cycle, not too deep", name, n.Depth, n.InCycle, n.TooDeep)
		}
	}
	if l := edge(t, g, "Y", "Z").Label(); l != "" {
		t.Errorf("Y -> Z is marked %q; it is on no cycle", l)
	}
	if l := edge(t, g, "Z", "Z").Label(); l != "cycle" {
		t.Errorf("Z -> Z is marked %q, want cycle", l)
	}
	if !strings.Contains(g.DOT(), `Y\nexecutable, no chain reaches it, cycle`) {
		t.Errorf("the label does not say that no chain reaches Y:\n%s", g.DOT())
	}
}

func TestExamplesHaveNoMarks(t *testing.T) {
	for _, dir := range projects(t) {
		if !strings.HasPrefix(dir, "../examples") {
			continue
		}
		g, _ := build(t, loadDir(t, dir))
		for _, n := range g.Nodes {
			if n.Bad() || n.Depth > ir.MaxExecuteDepth {
				t.Errorf("%s: %q is marked (depth %d)", dir, n.Name, n.Depth)
			}
		}
		for _, e := range g.Edges {
			if e.Bad() {
				t.Errorf("%s: %s -> %s is marked %v", dir, e.From.Name, e.To.Name, e.Problems)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	srcs := loadDir(t, "../examples/shared-scoring")
	g1, _ := build(t, srcs)
	// The same files in another order make the same text.
	rev := append([]lang.Source(nil), srcs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	g2, _ := build(t, rev)
	if g1.DOT() != g2.DOT() || g1.Mermaid() != g2.Mermaid() {
		t.Fatal("the graph depends on the order of the files")
	}
}

// TestAgreesWithChecker builds the graph of every chunk of the compiler's
// execute_depth and execute_cycle tests: the step that a diagnostic points
// at is an edge marked "too deep" or "cycle", and a chunk without such a
// diagnostic has no such mark.
func TestAgreesWithChecker(t *testing.T) {
	for _, file := range []string{"execute_depth.camp", "execute_cycle.camp", "not_executable.camp", "cross_workspace.camp", "regressions.camp"} {
		for i, srcs := range diagChunks(t, filepath.Join("../compiler/testdata/diag", file)) {
			name := fmt.Sprintf("%s#%d", file, i+1)
			res := compiler.Compile(srcs, compiler.Options{MaxErrors: -1})
			if res.Program == nil {
				continue
			}
			g := Build(res.Program)
			want := map[string]bool{}
			for _, d := range res.Diagnostics {
				mark := map[lang.Code]string{lang.CodeExecuteDepth: "too deep", lang.CodeExecuteCycle: "cycle"}[d.Code]
				if mark == "" {
					continue
				}
				want[mark] = true
				cp, s := stepAt(res.Program, d.Start)
				if s == nil {
					continue // re-anchored on a clone
				}
				e := edgeOf(g, cp, s)
				if e == nil || !strings.Contains(e.Label(), mark) {
					t.Errorf("%s: %s: the edge of the step is not marked %q", name, d, mark)
				}
			}
			for _, e := range g.Edges {
				for _, p := range e.Problems {
					if (p == "too deep" || p == "cycle") && !want[p] {
						t.Errorf("%s: %s -> %s is marked %q, but the checker reports no such error", name, e.From.Name, e.To.Name, p)
					}
				}
			}
		}
	}
}

func stepAt(p *ir.Program, at lang.Position) (*ir.Campaign, *ir.Execute) {
	for _, cp := range p.Campaigns {
		var found *ir.Execute
		ir.WalkSteps(cp.Flow, func(st ir.Step) {
			if s, ok := st.(*ir.Execute); ok && s.Pos == at {
				found = s
			}
		})
		if found != nil {
			return cp, found
		}
	}
	return nil, nil
}

func edgeOf(g *Graph, cp *ir.Campaign, s *ir.Execute) *Edge {
	for _, e := range g.Edges {
		if e.From == g.Nodes[cp.ID] && e.To == g.Nodes[s.Target.ID] && e.Op == Execute && e.ParentTokens == s.Parent {
			return e
		}
	}
	return nil
}

// diagChunks splits a compiler diagnostics test file into its projects:
// chunks between "---" lines, files within them after "=== file NAME".
func diagChunks(t *testing.T, path string) [][]lang.Source {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]lang.Source
	var srcs []lang.Source
	var text []string
	name := "chunk1.camp"
	flush := func() {
		if strings.TrimSpace(strings.Join(text, "\n")) != "" {
			srcs = append(srcs, lang.Source{Name: name, Text: strings.Join(text, "\n")})
		}
		text = nil
	}
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.TrimSpace(l) == "---":
			flush()
			out = append(out, srcs)
			srcs = nil
			name = fmt.Sprintf("chunk%d.camp", len(out)+1)
		case strings.HasPrefix(l, "=== file "):
			flush()
			name = strings.TrimSpace(strings.TrimPrefix(l, "=== file "))
		default:
			text = append(text, l)
		}
	}
	flush()
	return append(out, srcs)
}
