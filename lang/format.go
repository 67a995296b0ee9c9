package lang

import (
	"reflect"
	"sort"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Format returns src in the one canonical layout of campc files. It changes
// only whitespace and line breaks, never a token, a comment's text (bar
// trailing blanks) or their order, and Format(Format(src)) == Format(src).
//
// The layout:
//
//   - every statement (declaration, campaign clause, smart-list line, flow
//     step) starts on a line of its own, indented two spaces per open brace;
//   - "{" ends its line, "}" stands on a line of its own, and a block with
//     nothing in it is written "{}"; "else" follows the "}" before it;
//   - tokens of one statement are separated by one space, except none before
//     "," ")" "]", none after "(" "[", and none either side of the "-" of a
//     weekday range (Mon-Fri);
//   - a comment on a line of its own stays on a line of its own, at the
//     indentation of what follows it (a statement that continues after it
//     is indented one more level); a comment after code stays at the end of
//     its line, one space after the code;
//   - one blank line that the author left before a statement or a comment
//     on its own line is kept (several become one), except right after "{";
//     other blank lines go;
//   - in the unknown lines that the parser keeps for the compiler to report
//     (Unknown* nodes), a word that starts a line keeps starting one;
//   - no trailing whitespace, and the file ends with exactly one newline.
//
// A file that does not parse is not formatted: the error is its syntax
// diagnostic (a *Diagnostic).
func Format(filename string, src []byte) ([]byte, error) {
	text := string(src)
	f, ds := Parse(filename, text)
	if len(ds) > 0 {
		return nil, ds[0]
	}
	return formatParsed(f, filename, text)
}

// formatParsed formats src, which parsed to f.
func formatParsed(f *File, filename, src string) ([]byte, error) {
	toks, err := lexAll(filename, src)
	if err != nil {
		return nil, err
	}
	m := marks{stmt: map[int]bool{}}
	m.collect(reflect.ValueOf(f))
	return []byte(layout(toks, &m)), nil
}

// ftok is a token or a comment with what the source had before it.
type ftok struct {
	text    string
	off     int
	comment bool
	nl      int  // line breaks between the previous token or comment and this one
	first   bool // nothing but whitespace before it on its source line
}

var (
	symComment    = campLexer.Symbols()["Comment"]
	symWhitespace = campLexer.Symbols()["Whitespace"]
)

// lexAll lexes src with its comments, folding whitespace into the line
// breaks counted before the next token.
func lexAll(filename, src string) ([]ftok, error) {
	lx, err := campLexer.LexString(filename, src)
	if err != nil {
		return nil, err
	}
	var out []ftok
	nl := 0
	first := true
	for {
		t, err := lx.Next()
		if err != nil {
			return nil, err
		}
		if t.EOF() {
			return out, nil
		}
		if t.Type == symWhitespace {
			n := strings.Count(t.Value, "\n")
			nl += n
			if n > 0 {
				first = true
			}
			continue
		}
		ft := ftok{text: t.Value, off: t.Pos.Offset, nl: nl, first: first}
		if t.Type == symComment {
			ft.comment = true
			ft.text = strings.TrimRight(t.Value, " \t\r")
		}
		out = append(out, ft)
		nl = 0
		first = false
	}
}

// marks says where statements start, from the parsed file.
type marks struct {
	stmt    map[int]bool // offsets of the first token of each statement
	unknown [][2]int     // offset ranges of Unknown* nodes
}

var (
	posType   = reflect.TypeOf(lexer.Position{})
	stmtTypes = map[reflect.Type]bool{reflect.TypeOf(File{}): true, reflect.TypeOf(Decl{}): true, reflect.TypeOf(CampaignItem{}): true, reflect.TypeOf(SmartListItem{}): true, reflect.TypeOf(Step{}): true, reflect.TypeOf(EmailItem{}): true,
		reflect.TypeOf(WebhookItem{}): true}
	unknownType = map[reflect.Type]bool{reflect.TypeOf(UnknownDecl{}): true, reflect.TypeOf(UnknownItem{}): true, reflect.TypeOf(UnknownSLine{}): true, reflect.TypeOf(UnknownStep{}): true,
		reflect.TypeOf(UnknownHook{}): true}
)

// collect walks the AST by reflection, so that a new node type needs no
// change here unless it is a new kind of statement.
func (m *marks) collect(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			m.collect(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			m.collect(v.Index(i))
		}
	case reflect.Struct:
		t := v.Type()
		if stmtTypes[t] {
			m.stmt[v.FieldByName("Pos").Interface().(lexer.Position).Offset] = true
		}
		if unknownType[t] {
			start := v.FieldByName("Pos").Interface().(lexer.Position).Offset
			end := v.FieldByName("EndPos").Interface().(lexer.Position).Offset
			m.unknown = append(m.unknown, [2]int{start, end})
		}
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).Type != posType {
				m.collect(v.Field(i))
			}
		}
	}
}

