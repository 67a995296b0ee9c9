package lang

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"plain text: 1,2 {ok}", "plain text: 1,2 {ok}"},
		{"Müller, Zoë, 東京", "Müller, Zoë, 東京"},
		{"back\\slash", "back\\slash"},
		{"7\x1b[1A\x1b[2K\x1b[32mOK", `7\x1b[1A\x1b[2K\x1b[32mOK`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"nul\x00 del\x7f", `nul\x00 del\x7f`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"bom\ufeff rtl\u202e", `bom\ufeff rtl\u202e`},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
		for _, r := range Escape(c.in) {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Errorf("Escape(%q) keeps the control character %U", c.in, r)
			}
		}
	}
}

func TestQuoteIfNeeded(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"42", "42"},
		{"ann@example.com", "ann@example.com"},
		{"Zoë", "Zoë"},
		{"Ann Lee", "Ann Lee"},
		{"", `""`},
		{`"42"`, `"\"42\""`},
		{"7\x1b[1A\x1b[2K\x1b[32mOK all good", `"7\x1b[1A\x1b[2K\x1b[32mOK all good"`},
		{"1\n   2  2026-12-01T09:00:00Z  person 2", `"1\n   2  2026-12-01T09:00:00Z  person 2"`},
	} {
		got := QuoteIfNeeded(c.in)
		if got != c.want {
			t.Errorf("QuoteIfNeeded(%q) = %s, want %s", c.in, got, c.want)
		}
		if strings.ContainsAny(got, "\x1b\n\r") {
			t.Errorf("QuoteIfNeeded(%q) = %q: a control character shows", c.in, got)
		}
	}
}

// A diagnostic echoes its source line escaped, with the caret under the
// span as printed; a very long line is cut around the caret.
func TestRenderTextEscapes(t *testing.T) {
	src := "workspace \"W\"\nlist \"a\x1b[2J\" lst // \x1b]0;title\a\n"
	d := Errorf(CodeSyntax, Position{Filename: "f\x1b.camp", Line: 2, Column: 14}, Position{Filename: "f\x1b.camp", Line: 2, Column: 17}, "unknown %s", "lst\x1b")
	var b strings.Builder
	RenderText(&b, []*Diagnostic{d}, map[string]string{"f\x1b.camp": src})
	want := `f\x1b.camp:2:14: error[syntax]: unknown lst\x1b
    list "a\x1b[2J" lst // \x1b]0;title\a
                    ^~~
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	long := "workspace \"W\"\n// " + strings.Repeat("x", 1000) + " bad " + strings.Repeat("y", 1000) + "\n"
	d = Errorf(CodeSyntax, Position{Filename: "f.camp", Line: 2, Column: 1005}, Position{Filename: "f.camp", Line: 2, Column: 1008}, "here")
	b.Reset()
	RenderText(&b, []*Diagnostic{d}, map[string]string{"f.camp": long})
	lines := strings.Split(b.String(), "\n")
	if len(lines) < 3 || len([]rune(lines[1])) > maxExcerpt+10 {
		t.Fatalf("a long line is not cut:\n%s", b.String())
	}
	at := strings.IndexRune(lines[2], '^')
	if got := string([]rune(lines[1])[at : at+3]); got != "bad" {
		t.Errorf("the caret is under %q, not \"bad\":\n%s", got, b.String())
	}
}

// FuzzEscape: whatever the input, the output holds only printable runes,
// printable input comes back unchanged, and a quoted Id reads back as the
// Id.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "42", "Zoë", "7\x1b[1A", "a\nb", "\xff", "\u009b", "\ufeff", `"q"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) {
			t.Fatalf("Escape(%q) = %q is not UTF-8", s, e)
		}
		for _, r := range e {
			if !strconv.IsPrint(r) {
				t.Fatalf("Escape(%q) = %q keeps %U", s, e, r)
			}
		}
		if e == s {
			for _, r := range s {
				if !strconv.IsPrint(r) {
					t.Fatalf("Escape(%q) left %U", s, r)
				}
			}
		}
		q := QuoteIfNeeded(s)
		if q != s {
			if u, err := strconv.Unquote(q); err != nil || (utf8.ValidString(s) && u != s) {
				t.Fatalf("QuoteIfNeeded(%q) = %s does not read back: %q, %v", s, q, u, err)
			}
		}
		if Escape(q) != q {
			t.Fatalf("QuoteIfNeeded(%q) = %q is not printable", s, q)
		}
	})
}
