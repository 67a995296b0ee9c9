package lsp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// cursor is a request's document position, resolved in the analysis.
type cursor struct {
	an   *Analysis
	file string
	off  int  // byte offset in the analysis's text of the file
	occ  *occ // the name under the cursor, if any
}

func (s *Server) cursorAt(doc protocol.TextDocumentIdentifier, pos protocol.Position) (*cursor, error) {
	f, err := s.docFile(doc.URI)
	if err != nil {
		return nil, &rpcError{Code: codeInvalidParams, Message: "campc lsp: " + err.Error()}
	}
	an := s.project(f).Analyze()
	if _, ok := an.Texts[f]; !ok {
		return &cursor{an: an, file: f, off: -1}, nil
	}
	off, err := an.lines(f).offset(pos)
	if err != nil {
		return nil, &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("campc lsp: position %d:%d in %s: %v", pos.Line+1, pos.Character+1, f, err)}
	}
	c := &cursor{an: an, file: f, off: off}
	c.occ = an.idx().at(f, off)
	return c, nil
}

func (s *Server) location(an *Analysis, o *occ) protocol.Location {
	l := an.lines(o.file)
	return protocol.Location{URI: s.uriOf(o.file), Range: protocol.Range{Start: l.pos(o.start), End: l.pos(o.end)}}
}

// ---- go to definition, references ----

