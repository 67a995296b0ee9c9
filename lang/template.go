package lang

import (
	"strconv"
	"strings"
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
