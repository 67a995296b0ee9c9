package vm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
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
		j, _ := json.Marshal(v.n)
		b.Write(j)
	case attrStr:
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false)
		enc.Encode(v.s)
		b.Truncate(b.Len() - 1) // Encode adds a newline
	default:
		b.WriteString("null")
	}
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