func (s *Server) definition(_ *glsp.Context, p *protocol.DefinitionParams) (any, error) {
	c, err := s.cursorAt(p.TextDocument, p.Position)
	if err != nil || c.occ == nil {
		return nil, err
	}
	var out []protocol.Location
	for _, o := range c.an.idx().byTarget[c.occ.target] {
		if o.decl {
			out = append(out, s.location(c.an, o))
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (s *Server) references(_ *glsp.Context, p *protocol.ReferenceParams) ([]protocol.Location, error) {
	c, err := s.cursorAt(p.TextDocument, p.Position)
	if err != nil || c.occ == nil {
		return nil, err
	}
	out := []protocol.Location{}
	for _, o := range c.an.idx().byTarget[c.occ.target] {
		if o.decl && !p.Context.IncludeDeclaration {
			continue
		}
		out = append(out, s.location(c.an, o))
	}
	return out, nil
}

// ---- hover ----

func (s *Server) hover(_ *glsp.Context, p *protocol.HoverParams) (*protocol.Hover, error) {
	c, err := s.cursorAt(p.TextDocument, p.Position)
	if err != nil || c.occ == nil {
		return nil, err
	}
	text := describe(c.an, c.occ)
	if text == "" {
		return nil, nil
	}
	l := c.an.lines(c.file)
	r := protocol.Range{Start: l.pos(c.occ.start), End: l.pos(c.occ.end)}
	return &protocol.Hover{Contents: protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: text}, Range: &r}, nil
}

func declaredAt(an *Analysis, target any) string {
	for _, o := range an.idx().byTarget[target] {
		if o.decl {
			l := an.lines(o.file)
			pos := l.pos(o.start)
			return fmt.Sprintf("%s:%d:%d", relName(an, o.file), pos.Line+1, runeLen(l.text[l.starts[pos.Line]:o.start])+1)
		}
	}
	return ""
}

func relName(an *Analysis, file string) string {
	if r, ok := strings.CutPrefix(file, an.Root+"/"); ok {
		return r
	}
	return file
}

// describe is the hover text of a name.
func describe(an *Analysis, o *occ) string {
	prog := an.program()
	var b strings.Builder
	at := declaredAt(an, o.target)
	decl := func(what, name string) {
		fmt.Fprintf(&b, "**%s** %s", what, strconv.Quote(name))
		if at != "" {
			fmt.Fprintf(&b, "\n\ndeclared at `%s`", at)
		}
	}
	switch t := o.target.(type) {
	case *ir.Campaign:
		fmt.Fprintf(&b, "**%s campaign** %s", t.Kind, strconv.Quote(t.Name))
		if t.Program != nil {
			fmt.Fprintf(&b, " in program %s", strconv.Quote(t.Program.Name))
		}
		if t.Workspace != nil {
			fmt.Fprintf(&b, ", workspace %s", strconv.Quote(t.Workspace.Name))
		}
		b.WriteString("\n\n")
		if t.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", t.Description)
		}
		if t.CloneOf != nil {
			fmt.Fprintf(&b, "- clone of %s\n", strconv.Quote(t.CloneOf.Name))
		}
		if t.Kind != ir.Executable {
			fmt.Fprintf(&b, "- qualification: %s\n", qualifyText(t.Qualify))
		}
		if t.Kind == ir.Trigger {
			state := "inactive"
			if t.Active {
				state = "active"
			}
			fmt.Fprintf(&b, "- %s\n", state)
		}
		if d := prog.ExecDepth(t); t.Kind == ir.Executable {
			if d < 0 {
				b.WriteString("- depth: reached by no chain\n")
			} else {
				fmt.Fprintf(&b, "- depth: %d (at most %d below the campaign that starts a chain)\n", d, ir.MaxExecuteDepth)
			}
		}
		if prog.ExecInCycle(t) {
			b.WriteString("- on an Execute Campaign cycle\n")
		}
		if calls := prog.Callers(t); len(calls) > 0 {
			b.WriteString("- executed by:")
			for _, call := range calls {
				how := ""
				if call.Step.Parent {
					how = " (use parent tokens)"
				}
				fmt.Fprintf(&b, "\n  - %s, depth %d%s", strconv.Quote(call.Caller.Name), max(prog.ExecDepth(call.Caller), 0), how)
			}
			b.WriteString("\n")
		}
		var callees []string
		ir.WalkSteps(t.Flow, func(st ir.Step) {
			verb, target := "", (*ir.Campaign)(nil)
			switch st := st.(type) {
			case *ir.Execute:
				verb, target = "executes", st.Target
			case *ir.Request:
				verb, target = "requests", st.Target
			}
			if target != nil {
				callees = append(callees, fmt.Sprintf("%s %s, depth %d", verb, strconv.Quote(target.Name), max(prog.ExecDepth(target), 0)))
			}
		})
		if len(callees) > 0 {
			b.WriteString("- calls:")
			for _, c := range callees {
				fmt.Fprintf(&b, "\n  - %s", c)
			}
			b.WriteString("\n")
		}
		if at != "" {
			fmt.Fprintf(&b, "\ndeclared at `%s`", at)
		}
	case *ir.List:
		decl("list", t.Name)
		fmt.Fprintf(&b, "\n\nkey `%s`", t.Key)
	case *ir.SmartListDef:
		decl("smart list", t.Name)
		if t.List != nil && t.List.Invalid != "" {
			fmt.Fprintf(&b, "\n\ninvalid: %s", t.List.Invalid)
		}
	case *ir.Email:
		decl("email", t.Name)
		fmt.Fprintf(&b, "\n\nsubject: `%s`", templateText(t.Subject))
		if t.Operational {
			b.WriteString(" (operational)")
		}
		if len(t.From.Parts) > 0 {
			fmt.Fprintf(&b, "\n\nfrom: `%s`", templateText(t.From))
		}
		for _, body := range []struct{ kind, file string }{{"text", t.TextFile}, {"html", t.HTMLFile}} {
			if body.file != "" {
				fmt.Fprintf(&b, "\n\n%s body: file `%s`", body.kind, body.file)
			}
		}
	case *ir.Webhook:
		decl("webhook", t.Name)
		fmt.Fprintf(&b, "\n\n%s `%s`", t.Method, templateText(t.URL))
		if len(t.Maps) > 0 {
			var fields []string
			for _, m := range t.Maps {
				fields = append(fields, m.Field.Name)
			}
			fmt.Fprintf(&b, "\n\nmaps its response to %s", strings.Join(fields, ", "))
		}
	case *ir.Form:
		decl("form", t.Name)
	case *ir.WebPage:
		decl("web page", t.Name)
	case *ir.Folder:
		decl("folder", t.Name)
		tokensOf(&b, t.Scope)
	case *ir.ProgramDef:
		decl("program", t.Name)
		if t.CloneOf != nil {
			fmt.Fprintf(&b, "\n\nclone of %s", strconv.Quote(t.CloneOf.Name))
		}
		if len(t.Statuses) > 0 {
			var names []string
			for _, st := range t.Statuses {
				names = append(names, strconv.Quote(st.Name))
			}
			fmt.Fprintf(&b, "\n\nstatuses: %s", strings.Join(names, ", "))
		}
		tokensOf(&b, t.Scope)
	case compiler.StatusName:
		decl("status", t.Name)
		fmt.Fprintf(&b, " of program %s", strconv.Quote(t.Program.Name))
	case *ir.Field:
		fmt.Fprintf(&b, "**field** `%s`: %s", t.Name, t.Type)
		if t.Builtin {
			b.WriteString(" (built in)")
		}
		if t.Display != "" {
			fmt.Fprintf(&b, "\n\ndisplay name %s", strconv.Quote(t.Display))
		}
		if at != "" {
			fmt.Fprintf(&b, "\n\ndeclared at `%s`", at)
		}
	case *ir.Token:
		fmt.Fprintf(&b, "**My Token** %s: %s = `%s`", strconv.Quote(t.Name), t.Type, t.Value)
		if at != "" {
			fmt.Fprintf(&b, "\n\ndeclared at `%s`", at)
		}
		switch {
		case o.token != nil && o.camp != nil:
			b.WriteString("\n\n" + tokenFrames(prog, o.camp, o.token))
		case o.token != nil:
			// An email's subject or a webhook's URL renders in the frame
			// of each campaign that sends or calls it.
			for i, cp := range senders(prog, o.token) {
				if i == 5 {
					b.WriteString("\n\n…")
					break
				}
				b.WriteString("\n\n" + tokenFrames(prog, cp, o.token))
			}
		}
	}
	return b.String()
}

// senders lists the campaigns whose steps render the template that holds
// r (an email's subject, a webhook's URL), in program order.
func senders(prog *ir.Program, r *ir.TokenRef) []*ir.Campaign {
	var out []*ir.Campaign
	for _, cp := range prog.Campaigns {
		if cp.CloneOf != nil || (cp.Program != nil && cp.Program.CloneOf != nil) {
			continue
		}
		found := false
		ir.WalkSteps(cp.Flow, func(st ir.Step) {
			for _, t := range st.Templates() {
				for _, p := range t.Parts {
					found = found || p.Ref == r
				}
			}
		})
		if found {
			out = append(out, cp)
		}
	}
	return out
}

func tokensOf(b *strings.Builder, s *ir.Scope) {
	if s == nil || len(s.Order) == 0 {
		return
	}
	b.WriteString("\n\nMy Tokens:")
	for _, t := range s.Order {
		fmt.Fprintf(b, "\n- %s %s = `%s`", strconv.Quote(t.Name), t.Type, t.Value)
	}
}

func qualifyText(q ir.Qualify) string {
	switch q.Rule {
	case ir.QualifyEveryTime:
		return "every time"
	case ir.QualifyEvery:
		return "once every " + durationText(q.Every)
	}
	if q.Explicit {
		return "once"
	}
	return "once (the default)"
}

func durationText(d time.Duration) string {
	m := int64(d / time.Minute)
	for _, u := range []struct {
		name string
		n    int64
	}{{"month", 30 * 24 * 60}, {"week", 7 * 24 * 60}, {"day", 24 * 60}, {"hour", 60}} {
		if m >= u.n && m%u.n == 0 {
			if m/u.n == 1 {
				return "1 " + u.name
			}
			return fmt.Sprintf("%d %ss", m/u.n, u.name)
		}
	}
	return fmt.Sprintf("%d minutes", m)
}

func templateText(t ir.Template) string {
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Ref != nil {
			b.WriteString(p.Ref.String())
		} else {
			b.WriteString(p.Lit)
		}
	}
	return b.String()
}

