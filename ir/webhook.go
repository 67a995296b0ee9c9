package ir

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Webhook is a webhook asset: the request a call webhook step sends (its
// URL, header values and payload are templates rendered in the calling
// step's frame) and the response mappings that write the answer into
// person fields.
type Webhook struct {
	Name     string
	URL      Template
	Method   string // GET, POST, PUT, PATCH or DELETE (the checker fills the default)
	Headers  []Header
	Payload  Template // the body; no parts: none
	Encoding Encoding // how token values are escaped in Payload
	Maps     []Mapping
	Pos      Position
}

// Templates lists what a call renders, in the order it renders it: the
// URL, the header values, the payload.
func (w *Webhook) Templates() []Template {
	out := make([]Template, 0, 2+len(w.Headers))
	out = append(out, w.URL)
	for _, h := range w.Headers {
		out = append(out, h.Value)
	}
	return append(out, w.Payload)
}

// Header is one request header of a webhook; its value is a template.
type Header struct {
	Name  string
	Value Template
}

// Encoding says how token values are escaped in a webhook's payload.
type Encoding uint8

// The payload encodings.
const (
	EncodeNone Encoding = iota // values as they are (payload "…")
	EncodeJSON                 // payload json "…": JSON escaping
	EncodeForm                 // payload form "…": URL form encoding
)

// String is the encoding's word in the language ("" for none).
func (e Encoding) String() string {
	switch e {
	case EncodeJSON:
		return "json"
	case EncodeForm:
		return "form"
	}
	return ""
}

// ContentType is the Content-Type a payload of this encoding is sent with
// unless the webhook names its own.
func (e Encoding) ContentType() string {
	switch e {
	case EncodeJSON:
		return "application/json"
	case EncodeForm:
		return "application/x-www-form-urlencoded"
	}
	return "text/plain; charset=utf-8"
}

// Mapping is one response mapping: the value at Path in the JSON response
// is written to Field.
type Mapping struct {
	Path  JSONPath
	Field *Field
	Pos   Position
}

// JSONPath is a path into a JSON document: $ and then .name, ["name"] or
// [index] steps. Text is the path as written.
type JSONPath struct {
	Text  string
	Steps []PathStep
}

// PathStep is one step of a JSONPath: an object member or an array index.
type PathStep struct {
	Key     string
	Index   int
	IsIndex bool
}

// PathError is a malformed JSON path: what is wrong and at which byte of
// the path.
type PathError struct {
	Offset int
	Msg    string
}

func (e *PathError) Error() string { return e.Msg }

// maxPathIndex bounds an index so that it fits any int.
const maxPathIndex = 999_999_999

// ParseJSONPath parses a response mapping's path: "$", then any number of
// ".name" (a name is letters, digits, "_", "-"), "[n]" (an array index,
// from 0) and "['name']" or "[\"name\"]" (any member name). "$" alone is
// the whole response.
func ParseJSONPath(s string) (JSONPath, error) {
	p := JSONPath{Text: s}
	if !strings.HasPrefix(s, "$") {
		return p, &PathError{0, `a response path starts with "$" (as in "$.data.score")`}
	}
	for i := 1; i < len(s); {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && isNameByte(s[j]) {
				j++
			}
			if j == i+1 {
				return p, &PathError{i, fmt.Sprintf("a member name must follow %q at character %d (letters, digits, _ and -; write [\"name\"] for others)", ".", charAt(s, i))}
			}
			p.Steps = append(p.Steps, PathStep{Key: s[i+1 : j]})
			i = j
		case '[':
			j := i + 1
			if j < len(s) && (s[j] == '\'' || s[j] == '"') {
				q := s[j]
				end := strings.IndexByte(s[j+1:], q)
				if end < 0 {
					return p, &PathError{j, fmt.Sprintf("the quoted member name at character %d is not closed", charAt(s, j))}
				}
				k := j + 1 + end + 1
				if k >= len(s) || s[k] != ']' {
					return p, &PathError{min(k, len(s)), fmt.Sprintf("%q must follow the quoted member name at character %d", "]", charAt(s, j))}
				}
				p.Steps = append(p.Steps, PathStep{Key: s[j+1 : j+1+end]})
				i = k + 1
				continue
			}
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 || j >= len(s) || s[j] != ']' {
				return p, &PathError{i, fmt.Sprintf("%q at character %d starts an array index [0] or a quoted member name [\"name\"]", "[", charAt(s, i))}
			}
			n, err := strconv.Atoi(s[i+1 : j])
			if err != nil || n > maxPathIndex {
				return p, &PathError{i + 1, fmt.Sprintf("the index %s is too large", s[i+1:j])}
			}
			p.Steps = append(p.Steps, PathStep{Index: n, IsIndex: true})
			i = j + 1
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return p, &PathError{i, fmt.Sprintf("unexpected %q at character %d; after \"$\" come .name, [n] or [\"name\"] steps", r, charAt(s, i))}
		}
	}
	return p, nil
}

func isNameByte(b byte) bool {
	return b == '_' || b == '-' || b >= '0' && b <= '9' || b|0x20 >= 'a' && b|0x20 <= 'z'
}

// charAt is the 1-based character number of byte offset i in s.
func charAt(s string, i int) int { return utf8.RuneCountInString(s[:i]) + 1 }

