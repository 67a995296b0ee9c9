package lsp

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
)

// Completion reads the document's current text up to the cursor (it may
// not parse) and the last analysis (for the names in scope).

var (
	waitUnit   = regexp.MustCompile(`\bwait\s+[0-9]+(\.[0-9]+)?\s+([A-Za-z]*)$`)
	everyUnit  = regexp.MustCompile(`\b(every|past|next)\s+[0-9]+(\.[0-9]+)?\s+([A-Za-z]*)$`)
	fieldStart = regexp.MustCompile(`(^\s*(filter|if|else\s+if)|\b(and|or|not|change\s+score|change\s+data\s+value|data\s+value\s+changes|score\s+is\s+changed|data\s+value\s+was\s+changed|field))\s+([A-Za-z_][A-Za-z0-9_]*)?$`)
	lineStartW = regexp.MustCompile(`^\s*([A-Za-z]*)$`)
	condStart  = regexp.MustCompile(`^\s*(filter|if|else\s+if)\s+\w*$`)
	wsLine     = regexp.MustCompile(`(?m)^\s*workspace\s+("(?:[^"\\]|\\.)*")`)
	programArg = regexp.MustCompile(`program\s+("(?:[^"\\]|\\.)*")`)
)

func (s *Server) completion(_ *glsp.Context, p *protocol.CompletionParams) (any, error) {
	f, err := s.docFile(p.TextDocument.URI)
	if err != nil {
		return nil, &rpcError{Code: codeInvalidParams, Message: "campc lsp: " + err.Error()}
	}
	d := s.docs[f]
	an := s.project(f).Analyze()
	text := an.Current[f]
	if d != nil {
		text = d.text
	}
	off, err := offsetOf(text, p.Position)
	if err != nil {
		return nil, &rpcError{Code: codeInvalidParams, Message: "campc lsp: " + err.Error()}
	}
	ls := strings.LastIndexByte(text[:off], '\n') + 1
	prefix := text[ls:off]
	// The names in scope come from the analysis, at the same place in the
	// text it analyzed (the lines before the cursor rarely move).
	pl := an.placeAt(f, an.lines(f).irOffset(ir.Position{Line: int(p.Position.Line) + 1, Column: 1}))
	if pl.ws == nil {
		pl.ws = an.fileWorkspace(text)
	}
	items := complete(an, pl, text, off, prefix)
	return protocol.CompletionList{IsIncomplete: false, Items: items}, nil
}

// fileWorkspace finds the workspace a text declares, by its first line
// that says so.
func (an *Analysis) fileWorkspace(text string) *ir.Workspace {
	m := wsLine.FindStringSubmatch(text)
	if m == nil {
		return nil
	}
	name, err := strconv.Unquote(m[1])
	if err != nil {
		return nil
	}
	return an.workspace(name)
}

