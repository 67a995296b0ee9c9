package storage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
)

// ParseFieldValue converts text (a people-file cell, an API value, a rendered token) to a
// field's type. Empty text is null.
func ParseFieldValue(t stdlib.FieldType, s string) (ir.Value, error) {
	v := ir.Value{Type: t}
	if s == "" {
		v.Null = true
		return v, nil
	}
	switch {
	case t.IsText():
		if t == stdlib.Email && !strings.Contains(s, "@") {
			return v, fmt.Errorf("%q is not an email address", s)
		}
		v.Text, v.Fold = s, strings.ToLower(s)
	case t.IsNumeric():
		n, err := ParseNumber(strings.TrimSpace(s))
		if err != nil {
			return v, err
		}
		v.Num = n
	case t == stdlib.Boolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			v.Bool = true
		case "false":
		default:
			return v, fmt.Errorf("%q is not true or false", s)
		}
	case t == stdlib.Date:
		tm, err := time.Parse("2006-01-02", strings.TrimSpace(s))
		if err != nil {
			return v, fmt.Errorf("%q is not a date (2026-12-01)", s)
		}
		v.Time = tm
	case t == stdlib.DateTime:
		tm, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
		if err != nil {
			return v, fmt.Errorf("%q is not an RFC 3339 date-time (2026-12-01T09:00:00Z)", s)
		}
		v.Time = tm.UTC()
	}
	return v, nil
}

// FormatValue writes a value as token text.
func FormatValue(v ir.Value) string {
	switch {
	case v.Null || v.Type == "":
		return ""
	case v.Type.IsText():
		return v.Text
	case v.Type.IsNumeric():
		return FormatNum(v.Num)
	case v.Type == stdlib.Boolean:
		return strconv.FormatBool(v.Bool)
	case v.Type == stdlib.Date:
		return v.Time.Format("2006-01-02")
	default:
		return v.Time.UTC().Format(time.RFC3339)
	}
}

// SameValue reports whether setting a field holding old to v changes
// nothing. Values compare by the field's type: numbers as numbers (2 and
// 2.0), dates by the day, date-times by the instant, booleans as such, and
// text exactly ("de" to "DE" is a change, though filters ignore case). No
// value equals only no value.
func SameValue(old, v ir.Value) bool {
	oldNone, vNone := old.Null || old.Type == "", v.Null || v.Type == ""
	if oldNone || vNone {
		return oldNone == vNone
	}
	switch {
	case v.Type.IsNumeric():
		return old.Num == v.Num
	case v.Type == stdlib.DateTime && old.Type.IsTime():
		return old.Time.Equal(v.Time)
	}
	return FormatValue(old) == FormatValue(v)
}

func FormatNum(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// AttrOf is a field value as it appears in activity attributes.
func AttrOf(v ir.Value) AttrValue {
	switch {
	case v.Null || v.Type == "":
		return AttrNull()
	case v.Type.IsNumeric():
		return AttrNum(v.Num)
	case v.Type == stdlib.Boolean:
		return AttrBool(v.Bool)
	default:
		return AttrStr(FormatValue(v))
	}
}
