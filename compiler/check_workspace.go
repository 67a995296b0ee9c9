package compiler

import (
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// checkWorkspaces reports Execute and Request Campaign steps that cross a
// workspace boundary: a campaign never calls a campaign of another workspace.
func checkWorkspaces(c *checker) {
	for _, cp := range c.prog.Campaigns {
		ir.WalkSteps(cp.Flow, func(s ir.Step) {
			var target *ir.Campaign
			verb := "executes"
			switch s := s.(type) {
			case *ir.Execute:
				target = s.Target
			case *ir.Request:
				target, verb = s.Target, "requests"
			}
			if target == nil || target.Workspace == cp.Workspace {
				return
			}
			b := s.Base()
			d := c.errorf(cp, lang.CodeCrossWorkspace, b.Pos, b.End,
				"campaign %q in workspace %q %s %q of workspace %q; a campaign can only call campaigns of its own workspace",
				cp.Name, cp.Workspace.Name, verb, target.Name, target.Workspace.Name)
			d.Related = append(d.Related, lang.Related{Message: "declared here", Start: target.Pos, End: target.Pos})
		})
	}
}
