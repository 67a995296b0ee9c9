package compiler

import (
	"fmt"
	"strings"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// executes lists a campaign's Execute Campaign steps, branches included.
func executes(cp *ir.Campaign) []*ir.Execute {
	var out []*ir.Execute
	ir.WalkSteps(cp.Flow, func(st ir.Step) {
		if s, ok := st.(*ir.Execute); ok && s.Target != nil {
			out = append(out, s)
		}
	})
	return out
}

// checkExecuteGraph reports Execute Campaign steps that target a campaign
// that is not executable, chains deeper than MaxExecuteDepth, and cycles.
func checkExecuteGraph(c *checker) {
	for _, cp := range c.prog.Campaigns {
		for _, s := range executes(cp) {
			if s.Target.Kind != ir.Executable {
				c.errorf(cp, lang.CodeNotExecutable, s.Pos, s.End, "campaign %q is a %s campaign, not executable; only executable campaigns can be executed (use request campaign for a trigger campaign)", s.Target.Name, s.Target.Kind)
			}
		}
	}
	c.checkCycles()
	c.checkDepth()
}

func chainNames(ch ir.Chain) string {
	parts := []string{quote(ch.Root.Name)}
	for _, call := range ch.Calls {
		parts = append(parts, quote(call.Step.Target.Name))
	}
	return strings.Join(parts, " > ")
}

func hopRelated(calls []ir.Call) []lang.Related {
	var out []lang.Related
	for _, call := range calls {
		out = append(out, lang.Related{Message: fmt.Sprintf("%q executes %q", call.Caller.Name, call.Step.Target.Name), Start: call.Step.Pos, End: call.Step.End})
	}
	return out
}

// checkDepth reports each step that goes one level too deep, on the first
// chain that does so (ir.Program.DeepChains).
func (c *checker) checkDepth() {
	for _, ch := range c.prog.DeepChains() {
		last := ch.Calls[len(ch.Calls)-1]
		d := c.errorf(last.Caller, lang.CodeExecuteDepth, last.Step.Pos, last.Step.End,
			"Execute Campaign chain is %d levels deep: %s; executables nest at most %d levels below the campaign that starts the chain",
			ch.Levels, chainNames(ch), ir.MaxExecuteDepth)
		d.Related = hopRelated(ch.Calls[:len(ch.Calls)-1])
	}
}

// checkCycles reports the Execute Campaign calls that lead back to a
// campaign already in the chain (ir.Program.ExecCycles).
func (c *checker) checkCycles() {
	for _, ch := range c.prog.ExecCycles() {
		last := ch.Calls[len(ch.Calls)-1]
		d := c.errorf(last.Caller, lang.CodeExecuteCycle, last.Step.Pos, last.Step.End,
			"Execute Campaign calls form a cycle: %s", chainNames(ch))
		d.Related = hopRelated(ch.Calls[:len(ch.Calls)-1])
	}
}
