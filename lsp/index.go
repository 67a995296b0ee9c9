package lsp

import (
	"slices"
	"strings"
	"unicode/utf8"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/campc/campc/ir"
)

// lines is a text with the offsets where its lines start, to convert
// positions without scanning the text each time.
type lines struct {
	text   string
	starts []int
}

func newLines(text string) *lines {
	l := &lines{text: text, starts: []int{0}}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			l.starts = append(l.starts, i+1)
		}
	}
	return l
}

func (l *lines) line(n int) string {
	if n < 0 || n >= len(l.starts) {
		return ""
	}
	end := len(l.text)
	if n+1 < len(l.starts) {
		end = l.starts[n+1] - 1
	}
	return strings.TrimSuffix(l.text[l.starts[n]:end], "\r")
}

// irOffset is a compiler position's byte offset, clamped to its line.
func (l *lines) irOffset(p ir.Position) int {
	if p.Line < 1 {
		return 0
	}
	if p.Line > len(l.starts) {
		return len(l.text)
	}
	off := l.starts[p.Line-1]
	line := l.line(p.Line - 1)
	col := 1
	for i := range line {
		if col >= p.Column {
			return off + i
		}
		col++
	}
	return off + len(line)
}

// pos is the LSP position of a byte offset.
func (l *lines) pos(off int) protocol.Position {
	off = max(0, min(off, len(l.text)))
	n, found := slices.BinarySearch(l.starts, off)
	if !found {
		n--
	}
	units := 0
	for _, r := range l.text[l.starts[n]:off] {
		units += utf16Len(r)
	}
	return protocol.Position{Line: protocol.UInteger(n), Character: protocol.UInteger(units)}
}

func (l *lines) irPos(p ir.Position) protocol.Position { return l.pos(l.irOffset(p)) }

// offset converts an LSP position (see offsetOf).
func (l *lines) offset(p protocol.Position) (int, error) { return offsetOf(l.text, p) }

// occ is one occurrence of a name: a declaration or a use.
type occ struct {
	file       string
	start, end int // byte offsets of the name as written in the file's text
	target     any
	decl       bool
	camp       *ir.Campaign // the campaign whose text holds a token reference, if any
	token      *ir.TokenRef // for a token reference
}

// index holds every name of the analysis by file and by target.
type index struct {
	byFile   map[string][]*occ // sorted by start
	byTarget map[any][]*occ    // declarations first, then uses in file order
}

func (an *Analysis) idx() *index {
	if an.index == nil {
		an.index = buildIndex(an)
	}
	return an.index
}

// lines are the lines of the text that file's positions refer to.
func (an *Analysis) lines(file string) *lines {
	if an.lineCache == nil {
		an.lineCache = map[string]*lines{}
	}
	l := an.lineCache[file]
	if l == nil {
		l = newLines(an.textFor(file))
		an.lineCache[file] = l
	}
	return l
}

