package compiler

import (
	"testing"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// flowIDs compiles a one-campaign project around flow and returns the
// identity of each step by its source text ("if …" for an if, with the
// texts of the steps above it joined by " > ").
func flowIDs(t *testing.T, flow string) map[string]string {
	t.Helper()
	src := `workspace "W"
program "P" {
  email "A" { subject "A" }
  email "B" { subject "B" }
  email "C" { subject "C" }
  email "D" { subject "D" }
  email "Y" { subject "Y" }
  email "Z" { subject "Z" }
  batch campaign "C" {
    smart list { filter Email is not empty }
    flow {
` + flow + `
    }
  }
}
`
	res := Compile([]lang.Source{{Name: "p.camp", Text: src}}, Options{MaxErrors: -1})
	if res.Diagnostics.HasErrors() {
		t.Fatalf("compile: %v", res.Diagnostics)
	}
	out := map[string]string{}
	var walk func(prefix string, steps []ir.Step)
	walk = func(prefix string, steps []ir.Step) {
		for _, step := range steps {
			st := step.Base()
			name := prefix + lang.Canonical(st.Source)
			if st, ok := step.(*ir.If); ok {
				name = prefix + "if " + lang.Canonical(st.Branches[0].Text)
				for _, br := range st.Branches {
					walk(name+" > "+lang.Canonical(br.Text)+" > ", br.Steps)
				}
				walk(name+" > else > ", st.Else)
			}
			if _, dup := out[name]; dup {
				name += " (2)"
			}
			if len(st.ID) != 16 {
				t.Errorf("%s: ID %q is not 16 hex digits", name, st.ID)
			}
			out[name] = st.ID
		}
	}
	walk("", res.Program.Campaign("W", "C").Flow)
	return out
}

func TestStepIDs(t *testing.T) {
	base := flowIDs(t, `
      send email "A"
      wait 1 day
      send email "B"
      send email "C"
      if LeadScore >= 10 {
        send email "A"
        wait 2 days
      } else if LeadScore >= 5 {
        wait 2 days
      } else {
        wait 2 days
      }
      wait 1 day`)
	seen := map[string]string{}
	for name, id := range base {
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s have the same ID %s", name, other, id)
		}
		seen[id] = name
	}
	for _, tc := range []struct{ name, flow string }{
		{"delete, reorder, comments and layout", `
      // B first now
      send   email "C"
      wait 1 day   // the first wait
      send email "B"
      if LeadScore>=10 {
        interesting moment web "new"
        wait 2 days
        send email "A"
      } else if LeadScore >= 5 {
        wait 2 days
      } else if LeadScore >= 1 {
        send email "Z"
      } else {
        send email "Y"
        wait 2 days
      }
      wait 1 day
      send email "D"`},
	} {
		got := flowIDs(t, tc.flow)
		for name, id := range got {
			if want, ok := base[name]; ok && want != id {
				t.Errorf("%s: %s changed the ID of %q: %s, was %s", tc.name, tc.name, name, id, want)
			}
		}
		for _, name := range []string{`wait 1 day`, `wait 1 day (2)`, `if LeadScore >= 10 > LeadScore >= 10 > wait 2 days`, `if LeadScore >= 10 > LeadScore >= 5 > wait 2 days`, `if LeadScore >= 10 > else > wait 2 days`} {
			if got[name] == "" {
				t.Errorf("%s: no step %q", tc.name, name)
			}
		}
	}
}
