package compiler

import "github.com/campc/campc/lang"

// checkClones reports clones of campaigns that have triggers: such a
// campaign cannot be cloned.
func checkClones(c *checker) {
	for _, cp := range c.prog.Campaigns {
		src := cp.CloneOf
		if src == nil || src.SmartList == nil || len(src.SmartList.Triggers) == 0 {
			continue
		}
		ref := cp.decl.Clone
		s, e := rng(ref.Pos, ref.EndPos)
		d := c.errorf(nil, lang.CodeCloneTrigger, s, e, "campaign %q has triggers and cannot be cloned; write %q out instead", src.Name, cp.Name)
		t := src.SmartList.Triggers[0]
		d.Related = append(d.Related, lang.Related{Message: "trigger of the source", Start: t.Pos, End: t.Pos})
	}
}
