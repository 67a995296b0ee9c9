package lang

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	ref "github.com/campc/campc/lang/internal/refgrammar"
)

// MaxNesting bounds how deeply braces, brackets and parentheses may nest.
// participle recurses without a limit, so the guard runs before it does.
const MaxNesting = 64

// Limits on one file (spec §2.11). Parsing and checking take memory in
// proportion to a file's size and to its declarations, so a file past
// them is refused with a CodeLimit diagnostic instead of exhausting memory.
// A project may have any number of files.
const (
	MaxFileSize = 8 << 20 // bytes
	MaxDecls    = 10000   // declarations, those inside folders and programs included
	// MaxTokens bounds the words, strings, numbers and symbols of a file
	// (comments and whitespace aside). It is participle's own bound on
	// one repetition (Decl*, the values of a list, …), so that bound,
	// which participle reports in its own words, is never reached.
	MaxTokens = 1000000
)

// parser dispatches its hot unions on their first word (dispatch.go);
// refParser is the grammar as ast.go states it, whose errors Parse reports.
var (
	parser    = participle.MustBuild[File](parserOpts...)
	refParser = participle.MustBuild[ref.File](parserOpts...)
)

// Grammar returns the EBNF of the language, the reference grammar's (the
// dispatching parser accepts the same files); spec.md carries a copy that
// a test keeps in step.
func Grammar() string { return refParser.String() }

// Source is one file's name and text.
type Source struct {
	Name string
	Text string
}

// Parse parses one file. On a syntax error it returns a nil file and one
// diagnostic (participle stops at the first); unknown words in statement
// position are not syntax errors here but Unknown* nodes for the compiler.
func Parse(filename, src string) (*File, []*Diagnostic) {
	if len(src) > MaxFileSize {
		at := Position{Filename: filename, Line: 1, Column: 1}
		return nil, []*Diagnostic{newDiag(SeverityError, CodeLimit, at, at,
			fmt.Sprintf("the file is larger than %d MiB, the most a .camp file may hold; split it into several files", MaxFileSize>>20))}
	}
	if d := checkText(filename, src); d != nil {
		return nil, []*Diagnostic{d}
	}
	f, err := parser.ParseString(filename, src)
	if err != nil {
		// The error of the reference grammar, which the dispatching parser
		// does not reproduce (dispatch.go).
		var rf *ref.File
		if rf, err = refParser.ParseString(filename, src); err != nil {
			return nil, []*Diagnostic{syntaxDiag(filename, src, refineSyntax(src, filename, err))}
		}
		f = fromRef(rf)
	}
	if d := countDecls(filename, f.Decls, new(int)); d != nil {
		return nil, []*Diagnostic{d}
	}
	return f, nil
}

// countDecls counts declarations, depth first in source order, and
// reports the first one past MaxDecls.
func countDecls(filename string, ds []*Decl, n *int) *Diagnostic {
	for _, d := range ds {
		if *n++; *n > MaxDecls {
			start, end := Pos(d.Pos), Pos(d.EndPos)
			if end.Line != start.Line {
				end = start.Advance(1)
			}
			start.Filename, end.Filename = filename, filename
			return newDiag(SeverityError, CodeLimit, start, end,
				fmt.Sprintf("more than %d declarations in one file; split it into several files", MaxDecls))
		}
		var inner []*Decl
		switch {
		case d.Folder != nil:
			inner = d.Folder.Decls
		case d.Program != nil:
			inner = d.Program.Decls
		}
		if e := countDecls(filename, inner, n); e != nil {
			return e
		}
	}
	return nil
}

// checkText rejects what the lexer would report poorly (a bad byte, an
// unterminated string) and nesting deeper than MaxNesting, before the
// recursive parser sees it.
func checkText(filename, src string) *Diagnostic {
	depth := 0
	line, col := 1, 1
	for i := bomLen(src); i < len(src); {
		c := src[i]
		at := Position{Filename: filename, Offset: i, Line: line, Column: col}
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			col += runeCount(src[i : i+j])
			i += j
			continue
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' && src[j] != '\n' {
				if src[j] == '\\' {
					if j+1 >= len(src) || !strings.ContainsRune(`"\/nt`, rune(src[j+1])) {
						esc := Position{Filename: filename, Offset: j, Line: line, Column: col + runeCount(src[i:j])}
						return newDiag(SeverityError, CodeSyntax, esc, esc.Advance(2), "invalid escape in string: only \\\", \\\\, \\/, \\n and \\t are allowed")
					}
					j++
				}
				j++
			}
			if j >= len(src) || src[j] != '"' {
				return newDiag(SeverityError, CodeSyntax, at, at.Advance(1), "string is not terminated before the end of the line")
			}
			col += runeCount(src[i : j+1])
			i = j + 1
			continue
		case c == '{' || c == '(' || c == '[':
			depth++
			if depth > MaxNesting {
				return newDiag(SeverityError, CodeSyntax, at, at.Advance(1), fmt.Sprintf("nesting is deeper than %d levels", MaxNesting))
			}
		case c == '}' || c == ')' || c == ']':
			depth--
		case c == '\n':
			line++
			col = 1
			i++
			continue
		case strings.HasPrefix(src[i:], BOM):
			return newDiag(SeverityError, CodeSyntax, at, at.Advance(1), "a byte-order mark (U+FEFF) is allowed only at the very start of a file")
		case c >= 0x80:
			return newDiag(SeverityError, CodeSyntax, at, at.Advance(1), "non-ASCII text is allowed only inside strings and comments")
		case c < 0x20 && c != '\t' && c != '\r':
			return newDiag(SeverityError, CodeSyntax, at, at.Advance(1), fmt.Sprintf("invalid character %q", c))
		case !isLexChar(c):
			return newDiag(SeverityError, CodeSyntax, at, at.Advance(1), fmt.Sprintf("unexpected character %q", c))
		}
		i++
		col++
	}
	return nil
}

func isLexChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(" \t\r_-+.:<>=,/", c) >= 0
}

func syntaxDiag(filename, src string, err error) *Diagnostic {
	var perr participle.Error
	if !errors.As(err, &perr) {
		at := Position{Filename: filename, Line: 1, Column: 1}
		return newDiag(SeverityError, CodeSyntax, at, at, err.Error())
	}
	p := perr.Position()
	at := Position{Filename: filename, Offset: p.Offset, Line: p.Line, Column: p.Column}
	msg := perr.Message()
	end := at.Advance(1)
	if msg == errTooManyTokens {
		return newDiag(SeverityError, CodeLimit, at, end, msg)
	}
	if strings.Contains(msg, "invalid input text") {
		// A lexer error: name the offending word rather than the rest of
		// the file.
		word := src[min(p.Offset, len(src)):]
		if i := strings.IndexAny(word, " \t\r\n"); i >= 0 {
			word = word[:i]
		}
		if len(word) > 20 {
			word = word[:20]
		}
		msg = fmt.Sprintf("unexpected %q", word)
		end = at.Advance(max(runeCount(word), 1))
		// "wait until {{my.Event Date}}" as Marketo shows it: token
		// references stand inside quotes in campc.
		line := src[:min(p.Offset, len(src))]
		line = line[strings.LastIndexByte(line, '\n')+1:]
		if i := strings.LastIndex(line, "{{"); i >= 0 && strings.Count(line[:i], `"`)%2 == 0 {
			msg += `; a token reference is written inside quotes, as in wait until "{{my.Event Date}}"`
		}
	}
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		tok := ute.Unexpected
		if tok.EOF() {
			msg = "unexpected end of file"
		} else {
			msg = fmt.Sprintf("unexpected %s", describeToken(tok))
			end = at.Advance(runeCount(tok.Value))
		}
		// participle keeps the expected production private; it is the
		// parenthesised tail of its message.
		full := ute.Message()
		if i := strings.LastIndex(full, " (expected "); i >= 0 && strings.HasSuffix(full, ")") {
			msg += "; expected " + friendlyExpect.Replace(full[i+len(" (expected "):len(full)-1])
		}
		if !tok.EOF() {
			msg = syntaxHint(msg, tok, tokenBefore(filename, src, p.Offset))
		}
	}
	return newDiag(SeverityError, CodeSyntax, at, end, msg)
}

func describeToken(t lexer.Token) string {
	v := t.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	if strings.HasPrefix(v, `"`) {
		return "string " + v
	}
	return fmt.Sprintf("%q", v)
}

// friendlyExpect renames grammar productions in "expected" lists into words.
var friendlyExpect = strings.NewReplacer(
	"CampaignRef", "a quoted campaign name", "CampaignBody", `"{"`, "UnknownBody", `"{"`,
	"Block", `"{"`, "ValueList", `"["`, "Duration", "a number and a unit",
	"UnaryExpr", "a condition", "AndExpr", "a condition", "Expr", "a condition", "Cond", "a condition",
	"Str", "a quoted name", "Ident", "a name", "Num", "a number",
	"TimeLit", "a date-time", "Value", "a value", "<ident>", "a name",
	"TimeOfDay", "a time of day and a zone (09:00 \"Europe/Berlin\")", "<timeofday>", "a time of day (09:00)",
	"<string>", "a quoted name", "<number>", "a number",
)

// fromRef copies a reference tree into lang's node types, which have the
// same fields in the same order (TestRefGrammar). Parse needs it only if
// the two parsers disagreed on a file, which TestDispatchMatchesReference
// and FuzzDispatch look for.
func fromRef(rf *ref.File) *File {
	f := new(File)
	copyTree(reflect.ValueOf(f).Elem(), reflect.ValueOf(rf).Elem())
	return f
}

// copyTree copies src into dst, a value of the same shape in the other
// package's types.
func copyTree(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			n := reflect.New(dst.Type().Elem())
			copyTree(n.Elem(), src.Elem())
			dst.Set(n)
		}
	case reflect.Slice:
		if !src.IsNil() {
			s := reflect.MakeSlice(dst.Type(), src.Len(), src.Len())
			for i := range src.Len() {
				copyTree(s.Index(i), src.Index(i))
			}
			dst.Set(s)
		}
	case reflect.Struct:
		if src.Type() == dst.Type() { // lexer.Position
			dst.Set(src)
			return
		}
		for i := range src.NumField() {
			copyTree(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}