// scopeName says which frame a scope is: the program's own, a folder's.
func scopeName(s *ir.Scope) string { return s.Owner }

// tokenFrames says how cp resolves a My Token reference: in its own frame,
// and, for an executable, in each caller's frame when executed with use
// parent tokens (ir.TokenScopes, the engine's order).
func tokenFrames(prog *ir.Program, cp *ir.Campaign, r *ir.TokenRef) string {
	var b strings.Builder
	lookup := func(scopes []*ir.Scope) (*ir.Token, *ir.Scope) {
		for _, s := range scopes {
			for ; s != nil; s = s.Parent {
				if t := s.Tokens[r.Name]; t != nil {
					return t, s
				}
			}
		}
		return nil, nil
	}
	value := func(t *ir.Token) string {
		if t == nil {
			if r.HasDefault {
				return fmt.Sprintf("`%s` (the default: no frame has the token)", r.Default)
			}
			return "nothing: no frame has the token"
		}
		return "`" + t.Value + "`"
	}
	if t, s := lookup(ir.TokenScopes(cp, nil, false)); t != nil || cp.Kind != ir.Executable {
		from := ""
		if s != nil {
			from = ", from " + scopeName(s)
			if cp.Program != nil && s == cp.Program.Scope {
				from += " (the program's own)"
			}
		}
		fmt.Fprintf(&b, "In campaign %s: %s%s", strconv.Quote(cp.Name), value(t), from)
	}
	for _, call := range prog.Callers(cp) {
		if !call.Step.Parent {
			continue
		}
		t, s := lookup(ir.TokenScopes(cp, ir.TokenScopes(call.Caller, nil, false), true))
		from := ""
		if s != nil {
			from = ", from " + scopeName(s)
			if cp.Program != nil && s != cp.Program.Scope && !ownChain(cp, s) {
				from += ": the caller's, when executed with use parent tokens"
			}
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "When %s executes it with use parent tokens: %s%s", strconv.Quote(call.Caller.Name), value(t), from)
	}
	return b.String()
}

