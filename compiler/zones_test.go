package compiler

import (
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// The compiler reads no time zone database of its own: without
// Options.Zones only UTC is known, and a zone comes from the host's lookup.
func TestZonesComeFromTheHost(t *testing.T) {
	src := `workspace "W"
program "P" {
  batch campaign "C" {
    smart list { filter Email is not empty }
    flow {
      wait 1 day until 09:00 UTC
      wait 1 day until 09:00 "Europe/Berlin"
    }
  }
}
`
	res := Compile([]lang.Source{{Name: "z.camp", Text: src}}, Options{})
	if len(res.Diagnostics) != 1 || res.Diagnostics[0].Start.Line != 7 ||
		!strings.Contains(res.Diagnostics[0].Message, `unknown time zone "Europe/Berlin": the host gave no time zone database, so only UTC is known`) {
		t.Fatalf("without Zones:\n%s", res)
	}
	var asked []string
	berlin := time.FixedZone("Berlin", 3600)
	res = Compile([]lang.Source{{Name: "z.camp", Text: src}}, Options{Zones: func(name string) (*time.Location, error) {
		asked = append(asked, name)
		return berlin, nil
	}})
	if len(res.Diagnostics) != 0 {
		t.Fatalf("with Zones:\n%s", res)
	}
	if len(asked) != 1 || asked[0] != "Europe/Berlin" {
		t.Errorf("asked the host for %q, want only Europe/Berlin (UTC needs no database)", asked)
	}
	var steps []*ir.Wait
	ir.WalkSteps(res.Program.Campaigns[0].Flow, func(s ir.Step) { steps = append(steps, s.(*ir.Wait)) })
	if steps[0].Zone != time.UTC || steps[1].Zone != berlin {
		t.Errorf("zones = %v, %v", steps[0].Zone, steps[1].Zone)
	}
}
