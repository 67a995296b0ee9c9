package console

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/campc/campc/vm/storage"
)

// Limits of what the console's forms accept.
const (
	maxQuery      = 500
	maxPeople     = 100 // as the API's Request Campaign
	maxTokens     = 50
	maxTokenValue = 10000
)

// Query is a people search: an Id or email (Text), or a field's value
// (Field = Value). Text and values match without regard to case.
type Query struct {
	Field string // "": Text is an Id or an email
	Value string
}

// ParseQuery reads a search: "42" or "ann@example.com" (an Id, or an email
// containing it), "id:42", "email:ann@", or "Field=Value" (a field equal
// to the value, "" for empty).
func ParseQuery(s string) (Query, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Query{}, errors.New("search: type an Id, an email, or Field=Value")
	case len(s) > maxQuery:
		return Query{}, fmt.Errorf("search: at most %d bytes", maxQuery)
	case !utf8.ValidString(s):
		return Query{}, errors.New("search: not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return Query{}, errors.New("search: control characters are not searched for")
	}
	if rest, ok := cutPrefixFold(s, "id:"); ok {
		return Query{Field: "Id", Value: strings.TrimSpace(rest)}, nil
	}
	if rest, ok := cutPrefixFold(s, "email:"); ok {
		return Query{Field: "Email~", Value: strings.TrimSpace(rest)}, nil
	}
	if name, value, ok := strings.Cut(s, "="); ok {
		name = strings.TrimSpace(name)
		if name == "" {
			return Query{}, errors.New("search: Field=Value needs a field name before =")
		}
		if strings.ContainsAny(name, "~") {
			return Query{}, fmt.Errorf("search: %q is not a field name", name)
		}
		return Query{Field: name, Value: strings.TrimSpace(value)}, nil
	}
	return Query{Value: s}, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// Match reports whether a person matches the query.
func (q Query) Match(p *storage.Person) bool {
	switch q.Field {
	case "":
		return p.ID == q.Value || containsFold(storage.FormatValue(p.Field("Email")), q.Value)
	case "Id":
		return p.ID == q.Value
	case "Email~":
		return containsFold(storage.FormatValue(p.Field("Email")), q.Value)
	}
	v, ok := p.LookupField(q.Field)
	if !ok {
		return q.Value == ""
	}
	return strings.EqualFold(storage.FormatValue(v), q.Value)
}

func containsFold(s, sub string) bool {
	return sub != "" && strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// ParsePeople reads the person Ids of a request: separated by commas,
// spaces or lines, at most maxPeople, each given once.
func ParsePeople(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(fields) == 0 {
		return nil, errors.New("people: give at least one person Id")
	}
	if len(fields) > maxPeople {
		return nil, fmt.Errorf("people: at most %d per request, not %d", maxPeople, len(fields))
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range fields {
		if !utf8.ValidString(f) || strings.IndexFunc(f, unicode.IsControl) >= 0 {
			return nil, errors.New("people: an Id holds no control characters and is valid UTF-8")
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// ParseTokens reads My Token overrides, one a line: "Name=Value",
// "my.Name=Value" or "{{my.Name}}=Value". Blank lines are skipped.
func ParseTokens(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("tokens line %d: want Name=Value", i+1)
		}
		name = strings.TrimSpace(name)
		name = strings.TrimSuffix(strings.TrimPrefix(name, "{{"), "}}")
		name = strings.TrimSpace(name)
		if rest, ok := cutPrefixFold(name, "my."); ok {
			name = rest
		}
		switch {
		case name == "":
			return nil, fmt.Errorf("tokens line %d: a token needs a name before =", i+1)
		case !utf8.ValidString(name) || !utf8.ValidString(value):
			return nil, fmt.Errorf("tokens line %d: not valid UTF-8", i+1)
		case strings.IndexFunc(name, unicode.IsControl) >= 0 || strings.ContainsAny(name, "{}"):
			return nil, fmt.Errorf("tokens line %d: %q is not a token name", i+1, name)
		case len(value) > maxTokenValue:
			return nil, fmt.Errorf("tokens line %d: a value of at most %d bytes", i+1, maxTokenValue)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("tokens line %d: my.%s is given twice", i+1, name)
		}
		out[name] = value
		if len(out) > maxTokens {
			return nil, fmt.Errorf("tokens: at most %d", maxTokens)
		}
	}
	return out, nil
}