func ownChain(cp *ir.Campaign, s *ir.Scope) bool {
	for o := cp.Scope(); o != nil; o = o.Parent {
		if o == s {
			return true
		}
	}
	return false
}

// ---- rename ----

func (s *Server) prepareRename(_ *glsp.Context, p *protocol.PrepareRenameParams) (any, error) {
	c, err := s.cursorAt(p.TextDocument, p.Position)
	if err != nil {
		return nil, err
	}
	if c.occ == nil || !renamable(c.occ.target) {
		return nil, &rpcError{Code: codeRequestFailed, Message: "campc lsp: there is no name to rename here"}
	}
	l := c.an.lines(c.file)
	return protocol.Range{Start: l.pos(c.occ.start), End: l.pos(c.occ.end)}, nil
}

func renamable(t any) bool {
	if f, ok := t.(*ir.Field); ok {
		return !f.Builtin
	}
	return t != nil
}

func (s *Server) rename(_ *glsp.Context, p *protocol.RenameParams) (*protocol.WorkspaceEdit, error) {
	c, err := s.cursorAt(p.TextDocument, p.Position)
	if err != nil {
		return nil, err
	}
	if c.occ == nil || !renamable(c.occ.target) {
		return nil, &rpcError{Code: codeRequestFailed, Message: "campc lsp: there is no name to rename here"}
	}
	for f := range c.an.Stale {
		return nil, &rpcError{Code: codeRequestFailed, Message: fmt.Sprintf("campc lsp: %s does not parse; fix it before renaming", relName(c.an, f))}
	}
	name := p.NewName
	if msg := checkNewName(c.an, c.occ.target, name); msg != "" {
		return nil, &rpcError{Code: codeRequestFailed, Message: "campc lsp: " + msg}
	}
	edits := map[string][]protocol.TextEdit{}
	for _, o := range c.an.idx().byTarget[c.occ.target] {
		l := c.an.lines(o.file)
		written := l.text[o.start:o.end]
		var repl string
		switch {
		case o.token != nil:
			repl = name // inside a string: the name as is (checked to need no escape)
		case strings.HasPrefix(written, `"`):
			repl = strconv.Quote(name)
		default:
			repl = name
		}
		uri := s.uriOf(o.file)
		edits[uri] = append(edits[uri], protocol.TextEdit{Range: protocol.Range{Start: l.pos(o.start), End: l.pos(o.end)}, NewText: repl})
	}
	return &protocol.WorkspaceEdit{Changes: edits}, nil
}

