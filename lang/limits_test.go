package lang

import (
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2"
)

// limitDiag parses src and wants exactly one limit diagnostic at line:col.
func limitDiag(t *testing.T, src string, line, col int, msg string) {
	t.Helper()
	f, ds := Parse("big.camp", src)
	if f != nil || len(ds) != 1 {
		t.Fatalf("want one diagnostic, got file %v and %v", f != nil, ds)
	}
	d := ds[0]
	if d.Code != CodeLimit || d.Start.Filename != "big.camp" || d.Start.Line != line || d.Start.Column != col || !strings.Contains(d.Message, msg) {
		t.Errorf("got %v, want big.camp:%d:%d: error[limit]: …%s…", d, line, col, msg)
	}
	if strings.Contains(d.Message, "iterations") {
		t.Errorf("participle's message shows through: %v", d)
	}
	if err := d.CheckBounds(src); err != nil {
		t.Error(err)
	}
}

func TestFileSizeLimit(t *testing.T) {
	head := "workspace \"W\"\n//"
	src := head + strings.Repeat("x", MaxFileSize-len(head)-1) + "\n"
	if _, ds := Parse("big.camp", src); len(ds) > 0 {
		t.Fatalf("a file of %d bytes: %v", len(src), ds[0])
	}
	limitDiag(t, src+"\n", 1, 1, "larger than 8 MiB")
}

func TestDeclarationLimit(t *testing.T) {
	src := "workspace \"W\"\n" + strings.Repeat("list \"L\"\n", MaxDecls)
	if _, ds := Parse("big.camp", src); len(ds) > 0 {
		t.Fatalf("%d declarations: %v", MaxDecls, ds[0])
	}
	// Declarations inside programs count too: the one past the limit is
	// the campaign on the last line.
	src = "workspace \"W\"\n" + strings.Repeat("list \"L\"\n", MaxDecls-1) +
		"program \"P\" {\n  batch campaign \"C\" {\n  }\n}\n"
	limitDiag(t, src, MaxDecls+2, 3, "more than 10000 declarations")
}

// A file of more than MaxTokens tokens gets a limit diagnostic at the
// first token past it, never participle's "too many iterations" (which
// it would otherwise report for a list of that many values).
func TestTokenLimit(t *testing.T) {
	if MaxTokens > participle.MaxIterations {
		t.Fatalf("MaxTokens is %d, above participle's bound %d", MaxTokens, participle.MaxIterations)
	}
	// workspace "W" partition "a" then pairs of , "a": token MaxTokens+1
	// is the last comma. (A file of MaxTokens tokens parses; that is too
	// slow to check here.)
	n := (MaxTokens - 4) / 2
	src := "workspace \"W\"\npartition \"a\"" + strings.Repeat(",\"a\"", n+1) + "\n"
	limitDiag(t, src, 2, len("partition \"a\"")+4*n+1, "more than 1000000 words")
}
