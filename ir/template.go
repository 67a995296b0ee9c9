package ir

import (
	"strings"

	"github.com/campc/campc/stdlib"
)

// Family is a token family, resolved from its name when the program is
// checked. The zero Family is no family: the checker reports a reference
// to an unknown family, and a program with one does not run.
type Family int

// Token families, in the order of stdlib.Families.
const (
	FamLead Family = iota + 1
	FamMy
	FamCampaign
	FamProgram
	FamMember
	FamTrigger
	FamSystem
)

// FamilyNamed finds a family by name, ignoring case, as stdlib does.
func FamilyNamed(name string) (Family, bool) {
	for i, f := range stdlib.Families {
		if strings.EqualFold(f.Name, name) {
			return Family(i + 1), true
		}
	}
	return 0, false
}

// String is the family's name as stdlib spells it ("lead"), "" for none.
func (f Family) String() string {
	if f < 1 || int(f) > len(stdlib.Families) {
		return ""
	}
	return stdlib.Families[f-1].Name
}

// TokenRef is one {{family.Name}} or {{family.Name:default=text}} of a
// template. The compiler spells built-in names as stdlib does; field and
// My Token names keep the author's spelling.
type TokenRef struct {
	Family     Family
	Name       string
	Default    string
	HasDefault bool
	Start, End Position
}

// String writes the reference back: {{family.Name}} or
// {{family.Name:default=text}}.
func (r *TokenRef) String() string {
	s := "{{" + r.Family.String() + "." + r.Name
	if r.HasDefault {
		s += ":default=" + r.Default
	}
	return s + "}}"
}

// Part is literal text or a token reference.
type Part struct {
	Lit string
	Ref *TokenRef
}

// Template is a string with token references.
type Template struct {
	Parts []Part
}

// Static reports whether the template has no token references.
func (t Template) Static() bool {
	for _, p := range t.Parts {
		if p.Ref != nil {
			return false
		}
	}
	return true
}

// String is the template as literal text with references written back.
func (t Template) String() string {
	s := ""
	for _, p := range t.Parts {
		if p.Ref != nil {
			s += p.Ref.String()
		} else {
			s += p.Lit
		}
	}
	return s
}
