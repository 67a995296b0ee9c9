package compiler

import (
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// checkKinds enforces the kinds table for batch and trigger campaigns
// (executables have codes of their own, in check_executable.go).
func checkKinds(c *checker) {
	for _, cp := range c.prog.Campaigns {
		if c.cmp(cp).body == nil {
			continue
		}
		switch cp.Kind {
		case ir.Batch:
			for _, t := range cp.SmartList.Triggers {
				c.errorf(cp, lang.CodeKindMismatch, t.Pos, t.Pos.Advance(len("trigger")),
					"batch campaign %q cannot have triggers; make it a trigger campaign", cp.Name)
			}
			if c.cmp(cp).activeAt.Line > 0 {
				c.errorf(cp, lang.CodeKindMismatch, c.cmp(cp).activeAt, c.cmp(cp).activeAt.Advance(len("active")),
					"batch campaign %q is started by its schedule or a run, not activated; use \"run at\" or \"run every\"", cp.Name)
			}
		case ir.Trigger:
			if len(cp.SmartList.Triggers) == 0 {
				start, end := c.namePos(cp)
				c.errorf(cp, lang.CodeKindMismatch, start, end,
					"trigger campaign %q has no trigger in its smart list; add one, or make it a batch campaign", cp.Name)
			}
			if c.cmp(cp).runAt.Line > 0 {
				c.errorf(cp, lang.CodeKindMismatch, c.cmp(cp).runAt, c.cmp(cp).runAt.Advance(len("run")),
					"trigger campaign %q is started by its triggers, not scheduled; use \"active\"", cp.Name)
			}
		}
	}
}
