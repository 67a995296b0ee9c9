package lang

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// TokenRef is one {{family.Name}} or {{family.Name:default=text}} inside a
// string literal.
type TokenRef struct {
	Family     string
	Name       string
	Default    string
	HasDefault bool
	Start, End Position
}

func (r *TokenRef) String() string {
	s := "{{" + r.Family + "." + r.Name
	if r.HasDefault {
		s += ":default=" + r.Default
	}
	return s + "}}"
}

// Part is literal text or a token reference.
type Part struct {
	Lit string
	Ref *TokenRef
}

// Template splits a string literal into literal text and token references,
// with the exact source position of each reference. Token values are never
// parsed this way: only source text is a template.
func Template(s *Str) ([]Part, *Diagnostic) {
	if s == nil {
		return nil, nil
	}
	raw := s.Raw
	if len(raw) >= 2 {
		raw = raw[1 : len(raw)-1]
	}
	base := Pos(s.Pos).Advance(1)
	var parts []Part
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, Part{Lit: unescape(lit.String())})
			lit.Reset()
		}
	}
	for i := 0; i < len(raw); {
		if !strings.HasPrefix(raw[i:], "{{") {
			if raw[i] == '\\' && i+1 < len(raw) {
				lit.WriteString(raw[i : i+2])
				i += 2
				continue
			}
			lit.WriteByte(raw[i])
			i++
			continue
		}
		start := base.Advance(runeCount(raw[:i]))
		j := strings.Index(raw[i+2:], "}}")
		if j < 0 {
			return nil, Errorf(CodeBadToken, start, start.Advance(runeCount(raw[i:])), "token reference %q has no closing }}", raw[i:])
		}
		inner := raw[i+2 : i+2+j]
		end := start.Advance(runeCount(raw[i : i+4+j]))
		ref, msg := parseRef(inner)
		if msg != "" {
			return nil, Errorf(CodeBadToken, start, end, "%s in %q", msg, raw[i:i+4+j])
		}
		ref.Start, ref.End = start, end
		flush()
		parts = append(parts, Part{Ref: ref})
		i += 4 + j
	}
	flush()
	return parts, nil
}

func parseRef(inner string) (*TokenRef, string) {
	body, def, hasDef := inner, "", false
	if k := strings.Index(inner, ":"); k >= 0 {
		body = inner[:k]
		opt := inner[k+1:]
		if !strings.HasPrefix(opt, "default=") {
			return nil, "a token option must be written :default=text"
		}
		def, hasDef = unescape(opt[len("default="):]), true
	}
	dot := strings.Index(body, ".")
	if dot < 0 {
		return nil, "a token is written {{family.Name}}"
	}
	fam := strings.TrimSpace(body[:dot])
	name := strings.TrimSpace(body[dot+1:])
	if fam == "" || name == "" {
		return nil, "a token is written {{family.Name}}"
	}
	return &TokenRef{Family: fam, Name: name, Default: def, HasDefault: hasDef}, ""
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	v, err := strconv.Unquote(`"` + s + `"`)
	if err != nil {
		return s
	}
	return v
}

// TemplateText splits the text of a file (an email body kept beside a
// .camp file) into literal text and token references. Unlike a string
// literal the text has no escapes: it is taken as it is, and positions
// are lines and columns of that file.
func TemplateText(filename, text string) ([]Part, *Diagnostic) {
	var parts []Part
	pos := Position{Filename: filename, Line: 1, Column: 1}
	// at moves pos over text[from:to].
	at := func(from, to int) {
		for i := from; i < to; {
			r, n := utf8.DecodeRuneInString(text[i:])
			i += n
			pos.Offset += n
			if r == '\n' {
				pos.Line++
				pos.Column = 1
			} else {
				pos.Column++
			}
		}
	}
	last, i := 0, 0
	for {
		j := strings.Index(text[i:], "{{")
		if j < 0 {
			break
		}
		j += i
		at(i, j)
		start := pos
		k := strings.Index(text[j+2:], "}}")
		if k < 0 {
			rest := text[j:]
			if n := strings.IndexByte(rest, '\n'); n >= 0 {
				rest = rest[:n]
			}
			return nil, Errorf(CodeBadToken, start, start.Advance(runeCount(rest)), "token reference %q has no closing }}", rest)
		}
		inner := text[j+2 : j+2+k]
		at(j, j+4+k)
		end := pos
		ref, msg := parseRef(inner)
		if msg != "" {
			return nil, Errorf(CodeBadToken, start, end, "%s in %q", msg, text[j:j+4+k])
		}
		ref.Start, ref.End = start, end
		if j > last {
			parts = append(parts, Part{Lit: text[last:j]})
		}
		parts = append(parts, Part{Ref: ref})
		i = j + 4 + k
		last = i
	}
	if last < len(text) {
		parts = append(parts, Part{Lit: text[last:]})
	}
	return parts, nil
}
