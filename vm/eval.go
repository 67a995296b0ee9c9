package vm

import (
	"hash/fnv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// maxSmartListNesting bounds "member of smart list" chains at run time;
// the checker already rejects a smart list that includes itself.
const maxSmartListNesting = 16

// smartList evaluates a smart list's filters for the person. An invalid
// smart list qualifies nobody, and says why.
func (ps *pass) smartList(sl *ir.SmartList, ws *ir.Workspace, depth int) (bool, string) {
	if sl == nil {
		return true, ""
	}
	if sl.Invalid != "" {
		return false, "invalid smart list: " + sl.Invalid
	}
	if depth > maxSmartListNesting {
		return false, "smart lists nest too deeply"
	}
	if sl.Logic == nil {
		for _, f := range sl.Filters {
			if !ps.cond(f, ws, depth) {
				return false, ""
			}
		}
		return true, ""
	}
	return ps.logic(sl.Logic, sl, ws, depth), ""
}

func (ps *pass) logic(e *ir.Expr, sl *ir.SmartList, ws *ir.Workspace, depth int) bool {
	switch e.Op {
	case ir.ExprAnd:
		for _, k := range e.Kids {
			if !ps.logic(k, sl, ws, depth) {
				return false
			}
		}
		return true
	case ir.ExprOr:
		for _, k := range e.Kids {
			if ps.logic(k, sl, ws, depth) {
				return true
			}
		}
		return false
	case ir.ExprNot:
		return !ps.logic(e.Kids[0], sl, ws, depth)
	}
	return ps.cond(sl.Filters[e.Filter], ws, depth)
}

// expr evaluates an if-condition.
func (ps *pass) expr(e *ir.Expr, ws *ir.Workspace) bool {
	switch e.Op {
	case ir.ExprAnd:
		for _, k := range e.Kids {
			if !ps.expr(k, ws) {
				return false
			}
		}
		return true
	case ir.ExprOr:
		for _, k := range e.Kids {
			if ps.expr(k, ws) {
				return true
			}
		}
		return false
	case ir.ExprNot:
		return !ps.expr(e.Kids[0], ws)
	}
	return ps.cond(e.Cond, ws, 0)
}

// cond evaluates a leaf condition; Negate inverts it.
func (ps *pass) cond(c ir.Cond, ws *ir.Workspace, depth int) bool {
	r := ps.condRaw(c, ws, depth)
	if c.Base().Negate {
		return !r
	}
	return r
}

// condRaw evaluates a condition by its type: a type switch, as fast as a
// table of functions, with no allocation.
func (ps *pass) condRaw(c ir.Cond, ws *ir.Workspace, depth int) bool {
	p := ps.p
	switch c := c.(type) {
	case *ir.MemberList:
		return c.List != nil && p.InListOf(c.List)
	case *ir.MemberSmartList:
		if c.SmartList == nil || c.SmartList.List == nil {
			return false
		}
		ok, _ := ps.smartList(c.SmartList.List, ws, depth+1)
		return ok
	case *ir.MemberProgram:
		if c.Program == nil {
			return false
		}
		st, ok := p.ProgramStatus(c.Program.Key)
		return ok && (c.Status == "" || st == c.Status)
	case *ir.ActivityCond:
		primary, workspace, ok := c.Subject()
		return ok && ps.countLog(stdlib.FilterActivity[c.Kind], primary, c.Window, workspace) >= c.AtLeast
	case *ir.Sample:
		h := fnv.New32a()
		h.Write([]byte(c.SampleKey))
		h.Write([]byte{0})
		h.Write([]byte(p.ID))
		return float64(h.Sum32()%10000) < c.Percent*100
	case *ir.FieldCond:
		return ps.fieldCond(c)
	}
	return false
}

// fieldCond compares a field of the person.
func (ps *pass) fieldCond(c *ir.FieldCond) bool {
	p := ps.p
	if c.Field == nil {
		return false
	}
	v, has := p.FieldOf(c.Field)
	has = has && !v.Null
	switch c.Cmp {
	case stdlib.FilterEmpty:
		return !has || (c.Field.Type.IsText() && v.Text == "")
	case stdlib.FilterIs, stdlib.FilterIn:
		if !has {
			return false
		}
		for _, w := range c.Values {
			if equal(v, w) {
				return true
			}
		}
		return false
	case stdlib.FilterContains:
		return has && len(c.Values) == 1 && containsFold(v.Text, c.Values[0].Fold)
	case stdlib.FilterStartsWith:
		return has && len(c.Values) == 1 && hasPrefixFold(v.Text, c.Values[0].Fold)
	case stdlib.FilterEndsWith:
		return has && len(c.Values) == 1 && hasSuffixFold(v.Text, c.Values[0].Fold)
	case stdlib.FilterInPast, stdlib.FilterInNext:
		if !has {
			return false
		}
		from, to := ps.r.now.Add(-c.Window), ps.r.now
		if c.Cmp == stdlib.FilterInNext {
			from, to = ps.r.now, ps.r.now.Add(c.Window)
		}
		if c.Field.Type == stdlib.Date {
			// A date is a whole UTC day: the window runs from the day of
			// its start to the day of its end, both included.
			from, to = day(from), day(to)
		}
		return !v.Time.Before(from) && !v.Time.After(to)
	case stdlib.FilterGt, stdlib.FilterGe, stdlib.FilterLt, stdlib.FilterLe:
		if !has || len(c.Values) != 1 {
			return false
		}
		k := compare(v, c.Values[0])
		switch c.Cmp {
		case stdlib.FilterGt:
			return k > 0
		case stdlib.FilterGe:
			return k >= 0
		case stdlib.FilterLt:
			return k < 0
		default:
			return k <= 0
		}
	case stdlib.FilterBetween:
		return has && len(c.Values) == 2 && compare(v, c.Values[0]) >= 0 && compare(v, c.Values[1]) <= 0
	}
	return false
}

// countLog counts the person's activities of a type and primary value
// within the window (0: ever). For executions (workspace set) only
// qualified runs in that workspace count.
func (ps *pass) countLog(typ, primary string, window time.Duration, workspace string) int {
	n := 0
	from := ps.r.now.Add(-window)
	for _, a := range ps.p.Log {
		if a.Type != typ || a.Primary != primary {
			continue
		}
		if window > 0 && a.Time.Before(from) {
			continue
		}
		if workspace != "" && (a.Workspace != workspace || !qualified(a)) {
			continue
		}
		if typ == stdlib.ActSendEmail && !sent(a) {
			continue // logged as not sent: the person was never sent it
		}
		n++
	}
	return n
}

// Text comparison ignores case. lower is a literal of the program, already
// lowered; s is a person's value. ASCII text compares without allocating.
func equalFold(s, lower string) bool {
	if isASCII(s) {
		return len(s) == len(lower) && asciiEqualFold(s, lower)
	}
	return strings.ToLower(s) == lower
}

func containsFold(s, lower string) bool {
	if !isASCII(s) {
		return strings.Contains(strings.ToLower(s), lower)
	}
	for i := 0; i+len(lower) <= len(s); i++ {
		if asciiEqualFold(s[i:i+len(lower)], lower) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, lower string) bool {
	if !isASCII(s) {
		return strings.HasPrefix(strings.ToLower(s), lower)
	}
	return len(s) >= len(lower) && asciiEqualFold(s[:len(lower)], lower)
}

func hasSuffixFold(s, lower string) bool {
	if !isASCII(s) {
		return strings.HasSuffix(strings.ToLower(s), lower)
	}
	return len(s) >= len(lower) && asciiEqualFold(s[len(s)-len(lower):], lower)
}

// day is the start (midnight UTC) of t's day.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// asciiEqualFold compares ASCII s with lower, which is lower case.
func asciiEqualFold(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func equal(a, b ir.Value) bool {
	switch {
	case b.Type.IsText():
		return equalFold(a.Text, b.Fold)
	case b.Type.IsNumeric():
		return a.Num == b.Num
	case b.Type.IsTime():
		return a.Time.Equal(b.Time)
	default:
		return a.Bool == b.Bool
	}
}

func compare(a, b ir.Value) int {
	if b.Type.IsTime() {
		return a.Time.Compare(b.Time)
	}
	switch {
	case a.Num < b.Num:
		return -1
	case a.Num > b.Num:
		return 1
	}
	return 0
}

func qualified(a *storage.Activity) bool {
	v, ok := a.Attributes.Get("Qualified")
	b, isBool := v.BoolValue()
	return ok && isBool && b
}

// sent reports whether a Send Email activity sent its email: one that
// did not says "Sent": false.
func sent(a *storage.Activity) bool {
	v, ok := a.Attributes.Get("Sent")
	b, isBool := v.BoolValue()
	return !ok || !isBool || b
}
