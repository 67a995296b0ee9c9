package textutil

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Escape returns s fit to print on a terminal. Every rune that does not
// print as itself (strconv.IsPrint: control characters such as ESC, CR
// and line feed, format characters such as a byte-order mark, and bytes
// that are not UTF-8) is written as Go writes it inside a quoted string
// (\x1b, \r, \n, \ufeff, \xff); everything else, "ü" included, is
// unchanged, so ordinary text prints exactly as before. It is the one
// escaper for text output: source lines in diagnostics, the text log,
// explanations and traces. A value whose reader must tell an escape from a
// backslash that was there is printed with QuoteIfNeeded or %q instead.
func Escape(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || !strconv.IsPrint(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			const hex = "0123456789abcdef"
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&15])
		} else if strconv.IsPrint(r) {
			b.WriteString(s[i : i+n])
		} else {
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\ufeff'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// QuoteIfNeeded returns s as it is when it prints as itself, and quoted
// as %q quotes it otherwise: for values such as person Ids that the text
// log shows bare. A quoted form starts with a double quote, which a bare
// one never does, so the two cannot be confused.
func QuoteIfNeeded(s string) string {
	if s == "" || s[0] == '"' || Escape(s) != s {
		return strconv.Quote(s)
	}
	return s
}
