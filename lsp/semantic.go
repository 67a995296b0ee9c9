package lsp

import (
	"unicode/utf16"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
)

// Semantic tokens colour the names by what they mean, which the TextMate
// grammar cannot know: a quoted campaign name, a list's, a My Token's.
// Keywords, strings and comments stay the grammar's.

// semanticTypes is the legend's token types; semanticKind indexes it.
var semanticTypes = []string{"function", "class", "namespace", "variable", "property", "parameter", "enumMember", "struct"}

func semanticKind(t any) int {
	switch t.(type) {
	case *ir.Campaign:
		return 0
	case *ir.ProgramDef:
		return 1
	case *ir.Folder:
		return 2
	case *ir.List, *ir.SmartListDef:
		return 3
	case *ir.Field:
		return 4
	case *ir.Token:
		return 5
	case compiler.StatusName:
		return 6
	}
	return 7 // emails, webhooks, forms, web pages
}

func semanticLegend() protocol.SemanticTokensLegend {
	return protocol.SemanticTokensLegend{TokenTypes: semanticTypes, TokenModifiers: []string{"declaration"}}
}

func (s *Server) semanticTokens(_ *glsp.Context, p *protocol.SemanticTokensParams) (*protocol.SemanticTokens, error) {
	f, err := s.docFile(p.TextDocument.URI)
	if err != nil {
		return nil, &rpcError{Code: codeInvalidParams, Message: "campc lsp: " + err.Error()}
	}
	an := s.project(f).Analyze()
	out := &protocol.SemanticTokens{Data: []protocol.UInteger{}}
	if an.Stale[f] {
		return out, nil // positions of an older text; the grammar colours it meanwhile
	}
	l := an.lines(f)
	var line, char protocol.UInteger
	last := -1
	for _, o := range an.idx().byFile[f] {
		if o.start <= last {
			continue // tokens may not overlap
		}
		start, end := l.pos(o.start), l.pos(o.end)
		if start.Line != end.Line || o.end <= o.start {
			continue
		}
		length := protocol.UInteger(len(utf16.Encode([]rune(l.text[o.start:o.end]))))
		dl, dc := start.Line-line, start.Character
		if dl == 0 {
			dc = start.Character - char
		}
		mods := protocol.UInteger(0)
		if o.decl {
			mods = 1
		}
		out.Data = append(out.Data, dl, dc, length, protocol.UInteger(semanticKind(o.target)), mods)
		line, char, last = start.Line, start.Character, o.end-1
	}
	return out, nil
}
