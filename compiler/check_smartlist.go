package compiler

import (
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// checkSmartLists warns about smart lists that let everyone qualify. (Problems
// inside smart lists are found as they are compiled, in cond.go.)
func checkSmartLists(c *checker) {
	for _, sl := range c.smartLists {
		if sl.List == nil {
			continue
		}
		if len(sl.List.Filters) == 0 && len(sl.List.Triggers) == 0 {
			c.warnf(nil, lang.CodeEmptySmartList, sl.Pos, sl.Pos, "smart list %q has no filters, so everyone is a member", sl.Name)
		}
	}
	for _, cp := range c.prog.Campaigns {
		sl := cp.SmartList
		if sl == nil || c.cmp(cp).body == nil || cp.Program.CloneOf != nil {
			continue // a copy in a cloned program: the template's campaign warns
		}
		if len(sl.Filters) == 0 && len(sl.Triggers) == 0 {
			start, end := c.namePos(cp)
			c.warnf(nil, lang.CodeEmptySmartList, start, end, "campaign %q has no smart-list filters, so everyone qualifies", cp.Name)
		}
	}
}

// namePos is where the campaign's name is written.
func (c *checker) namePos(cp *ir.Campaign) (lang.Position, lang.Position) {
	return rng(c.cmp(cp).decl.Name.Pos, c.cmp(cp).decl.Name.EndPos)
}
