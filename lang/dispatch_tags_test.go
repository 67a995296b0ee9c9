package lang

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// first is what a grammar expression can start with: identifiers (these
// words, or any but the excepted ones), other tokens, or nothing.
type first struct {
	words    map[string]bool
	anyIdent bool
	except   map[string]bool // with anyIdent
	other    bool            // a token that is no identifier
	nullable bool
}

func (f first) starts(w string) bool { return f.words[w] || f.anyIdent && !f.except[w] }

// tagTok is a token of participle's tag language; node is the field's
// type for @@.
type tagTok struct {
	s    string
	node reflect.Type
}

func lexTags(t *testing.T, st reflect.Type) []tagTok {
	var out []tagTok
	for i := range st.NumField() {
		f := st.Field(i)
		tag, ok := f.Tag.Lookup("parser")
		if !ok {
			continue
		}
		for j := 0; j < len(tag); {
			c := tag[j]
			switch {
			case c == ' ':
				j++
			case strings.HasPrefix(tag[j:], "@@"):
				out = append(out, tagTok{"@@", f.Type})
				j += 2
			case strings.HasPrefix(tag[j:], "(?!") || strings.HasPrefix(tag[j:], "(?="):
				out = append(out, tagTok{s: tag[j : j+3]})
				j += 3
			case c == '\'':
				k := strings.IndexByte(tag[j+1:], '\'')
				out = append(out, tagTok{s: tag[j : j+k+2]})
				j += k + 2
			case unicode.IsLetter(rune(c)):
				k := j
				for k < len(tag) && unicode.IsLetter(rune(tag[k])) {
					k++
				}
				out = append(out, tagTok{s: tag[j:k]})
				j = k
			case strings.ContainsRune("@()|?*+!~", rune(c)):
				out = append(out, tagTok{s: tag[j : j+1]})
				j++
			default:
				t.Fatalf("%s: cannot read tag %q", st, tag)
			}
		}
	}
	return out
}

// firsts computes FIRST sets of node types from their tags.
type firsts struct {
	t    *testing.T
	memo map[reflect.Type]*first
}

func (fs *firsts) ofType(typ reflect.Type) first {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if f := fs.memo[typ]; f != nil {
		return *f
	}
	if typ == reflect.TypeFor[Ident]() {
		return first{anyIdent: true}
	}
	fs.memo[typ] = &first{} // no left recursion in this grammar
	toks := lexTags(fs.t, typ)
	f, rest := fs.alts(toks)
	if len(rest) > 0 {
		fs.t.Fatalf("%s: tag left over at %v", typ, rest[0].s)
	}
	fs.memo[typ] = &f
	return f
}

func union(a, b first) first {
	out := first{words: map[string]bool{}, except: map[string]bool{}, other: a.other || b.other, nullable: a.nullable || b.nullable}
	for w := range a.words {
		out.words[w] = true
	}
	for w := range b.words {
		out.words[w] = true
	}
	out.anyIdent = a.anyIdent || b.anyIdent
	// An identifier excepted by one side stays excepted only if the other
	// side cannot start with it either.
	for _, s := range []first{a, b} {
		for w := range s.except {
			if !a.starts(w) && !b.starts(w) {
				out.except[w] = true
			}
		}
	}
	return out
}

func (fs *firsts) alts(toks []tagTok) (first, []tagTok) {
	f, toks := fs.seq(toks)
	for len(toks) > 0 && toks[0].s == "|" {
		var g first
		g, toks = fs.seq(toks[1:])
		f = union(f, g)
	}
	return f, toks
}

func (fs *firsts) seq(toks []tagTok) (first, []tagTok) {
	out := first{nullable: true}
	var except []string
	for len(toks) > 0 && toks[0].s != "|" && toks[0].s != ")" {
		var f first
		if toks[0].s == "(?!" {
			var look first
			look, toks = fs.alts(toks[1:])
			toks = toks[1:] // )
			for w := range look.words {
				except = append(except, w)
			}
			continue
		}
		f, toks = fs.term(toks)
		if out.nullable {
			for _, w := range except {
				delete(f.words, w)
				if f.except == nil {
					f.except = map[string]bool{}
				}
				f.except[w] = true
			}
			n := out
			out = union(out, f)
			out.nullable = n.nullable && f.nullable
		}
	}
	return out, toks
}

