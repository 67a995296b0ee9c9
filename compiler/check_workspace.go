package compiler

import (
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// checkWorkspaces reports Execute and Request Campaign steps that cross a
// workspace boundary: a campaign never calls a campaign of another workspace.
func checkWorkspaces(c *checker) {
	for _, cp := range c.prog.Campaigns {
		ir.WalkSteps(cp.Flow, func(s *ir.Step) {
			if (s.Op != ir.StepExecute && s.Op != ir.StepRequest) || s.Target == nil || s.Target.Workspace == cp.Workspace {
				return
			}
			verb := "executes"
			if s.Op == ir.StepRequest {
				verb = "requests"
			}
			d := c.errorf(cp, lang.CodeCrossWorkspace, s.Pos, s.End,
				"campaign %q in workspace %q %s %q of workspace %q; a campaign can only call campaigns of its own workspace",
				cp.Name, cp.Workspace.Name, verb, s.Target.Name, s.Target.Workspace.Name)
			d.Related = append(d.Related, lang.Related{Message: "declared here", Start: s.Target.Pos, End: s.Target.Pos})
		})
	}
}
