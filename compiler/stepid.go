package compiler

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// stepIDs gives every step of a flow its identity, which waits are stored
// against so that a person waiting in a flow finds the same place after
// the program is edited elsewhere. A step's identity hashes
//
//   - its scope: the campaign's key for the flow's own steps; for the
//     steps of a branch, the identity of the if, the branch's condition
//     (or "else") and the occurrence of that condition among the if's
//     branches;
//   - its own text in canonical form (lang.Canonical: tokens only, so
//     layout and comments do not count); for an if, "if" and its first
//     condition, so editing the steps inside a branch leaves it alone;
//   - the occurrence of that text among the steps of its list (1 for the
//     first), so two identical steps differ.
//
// Inserting, deleting or reordering other steps therefore changes no
// identity; editing a step, or an identical sibling before it, does.
func (c *checker) stepIDs(scope string, steps []ir.Step) {
	seen := map[string]int{}
	for _, st := range steps {
		text := c.stepText(st)
		seen[text]++
		st.Base().ID = stepID(scope, text, seen[text])
		st, ok := st.(*ir.If)
		if !ok {
			continue
		}
		conds := map[string]int{}
		for _, br := range st.Branches {
			label := "if " + c.canonical(c.branchSrc[br].Cond.Pos.Filename, c.branchSrc[br].Cond.Pos.Offset, c.branchSrc[br].Cond.EndPos.Offset)
			conds[label]++
			c.stepIDs(fmt.Sprintf("%s\x00%s\x00%d", st.ID, label, conds[label]), br.Steps)
		}
		if st.HasElse {
			c.stepIDs(st.ID+"\x00else", st.Else)
		}
	}
}

// stepText is the canonical text a step's identity is made from.
func (c *checker) stepText(st ir.Step) string {
	if st, ok := st.(*ir.If); ok {
		cond := c.branchSrc[st.Branches[0]].Cond
		return "if " + c.canonical(cond.Pos.Filename, cond.Pos.Offset, cond.EndPos.Offset)
	}
	return c.canonical(c.stepSrc[st].Pos.Filename, c.stepSrc[st].Pos.Offset, c.stepSrc[st].EndPos.Offset)
}

func (c *checker) canonical(file string, start, end int) string {
	src := c.sources[file]
	if start < 0 || end > len(src) || start >= end {
		return ""
	}
	return lang.Canonical(src[start:end])
}

// stepID is the 64-bit FNV-1a hash of scope, text and occurrence, in hex.
func stepID(scope, text string, n int) string {
	h := fnv.New64a()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(text))
	h.Write([]byte{0})
	h.Write(binary.AppendUvarint(nil, uint64(n)))
	return fmt.Sprintf("%016x", h.Sum64())
}
