package compiler

import (
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// checkRequests reports Request Campaign steps whose target does not listen
// for requests from a flow.
func checkRequests(c *checker) {
	for _, cp := range c.prog.Campaigns {
		ir.WalkSteps(cp.Flow, func(st ir.Step) {
			s, ok := st.(*ir.Request)
			if !ok {
				return
			}
			t := s.Target
			if t == nil || c.cmp(t).body == nil || t.Workspace != cp.Workspace || t.Requestable("flow") {
				return
			}
			var d *lang.Diagnostic
			switch {
			case t.Kind == ir.Executable:
				d = c.errorf(cp, lang.CodeNotRequestable, s.Pos, s.End, "campaign %q is executable and cannot be requested; use execute campaign", t.Name)
			case t.Kind == ir.Batch:
				d = c.errorf(cp, lang.CodeNotRequestable, s.Pos, s.End, "campaign %q is a batch campaign and cannot be requested; only a trigger campaign with \"trigger campaign is requested\" can", t.Name)
			case t.Requestable("api"):
				d = c.errorf(cp, lang.CodeNotRequestable, s.Pos, s.End, "campaign %q listens for requests from api only; add flow to its \"campaign is requested\" trigger", t.Name)
			default:
				d = c.errorf(cp, lang.CodeNotRequestable, s.Pos, s.End, "campaign %q does not listen for requests; give it \"trigger campaign is requested\"", t.Name)
			}
			d.Related = append(d.Related, lang.Related{Message: "declared here", Start: t.Pos, End: t.Pos})
		})
	}
}
