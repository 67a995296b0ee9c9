package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addSeeds adds every .camp file under the examples and testdata as seeds.
func addSeeds(f *testing.F) {
	for _, pat := range []string{"../examples/*/*.camp", "../compiler/testdata/diag/*.camp"} {
		files, _ := filepath.Glob(pat)
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Add("workspace \"A\"\nprogram \"P\" { batch campaign \"C\" { flow { if LeadScore > 1 { } } } }")
	f.Add("workspace \"A\" \"")
	f.Add("workspace \"A\" \x00")
}

// FuzzParse checks that parsing never panics and that every diagnostic
// points inside the file.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		file, ds := Parse("f.camp", src)
		if file == nil && len(ds) == 0 {
			t.Fatal("no file and no diagnostic")
		}
		for _, d := range ds {
			if err := d.CheckBounds(src); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestDeepNestingIsAnError(t *testing.T) {
	var b strings.Builder
	b.WriteString("workspace \"A\"\nprogram \"P\" { batch campaign \"C\" { flow {\n")
	for i := 0; i < 10000; i++ {
		b.WriteString("if LeadScore > 1 {\n")
	}
	for i := 0; i < 10000; i++ {
		b.WriteString("}\n")
	}
	b.WriteString("} } }\n")
	f, ds := Parse("deep.camp", b.String())
	if f != nil || len(ds) != 1 || ds[0].Code != CodeSyntax || !strings.Contains(ds[0].Message, "nesting") {
		t.Fatalf("want one nesting syntax error, got %v", ds)
	}
	if ds[0].Start.Line < 2 || ds[0].Start.Line > MaxNesting+2 {
		t.Errorf("error at line %d, want at the first brace past the limit", ds[0].Start.Line)
	}
}
