package compiler

import (
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// The references table: where each name is written and what it names.
// Editors need it (campc lsp: go to definition, find references, rename);
// the checker itself does not, so it is filled only when Options.References
// asks for it, and it is read-only once Compile returns.

// Ref is one name as written in the sources and what it names.
//
// Start and End span the name as written: a quoted name with its quotes
// ("Welcome"), a bare field name (Score), or a token reference's name
// inside its braces. Target is what the name means, one of *ir.Campaign,
// *ir.List, *ir.SmartListDef, *ir.Email, *ir.Webhook, *ir.Form,
// *ir.WebPage, *ir.ProgramDef, *ir.Folder, *ir.Field, *ir.Token or
// StatusName; comparing Targets with == tells whether two names mean the
// same thing. Decl marks the name of a declaration (a folder written in two
// files has two).
//
// Names inside a cloned program's (or campaign's) borrowed text are not
// listed: that text is the template's, and its names are the template's
// own references.
type Ref struct {
	Start, End lang.Position
	Target     any
	Decl       bool
}

// StatusName is a program status, as a Ref's Target.
type StatusName struct {
	Program *ir.ProgramDef
	Name    string
}

// ref records a name as written, unless references are not asked for or
// the text is borrowed by a clone.
func (c *checker) ref(cp *ir.Campaign, start, end lang.Position, target any, decl bool) {
	if !c.wantRefs || c.cloning != nil || c.noRefs || target == nil {
		return
	}
	if cp != nil && (cp.CloneOf != nil || (cp.Program != nil && cp.Program.CloneOf != nil)) {
		return
	}
	c.refs = append(c.refs, Ref{Start: start, End: end, Target: target, Decl: decl})
}

// refStr records a quoted name.
func (c *checker) refStr(cp *ir.Campaign, s *lang.Str, target any, decl bool) {
	if s == nil {
		return
	}
	start, end := rng(s.Pos, s.EndPos)
	c.ref(cp, start, end, target, decl)
}

// refIdent records a bare name (a field).
func (c *checker) refIdent(cp *ir.Campaign, id *lang.Ident, target any, decl bool) {
	if id == nil {
		return
	}
	start, end := rng(id.Pos, id.EndPos)
	c.ref(cp, start, end, target, decl)
}