// checkNewName refuses a new name that is not a name or that another
// declaration already has where the renamed one is declared.
func checkNewName(an *Analysis, target any, name string) string {
	if strings.TrimSpace(name) == "" {
		return "the new name is empty"
	}
	if strings.ContainsAny(name, "\n\r\x00") {
		return "a name cannot hold a line break"
	}
	prog := an.program()
	taken := func(what string, ok bool) string {
		if ok {
			return fmt.Sprintf("%s %s already exists; renaming would make the names collide", what, strconv.Quote(name))
		}
		return ""
	}
	switch t := target.(type) {
	case *ir.Field:
		if !isIdent(name) {
			return fmt.Sprintf("%q is not a field name (letters, digits and _, not starting with a digit)", name)
		}
		for _, ws := range prog.Workspaces {
			if slices.Contains(ws.Fields, t) {
				return taken("field", ws.Field(name) != nil)
			}
		}
	case *ir.Token:
		if strings.ContainsAny(name, "{}:\"\\") {
			return fmt.Sprintf("%q cannot be a token name: it holds one of { } : \" \\", name)
		}
		for _, s := range allScopes(prog) {
			if s.Tokens[t.Name] == t {
				return taken("token", s.Tokens[name] != nil)
			}
		}
	case *ir.Campaign:
		return taken("campaign", t.Workspace != nil && slices.ContainsFunc(t.Workspace.Campaigns, func(c *ir.Campaign) bool { return c.Name == name }))
	case *ir.ProgramDef:
		for _, ws := range prog.Workspaces {
			if slices.Contains(ws.Programs, t) {
				return taken("program", ws.ProgramNamed(name) != nil)
			}
		}
	case compiler.StatusName:
		return taken("status", t.Program.StatusIndex(name) >= 0)
	case *ir.Folder:
		for _, ws := range prog.Workspaces {
			for _, f := range ws.Folders {
				if f != t && f.Parent == t.Parent && f.Name == name && slices.Contains(ws.Folders, t) {
					return taken("folder", true)
				}
			}
		}
	default:
		// Assets: a name is taken when a declaration of the same kind in
		// the same place (the asset's scope) has it.
		for _, o := range an.idx().byTarget[target] {
			if !o.decl {
				continue
			}
			for t2, os := range an.idx().byTarget {
				if fmt.Sprintf("%T", t2) != fmt.Sprintf("%T", target) || assetName(t2) != name {
					continue
				}
				for _, o2 := range os {
					if o2.decl && o2.file == o.file && sameParent(an, o, o2) {
						return taken(kindName(target), true)
					}
				}
			}
		}
	}
	return ""
}

func sameParent(an *Analysis, a, b *occ) bool {
	pa, pb := an.placeAt(a.file, a.start), an.placeAt(b.file, b.start)
	return pa.program == pb.program && pathKey(pa.folders) == pathKey(pb.folders)
}

func assetName(t any) string {
	switch a := t.(type) {
	case *ir.List:
		return a.Name
	case *ir.SmartListDef:
		return a.Name
	case *ir.Email:
		return a.Name
	case *ir.Webhook:
		return a.Name
	case *ir.Form:
		return a.Name
	case *ir.WebPage:
		return a.Name
	}
	return ""
}

func kindName(t any) string {
	switch t.(type) {
	case *ir.List:
		return "list"
	case *ir.SmartListDef:
		return "smart list"
	case *ir.Email:
		return "email"
	case *ir.Webhook:
		return "webhook"
	case *ir.Form:
		return "form"
	case *ir.WebPage:
		return "web page"
	}
	return "name"
}

func allScopes(prog *ir.Program) []*ir.Scope {
	var out []*ir.Scope
	for _, ws := range prog.Workspaces {
		for _, p := range ws.Programs {
			out = append(out, p.Scope)
		}
		for _, f := range ws.Folders {
			out = append(out, f.Scope)
		}
	}
	return out
}

