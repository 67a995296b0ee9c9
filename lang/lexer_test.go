package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

var regexLexer = lexer.MustSimple(regexRules)

// lexTokens lexes src to the end or the first error.
func lexTokens(def lexer.StringDefinition, src string) ([]lexer.Token, error) {
	l, err := def.LexString("f", src)
	if err != nil {
		return nil, err
	}
	var out []lexer.Token
	for {
		t, err := l.Next()
		if err != nil {
			return out, err
		}
		out = append(out, t)
		if t.EOF() {
			return out, nil
		}
	}
}

// FuzzLexer keeps the hand-written lexer equal to the regular-expression
// rules it implements: the same tokens, types, values and positions, and
// an error at the same place.
func FuzzLexer(f *testing.F) {
	files, _ := filepath.Glob("../examples/*/*.camp")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{"2026-12-01T09:00:00Z", "2026-12-01T09:00:00.5+01:00", "2026-12-01T09:00", "2026-12-01",
		"-5 -x 3.14 3. .5", "\"a\\\"b\" \"bad\\q\" \"open", ">= <= < > {}[](),", "ünïcödé \"ü\" // ü\n x", "a_1 _b 1a", "09:00 9:30 123:45 12:345 1: 7:5", "Mon-Fri Mon - Fri -x- --1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if strings.HasPrefix(src, BOM) {
			t.Skip("the regular expressions do not skip a leading byte-order mark")
		}
		want, werr := lexTokens(regexLexer, src)
		got, gerr := lexTokens(campLexer, src)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("errors differ: regexp %v, hand-written %v", werr, gerr)
		}
		if len(want) != len(got) {
			t.Fatalf("token counts differ: %d vs %d\n%v\n%v", len(want), len(got), want, got)
		}
		for i := range want {
			w, g := want[i], got[i]
			if w.Value != g.Value || w.Pos != g.Pos || symbolName(regexLexer, w.Type) != symbolName(campLexer, g.Type) {
				t.Fatalf("token %d differs: %#v vs %#v", i, w, g)
			}
		}
		if werr != nil {
			wp, gp := werr.(*lexer.Error).Pos, gerr.(*lexer.Error).Pos
			if wp != gp {
				t.Fatalf("error positions differ: %v vs %v", wp, gp)
			}
		}
	})
}

func symbolName(def lexer.Definition, t lexer.TokenType) string {
	for name, v := range def.Symbols() {
		if v == t {
			return name
		}
	}
	return "?"
}