func complete(an *Analysis, pl place, text string, off int, prefix string) []protocol.CompletionItem {
	out := []protocol.CompletionItem{}
	add := func(label string, kind protocol.CompletionItemKind, detail string, edit *protocol.TextEdit) {
		for _, it := range out {
			if it.Label == label {
				return
			}
		}
		it := protocol.CompletionItem{Label: label, Kind: &kind}
		if detail != "" {
			it.Detail = &detail
		}
		if edit != nil {
			it.TextEdit = *edit
		}
		out = append(out, it)
	}
	l := newLines(text)
	replace := func(from int) *protocol.TextEdit {
		return &protocol.TextEdit{Range: protocol.Range{Start: l.pos(from), End: l.pos(off)}}
	}

	// Inside {{ … }}: families, then names.
	if i := strings.LastIndex(prefix, "{{"); i >= 0 && !strings.Contains(prefix[i:], "}}") {
		inner := prefix[i+2:]
		fam, name, dotted := strings.Cut(inner, ".")
		if !dotted {
			for _, f := range stdlib.Families {
				e := replace(off - len(inner))
				e.NewText = f.Name + "."
				add(f.Name, protocol.CompletionItemKindModule, f.Doc, e)
			}
			return out
		}
		from := off - len(name)
		family, ok := stdlib.FamilyByName(strings.TrimSpace(fam))
		if !ok {
			return out
		}
		item := func(n, detail string, kind protocol.CompletionItemKind) {
			e := replace(from)
			e.NewText = n
			if !strings.HasPrefix(text[off:], "}}") {
				e.NewText += "}}"
			}
			add(n, kind, detail, e)
		}
		switch family.Name {
		case "lead":
			if pl.ws != nil {
				for _, fl := range pl.ws.Fields {
					item(fl.Name, string(fl.Type), protocol.CompletionItemKindField)
				}
			}
		case "my":
			seen := map[string]bool{}
			scopes := []*ir.Scope{pl.scope()}
			if c := pl.campaignDef(); c != nil {
				for _, call := range an.program().Callers(c) {
					if call.Step.Parent {
						scopes = append(scopes, call.Caller.Scope())
					}
				}
			}
			for _, sc := range scopes {
				for ; sc != nil; sc = sc.Parent {
					for _, t := range sc.Order {
						if !seen[t.Name] {
							seen[t.Name] = true
							item(t.Name, t.Type+" = "+t.Value+" ("+sc.Owner+")", protocol.CompletionItemKindConstant)
						}
					}
				}
			}
		default:
			for _, n := range family.Names {
				item(n, family.Name+" token", protocol.CompletionItemKindProperty)
			}
		}
		return out
	}

	// Inside a quoted name.
	if q, ok := openQuote(prefix); ok {
		before := strings.Fields(prefix[:q])
		quoteAt := off - len(prefix) + q
		names := namesFor(an, pl, before, prefix)
		for _, n := range names {
			e := replace(quoteAt + 1)
			e.NewText = strconv.Quote(n.name)
			e.NewText = e.NewText[1:]
			if strings.HasPrefix(text[off:], `"`) {
				e.NewText = e.NewText[:len(e.NewText)-1]
			}
			add(n.name, n.kind, n.detail, e)
		}
		return out
	}

	// Units after a number.
	if m := waitUnit.FindStringSubmatch(prefix); m != nil {
		for _, u := range stdlib.Units {
			add(u.Name+"s", protocol.CompletionItemKindUnit, "", nil)
			add(u.Name, protocol.CompletionItemKindUnit, "", nil)
		}
		return out
	}
	if m := everyUnit.FindStringSubmatch(prefix); m != nil {
		for _, u := range stdlib.Units {
			add(u.Name+"s", protocol.CompletionItemKindUnit, "", nil)
			add(u.Name, protocol.CompletionItemKindUnit, "", nil)
		}
		return out
	}

	// Fields where a condition or a field step names one.
	if fieldStart.MatchString(prefix) && !strings.HasPrefix(strings.TrimSpace(prefix), "field ") && pl.ws != nil {
		for _, fl := range pl.ws.Fields {
			add(fl.Name, protocol.CompletionItemKindField, string(fl.Type), nil)
		}
		if !condStart.MatchString(prefix) {
			return out
		}
	}

	// Keywords where a line starts.
	if lineStartW.MatchString(prefix) {
		for _, k := range keywordsAt(text[:off]) {
			add(k, protocol.CompletionItemKindKeyword, "", nil)
		}
	}
	return out
}

// openQuote reports whether the prefix ends inside a string, and where
// that string's opening quote is.
func openQuote(prefix string) (int, bool) {
	open := -1
	for i := 0; i < len(prefix); i++ {
		switch prefix[i] {
		case '\\':
			if open >= 0 {
				i++
			}
		case '"':
			if open >= 0 {
				open = -1
			} else {
				open = i
			}
		case '/':
			if open < 0 && strings.HasPrefix(prefix[i:], "//") {
				return 0, false
			}
		}
	}
	return open, open >= 0
}

type nameItem struct {
	name, detail string
	kind         protocol.CompletionItemKind
}

