package vm

import (
	"hash/fnv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
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
func (ps *pass) cond(c *ir.Cond, ws *ir.Workspace, depth int) bool {
	r := ps.condRaw(c, ws, depth)
	if c.Negate {
		return !r
	}
	return r
}

func (ps *pass) condRaw(c *ir.Cond, ws *ir.Workspace, depth int) bool {
	p := ps.p
	switch c.Kind {
	case ir.CondMemberList:
		return c.List != nil && p.InList(c.List.Key)
	case ir.CondMemberSmartList:
		if c.SmartList == nil || c.SmartList.List == nil {
			return false
		}
		ok, _ := ps.smartList(c.SmartList.List, ws, depth+1)
		return ok
	case ir.CondMemberProgram:
		if c.Program == nil {
			return false
		}
		st, ok := p.ProgramStatus(c.Program.Key)
		return ok && (c.Status == "" || st == c.Status)
	case ir.CondExecuted:
		return c.Campaign != nil && ps.countLog(stdlib.ActExecutedCampaign, c.Campaign.Name, c, c.Campaign.Workspace.Name) >= c.AtLeast
	case ir.CondSentEmail:
		return c.Email != nil && ps.countLog(stdlib.ActSendEmail, c.Email.Name, c, "") >= c.AtLeast
	case ir.CondFilledForm:
		return c.Form != nil && ps.countLog(stdlib.ActFillOutForm, c.Form.Name, c, "") >= c.AtLeast
	case ir.CondDataChanged:
		return c.Field != nil && ps.countLog(stdlib.ActChangeDataValue, c.Field.Name, c, "") >= c.AtLeast
	case ir.CondOpenedEmail, ir.CondClickedEmail, ir.CondVisitedPage, ir.CondClickedPage,
		ir.CondDeliveredEmail, ir.CondBouncedEmail, ir.CondUnsubscribed:
		typ, primary := engagementLog(c)
		return primary != "" && ps.countLog(typ, primary, c, "") >= c.AtLeast
	case ir.CondAddedToList:
		return c.List != nil && ps.countLog(stdlib.ActAddToList, c.List.Name, c, "") >= c.AtLeast
	case ir.CondSample:
		h := fnv.New32a()
		h.Write([]byte(c.SampleKey))
		h.Write([]byte{0})
		h.Write([]byte(p.ID))
		return float64(h.Sum32()%10000) < c.Percent*100
	}
	if c.Field == nil {
		return false
	}
	v, has := p.LookupField(c.Field.Name)
	has = has && !v.Null
	switch c.Kind {
	case ir.CondEmpty:
		return !has || (c.Field.Type.IsText() && v.Text == "")
	case ir.CondIs, ir.CondIn:
		if !has {
			return false
		}
		for _, w := range c.Values {
			if equal(v, w) {
				return true
			}
		}
		return false
	case ir.CondContains:
		return has && len(c.Values) == 1 && containsFold(v.Text, c.Values[0].Fold)
	case ir.CondStartsWith:
		return has && len(c.Values) == 1 && hasPrefixFold(v.Text, c.Values[0].Fold)
	case ir.CondEndsWith:
		return has && len(c.Values) == 1 && hasSuffixFold(v.Text, c.Values[0].Fold)
	case ir.CondInPast, ir.CondInNext:
		if !has {
			return false
		}
		from, to := ps.r.now.Add(-c.Window), ps.r.now
		if c.Kind == ir.CondInNext {
			from, to = ps.r.now, ps.r.now.Add(c.Window)
		}
		if c.Field.Type == stdlib.Date {
			// A date is a whole UTC day: the window runs from the day of
			// its start to the day of its end, both included.
			from, to = day(from), day(to)
		}
		return !v.Time.Before(from) && !v.Time.After(to)
	case ir.CondGt, ir.CondGe, ir.CondLt, ir.CondLe:
		if !has || len(c.Values) != 1 {
			return false
		}
		k := compare(v, c.Values[0])
		switch c.Kind {
		case ir.CondGt:
			return k > 0
		case ir.CondGe:
			return k >= 0
		case ir.CondLt:
			return k < 0
		default:
			return k <= 0
		}
	case ir.CondBetween:
		return has && len(c.Values) == 2 && compare(v, c.Values[0]) >= 0 && compare(v, c.Values[1]) <= 0
	}
	return false
}

// engagementLog is the activity type and primary value an engagement
// filter counts; primary is "" when the filter names nothing (an undefined
// email or web page, in a program run leniently).
func engagementLog(c *ir.Cond) (typ, primary string) {
	switch c.Kind {
	case ir.CondOpenedEmail:
		typ = stdlib.ActOpenEmail
	case ir.CondClickedEmail:
		typ = stdlib.ActClickEmail
	case ir.CondDeliveredEmail:
		typ = stdlib.ActEmailDelivered
	case ir.CondBouncedEmail:
		typ = stdlib.ActEmailBounced
	case ir.CondUnsubscribed:
		typ = stdlib.ActUnsubscribe
	case ir.CondVisitedPage:
		typ = stdlib.ActVisitWebpage
	case ir.CondClickedPage:
		typ = stdlib.ActClickLink
	}
	switch {
	case c.Email != nil:
		primary = c.Email.Name
	case c.WebPage != nil:
		primary = c.WebPage.Name
	}
	return typ, primary
}

// countLog counts the person's activities of a type and primary value
// within the condition's window. For executions (workspace set) only
// qualified runs in that workspace count.
func (ps *pass) countLog(typ, primary string, c *ir.Cond, workspace string) int {
	n := 0
	from := ps.r.now.Add(-c.Window)
	for _, a := range ps.p.Log {
		if a.Type != typ || a.Primary != primary {
			continue
		}
		if c.Window > 0 && a.Time.Before(from) {
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

func qualified(a *Activity) bool {
	v, ok := a.Attributes.Get("Qualified")
	return ok && v.kind == attrBool && v.b
}

// sent reports whether a Send Email activity sent its email: one that
// did not says "Sent": false.
func sent(a *Activity) bool {
	v, ok := a.Attributes.Get("Sent")
	return !ok || v.kind != attrBool || v.b
}
