package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// refName is the name a reference's target has, as the source writes it.
func refName(t any) string {
	switch v := t.(type) {
	case *ir.Campaign:
		return v.Name
	case *ir.List:
		return v.Name
	case *ir.SmartListDef:
		return v.Name
	case *ir.Email:
		return v.Name
	case *ir.Webhook:
		return v.Name
	case *ir.Form:
		return v.Name
	case *ir.WebPage:
		return v.Name
	case *ir.ProgramDef:
		return v.Name
	case *ir.Folder:
		return v.Name
	case *ir.Field:
		return v.Name
	case *ir.Token:
		return v.Name
	case StatusName:
		return v.Name
	}
	return "?"
}

// spanText is the source text between two positions on one line.
func spanText(src string, s, e lang.Position) string {
	lines := strings.Split(src, "\n")
	if s.Line != e.Line || s.Line < 1 || s.Line > len(lines) {
		return "<multi-line>"
	}
	r := []rune(lines[s.Line-1])
	if s.Column < 1 || e.Column-1 > len(r) || e.Column < s.Column {
		return "<out of range>"
	}
	return string(r[s.Column-1 : e.Column-1])
}

// TestReferences checks the references table on every example and on a
// project with clones: each name as written spells its target's name, every
// use has a declaration, and nothing is listed without Options.References.
func TestReferences(t *testing.T) {
	projects := map[string][]lang.Source{}
	dirs, _ := filepath.Glob("../examples/*")
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.camp"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			projects[dir] = append(projects[dir], lang.Source{Name: f, Text: string(b)})
		}
	}
	projects["clones"] = []lang.Source{{Name: "c.camp", Text: `workspace "W"
field Tier text
program "Template" {
  statuses "A", "B"
  token "T" text "x"
  list "L"
  executable campaign "Child" {
    qualify every time
    flow {
      add to list "L"
      change program status to "B"
    }
  }
  batch campaign "Main" {
    smart list {
      filter Tier is "Gold"
    }
    flow {
      execute campaign "Child"
    }
  }
}
program "Copy" clone "Template" {
  token "T" text "y"
}
`}}
	for name, srcs := range projects {
		if len(srcs) == 0 {
			continue
		}
		res := Compile(srcs, Options{References: true})
		if len(res.Refs) == 0 {
			t.Errorf("%s: no references", name)
		}
		texts := map[string]string{}
		for _, s := range srcs {
			texts[s.Name] = s.Text
		}
		decls := map[any]bool{}
		for _, r := range res.Refs {
			if r.Decl {
				decls[r.Target] = true
			}
		}
		for _, r := range res.Refs {
			got := spanText(texts[r.Start.Filename], r.Start, r.End)
			want := refName(r.Target)
			if got != want && got != strconv.Quote(want) {
				t.Errorf("%s: %s: reference written %s names %q", name, r.Start, got, want)
			}
			if f, ok := r.Target.(*ir.Field); ok && f.Builtin {
				continue // built in: declared by no text
			}
			if !decls[r.Target] {
				t.Errorf("%s: %s: %s has no declaration in the table", name, r.Start, got)
			}
		}
		if len(Compile(srcs, Options{}).Refs) != 0 {
			t.Errorf("%s: references without asking", name)
		}
	}
	// In the clone project, the template's names are the template's: the
	// clone's copies are declared by no name of the text.
	res := Compile(projects["clones"], Options{References: true})
	count := map[string]int{}
	for _, r := range res.Refs {
		if c, ok := r.Target.(*ir.Campaign); ok {
			count[c.Name]++
			if c.Program.Name != "Template" {
				t.Errorf("%s: a name of the template's text means the clone's %q", r.Start, c.Name)
			}
		}
	}
	if count["Child"] != 2 || count["Main"] != 1 {
		t.Errorf("campaign references %v, want Child twice and Main once", count)
	}
	// The clone's override of token "T" names the template's token.
	var tokens []string
	for _, r := range res.Refs {
		if tk, ok := r.Target.(*ir.Token); ok {
			tokens = append(tokens, fmt.Sprintf("%d:%d %s %v", r.Start.Line, r.Start.Column, tk.Value, r.Decl))
		}
	}
	if want := []string{"5:9 x true", "24:9 x false"}; !slices.Equal(tokens, want) {
		t.Errorf("token references %v, want %v", tokens, want)
	}
}