// inUnknown reports whether off lies inside an Unknown* node, after its
// first word. The nodes never nest and the walk meets them in source order,
// so the ranges are sorted.
func (m *marks) inUnknown(off int) bool {
	i := sort.Search(len(m.unknown), func(i int) bool { return m.unknown[i][1] > off })
	return i < len(m.unknown) && off > m.unknown[i][0]
}

// printer writes the layout.
type printer struct {
	b         strings.Builder
	depth     int
	last      string // the last token written ("" before the first)
	afterOpen bool   // nothing but a trailing comment since the last "{"
	mustBreak bool   // a comment was written: the next thing starts a line
}

func (p *printer) newline(blank bool, indent int) {
	if p.b.Len() == 0 {
		return
	}
	p.b.WriteByte('\n')
	if blank {
		p.b.WriteByte('\n')
	}
	p.b.WriteString(strings.Repeat("  ", max(indent, 0)))
}

func layout(toks []ftok, m *marks) string {
	// next[i] is the index of the first token (not comment) from i on.
	next := make([]int, len(toks)+1)
	next[len(toks)] = -1
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].comment {
			next[i] = next[i+1]
		} else {
			next[i] = i
		}
	}
	// What follows "{" starts the block's first line, statement or not
	// (the "subject" of an email, the "url" of a webhook).
	prev := ""
	for _, t := range toks {
		if !t.comment {
			if prev == "{" {
				m.stmt[t.off] = true
			}
			prev = t.text
		}
	}
	p := &printer{}
	isStmt := func(t ftok) bool {
		return t.text != "}" && (m.stmt[t.off] || (t.first && m.inUnknown(t.off)))
	}
	// indentOf is the indentation of a token that starts a line.
	indentOf := func(t ftok) int {
		switch {
		case t.text == "}":
			return p.depth - 1
		case isStmt(t), t.text == "else", t.text == "{", t.text == "if" && p.last == "else", m.inUnknown(t.off):
			return p.depth
		}
		return p.depth + 1 // a statement continued after a comment
	}
	for i, t := range toks {
		if t.comment {
			if !t.first && p.b.Len() > 0 {
				p.b.WriteString(" ")
			} else {
				indent := p.depth
				if j := next[i]; j >= 0 && toks[j].text != "}" {
					indent = indentOf(toks[j])
				}
				p.newline(t.nl > 1 && !p.afterOpen, indent)
				p.afterOpen = false
			}
			p.b.WriteString(t.text)
			p.mustBreak = true
			continue
		}
		stmt := isStmt(t)
		switch {
		case p.b.Len() == 0:
		case t.text == "}" && p.last == "{" && !p.mustBreak:
			// an empty block: "{}"
		case p.mustBreak, stmt, t.text == "}", p.last == "{", p.last == "}" && t.text != "else":
			p.newline(stmt && t.nl > 1 && !p.afterOpen, indentOf(t))
		case t.text == "," || t.text == ")" || t.text == "]" || p.last == "(" || p.last == "[",
			t.text == "-" || p.last == "-" && !isDigit(t.text[0]):
			// A weekday range: Mon-Fri. A "-" before a digit keeps its
			// space, or the two would lex as a negative number.
		default:
			p.b.WriteString(" ")
		}
		p.b.WriteString(t.text)
		switch t.text {
		case "{":
			p.depth++
		case "}":
			p.depth--
		}
		p.afterOpen = t.text == "{"
		p.mustBreak = false
		p.last = t.text
	}
	p.b.WriteByte('\n')
	return p.b.String()
}
