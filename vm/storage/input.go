package storage

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The checks every value that enters from outside goes through (people
// files, --token, and later an API): a durable store must never meet a
// value another store would refuse (PostgreSQL rejects NUL and invalid
// UTF-8), and an Id must print as one plain line.

// TextError says why a text cannot enter campc, and at which byte of it.
type TextError struct {
	Offset int // byte offset of the first offending byte
	Msg    string
}

func (e *TextError) Error() string { return e.Msg }

// CheckText reports a NUL byte or invalid UTF-8 in s.
func CheckText(s string) error {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return &TextError{i, fmt.Sprintf("invalid UTF-8 (byte %#02x at byte %d)", s[i], i+1)}
		case r == 0:
			return &TextError{i, fmt.Sprintf("a NUL byte at byte %d; text may not contain NUL", i+1)}
		}
		i += n
	}
	return nil
}

// CheckID reports why s cannot be a person's Id: it is empty, fails
// CheckText, or holds a control character (C0 including tab, CR, LF and
// ESC; DEL; C1), which would let an Id rewrite a terminal or fake a log
// line.
func CheckID(s string) error {
	if s == "" {
		return &TextError{0, "missing Id"}
	}
	if err := CheckText(s); err != nil {
		return &TextError{err.(*TextError).Offset, "Id " + err.Error()}
	}
	for i, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return &TextError{i, fmt.Sprintf("Id %q holds the control character %U at byte %d; an Id is printable text", s, r, i+1)}
		}
	}
	return nil
}

// decimal is the number syntax of people files and --token values: an
// optional sign, digits with an optional fraction, an optional exponent.
// No hexadecimal, no digit separators, no NaN or infinities.
var decimal = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// ParseNumber reads a number as a people file or --token writes it. Numbers
// are float64: every integer up to 2^53 in magnitude is exact, and a value
// beyond ±1.7976931348623157e308 is out of range.
func ParseNumber(s string) (float64, error) {
	if !decimal.MatchString(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(n, 0) {
		return 0, fmt.Errorf("%q is out of range (numbers are 64-bit floating point, at most about 1.8e308)", s)
	}
	return n, nil
}

// scoreSyntax is the spec's "+n", "-n" or "=n": digits with an optional
// fraction, as compiler checks literal score changes.
var scoreSyntax = regexp.MustCompile(`^[+=-][0-9]+(\.[0-9]+)?$`)

// ParseScore reads a score change "+n", "-n" or "=n": set tells "=n", and
// delta is signed.
func ParseScore(s string) (delta float64, set bool, err error) {
	if !scoreSyntax.MatchString(s) {
		return 0, false, fmt.Errorf("a score change is +n, -n or =n, not %q", s)
	}
	n, err := strconv.ParseFloat(s[1:], 64)
	if err != nil || math.IsInf(n, 0) {
		return 0, false, fmt.Errorf("score change %q is out of range (scores are 64-bit floating point, at most about 1.8e308)", s)
	}
	if s[0] == '-' {
		n = -n
	}
	return n, s[0] == '=', nil
}

// CheckTokenValue reports why value cannot stand for a My Token of type typ
// (an override such as --token): text must pass CheckText, a number is
// ParseNumber's decimal, a score change is +n, -n or =n, a date 2026-12-01.
func CheckTokenValue(typ, value string) error {
	if err := CheckText(value); err != nil {
		return err
	}
	switch typ {
	case "score":
		if _, _, err := ParseScore(value); err != nil {
			return fmt.Errorf("its value must be +n, -n or =n, not %q", value)
		}
	case "number":
		if _, err := ParseNumber(value); err != nil {
			return err
		}
	case "date":
		if _, err := time.Parse("2006-01-02", value); err != nil {
			return fmt.Errorf("%q is not a date (2026-12-01)", value)
		}
	}
	return nil
}

// CheckPerson applies the door's checks to a person built elsewhere than
// a people file: its Id passes CheckID, its text passes CheckText, and its
// numbers are finite. Stores refuse a person that fails them, so that no
// store holds what another would reject.
func CheckPerson(p *Person) error {
	if err := CheckID(p.ID); err != nil {
		return err
	}
	if err := CheckText(p.Partition); err != nil {
		return fmt.Errorf("Partition: %v", err)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Fields)) {
		v := p.Fields[name]
		if err := CheckText(v.Text); err != nil {
			return fmt.Errorf("field %s: %v", name, err)
		}
		if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			return fmt.Errorf("field %s: %v is not a finite number", name, v.Num)
		}
	}
	return nil
}
