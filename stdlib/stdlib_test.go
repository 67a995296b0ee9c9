package stdlib

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var updateSpec = flag.Bool("update-spec", false, "rewrite the tables appendix of ../spec.md")

const (
	beginMark = "<!-- stdlib tables: generated from package stdlib; go test ./stdlib -update-spec rewrites them -->\n"
	endMark   = "<!-- end of stdlib tables -->\n"
)

// spec.md's appendix of steps, triggers, filters, fields, token families
// and units is this package's tables, rendered: the compiler, the engine
// and the reference read one table.
func TestSpecTablesMatch(t *testing.T) {
	b, err := os.ReadFile("../spec.md")
	if err != nil {
		t.Fatal(err)
	}
	spec := string(b)
	i, j := strings.Index(spec, beginMark), strings.Index(spec, endMark)
	want := Markdown()
	if i < 0 || j < i {
		if *updateSpec {
			spec += "\n## Appendix: the tables\n\n" + beginMark + want + endMark
			os.WriteFile("../spec.md", []byte(spec), 0o644)
			return
		}
		t.Fatalf("spec.md has no tables appendix; run go test ./stdlib -update-spec")
	}
	got := spec[i+len(beginMark) : j]
	if got != want {
		if *updateSpec {
			spec = spec[:i+len(beginMark)] + want + spec[j:]
			os.WriteFile("../spec.md", []byte(spec), 0o644)
			return
		}
		t.Errorf("spec.md's tables appendix is out of date with package stdlib; run go test ./stdlib -update-spec")
	}
}

// Every display name belongs to a built-in field, and no two fields share
// one: a people file's column heading must name one field.
func TestFieldDisplayNames(t *testing.T) {
	seen := map[string]string{}
	for _, f := range BuiltinFields {
		seen[strings.ToLower(f.Name)] = f.Name
	}
	for _, d := range FieldDisplayNames {
		found := false
		for _, f := range BuiltinFields {
			found = found || f.Name == d.Field
		}
		if !found {
			t.Errorf("display name %q for %s, which is no built-in field", d.Display, d.Field)
		}
		if other, ok := seen[strings.ToLower(d.Display)]; ok && other != d.Field {
			t.Errorf("display name %q of %s is also %s", d.Display, d.Field, other)
		}
		seen[strings.ToLower(d.Display)] = d.Field
	}
}