func (fs *firsts) term(toks []tagTok) (first, []tagTok) {
	tk := toks[0]
	toks = toks[1:]
	var f first
	switch {
	case tk.s == "@" || tk.s == "~":
		f, toks = fs.term(toks)
		if tk.s == "~" {
			f = first{anyIdent: true, other: true}
		}
	case tk.s == "@@":
		f = fs.ofType(tk.node)
	case tk.s == "(":
		f, toks = fs.alts(toks)
		toks = toks[1:] // )
	case strings.HasPrefix(tk.s, "'"):
		w := strings.Trim(tk.s, "'")
		if unicode.IsLetter(rune(w[0])) {
			f = first{words: map[string]bool{w: true}}
		} else {
			f = first{other: true}
		}
	case tk.s == "Ident":
		f = first{anyIdent: true}
	default: // String, Number, …
		f = first{other: true}
	}
	if len(toks) > 0 && (toks[0].s == "?" || toks[0].s == "*") {
		f.nullable = true
		toks = toks[1:]
	}
	return f, toks
}

// TestDispatchTags checks the dispatch tables against the grammar: a
// group's fields are the union's, with the same tags, in its order; every
// alternative that can start with a word is tried for it; no alternative
// starts with a token that is no identifier (for those the union reports
// no match).
func TestDispatchTags(t *testing.T) {
	fs := &firsts{t: t, memo: map[reflect.Type]*first{}}
	trim := func(tag string) string { return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(tag), "|")) }
	for _, c := range []*choice{declChoice, itemChoice, sliChoice, condChoice, stepChoice} {
		u := c.union
		// The union's fields an alternative of the choice fills, by index.
		fields := func(a *alt) []int {
			if a == nil {
				return nil
			}
			if a.field != "" {
				f, _ := u.FieldByName(a.field)
				if tag := trim(f.Tag.Get("parser")); tag != "@@" {
					t.Errorf("%s.%s is %q, not a node of its own", u, a.field, tag)
				}
				return []int{a.index}
			}
			var out []int
			for _, m := range a.fields {
				gt, ut := a.typ.Field(m[0]).Tag.Get("parser"), u.Field(m[1]).Tag.Get("parser")
				if trim(gt) != trim(ut) {
					t.Errorf("%s.%s is %q, %s.%s is %q", a.typ, a.typ.Field(m[0]).Name, gt, u, u.Field(m[1]).Name, ut)
				}
				out = append(out, m[1])
			}
			if !slices.IsSorted(out) {
				t.Errorf("%s has %s's alternatives out of order", a.typ, u)
			}
			return out
		}
		words := []string{"Zzz"} // an identifier that is no keyword
		for w := range keywords {
			words = append(words, w)
		}
		for _, w := range words {
			a := c.byWord[w]
			if a == nil {
				a = c.ident
			}
			got := fields(a)
			var want []int
			for i := range u.NumField() {
				f := u.Field(i)
				if _, ok := f.Tag.Lookup("parser"); !ok {
					continue
				}
				var ff first
				if f.Type == reflect.TypeFor[bool]() || trim(f.Tag.Get("parser")) != "@@" {
					tag := reflect.StructTag(`parser:"` + trim(f.Tag.Get("parser")) + `"`)
					ff, _ = fs.alts(lexTags(t, reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: tag}})))
				} else {
					ff = fs.ofType(f.Type)
				}
				if ff.other || ff.nullable {
					t.Errorf("%s.%s can start with a token that is no identifier", u, f.Name)
				}
				if ff.starts(w) {
					want = append(want, i)
				}
			}
			// More is harmless: an alternative that cannot start with w
			// fails on it at once.
			for _, i := range want {
				if !slices.Contains(got, i) {
					t.Errorf("%s on %q tries fields %v, not %s, which can start with it", u, w, got, u.Field(i).Name)
				}
			}
		}
	}
}