// Find follows the path in a decoded JSON document (objects as
// map[string]any, arrays as []any) and reports whether it leads anywhere.
func (p JSONPath) Find(doc any) (any, bool) {
	for _, st := range p.Steps {
		switch v := doc.(type) {
		case map[string]any:
			if st.IsIndex {
				return nil, false
			}
			x, ok := v[st.Key]
			if !ok {
				return nil, false
			}
			doc = x
		case []any:
			if !st.IsIndex || st.Index >= len(v) {
				return nil, false
			}
			doc = v[st.Index]
		default:
			return nil, false
		}
	}
	return doc, true
}

// JSONContexts scans a JSON payload template and says, for each of its
// parts, whether a token there stands inside a JSON string (its value is
// then escaped as string content) or outside one (its value is written as
// a JSON value). A token inside an escape sequence (right after a
// backslash, or in a \u escape) can stand nowhere: that token is returned.
func JSONContexts(t Template) (inString []bool, bad *TokenRef) {
	const (
		outside = iota
		inStr
		escape
	)
	state, hex := outside, 0
	inString = make([]bool, len(t.Parts))
	for i, p := range t.Parts {
		if p.Ref != nil {
			if state == escape || hex > 0 {
				return inString, p.Ref
			}
			inString[i] = state == inStr
			continue
		}
		for j := 0; j < len(p.Lit); j++ {
			c := p.Lit[j]
			switch {
			case hex > 0:
				hex--
			case state == outside:
				if c == '"' {
					state = inStr
				}
			case state == inStr:
				switch c {
				case '"':
					state = outside
				case '\\':
					state = escape
				}
			case state == escape:
				state = inStr
				if c == 'u' {
					hex = 4
				}
			}
		}
	}
	return inString, nil
}

// CheckJSONPayload reports why a JSON payload template cannot render to
// valid JSON, or nil. A template that passes renders to valid JSON
// whatever its tokens' values, when each token inside a string is written
// with AppendJSONString and each outside one as one JSON value (a number,
// true, false, null or a quoted string): JSONContexts puts no token inside
// an escape, and a JSON value can stand wherever null can.
func CheckJSONPayload(t Template) (*TokenRef, error) {
	inString, bad := JSONContexts(t)
	if bad != nil {
		return bad, fmt.Errorf("%s stands inside an escape sequence of a JSON string; a token's value is escaped for you", bad)
	}
	var b strings.Builder
	for i, p := range t.Parts {
		switch {
		case p.Ref == nil:
			b.WriteString(p.Lit)
		case !inString[i]:
			b.WriteString("null")
		}
	}
	var v any
	if err := json.Unmarshal([]byte(b.String()), &v); err != nil {
		msg := err.Error()
		if se, ok := err.(*json.SyntaxError); ok {
			msg = fmt.Sprintf("%s (near %q)", msg, around(b.String(), int(se.Offset)))
		}
		return nil, fmt.Errorf("the payload is not JSON (with each token outside a string read as null): %s", msg)
	}
	return nil, nil
}

// around is the text of s near byte offset off, for a message.
func around(s string, off int) string {
	lo, hi := max(off-12, 0), min(off+8, len(s))
	for lo > 0 && !utf8.RuneStart(s[lo]) {
		lo--
	}
	for hi < len(s) && !utf8.RuneStart(s[hi]) {
		hi++
	}
	return s[lo:hi]
}

// AppendJSONString appends s escaped as the content of a JSON string
// (without the quotes): quotes, backslashes and control characters are
// escaped, and so are <, > and & and the line separators, so that the
// value cannot end its string or be read as markup; invalid UTF-8 becomes
// U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q[1:len(q)-1]...)
}

// JSONKind is how a token standing outside a JSON string is written: as a
// number, a boolean, or a string.
type JSONKind uint8

// The kinds of JSON value a token outside a string becomes.
const (
	JSONText JSONKind = iota
	JSONNumber
	JSONBool
)

// AppendJSONValue appends a token's value as one JSON value: null when it
// is empty, a number for a number that parses (written as JSON writes
// it), true or false for a boolean, a quoted string otherwise.
func AppendJSONValue(b []byte, s string, k JSONKind) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	switch k {
	case JSONNumber:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			if out, err := json.Marshal(f); err == nil { // fails for NaN and ±Inf
				return append(b, out...)
			}
		}
	case JSONBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return append(b, "true"...)
		case "false":
			return append(b, "false"...)
		}
	}
	b = append(b, '"')
	b = AppendJSONString(b, s)
	return append(b, '"')
}

// RenderJSON renders a JSON payload template: literal text as written,
// each token inside a string escaped as string content, each outside one
// as a JSON value (AppendJSONValue). value gives a token's text (its
// default applied) and kind.
func RenderJSON(t Template, value func(*TokenRef) (string, JSONKind)) string {
	inString, _ := JSONContexts(t)
	var b []byte
	for i, p := range t.Parts {
		if p.Ref == nil {
			b = append(b, p.Lit...)
			continue
		}
		v, k := value(p.Ref)
		if inString[i] {
			b = AppendJSONString(b, v)
		} else {
			b = AppendJSONValue(b, v, k)
		}
	}
	return string(b)
}
