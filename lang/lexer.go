package lang

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// The token types, in the order the rules are tried. regexRules below
// states the same rules as regular expressions; a fuzz test keeps the two
// lexers in agreement.
const (
	tokEOF lexer.TokenType = lexer.EOF - iota
	tokComment
	tokWhitespace
	tokString
	tokDateTime
	tokDate
	tokTimeOfDay
	tokNumber
	tokIdent
	tokPunct
)

var symbols = map[string]lexer.TokenType{
	"EOF": tokEOF, "Comment": tokComment, "Whitespace": tokWhitespace, "String": tokString,
	"DateTime": tokDateTime, "Date": tokDate, "TimeOfDay": tokTimeOfDay, "Number": tokNumber, "Ident": tokIdent, "Punct": tokPunct,
}

// regexRules are the lexical rules as regular expressions (the reference
// for the hand-written lexer; tried in order; all classes ASCII).
var regexRules = []lexer.SimpleRule{
	{Name: "Comment", Pattern: `//[^\n]*`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "String", Pattern: `"(?:\\["\\/nt]|[^"\\\n])*"`},
	{Name: "DateTime", Pattern: `[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:[0-9]{2})`},
	{Name: "Date", Pattern: `[0-9]{4}-[0-9]{2}-[0-9]{2}`},
	{Name: "TimeOfDay", Pattern: `[0-9]{1,2}:[0-9]{2}`},
	{Name: "Number", Pattern: `-?[0-9]+(?:\.[0-9]+)?`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Punct", Pattern: `>=|<=|[<>{}\[\](),-]`},
}

// campDef is a hand-written lexer for participle: the regular-expression
// lexer spent most of a parse in the regexp engine.
type campDef struct{}

// campLexer is the language's lexer definition.
var campLexer = campDef{}

func (campDef) Symbols() map[string]lexer.TokenType { return symbols }

func (d campDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

func (campDef) LexString(filename, src string) (lexer.Lexer, error) {
	// A leading byte-order mark is skipped: offsets still index src, and
	// columns on line 1 count from after it.
	return &campLex{src: src, pos: lexer.Position{Filename: filename, Offset: bomLen(src), Line: 1, Column: 1}}, nil
}

// BOM is the UTF-8 byte-order mark, which a .camp file may start with.
const BOM = "\uFEFF"

// bomLen is the length of src's leading byte-order mark, or 0.
func bomLen(src string) int {
	if strings.HasPrefix(src, BOM) {
		return len(BOM)
	}
	return 0
}

func (d campDef) LexBytes(filename string, src []byte) (lexer.Lexer, error) {
	return d.LexString(filename, string(src))
}

type campLex struct {
	src    string
	pos    lexer.Position
	tokens int // tokens other than comments and whitespace, for MaxTokens
}

// errTooManyTokens is the lexer's error past MaxTokens; the parser turns
// it into a CodeLimit diagnostic.
var errTooManyTokens = fmt.Sprintf("more than %d words, names, numbers and symbols in one file; split it into several files", MaxTokens)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// digits reports whether s has n digits at i.
func digits(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for k := i; k < i+n; k++ {
		if !isDigit(s[k]) {
			return false
		}
	}
	return true
}

func (l *campLex) Next() (lexer.Token, error) {
	s, i := l.src, l.pos.Offset
	if i >= len(s) {
		return lexer.Token{Type: tokEOF, Pos: l.pos}, nil
	}
	typ, n := scan(s, i)
	if n == 0 {
		rest := s[i:]
		if len(rest) > 16 {
			rest = rest[:16]
		}
		return lexer.Token{}, &lexer.Error{Msg: fmt.Sprintf("invalid input text %q", rest), Pos: l.pos}
	}
	if typ != tokComment && typ != tokWhitespace {
		// participle reads every token before it parses, so this bounds
		// its memory as well as its repetitions.
		if l.tokens++; l.tokens > MaxTokens {
			return lexer.Token{}, &lexer.Error{Msg: errTooManyTokens, Pos: l.pos}
		}
	}
	tok := lexer.Token{Type: typ, Value: s[i : i+n], Pos: l.pos}
	l.advance(tok.Value)
	return tok, nil
}

// advance moves the position past text, counting columns in runes (an
// invalid byte counts as one), as participle's lexers do.
func (l *campLex) advance(text string) {
	l.pos.Offset += len(text)
	if nl := strings.LastIndexByte(text, '\n'); nl >= 0 {
		l.pos.Line += strings.Count(text, "\n")
		l.pos.Column = utf8.RuneCountInString(text[nl:])
		return
	}
	for j := 0; j < len(text); j++ {
		if text[j] >= utf8.RuneSelf {
			l.pos.Column += utf8.RuneCountInString(text)
			return
		}
	}
	l.pos.Column += len(text)
}

// scan returns the type and length of the token at s[i], trying the rules
// in order; length 0 means no rule matches.
func scan(s string, i int) (lexer.TokenType, int) {
	c := s[i]
	// Comment
	if c == '/' && i+1 < len(s) && s[i+1] == '/' {
		j := i + 2
		for j < len(s) && s[j] != '\n' {
			j++
		}
		return tokComment, j - i
	}
	// Whitespace
	if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return tokWhitespace, j - i
	}
	// String
	if c == '"' {
		j := i + 1
		for j < len(s) {
			switch s[j] {
			case '"':
				return tokString, j + 1 - i
			case '\n':
				j = len(s)
				continue
			case '\\':
				if j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\' || s[j+1] == '/' || s[j+1] == 'n' || s[j+1] == 't') {
					j += 2
					continue
				}
				j = len(s)
				continue
			}
			j++
		}
		// An unterminated or badly escaped string matches no rule as a
		// whole; the regexp lexer then fails here too.
	}
	if isDigit(c) {
		if n := dateTime(s, i); n > 0 {
			return tokDateTime, n
		}
		if digits(s, i, 4) && i+10 <= len(s) && s[i+4] == '-' && digits(s, i+5, 2) && s[i+7] == '-' && digits(s, i+8, 2) {
			return tokDate, 10
		}
		// TimeOfDay: H:MM or HH:MM (a wait's "until 09:00").
		for _, h := range []int{2, 1} {
			if digits(s, i, h) && i+h+3 <= len(s) && s[i+h] == ':' && digits(s, i+h+1, 2) {
				return tokTimeOfDay, h + 3
			}
		}
	}
	// Number
	if isDigit(c) || (c == '-' && i+1 < len(s) && isDigit(s[i+1])) {
		j := i
		if c == '-' {
			j++
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			j++
			for j < len(s) && isDigit(s[j]) {
				j++
			}
		}
		return tokNumber, j - i
	}
	// Ident
	if isAlpha(c) {
		j := i + 1
		for j < len(s) && (isAlpha(s[j]) || isDigit(s[j])) {
			j++
		}
		return tokIdent, j - i
	}
	// Punct
	switch c {
	case '>', '<':
		if i+1 < len(s) && s[i+1] == '=' {
			return tokPunct, 2
		}
		return tokPunct, 1
	case '{', '}', '[', ']', '(', ')', ',', '-':
		// A "-" before a digit was taken as a number above; alone it
		// joins weekday ranges (Mon-Fri).
		return tokPunct, 1
	}
	return 0, 0
}

// dateTime matches YYYY-MM-DDTHH:MM[:SS[.f+]](Z|±HH:MM) at s[i].
func dateTime(s string, i int) int {
	if !(digits(s, i, 4) && i+16 <= len(s) && s[i+4] == '-' && digits(s, i+5, 2) && s[i+7] == '-' &&
		digits(s, i+8, 2) && s[i+10] == 'T' && digits(s, i+11, 2) && s[i+13] == ':' && digits(s, i+14, 2)) {
		return 0
	}
	j := i + 16
	if j+2 < len(s) && s[j] == ':' && digits(s, j+1, 2) {
		j += 3
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			j++
			for j < len(s) && isDigit(s[j]) {
				j++
			}
		}
	}
	switch {
	case j < len(s) && s[j] == 'Z':
		return j + 1 - i
	case j+5 < len(s)+0 && (s[j] == '+' || s[j] == '-') && digits(s, j+1, 2) && s[j+3] == ':' && digits(s, j+4, 2):
		return j + 6 - i
	}
	return 0
}
