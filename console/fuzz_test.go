package console

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// FuzzParseQuery: any search either is refused with a message or parses
// into a query that matches a person without panicking.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"42", "ann@example.com", "id:42", "EMAIL:ann@", "Status=Hot", "=x", " Status = ", "a=b=c", "\x00", strings.Repeat("x", 600), "Fïeld=välue", "~=1"} {
		f.Add(s)
	}
	p := &storage.Person{ID: "42", Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "ann@example.com"), "Status": ir.NewText(stdlib.Text, "Hot")}}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "search: ") {
				t.Fatalf("%q: the error does not name the search: %v", s, err)
			}
			return
		}
		if len(s) > maxQuery+len(s)-len(strings.TrimSpace(s)) || !utf8.ValidString(q.Value) || strings.IndexFunc(q.Value+q.Field, unicode.IsControl) >= 0 {
			t.Fatalf("%q: accepted as %+v", s, q)
		}
		q.Match(p)
	})
}

// FuzzParseTokens: token overrides either are refused with the line, or
// have names that are not empty and hold no braces or control
// characters, at most maxTokens of them.
func FuzzParseTokens(f *testing.F) {
	for _, s := range []string{"Event Name=Go Summit", "my.X=1\n{{my.Y}}=2", "=x", "x", "a=1\na=2", "\r\n\r\n", "{{my.}}=1", "my.a\x00=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseTokens(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tokens") {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if len(m) > maxTokens {
			t.Fatalf("%d tokens", len(m))
		}
		for k, v := range m {
			if k == "" || strings.ContainsAny(k, "{}") || strings.IndexFunc(k, unicode.IsControl) >= 0 || !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("%q: accepted token %q=%q", s, k, v)
			}
		}
	})
}

// FuzzParsePeople: person Ids are not empty, hold no separators or
// control characters, are given once, at most maxPeople.
func FuzzParsePeople(f *testing.F) {
	for _, s := range []string{"1, 2", "1\n2\n2", "", " , ", strings.Repeat("1,", 101), "a\x01b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParsePeople(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "people: ") {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if len(ids) == 0 || len(ids) > maxPeople {
			t.Fatalf("%q: %d Ids", s, len(ids))
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if id == "" || seen[id] || strings.ContainsAny(id, ", \n\t") || strings.IndexFunc(id, unicode.IsControl) >= 0 {
				t.Fatalf("%q: Id %q", s, id)
			}
			seen[id] = true
		}
	})
}
