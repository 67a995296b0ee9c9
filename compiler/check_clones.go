package compiler

import (
	"fmt"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// checkClones reports clones of campaigns that have triggers: such a
// campaign cannot be cloned.
func checkClones(c *checker) {
	for _, cp := range c.prog.Campaigns {
		if cp.CloneOf == nil || cp.Program.CloneOf != nil {
			continue // a copy in a cloned program: the template's campaign reports it
		}
		src, root := cp.CloneOf, c.cloneRoot(cp.CloneOf)
		if root.SmartList == nil || len(root.SmartList.Triggers) == 0 {
			continue
		}
		name := quote(src.Name)
		if root != src {
			name = fmt.Sprintf("%s (cloned from %q)", name, root.Name)
		}
		ref := c.cmp(cp).decl.Clone
		s, e := rng(ref.Pos, ref.EndPos)
		d := c.errorf(nil, lang.CodeCloneTrigger, s, e, "campaign %s has triggers and cannot be cloned; write %q out instead", name, cp.Name)
		t := root.SmartList.Triggers[0]
		d.Related = append(d.Related, lang.Related{Message: "trigger of the source", Start: t.Pos, End: t.Pos})
	}
}

// cloneRoot follows a chain of rejected clones (which keep no body) back to
// the campaign whose text they would copy.
func (c *checker) cloneRoot(cp *ir.Campaign) *ir.Campaign {
	for i := 0; c.cmp(cp).body == nil && cp.CloneOf != nil && i < 1000; i++ {
		cp = cp.CloneOf
	}
	return cp
}
