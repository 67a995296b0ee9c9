package compiler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
)

// checkTypes checks the values of flow steps against the fields they
// change, and compiles score changes.
func checkTypes(c *checker) {
	for _, cp := range c.prog.Campaigns {
		ir.WalkSteps(cp.Flow, func(s ir.Step) {
			switch s := s.(type) {
			case *ir.ChangeScore:
				c.checkScoreChange(cp, s)
			case *ir.ChangeData:
				c.checkDataValue(cp, s)
			}
		})
	}
}

func (c *checker) checkScoreChange(cp *ir.Campaign, s *ir.ChangeScore) {
	by := c.stepSrc[s].ChangeScore.By
	bs, be := rng(by.Pos, by.EndPos)
	if f := s.Field; f != nil && f.Type != stdlib.Score {
		fs, fe := rng(c.stepSrc[s].ChangeScore.Field.Pos, c.stepSrc[s].ChangeScore.Field.EndPos)
		c.errorf(cp, lang.CodeTypeMismatch, fs, fe, "change score needs a score field; %s is %s (use change data value)", f.Name, f.Type)
	}
	if s.Text.Static() {
		v := strings.TrimSpace(s.Text.String())
		if !scoreValue.MatchString(v) {
			c.errorf(cp, lang.CodeTypeMismatch, bs, be, "a score change is \"+n\", \"-n\", \"=n\" or a score token, not %s", by.Raw)
			return
		}
		s.Score.Set = v[0] == '='
		n, _ := strconv.ParseFloat(v[1:], 64)
		if v[0] == '-' {
			n = -n
		}
		s.Score.Delta = n
		return
	}
	var refs []*ir.TokenRef
	for _, p := range s.Text.Parts {
		if p.Ref != nil {
			refs = append(refs, p.Ref)
		} else if strings.TrimSpace(p.Lit) != "" {
			refs = nil
			break
		}
	}
	if len(refs) != 1 {
		c.errorf(cp, lang.CodeTypeMismatch, bs, be, "a score change is \"+n\", \"-n\", \"=n\" or exactly one score token such as \"{{my.Score Change}}\", not %s", by.Raw)
		return
	}
	s.Score.Token = refs[0]
}

func (c *checker) checkDataValue(cp *ir.Campaign, s *ir.ChangeData) {
	f := s.Field
	if f == nil {
		return
	}
	if f.Builtin && stdlib.ReadOnlyField(f.Name) {
		fs, fe := rng(c.stepSrc[s].ChangeData.Field.Pos, c.stepSrc[s].ChangeData.Field.EndPos)
		c.errorf(cp, lang.CodeReadOnlyField, fs, fe, "%s", readOnlyMessage(f.Name))
		return
	}
	v := c.stepSrc[s].ChangeData.To
	vs, ve := rng(v.Pos, v.EndPos)
	if v.Str != nil && !f.Type.IsText() && !s.Text.Static() {
		return // a token: converted and checked when it is rendered
	}
	val, msg := literal(f.Type, v)
	if msg != "" {
		c.errorf(cp, lang.CodeTypeMismatch, vs, ve, "field %s is %s: %s", f.Name, f.Type, msg)
		return
	}
	s.Value = val
}

// readOnlyMessage says why a field cannot be changed and what to do.
func readOnlyMessage(name string) string {
	if name == "Partition" {
		return "change data value cannot change Partition: a move between partitions must be checked against the workspace; use change person partition to \"P\""
	}
	return fmt.Sprintf("change data value cannot change %s: the engine keeps it (to move the person to another partition, use change person partition)", name)
}
