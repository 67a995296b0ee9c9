package lang

import "strings"

// Canonical is src's tokens joined by single spaces, without comments or
// other whitespace: the form in which two spellings of the same statement
// compare equal however they are laid out or commented. The compiler
// derives step identities from it. Text that does not lex (never the case
// for a span of a parsed file) is folded on whitespace instead.
func Canonical(src string) string {
	lx, err := campLexer.LexString("", src)
	if err != nil {
		return strings.Join(strings.Fields(src), " ")
	}
	var b strings.Builder
	for {
		t, err := lx.Next()
		if err != nil {
			return strings.Join(strings.Fields(src), " ")
		}
		if t.EOF() {
			return b.String()
		}
		if t.Type == symWhitespace || t.Type == symComment {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Value)
	}
}
