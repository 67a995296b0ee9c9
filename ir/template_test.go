package ir

import (
	"testing"

	"github.com/campc/campc/stdlib"
)

// TestFamilies keeps the Family constants in stdlib.Families' order.
func TestFamilies(t *testing.T) {
	want := map[Family]string{FamLead: "lead", FamMy: "my", FamCampaign: "campaign", FamProgram: "program",
		FamMember: "member", FamTrigger: "trigger", FamSystem: "system"}
	if len(want) != len(stdlib.Families) {
		t.Fatalf("%d families, stdlib has %d", len(want), len(stdlib.Families))
	}
	for f, name := range want {
		if f.String() != name {
			t.Errorf("Family %d is %q, want %q", f, f.String(), name)
		}
		if got, ok := FamilyNamed(name); !ok || got != f {
			t.Errorf("FamilyNamed(%q) = %v, %v", name, got, ok)
		}
	}
	if got, ok := FamilyNamed("Campaign"); !ok || got != FamCampaign {
		t.Errorf("FamilyNamed ignores case: got %v, %v", got, ok)
	}
	if _, ok := FamilyNamed("lede"); ok {
		t.Error("FamilyNamed found an unknown family")
	}
	if s := Family(0).String(); s != "" {
		t.Errorf("the zero Family is %q", s)
	}
}
