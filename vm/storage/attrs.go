package storage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// AttrValue is an activity attribute's value: null, a boolean, a number or
// text. It is a plain struct, so writing an activity boxes nothing.
type AttrValue struct {
	kind attrKind
	b    bool
	n    float64
	s    string
}

type attrKind uint8

const (
	attrNull attrKind = iota
	attrBool
	attrNum
	attrStr
)

// AttrNum, AttrStr, AttrBool and AttrNull make attribute values.
func AttrNum(n float64) AttrValue { return AttrValue{kind: attrNum, n: n} }

// AttrStr makes a text attribute value.
func AttrStr(s string) AttrValue { return AttrValue{kind: attrStr, s: s} }

// AttrBool makes a boolean attribute value.
func AttrBool(b bool) AttrValue { return AttrValue{kind: attrBool, b: b} }

// BoolValue is the value's boolean and whether it is one.
func (v AttrValue) BoolValue() (b, ok bool) { return v.b, v.kind == attrBool }

// AttrNull is the null attribute value.
func AttrNull() AttrValue { return AttrValue{} }

// Any is the value as JSON sees it: nil, bool, float64 or string.
func (v AttrValue) Any() any {
	switch v.kind {
	case attrBool:
		return v.b
	case attrNum:
		return v.n
	case attrStr:
		return v.s
	}
	return nil
}

// String writes the value as JSON does.
func (v AttrValue) String() string {
	var b bytes.Buffer
	v.appendJSON(&b)
	return b.String()
}

func (v AttrValue) appendJSON(b *bytes.Buffer) {
	switch v.kind {
	case attrBool:
		b.WriteString(strconv.FormatBool(v.b))
	case attrNum:
		var buf [32]byte
		b.Write(appendJSONFloat(buf[:0], v.n))
	case attrStr:
		appendJSONString(b, v.s)
	default:
		b.WriteString("null")
	}
}

// appendJSONFloat formats a number exactly as encoding/json does.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString quotes a string as encoding/json does without HTML
// escaping.
func appendJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// Attr is one attribute of an activity.
type Attr struct {
	Key   string
	Value AttrValue
}

// Attrs are an activity's attributes, in the order the engine wrote them.
// In JSON they are an object with sorted keys.
type Attrs []Attr

// Get finds an attribute.
func (a Attrs) Get(key string) (AttrValue, bool) {
	for _, x := range a {
		if x.Key == key {
			return x.Value, true
		}
	}
	return AttrValue{}, false
}

// Map returns the attributes as a map of JSON values.
func (a Attrs) Map() map[string]any {
	m := make(map[string]any, len(a))
	for _, x := range a {
		m[x.Key] = x.Value.Any()
	}
	return m
}

func (a Attrs) sorted() Attrs {
	s := make(Attrs, len(a))
	copy(s, a)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Key < s[j].Key })
	return s
}

// MarshalJSON writes an object with sorted keys.
func (a Attrs) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range a.sorted() {
		if i > 0 {
			b.WriteByte(',')
		}
		AttrStr(x.Key).appendJSON(&b)
		b.WriteByte(':')
		x.Value.appendJSON(&b)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object of null, boolean, number and string values.
func (a *Attrs) UnmarshalJSON(data []byte) error {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	out := make(Attrs, 0, len(m))
	for k, v := range m {
		var av AttrValue
		switch x := v.(type) {
		case nil:
		case bool:
			av = AttrBool(x)
		case float64:
			av = AttrNum(x)
		case string:
			av = AttrStr(x)
		default:
			return fmt.Errorf("attribute %q: unsupported value %v", k, v)
		}
		out = append(out, Attr{k, av})
	}
	*a = out.sorted()
	return nil
}
