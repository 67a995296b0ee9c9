package lang

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// specPath is the language reference; its ```ebnf block is a copy of Grammar().
const specPath = "../spec.md"

var updateSpec = flag.Bool("update-spec", false, "rewrite the ```ebnf block of spec.md with the output of Grammar()")

// TestSpecGrammar fails when the grammar in spec.md is not exactly the
// grammar the parser uses, so that a change to the grammar cannot ship
// without its reference. Run with -update-spec to rewrite the block.
func TestSpecGrammar(t *testing.T) {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatalf("cannot read the language reference: %v\nspec.md must carry the grammar in a ```ebnf block; see the comment on Grammar()", err)
	}
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	start, end, err := ebnfBlock(lines)
	if err != nil {
		t.Fatalf("%s: %v", specPath, err)
	}
	got := strings.Join(lines[start:end], "\n")
	want := Grammar()
	if got == want {
		return
	}
	if *updateSpec {
		out := strings.Join(lines[:start], "\n") + "\n" + want + "\n" + strings.Join(lines[end:], "\n")
		if err := os.WriteFile(specPath, []byte(out), 0o644); err != nil {
			t.Fatalf("rewriting %s: %v", specPath, err)
		}
		t.Logf("rewrote the ```ebnf block of %s with Grammar()", specPath)
		return
	}
	t.Errorf("the grammar in %s (the ```ebnf block at line %d) differs from lang.Grammar().\n"+
		"The grammar changed: update spec.md, both the ```ebnf block (its content must be exactly the output of\n"+
		"lang.Grammar(); `go test ./lang -run TestSpecGrammar -update-spec` rewrites it) and the prose that\n"+
		"describes the changed productions.\n\n"+
		"--- spec.md\n+++ lang.Grammar()\n%s",
		specPath, start, lineDiff(strings.Split(got, "\n"), strings.Split(want, "\n"), start+1))
}

// ebnfBlock finds the one fenced block that opens with the line ```ebnf and
// returns the indexes of its first content line and of its closing fence.
func ebnfBlock(lines []string) (start, end int, err error) {
	start, end = -1, -1
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```ebnf" {
			continue
		}
		if start >= 0 {
			return 0, 0, fmt.Errorf("line %d: a second ```ebnf block; the reference carries the grammar once", i+1)
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		if j == len(lines) {
			return 0, 0, fmt.Errorf("line %d: the ```ebnf block is not closed with a line ```", i+1)
		}
		start, end = i+1, j
		i = j
	}
	if start < 0 {
		return 0, 0, fmt.Errorf("no fenced block starting with the line ```ebnf; the reference must carry the output of lang.Grammar() in one")
	}
	return start, end, nil
}

// lineDiff is a minimal line diff (longest common subsequence) of a and b,
// showing changed lines with one line of context; line numbers are those of
// a's lines in spec.md, counting from first.
func lineDiff(a, b []string, first int) string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-', '+'
		text string
		line int // spec.md line for ' ' and '-'
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, op{' ', a[i], first + i})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, op{'+', b[j], first + i})
			j++
		default:
			ops = append(ops, op{'-', a[i], first + i})
			i++
		}
	}
	show := make([]bool, len(ops))
	for k, o := range ops {
		if o.kind != ' ' {
			for c := max(k-1, 0); c <= min(k+1, len(ops)-1); c++ {
				show[c] = true
			}
		}
	}
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	gap := false
	for k, o := range ops {
		if !show[k] {
			gap = true
			continue
		}
		if gap {
			fmt.Fprintln(w, "  ...")
			gap = false
		}
		if o.kind == '+' {
			fmt.Fprintf(w, "+      | %s\n", o.text)
			continue
		}
		fmt.Fprintf(w, "%c %4d | %s\n", o.kind, o.line, o.text)
	}
	w.Flush()
	return sb.String()
}