// namesFor lists the names that may stand in a quoted string after the
// words before it.
func namesFor(an *Analysis, pl place, before []string, line string) []nameItem {
	ws := pl.ws
	if ws == nil || len(before) == 0 {
		return nil
	}
	last := before[len(before)-1]
	prev := ""
	if len(before) > 1 {
		prev = before[len(before)-2]
	}
	first := before[0]
	var out []nameItem
	self := pl.campaignDef()
	campaigns := func(keep func(*ir.Campaign) bool, detail string) {
		for _, c := range ws.Campaigns {
			if keep(c) {
				out = append(out, nameItem{c.Name, c.Kind.String() + " campaign" + detail, protocol.CompletionItemKindFunction})
			}
		}
	}
	assets := func(kind string) {
		for t, os := range an.idx().byTarget {
			if kindName(t) != kind || assetName(t) == "" {
				continue
			}
			if len(os) > 0 && os[0].decl && an.placeAt(os[0].file, os[0].start).ws != ws {
				continue
			}
			out = append(out, nameItem{assetName(t), kind, protocol.CompletionItemKindReference})
		}
	}
	switch {
	case last == "campaign" && prev == "execute":
		// Campaigns that may be executed from here: same workspace,
		// executables only.
		campaigns(func(c *ir.Campaign) bool { return c.Kind == ir.Executable && c != self }, "")
	case last == "campaign" && prev == "request":
		campaigns(func(c *ir.Campaign) bool { return c.Requestable("flow") }, ", requestable")
	case last == "executed" || (last == "campaign" && prev == "was"):
		campaigns(func(c *ir.Campaign) bool { return c.Kind == ir.Executable }, "")
	case first == "remove" && slices.Contains(before, "flow"):
		campaigns(func(c *ir.Campaign) bool { return true }, "")
	case last == "clone" && first == "program":
		for _, p := range ws.Programs {
			out = append(out, nameItem{p.Name, "program", protocol.CompletionItemKindModule})
		}
	case last == "clone":
		campaigns(func(c *ir.Campaign) bool { return c != self }, "")
	case last == "list" && prev == "smart":
		assets("smart list")
	case last == "list":
		assets("list")
	case last == "email":
		assets("email")
	case last == "webhook":
		assets("webhook")
	case last == "form":
		assets("form")
	case last == "page":
		assets("web page")
	case last == "program" || (last == "status" && prev == "program" && first == "change"):
		for _, p := range ws.Programs {
			out = append(out, nameItem{p.Name, "program", protocol.CompletionItemKindModule})
		}
	case last == "to" && first == "change" && slices.Contains(before, "partition"):
		for _, p := range ws.Partitions {
			out = append(out, nameItem{p, "partition", protocol.CompletionItemKindEnum})
		}
	case last == "to" || last == "status":
		// A status: of the program named on the line, else the campaign's.
		var prog *ir.ProgramDef
		if m := programArg.FindStringSubmatch(line); m != nil {
			if n, err := strconv.Unquote(m[1]); err == nil {
				prog = ws.ProgramNamed(n)
			}
		}
		if prog == nil && pl.program != "" {
			prog = ws.ProgramNamed(pl.program)
		}
		if prog != nil {
			for _, st := range prog.Statuses {
				out = append(out, nameItem{st.Name, "status of " + strconv.Quote(prog.Name), protocol.CompletionItemKindEnumMember})
			}
		}
	}
	slices.SortFunc(out, func(a, b nameItem) int { return strings.Compare(a.name, b.name) })
	return out
}

// keywordsAt lists the words a line may start with at the end of text, by
// the block it stands in (found by its braces, as the text may not parse).
func keywordsAt(text string) []string {
	var stack []string
	stmt := 0 // where the current statement starts
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '"':
			for i++; i < len(text) && text[i] != '"' && text[i] != '\n'; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case '/':
			if strings.HasPrefix(text[i:], "//") {
				for i < len(text) && text[i] != '\n' {
					i++
				}
				stmt = i + 1
			}
		case '\n':
			stmt = i + 1
		case '{':
			head := strings.Fields(text[stmt:i])
			word := ""
			if len(head) > 0 {
				word = head[0]
				if word == "}" && len(head) > 1 {
					word = head[1]
				}
			}
			stack = append(stack, word)
			stmt = i + 1
		case '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			stmt = i + 1
		}
	}
	top := ""
	if len(stack) > 0 {
		top = stack[len(stack)-1]
	}
	switch top {
	case "", "folder", "program":
		if top == "" && !strings.Contains(text, "workspace") {
			return []string{"workspace"}
		}
		return append(slices.Clone(stdlib.DeclKeywords), "smart list", "web page")
	case "batch", "trigger", "executable":
		return append(slices.Clone(stdlib.CampaignKeywords), "smart list", "flow", "qualify every time", "qualify once")
	case "smart":
		return stdlib.SmartListKeywords
	case "flow", "if", "else":
		return append(slices.Clone(stdlib.StepKeywords), "else")
	case "email":
		return []string{"subject", "operational"}
	case "webhook":
		return stdlib.WebhookKeywords
	}
	return nil
}