func buildIndex(an *Analysis) *index {
	ix := &index{byFile: map[string][]*occ{}, byTarget: map[any][]*occ{}}
	seen := map[[3]any]bool{}
	add := func(o *occ) {
		key := [3]any{o.file, o.start, o.decl}
		if seen[key] {
			return
		}
		seen[key] = true
		ix.byFile[o.file] = append(ix.byFile[o.file], o)
		ix.byTarget[o.target] = append(ix.byTarget[o.target], o)
	}
	if an.Result == nil {
		return ix
	}
	for _, r := range an.Result.Refs {
		f := r.Start.Filename
		if _, ok := an.Texts[f]; !ok {
			continue
		}
		l := an.lines(f)
		add(&occ{file: f, start: l.irOffset(r.Start), end: l.irOffset(r.End), target: r.Target, decl: r.Decl})
	}
	prog := an.program()
	tokenRef := func(r *ir.TokenRef, cp *ir.Campaign, ws *ir.Workspace) {
		f := r.Start.Filename
		if _, ok := an.Texts[f]; !ok {
			return
		}
		var target any
		switch r.Family {
		case ir.FamMy:
			if t, _ := resolveToken(prog, cp, r.Name); t != nil {
				target = t
			} else if t := an.lexicalToken(ws, f, r); t != nil {
				target = t
			}
		case ir.FamLead:
			if ws != nil {
				if fl := ws.Field(r.Name); fl != nil {
					target = fl
				}
			}
		}
		if target == nil {
			return
		}
		l := an.lines(f)
		s, e := tokenName(l.text, l.irOffset(r.Start), l.irOffset(r.End))
		add(&occ{file: f, start: s, end: e, target: target, camp: cp, token: r})
	}
	for _, cp := range prog.Campaigns {
		if cp.CloneOf != nil || (cp.Program != nil && cp.Program.CloneOf != nil) {
			continue // borrowed text: the template's names
		}
		ir.WalkSteps(cp.Flow, func(s ir.Step) {
			switch s.(type) {
			case *ir.SendEmail, *ir.CallWebhook:
				return // the asset's text, below
			}
			for _, t := range s.Templates() {
				for _, p := range t.Parts {
					if p.Ref != nil {
						tokenRef(p.Ref, cp, cp.Workspace)
					}
				}
			}
		})
	}
	for _, ws := range prog.Workspaces {
		var ts []ir.Template
		for _, e := range ws.Emails {
			ts = append(ts, e.Templates()...)
		}
		for _, w := range ws.Webhooks {
			ts = append(ts, w.Templates()...)
		}
		for _, t := range ts {
			for _, p := range t.Parts {
				if p.Ref != nil {
					tokenRef(p.Ref, nil, ws)
				}
			}
		}
	}
	for f := range ix.byFile {
		slices.SortStableFunc(ix.byFile[f], func(a, b *occ) int { return a.start - b.start })
	}
	for t := range ix.byTarget {
		slices.SortStableFunc(ix.byTarget[t], func(a, b *occ) int {
			if a.decl != b.decl {
				if a.decl {
					return -1
				}
				return 1
			}
			if a.file != b.file {
				return strings.Compare(a.file, b.file)
			}
			return a.start - b.start
		})
	}
	return ix
}

// tokenName finds a token reference's name inside {{family.Name:default=…}}
// (the text between start and end), as byte offsets.
func tokenName(text string, start, end int) (int, int) {
	if start < 0 || end > len(text) || start >= end {
		return start, end
	}
	ref := text[start:end]
	dot := strings.IndexByte(ref, '.')
	if dot < 0 {
		return start, end
	}
	s := dot + 1
	e := len(ref) - 2 // before }}
	if k := strings.IndexByte(ref[s:], ':'); k >= 0 {
		e = s + k
	}
	for s < e && ref[s] == ' ' {
		s++
	}
	for e > s && ref[e-1] == ' ' {
		e--
	}
	return start + s, start + e
}

// resolveToken finds the My Token a campaign's reference names: in the
// campaign's own scopes (its program's, then its folders'), else, for an
// executable, in the first caller that executes it with use parent tokens.
func resolveToken(prog *ir.Program, cp *ir.Campaign, name string) (*ir.Token, *ir.Scope) {
	if cp == nil {
		return nil, nil
	}
	for s := cp.Scope(); s != nil; s = s.Parent {
		if t := s.Tokens[name]; t != nil {
			return t, s
		}
	}
	for _, call := range prog.Callers(cp) {
		if !call.Step.Parent {
			continue
		}
		for s := call.Caller.Scope(); s != nil; s = s.Parent {
			if t := s.Tokens[name]; t != nil {
				return t, s
			}
		}
	}
	return nil, nil
}

// lexicalToken resolves an asset's reference in the scopes around where
// the asset is written (a program, its folders).
func (an *Analysis) lexicalToken(ws *ir.Workspace, file string, r *ir.TokenRef) *ir.Token {
	if ws == nil {
		return nil
	}
	for s := an.scopeAt(ws, file, r.Start); s != nil; s = s.Parent {
		if t := s.Tokens[r.Name]; t != nil {
			return t
		}
	}
	return nil
}

// at finds the occurrence at a byte offset of file, if any.
func (ix *index) at(file string, off int) *occ {
	os := ix.byFile[file]
	i, _ := slices.BinarySearchFunc(os, off+1, func(o *occ, t int) int { return o.start - t })
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if os[j].start <= off && off <= os[j].end {
			return os[j]
		}
	}
	return nil
}

// runeLen is used for names' display widths.
func runeLen(s string) int { return utf8.RuneCountInString(s) }