func isIdent(s string) bool {
	for i, r := range s {
		ok := r == '_' || (r|0x20 >= 'a' && r|0x20 <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return s != ""
}

// ---- formatting ----

func (s *Server) formatting(_ *glsp.Context, p *protocol.DocumentFormattingParams) ([]protocol.TextEdit, error) {
	f, err := s.docFile(p.TextDocument.URI)
	if err != nil {
		return nil, &rpcError{Code: codeInvalidParams, Message: "campc lsp: " + err.Error()}
	}
	text := ""
	if d := s.docs[f]; d != nil {
		text = d.text
	} else if t, ok := s.project(f).Analyze().Current[f]; ok {
		text = t
	} else {
		return nil, &rpcError{Code: codeInvalidParams, Message: "campc lsp: " + f + " is neither open nor in a project"}
	}
	out, err := lang.Format(f, []byte(text))
	if err != nil {
		return nil, &rpcError{Code: codeRequestFailed, Message: "campc lsp: not formatted: " + err.Error()}
	}
	if string(out) == text {
		return []protocol.TextEdit{}, nil
	}
	l := newLines(text)
	return []protocol.TextEdit{{Range: protocol.Range{Start: protocol.Position{}, End: l.pos(len(text))}, NewText: string(out)}}, nil
}

// ---- symbols ----

func (s *Server) documentSymbol(_ *glsp.Context, p *protocol.DocumentSymbolParams) (any, error) {
	f, err := s.docFile(p.TextDocument.URI)
	if err != nil {
		return nil, &rpcError{Code: codeInvalidParams, Message: "campc lsp: " + err.Error()}
	}
	an := s.project(f).Analyze()
	file := an.ASTs[f]
	if file == nil {
		return []protocol.DocumentSymbol{}, nil
	}
	l := an.lines(f)
	return declSymbols(l, file.Decls), nil
}

func declSymbols(l *lines, decls []*lang.Decl) []protocol.DocumentSymbol {
	out := []protocol.DocumentSymbol{}
	rng := func(a, b ir.Position) protocol.Range { return protocol.Range{Start: l.irPos(a), End: l.irPos(b)} }
	for _, d := range decls {
		var name, detail string
		var kind protocol.SymbolKind
		var sel *lang.Str
		var kids []*lang.Decl
		switch {
		case d.Field != nil:
			name, detail, kind = d.Field.Name.Name, d.Field.Type.Name, protocol.SymbolKindField
			full := rng(lang.Pos(d.Pos), lang.Pos(d.EndPos))
			out = append(out, protocol.DocumentSymbol{Name: name, Detail: &detail, Kind: kind, Range: full,
				SelectionRange: rng(lang.Pos(d.Field.Name.Pos), lang.Pos(d.Field.Name.EndPos))})
			continue
		case d.Folder != nil:
			sel, detail, kind, kids = d.Folder.Name, "folder", protocol.SymbolKindNamespace, d.Folder.Decls
		case d.Program != nil:
			sel, detail, kind, kids = d.Program.Name, "program", protocol.SymbolKindModule, d.Program.Decls
		case d.Token != nil:
			sel, detail, kind = d.Token.Name, "token "+d.Token.Type.Name, protocol.SymbolKindConstant
		case d.List != nil:
			sel, detail, kind = d.List.Name, "list", protocol.SymbolKindArray
		case d.SmartList != nil:
			sel, detail, kind = d.SmartList.Name, "smart list", protocol.SymbolKindArray
		case d.Email != nil:
			sel, detail, kind = d.Email.Name, "email", protocol.SymbolKindObject
		case d.Webhook != nil:
			sel, detail, kind = d.Webhook.Name, "webhook", protocol.SymbolKindObject
		case d.Form != nil:
			sel, detail, kind = d.Form.Name, "form", protocol.SymbolKindObject
		case d.WebPage != nil:
			sel, detail, kind = d.WebPage.Name, "web page", protocol.SymbolKindObject
		case d.Campaign != nil:
			sel, detail, kind = d.Campaign.Name, d.Campaign.Kind.Name+" campaign", protocol.SymbolKindFunction
		case d.Statuses != nil:
			for _, st := range d.Statuses.List {
				dt := "status"
				out = append(out, protocol.DocumentSymbol{Name: st.Name.Value(), Detail: &dt, Kind: protocol.SymbolKindEnumMember,
					Range: rng(lang.Pos(st.Pos), lang.Pos(st.EndPos)), SelectionRange: rng(lang.Pos(st.Name.Pos), lang.Pos(st.Name.EndPos))})
			}
			continue
		default:
			continue
		}
		sym := protocol.DocumentSymbol{Name: sel.Value(), Detail: &detail, Kind: kind, Range: rng(lang.Pos(d.Pos), lang.Pos(d.EndPos)),
			SelectionRange: rng(lang.Pos(sel.Pos), lang.Pos(sel.EndPos))}
		if len(kids) > 0 {
			sym.Children = declSymbols(l, kids)
		}
		out = append(out, sym)
	}
	return out
}

// testPanic makes workspaceSymbol panic, for the test of the recovery.
var testPanic bool

func (s *Server) workspaceSymbol(_ *glsp.Context, p *protocol.WorkspaceSymbolParams) ([]protocol.SymbolInformation, error) {
	if testPanic {
		panic("test panic")
	}
	q := strings.ToLower(p.Query)
	out := []protocol.SymbolInformation{}
	roots := make([]string, 0, len(s.projects))
	for r := range s.projects {
		roots = append(roots, r)
	}
	slices.Sort(roots)
	for _, r := range roots {
		an := s.projects[r].Analyze()
		ix := an.idx()
		files := make([]string, 0, len(ix.byFile))
		for f := range ix.byFile {
			files = append(files, f)
		}
		slices.Sort(files)
		for _, f := range files {
			for _, o := range ix.byFile[f] {
				if !o.decl {
					continue
				}
				name, kind := symbolOf(o.target)
				if name == "" || !strings.Contains(strings.ToLower(name), q) {
					continue
				}
				out = append(out, protocol.SymbolInformation{Name: name, Kind: kind, Location: s.location(an, o)})
				if len(out) >= 1000 {
					return out, nil
				}
			}
		}
	}
	return out, nil
}

func symbolOf(t any) (string, protocol.SymbolKind) {
	switch a := t.(type) {
	case *ir.Campaign:
		return a.Name, protocol.SymbolKindFunction
	case *ir.ProgramDef:
		return a.Name, protocol.SymbolKindModule
	case *ir.Folder:
		return a.Name, protocol.SymbolKindNamespace
	case *ir.Field:
		return a.Name, protocol.SymbolKindField
	case *ir.Token:
		return a.Name, protocol.SymbolKindConstant
	case compiler.StatusName:
		return a.Name, protocol.SymbolKindEnumMember
	case *ir.List, *ir.SmartListDef:
		return assetName(t), protocol.SymbolKindArray
	default:
		return assetName(t), protocol.SymbolKindObject
	}
}

// ---- code actions ----

func (s *Server) codeAction(_ *glsp.Context, p *protocol.CodeActionParams) (any, error) {
	f, err := s.docFile(p.TextDocument.URI)
	if err != nil {
		return nil, &rpcError{Code: codeInvalidParams, Message: "campc lsp: " + err.Error()}
	}
	an := s.project(f).Analyze()
	uri := s.uriOf(f)
	out := []protocol.CodeAction{}
	quickfix := protocol.CodeActionKindQuickFix
	for _, d := range an.Diags[f] {
		pd := s.toDiag(an, d)
		if !overlaps(pd.Range, p.Range) {
			continue
		}
		switch {
		case d.Suggestion != "":
			l := an.diagLines(f)
			a, b := l.irOffset(d.Start), l.irOffset(d.End)
			written := l.text[a:b]
			repl := d.Suggestion
			if strings.HasPrefix(written, `"`) {
				repl = strconv.Quote(repl)
			}
			out = append(out, protocol.CodeAction{Title: fmt.Sprintf("Change to %s", repl), Kind: &quickfix, Diagnostics: []protocol.Diagnostic{pd},
				Edit: &protocol.WorkspaceEdit{Changes: map[string][]protocol.TextEdit{uri: {{Range: pd.Range, NewText: repl}}}}})
		case d.Code == lang.CodeQualifyDefault:
			if e, ok := qualifyEdit(an, f, d); ok {
				out = append(out, protocol.CodeAction{Title: "Add qualify every time", Kind: &quickfix, Diagnostics: []protocol.Diagnostic{pd},
					Edit: &protocol.WorkspaceEdit{Changes: map[string][]protocol.TextEdit{uri: {e}}}})
			}
		}
	}
	return out, nil
}

func overlaps(a, b protocol.Range) bool {
	before := func(x, y protocol.Position) bool {
		return x.Line < y.Line || (x.Line == y.Line && x.Character < y.Character)
	}
	return !before(a.End, b.Start) && !before(b.End, a.Start)
}

// qualifyEdit inserts "qualify every time" as the first clause of the
// campaign the qualify_default warning stands on, indented as the body's
// next line (or two spaces deeper than the campaign).
func qualifyEdit(an *Analysis, f string, d *lang.Diagnostic) (protocol.TextEdit, bool) {
	l := an.diagLines(f)
	off, end := l.irOffset(d.Start), l.irOffset(d.End)
	brace := strings.IndexByte(l.text[end:], '{')
	if brace < 0 || an.Stale[f] || strings.TrimSpace(l.text[end:end+brace]) != "" {
		return protocol.TextEdit{}, false // a clone: no body to write in
	}
	at := end + brace + 1
	lineNo := int(l.pos(off).Line)
	line := l.line(lineNo)
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))] + "  "
	rest := l.text[at:]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		next := rest[nl+1:]
		if e := strings.IndexByte(next, '\n'); e >= 0 {
			next = next[:e]
		}
		if ind := next[:len(next)-len(strings.TrimLeft(next, " \t"))]; strings.TrimSpace(next) != "}" && strings.TrimSpace(next) != "" {
			indent = ind
		}
	}
	pos := l.pos(at)
	return protocol.TextEdit{Range: protocol.Range{Start: pos, End: pos}, NewText: "\n" + indent + "qualify every time"}, true
}
