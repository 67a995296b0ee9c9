package compiler

import "github.com/campc/campc/lang"

// checkSmartLists reports smart-list assets that carry triggers (an asset
// holds filters only) and smart lists that let everyone qualify.
func checkSmartLists(c *checker) {
	for _, sl := range c.smartLists {
		if sl.List == nil {
			continue
		}
		for _, t := range sl.List.Triggers {
			if sl.List.Invalid == "" {
				sl.List.Invalid = "it has a trigger"
			}
			c.errorf(nil, lang.CodeInvalidSmartList, t.Pos, t.Pos.Advance(len("trigger")),
				"smart list %q is a reusable filter set and cannot hold triggers; the smart list is invalid and nobody would qualify", sl.Name)
		}
		if len(sl.List.Filters) == 0 && len(sl.List.Triggers) == 0 {
			c.warnf(nil, lang.CodeEmptySmartList, sl.Pos, sl.Pos, "smart list %q has no filters, so everyone is a member", sl.Name)
		}
	}
	for _, cp := range c.prog.Campaigns {
		sl := cp.SmartList
		if sl == nil || cp.body == nil {
			continue
		}
		if len(sl.Filters) == 0 && len(sl.Triggers) == 0 {
			start, end := cp.namePos()
			c.warnf(nil, lang.CodeEmptySmartList, start, end, "campaign %q has no smart-list filters, so everyone qualifies", cp.Name)
		}
	}
}

// namePos is where the campaign's name is written.
func (cp *Campaign) namePos() (lang.Position, lang.Position) {
	return rng(cp.decl.Name.Pos, cp.decl.Name.EndPos)
}
