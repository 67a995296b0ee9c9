package compiler

import (
	"fmt"
	"strings"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// checkStyle warns about things that check but are probably mistakes:
// trigger campaigns nothing starts, choices that can never fire, and waits
// written in months.
func checkStyle(c *checker) {
	for _, cp := range c.prog.Campaigns {
		if c.cmp(cp).body == nil {
			continue
		}
		if cp.Kind == ir.Trigger && !cp.Active && len(cp.SmartList.Triggers) > 0 && cp.Program.CloneOf == nil {
			start, end := c.namePos(cp)
			c.warnf(nil, lang.CodeNeverRuns, start, end, "trigger campaign %q is not active, so none of its triggers will start it; add \"active\"", cp.Name)
		}
		ir.WalkSteps(cp.Flow, func(s ir.Step) {
			switch s := s.(type) {
			case *ir.If:
				c.unreachableChoices(cp, s)
			case *ir.Wait:
				if w := c.stepSrc[s].Wait.For; w != nil && (w.Unit.Name == "month" || w.Unit.Name == "months") {
					us, ue := rng(w.Unit.Pos, w.Unit.EndPos)
					c.warnf(cp, lang.CodeAmbiguousWait, us, ue, "a month here is exactly 30 days, not a calendar month; write the wait in days or weeks")
				}
			}
		})
	}
}

// unreachableChoices warns about a choice whose condition repeats an earlier
// one: the first match wins, so it can never fire.
func (c *checker) unreachableChoices(cp *ir.Campaign, s *ir.If) {
	seen := map[string]int{}
	for i, b := range s.Branches {
		text := exprKey(b.Cond)
		if j, ok := seen[text]; ok {
			bs, be := rng(c.branchSrc[b].Cond.Pos, c.branchSrc[b].Cond.EndPos)
			d := c.warnf(cp, lang.CodeUnreachableChoice, bs, be, "choice %d repeats the condition of choice %d, which wins first; it can never fire", i+1, j+1)
			first := c.branchSrc[s.Branches[j]].Cond
			fs, fe := rng(first.Pos, first.EndPos)
			d.Related = append(d.Related, lang.Related{Message: "the earlier choice", Start: fs, End: fe})
			continue
		}
		seen[text] = i
	}
}

// exprKey is a canonical form of a compiled condition: two conditions with
// the same key match the same people (text compared without case).
func exprKey(e *ir.Expr) string {
	if e == nil {
		return "?"
	}
	if e.Op != ir.ExprLeaf {
		parts := make([]string, len(e.Kids))
		for i, k := range e.Kids {
			parts[i] = exprKey(k)
		}
		return fmt.Sprintf("%d(%s)", e.Op, strings.Join(parts, ","))
	}
	c := e.Cond
	if c == nil {
		return "?"
	}
	// Every part is quoted, and things are told apart by identity, not by
	// name: names and values may contain any character, and two lists of
	// two scopes may share a name. The op tells the types apart.
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%t", c.Op(), c.Base().Negate)
	switch c := c.(type) {
	case *ir.FieldCond:
		if c.Field != nil {
			fmt.Fprintf(&b, "/%q", c.Field.Name)
		}
		for _, v := range c.Values {
			fmt.Fprintf(&b, "/%q|%v|%s|%t|%t", v.Fold, v.Num, v.Time, v.Bool, v.Null)
		}
		fmt.Fprintf(&b, "/%d", c.Window)
	case *ir.MemberList:
		fmt.Fprintf(&b, "/%p", c.List)
	case *ir.MemberSmartList:
		fmt.Fprintf(&b, "/%p", c.SmartList)
	case *ir.MemberProgram:
		fmt.Fprintf(&b, "/%p/%q", c.Program, c.Status)
	case *ir.ActivityCond:
		fmt.Fprintf(&b, "/%p/%p/%p/%p/%p/%p/%d/%d", c.Campaign, c.Email, c.Form, c.Field, c.WebPage, c.List, c.Window, c.AtLeast)
	case *ir.Sample:
		fmt.Fprintf(&b, "/%v", c.Percent)
	}
	return b.String()
}
