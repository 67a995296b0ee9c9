package compiler

import (
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
)

// checkExecutables enforces what an executable campaign may not have: wait
// and webhook steps, triggers, a schedule or activation; and warns when it
// relies on the default qualification rule.
func checkExecutables(c *checker) {
	for _, cp := range c.prog.Campaigns {
		if cp.Kind != ir.Executable || c.cmp(cp).body == nil {
			continue
		}
		ir.WalkSteps(cp.Flow, func(s ir.Step) {
			if row := stdlib.Steps[s.Op()]; !row.InExecutable {
				b := s.Base()
				c.errorf(cp, lang.CodeExecutableStep, b.Pos, b.End,
					"executable campaign %q cannot contain %s: it runs in series with its caller; use request campaign for such work", cp.Name, row.Name)
			}
		})
		for _, t := range cp.SmartList.Triggers {
			c.errorf(cp, lang.CodeExecutableTrigger, t.Pos, t.Pos.Advance(len("trigger")),
				"executable campaign %q cannot have triggers: only Execute Campaign starts it; use filters, or make it a trigger campaign", cp.Name)
		}
		if c.cmp(cp).runAt.Line > 0 {
			c.errorf(cp, lang.CodeExecutableSchedule, c.cmp(cp).runAt, c.cmp(cp).runAt.Advance(len("run")),
				"executable campaign %q cannot be scheduled: only Execute Campaign starts it", cp.Name)
		}
		if c.cmp(cp).activeAt.Line > 0 {
			c.errorf(cp, lang.CodeExecutableSchedule, c.cmp(cp).activeAt, c.cmp(cp).activeAt.Advance(len("active")),
				"executable campaign %q cannot be activated or deactivated: only Execute Campaign starts it", cp.Name)
		}
		if !cp.Qualify.Explicit {
			start, end := c.namePos(cp)
			c.warnf(cp, lang.CodeQualifyDefault, start, end,
				"executable campaign %q relies on the default \"qualify once\": each person runs through it once ever, however often it is executed; write the rule out (e.g. \"qualify every time\")", cp.Name)
		}
	}
}
