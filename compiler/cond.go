package compiler

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
)

// smartList compiles the lines of a smart list (a campaign's, when cp is
// set, or an asset's).
func (c *checker) smartList(cp *ir.Campaign, ws *ir.Workspace, assets *assetScope, owner string, items []*lang.SmartListItem, at lang.Position) *ir.SmartList {
	sl := &ir.SmartList{Pos: at}
	x := &condCtx{cp: cp, ws: ws, assets: assets, sl: sl, owner: owner, samples: new(int)}
	var logic *lang.Logic
	for _, it := range items {
		switch {
		case it.Trigger != nil:
			t := c.trigger(x, it.Trigger)
			sl.Triggers = append(sl.Triggers, t)
			if cp == nil {
				// A smart-list asset is a reusable set of filters.
				c.fail(x, lang.CodeInvalidSmartList, t.Pos, t.Pos.Advance(len("trigger")), "", "a smart list asset holds filters only, not triggers")
			}
		case it.Filter != nil:
			sl.Filters = append(sl.Filters, c.cond(x, it.Filter))
		case it.Logic != nil:
			if logic != nil {
				s, e := rng(it.Pos, it.EndPos)
				c.fail(x, lang.CodeInvalidSmartList, s, e, "", "a smart list has one logic line")
				continue
			}
			logic = it.Logic
		case it.Unknown != nil:
			c.unknownWord(cp, it.Unknown.Head, it.Unknown.Tail(), "smart list line", stdlib.SmartListKeywords)
		}
	}
	if logic != nil {
		sl.Logic = c.logic(x, logic, len(sl.Filters))
		sl.LogicText = c.text(logic.Pos, logic.EndPos)
	}
	return sl
}

func (c *checker) trigger(x *condCtx, t *lang.Trigger) *ir.TriggerDef {
	out := &ir.TriggerDef{Pos: lang.Pos(t.Pos), Text: c.text(t.Pos, t.EndPos)}
	ws := x.ws
	code := lang.CodeInvalidSmartList
	switch {
	case t.Requested:
		out.Kind = ir.TrigRequested
		for _, src := range t.Sources {
			if !contains(stdlib.RequestSources, src.Name) {
				s, e := rng(src.Pos, src.EndPos)
				c.fail(x, code, s, e, nearest(src.Name, stdlib.RequestSources), "unknown request source %q (flow or api)", src.Name)
				continue
			}
			out.Sources = append(out.Sources, src.Name)
		}
	case t.StatusChanged:
		out.Kind = ir.TrigStatusChanged
		p := programOrNil(x.cp)
		if t.InProgram != nil {
			p, _ = c.condLookupProgram(x, t.InProgram)
		}
		out.Program = p
		if t.ToStatus != nil {
			out.Status = t.ToStatus.Value()
			if p != nil && p.StatusIndex(out.Status) >= 0 {
				c.refStr(x.cp, t.ToStatus, StatusName{Program: p, Name: out.Status}, false)
			}
			if p != nil && p.StatusIndex(out.Status) < 0 {
				s, e := rng(t.ToStatus.Pos, t.ToStatus.EndPos)
				c.fail(x, code, s, e, nearest(out.Status, statusNames(p)), "undefined status %q in program %q", out.Status, p.Name)
			}
		}
	case t.DataChanges != nil:
		out.Kind = ir.TrigDataChanges
		out.Field = c.field(x.cp, ws, t.DataChanges, x)
		if t.DataFrom != nil {
			if v, ok := c.value(x, out.Field, t.DataFrom); ok {
				out.From = &v
			}
		}
		if t.DataTo != nil {
			if v, ok := c.value(x, out.Field, t.DataTo); ok {
				out.To = &v
			}
		}
	case t.ScoreChanged != nil:
		out.Kind = ir.TrigScoreChanged
		out.Field = c.field(x.cp, ws, t.ScoreChanged, x)
		if out.Field != nil && out.Field.Type != stdlib.Score {
			s, e := rng(t.ScoreChanged.Pos, t.ScoreChanged.EndPos)
			c.fail(x, code, s, e, "", "field %s is %s, not a score", out.Field.Name, out.Field.Type)
		}
		if v := t.ScoreAtLeast; v != nil {
			s, e := rng(v.Pos, v.EndPos)
			n, err := 0.0, error(nil)
			if v.Num != nil {
				n, err = strconv.ParseFloat(v.Num.Raw, 64)
			}
			switch {
			case v.Num == nil:
				c.fail(x, lang.CodeTypeMismatch, s, e, "", "\"by at least\" needs a number of points, not %s", describe(v))
			case err != nil || n == 0:
				c.fail(x, lang.CodeTypeMismatch, s, e, "", "\"by at least\" needs a number of points other than 0, not %s", v.Num.Raw)
			default:
				out.AtLeast, out.HasAtLeast = n, true
			}
		}
	case t.AddedToList != nil:
		out.Kind = ir.TrigAddedToList
		out.List = condLookup(c, x, "list", pickLists, t.AddedToList)
	case t.RemovedList != nil:
		out.Kind = ir.TrigRemovedFromList
		out.List = condLookup(c, x, "list", pickLists, t.RemovedList)
	case t.FillsOutForm != nil:
		out.Kind = ir.TrigFillsOutForm
		out.Form = condLookup(c, x, "form", pickForms, t.FillsOutForm)
		if t.FormOnPage != nil {
			out.WebPage = condLookup(c, x, "web page", pickWebPages, t.FormOnPage)
		}
	case t.Created:
		out.Kind = ir.TrigCreated
	// Engagement triggers (issue 11).
	case t.OpensEmail != nil:
		out.Kind = ir.TrigOpensEmail
		out.Email = condLookup(c, x, "email", pickEmails, t.OpensEmail)
	case t.ClicksEmail != nil:
		out.Kind = ir.TrigClicksEmail
		out.Email = condLookup(c, x, "email", pickEmails, t.ClicksEmail)
	case t.ClicksPage != nil:
		out.Kind = ir.TrigClicksPage
		out.WebPage = condLookup(c, x, "web page", pickWebPages, t.ClicksPage)
	case t.VisitsPage != nil:
		out.Kind = ir.TrigVisitsPage
		out.WebPage = condLookup(c, x, "web page", pickWebPages, t.VisitsPage)
	case t.EmailDelivered != nil:
		out.Kind = ir.TrigEmailDelivered
		out.Email = condLookup(c, x, "email", pickEmails, t.EmailDelivered)
	case t.EmailBounces != nil:
		out.Kind = ir.TrigEmailBounces
		out.Email = condLookup(c, x, "email", pickEmails, t.EmailBounces)
	case t.Unsubscribes != nil:
		out.Kind = ir.TrigUnsubscribes
		out.Email = condLookup(c, x, "email", pickEmails, t.Unsubscribes)
	}
	if t.ClickLink != nil {
		out.Link = t.ClickLink.Value()
		if strings.TrimSpace(out.Link) == "" {
			s, e := rng(t.ClickLink.Pos, t.ClickLink.EndPos)
			c.fail(x, lang.CodeTypeMismatch, s, e, "", "a link constraint needs the link's text or URL, not an empty string")
		}
	}
	return out
}

func programOrNil(cp *ir.Campaign) *ir.ProgramDef {
	if cp == nil {
		return nil
	}
	return cp.Program
}

// condLookup resolves an asset name inside a condition.
func condLookup[V any](c *checker, x *condCtx, what string, pick func(*assetScope) map[string]*V, s *lang.Str) *V {
	if v, ok := find(x.assets, pick, s.Value()); ok {
		c.refStr(x.cp, s, v, false)
		return v
	}
	start, end := rng(s.Pos, s.EndPos)
	c.fail(x, lang.CodeUndefined, start, end, nearest(s.Value(), visible(x.assets, pick)), "undefined %s %q", what, s.Value())
	return nil
}

func (c *checker) condLookupProgram(x *condCtx, s *lang.Str) (*ir.ProgramDef, bool) {
	if p := programOf(x.assets); clonesFrom(p, s.Value()) {
		return p, true // in a clone's text, the template's name means the clone
	}
	if p, ok := c.ws(x.ws).programs[s.Value()]; ok {
		c.refStr(x.cp, s, p, false)
		return p, true
	}
	start, end := rng(s.Pos, s.EndPos)
	c.fail(x, lang.CodeUndefined, start, end, nearest(s.Value(), names(c.ws(x.ws).programs)), "undefined program %q", s.Value())
	return nil, false
}

// expr compiles an if-condition.
func (c *checker) expr(x *condCtx, e *lang.Expr) *ir.Expr {
	var kids []*ir.Expr
	for _, a := range append([]*lang.AndExpr{e.Left}, e.Right...) {
		var ands []*ir.Expr
		for _, u := range append([]*lang.UnaryExpr{a.Left}, a.Right...) {
			ands = append(ands, c.unary(x, u))
		}
		if len(ands) == 1 {
			kids = append(kids, ands[0])
		} else {
			kids = append(kids, &ir.Expr{Op: ir.ExprAnd, Kids: ands})
		}
	}
	if len(kids) == 1 {
		return kids[0]
	}
	return &ir.Expr{Op: ir.ExprOr, Kids: kids}
}

func (c *checker) unary(x *condCtx, u *lang.UnaryExpr) *ir.Expr {
	switch {
	case u.Not != nil:
		return &ir.Expr{Op: ir.ExprNot, Kids: []*ir.Expr{c.unary(x, u.Not)}}
	case u.Group != nil:
		return c.expr(x, u.Group)
	default:
		return &ir.Expr{Op: ir.ExprLeaf, Cond: c.cond(x, u.Cond)}
	}
}

// cond compiles one leaf condition with its types checked.
func (c *checker) cond(x *condCtx, lc *lang.Cond) ir.Cond {
	out := c.condOf(x, lc)
	b := out.Base()
	b.Pos, b.End, b.Text = lang.Pos(lc.Pos), lang.Pos(lc.EndPos), c.text(lc.Pos, lc.EndPos)
	return out
}

// condOf makes the IR condition of an AST condition.
func (c *checker) condOf(x *condCtx, lc *lang.Cond) ir.Cond {
	ws := x.ws
	switch {
	case lc.Member != nil:
		m := lc.Member
		base := ir.CondBase{Negate: m.Not}
		switch {
		case m.List != nil:
			return &ir.MemberList{CondBase: base, List: condLookup(c, x, "list", pickLists, m.List)}
		case m.SmartList != nil:
			return &ir.MemberSmartList{CondBase: base, SmartList: c.memberOfSmartList(x, m.SmartList)}
		case m.Program != nil:
			out := &ir.MemberProgram{CondBase: base}
			p, ok := c.condLookupProgram(x, m.Program)
			out.Program = p
			if ok && m.Status != nil {
				out.Status = m.Status.Value()
				if p.StatusIndex(out.Status) >= 0 {
					c.refStr(x.cp, m.Status, StatusName{Program: p, Name: out.Status}, false)
				}
				if p.StatusIndex(out.Status) < 0 {
					s, e := rng(m.Status.Pos, m.Status.EndPos)
					c.fail(x, lang.CodeUndefined, s, e, nearest(out.Status, statusNames(p)), "undefined status %q in program %q", out.Status, p.Name)
				}
			}
			return out
		}
		return &ir.FieldCond{CondBase: base} // no membership: holds for nobody
	case lc.Activity != nil:
		a := lc.Activity
		out := &ir.ActivityCond{}
		switch {
		case a.Executed != nil:
			out.Kind = stdlib.FilterExecuted
			out.Campaign = c.condCampaign(x, a.Executed)
			if t := out.Campaign; t != nil && t.Kind != ir.Executable {
				s, e := rng(a.Executed.Pos, a.Executed.EndPos)
				c.fail(x, lang.CodeTypeMismatch, s, e, "", "campaign %q is a %s campaign; \"campaign was executed\" counts runs of executable campaigns", t.Name, t.Kind)
			}
		case a.SentEmail != nil:
			out.Kind = stdlib.FilterSentEmail
			out.Email = condLookup(c, x, "email", pickEmails, a.SentEmail)
		case a.FilledForm != nil:
			out.Kind = stdlib.FilterFilledForm
			out.Form = condLookup(c, x, "form", pickForms, a.FilledForm)
		case a.DataChanged != nil:
			out.Kind = stdlib.FilterDataChanged
			out.Field = c.field(x.cp, ws, a.DataChanged, x)
		// Engagement filters (issue 11).
		case a.OpenedEmail != nil:
			out.Kind = stdlib.FilterOpenedEmail
			out.Email = condLookup(c, x, "email", pickEmails, a.OpenedEmail)
		case a.ClickedEmail != nil:
			out.Kind = stdlib.FilterClickedEmail
			out.Email = condLookup(c, x, "email", pickEmails, a.ClickedEmail)
		case a.ClickedPage != nil:
			out.Kind = stdlib.FilterClickedPage
			out.WebPage = condLookup(c, x, "web page", pickWebPages, a.ClickedPage)
		case a.VisitedPage != nil:
			out.Kind = stdlib.FilterVisitedPage
			out.WebPage = condLookup(c, x, "web page", pickWebPages, a.VisitedPage)
		case a.DeliveredEmail != nil:
			out.Kind = stdlib.FilterDeliveredEmail
			out.Email = condLookup(c, x, "email", pickEmails, a.DeliveredEmail)
		case a.BouncedEmail != nil:
			out.Kind = stdlib.FilterBouncedEmail
			out.Email = condLookup(c, x, "email", pickEmails, a.BouncedEmail)
		case a.Unsubscribed != nil:
			out.Kind = stdlib.FilterUnsubscribed
			out.Email = condLookup(c, x, "email", pickEmails, a.Unsubscribed)
		case a.AddedToList != nil:
			out.Kind = stdlib.FilterAddedToList
			out.List = condLookup(c, x, "list", pickLists, a.AddedToList)
		}
		// "not" negates the whole filter: not (at least N times in past W).
		out.Negate = a.Not
		if a.InPast != nil {
			out.Window, _ = c.duration(x.cp, a.InPast)
		}
		out.AtLeast = 1
		if a.AtLeast != nil {
			n, err := strconv.Atoi(a.AtLeast.Raw)
			if err != nil || n < 1 {
				s, e := rng(a.AtLeast.Pos, a.AtLeast.EndPos)
				c.fail(x, lang.CodeTypeMismatch, s, e, "", "\"at least\" needs a whole number of times, 1 or more, not %s", a.AtLeast.Raw)
			} else {
				out.AtLeast = n
			}
		}
		return out
	case lc.Sample != nil:
		out := &ir.Sample{}
		p, err := strconv.ParseFloat(lc.Sample.Raw, 64)
		if err != nil || p < 0 || p > 100 {
			s, e := rng(lc.Sample.Pos, lc.Sample.EndPos)
			c.fail(x, lang.CodeTypeMismatch, s, e, "", "a random sample is a percentage from 0 to 100, not %s", lc.Sample.Raw)
		}
		out.Percent = p
		*x.samples++
		out.SampleKey = fmt.Sprintf("%s#%d", x.owner, *x.samples)
		return out
	case lc.Field != nil:
		out := &ir.FieldCond{}
		c.fieldCond(x, lc.Field, out)
		return out
	}
	return &ir.FieldCond{} // no condition: holds for nobody
}

func (c *checker) condCampaign(x *condCtx, ref *lang.CampaignRef) *ir.Campaign {
	if t := c.local(programOf(x.assets), ref); t != nil {
		return t // in a clone's text, the template's campaign means the clone's copy
	}
	if ref.Workspace == nil || ref.Workspace.Value() == x.ws.Name {
		if t := c.ws(x.ws).campaigns[ref.Name.Value()]; t != nil {
			c.refStr(x.cp, ref.Name, t, false)
			return t
		}
	}
	s, e := rng(ref.Name.Pos, ref.Name.EndPos)
	if ref.Workspace != nil && ref.Workspace.Value() != x.ws.Name {
		c.fail(x, lang.CodeUndefined, s, e, "", "campaign %q of workspace %q: activity filters look at campaigns of workspace %q only", ref.Name.Value(), ref.Workspace.Value(), x.ws.Name)
		return nil
	}
	c.fail(x, lang.CodeUndefined, s, e, nearest(ref.Name.Value(), names(c.ws(x.ws).campaigns)), "undefined campaign %q in workspace %q", ref.Name.Value(), x.ws.Name)
	return nil
}

// memberOfSmartList resolves a smart-list asset, resolving it first if
// needed, and reports a smart list that includes itself.
func (c *checker) memberOfSmartList(x *condCtx, s *lang.Str) *ir.SmartListDef {
	def := condLookup(c, x, "smart list", pickSmartLists, s)
	if def == nil {
		return nil
	}
	start, end := rng(s.Pos, s.EndPos)
	switch c.sl(def).state {
	case 1:
		c.fail(x, lang.CodeInvalidSmartList, start, end, "", "smart list %q includes itself", def.Name)
		return def
	case 0:
		c.resolveSmartListDef(def)
	}
	if def.List != nil && def.List.Invalid != "" {
		c.fail(x, lang.CodeInvalidSmartList, start, end, "", "smart list %q is invalid (%s)", def.Name, def.List.Invalid)
	}
	return def
}

func (c *checker) fieldCond(x *condCtx, fc *lang.FieldCond, out *ir.FieldCond) {
	f := c.field(x.cp, x.ws, fc.Field, x)
	out.Field = f
	tm := lang.CodeTypeMismatch
	fs, fe := rng(fc.Pos, fc.EndPos)
	need := func(ok bool, what string) bool {
		if !ok && f != nil {
			c.fail(x, tm, fs, fe, "", "field %s is %s; %s", f.Name, f.Type, what)
		}
		return ok
	}
	switch {
	case fc.Is:
		out.Negate = fc.IsNot
		if fc.Empty {
			out.Cmp = stdlib.FilterEmpty
			return
		}
		out.Cmp = stdlib.FilterIs
		out.Values = c.values(x, f, fc.Value)
	case fc.Contains != nil:
		out.Cmp = stdlib.FilterContains
		out.Negate = fc.Not
		if need(f == nil || f.Type.IsText(), "\"contains\" compares text") {
			out.Values = c.values(x, f, fc.Contains)
		}
	case fc.StartsWith != nil:
		out.Cmp = stdlib.FilterStartsWith
		out.Negate = fc.Not
		if need(f == nil || f.Type.IsText(), "\"starts with\" compares text") {
			out.Values = c.values(x, f, fc.StartsWith)
		}
	case fc.EndsWith != nil:
		out.Cmp = stdlib.FilterEndsWith
		out.Negate = fc.Not
		if need(f == nil || f.Type.IsText(), "\"ends with\" compares text") {
			out.Values = c.values(x, f, fc.EndsWith)
		}
	case fc.InPast != nil:
		out.Cmp = stdlib.FilterInPast
		out.Negate = fc.Not
		if need(f == nil || f.Type.IsTime(), "\"in past\" needs a date or datetime field") {
			out.Window, _ = c.duration(x.cp, fc.InPast)
		}
	case fc.InNext != nil:
		out.Cmp = stdlib.FilterInNext
		out.Negate = fc.Not
		if need(f == nil || f.Type.IsTime(), "\"in next\" needs a date or datetime field") {
			out.Window, _ = c.duration(x.cp, fc.InNext)
		}
	case fc.Before != nil:
		// before is strictly earlier than the date (its first instant,
		// midnight UTC) or the date-time.
		out.Cmp = stdlib.FilterLt
		if need(f == nil || f.Type.IsTime(), "\"before\" compares dates and datetimes") {
			out.Values = c.values(x, f, fc.Before)
		}
	case fc.After != nil:
		// after is strictly later. A plain date stands for its whole day,
		// so on a datetime field "after 2026-12-01" starts on 2026-12-02.
		out.Cmp = stdlib.FilterGt
		if need(f == nil || f.Type.IsTime(), "\"after\" compares dates and datetimes") {
			out.Values = c.values(x, f, fc.After)
			if len(out.Values) == 1 && wholeDay(f, fc.After) {
				out.Cmp = stdlib.FilterGe
				out.Values[0].Time = out.Values[0].Time.AddDate(0, 0, 1)
			}
		}
	case fc.In != nil:
		out.Cmp = stdlib.FilterIn
		out.Negate = fc.Not
		out.Values = c.values(x, f, fc.In.Values...)
		if len(fc.In.Values) == 0 {
			c.fail(x, tm, fs, fe, "", "an \"in\" list needs at least one value")
		}
	case fc.Cmp != "":
		out.Cmp = map[string]stdlib.FilterOp{">": stdlib.FilterGt, ">=": stdlib.FilterGe, "<": stdlib.FilterLt, "<=": stdlib.FilterLe}[fc.Cmp]
		if need(f == nil || f.Type.IsNumeric() || f.Type.IsTime(), fc.Cmp+" compares numbers, scores, dates and datetimes") {
			out.Values = c.values(x, f, fc.CmpValue)
		}
	case fc.Between != nil:
		out.Cmp = stdlib.FilterBetween
		if need(f == nil || f.Type.IsNumeric() || f.Type.IsTime(), "\"between\" compares numbers, scores, dates and datetimes") {
			out.Values = c.values(x, f, fc.Between, fc.BetweenAnd)
			if len(out.Values) == 2 && wholeDay(f, fc.BetweenAnd) {
				// Both ends are included: a plain date as the upper end
				// of a datetime range includes its whole day.
				out.Values[1].Time = out.Values[1].Time.AddDate(0, 0, 1).Add(-time.Nanosecond)
			}
		}
	}
}

// wholeDay reports whether v is a plain date compared with a datetime
// field, where it stands for the whole UTC day rather than its midnight.
func wholeDay(f *ir.Field, v *lang.Value) bool {
	return f != nil && f.Type == stdlib.DateTime && v.Time != nil && len(v.Time.Raw) == len("2006-01-02")
}

// values type-checks literals against a field.
func (c *checker) values(x *condCtx, f *ir.Field, vs ...*lang.Value) []ir.Value {
	var out []ir.Value
	for _, v := range vs {
		if val, ok := c.value(x, f, v); ok {
			out = append(out, val)
		}
	}
	return out
}

func (c *checker) value(x *condCtx, f *ir.Field, v *lang.Value) (ir.Value, bool) {
	if f == nil {
		return ir.Value{}, false
	}
	s, e := rng(v.Pos, v.EndPos)
	if v.Null {
		c.fail(x, lang.CodeTypeMismatch, s, e, "", "null matches nothing in a condition; write \"%s is empty\" or \"%s is not empty\"", f.Name, f.Name)
		return ir.Value{}, false
	}
	val, msg := literal(f.Type, v)
	if msg != "" {
		c.fail(x, lang.CodeTypeMismatch, s, e, "", "field %s is %s: %s", f.Name, f.Type, msg)
		return ir.Value{}, false
	}
	return val, true
}

// literal converts a literal to a field's type, or says why it cannot.
func literal(t stdlib.FieldType, v *lang.Value) (ir.Value, string) {
	out := ir.Value{Type: t}
	switch {
	case v.Null:
		out.Null = true
		return out, ""
	case t.IsText():
		if v.Str == nil {
			return out, "it needs a quoted text value, not " + describe(v)
		}
		out.Text = v.Str.Value()
		out.Fold = strings.ToLower(out.Text)
		return out, ""
	case t.IsNumeric():
		if v.Num == nil {
			return out, "it needs a number, not " + describe(v)
		}
		n, err := strconv.ParseFloat(v.Num.Raw, 64)
		if err != nil {
			return out, "bad number " + v.Num.Raw
		}
		out.Num = n
		return out, ""
	case t == stdlib.Boolean:
		if v.Bool == "" {
			return out, "it needs true or false, not " + describe(v)
		}
		out.Bool = v.Bool == "true"
		return out, ""
	case t.IsTime():
		if v.Time == nil {
			return out, "it needs a date (2026-12-01) or date-time (2026-12-01T09:00:00Z), not " + describe(v)
		}
		tm, err := parseTime(v.Time.Raw)
		if err != nil {
			return out, v.Time.Raw + " is not a valid date or time"
		}
		out.Time = tm
		return out, ""
	}
	return out, "unsupported type"
}

func describe(v *lang.Value) string {
	switch {
	case v.Str != nil:
		return "text " + v.Str.Raw
	case v.Num != nil:
		return "the number " + v.Num.Raw
	case v.Time != nil:
		return "the date " + v.Time.Raw
	case v.Bool != "":
		return v.Bool
	case v.Null:
		return "null"
	}
	return "this value"
}

// logic compiles "logic all|any|EXPR" over n filters. Every number must
// name a filter, every filter must be used, and "and" and "or" may not be
// mixed at one level without parentheses.
func (c *checker) logic(x *condCtx, l *lang.Logic, n int) *ir.Expr {
	s, e := rng(l.Pos, l.EndPos)
	if n == 0 {
		c.fail(x, lang.CodeInvalidSmartList, s, e, "", "logic without filters")
		return nil
	}
	switch l.Word {
	case "all":
		return nil
	case "any":
		out := &ir.Expr{Op: ir.ExprOr}
		for i := 0; i < n; i++ {
			out.Kids = append(out.Kids, &ir.Expr{Op: ir.ExprLeaf, Filter: i})
		}
		return out
	}
	used := make([]bool, n)
	ok := true
	expr := c.logicExpr(x, l.Expr, n, used, &ok)
	if !ok {
		return nil
	}
	var missing []string
	for i, u := range used {
		if !u {
			missing = append(missing, strconv.Itoa(i+1))
		}
	}
	if len(missing) > 0 {
		what := "filter " + missing[0] + " is"
		if len(missing) > 1 {
			what = "filters " + strings.Join(missing, ", ") + " are"
		}
		c.fail(x, lang.CodeInvalidSmartList, s, e, "", "logic is incomplete: %s not used", what)
		return nil
	}
	return expr
}

func (c *checker) logicExpr(x *condCtx, le *lang.LogicExpr, n int, used []bool, ok *bool) *ir.Expr {
	first := c.logicTerm(x, le.First, n, used, ok)
	if len(le.Rest) == 0 {
		return first
	}
	op := le.Rest[0].Op
	out := &ir.Expr{Op: ir.ExprAnd, Kids: []*ir.Expr{first}}
	if op == "or" {
		out.Op = ir.ExprOr
	}
	for _, r := range le.Rest {
		if r.Op != op {
			s, e := rng(le.Pos, le.EndPos)
			c.fail(x, lang.CodeInvalidSmartList, s, e, "", "logic mixes \"and\" and \"or\" without parentheses")
			*ok = false
			return nil
		}
		out.Kids = append(out.Kids, c.logicTerm(x, r.Term, n, used, ok))
	}
	return out
}

func (c *checker) logicTerm(x *condCtx, t *lang.LogicTerm, n int, used []bool, ok *bool) *ir.Expr {
	switch {
	case t.Not != nil:
		return &ir.Expr{Op: ir.ExprNot, Kids: []*ir.Expr{c.logicTerm(x, t.Not, n, used, ok)}}
	case t.Group != nil:
		return c.logicExpr(x, t.Group, n, used, ok)
	}
	k, err := strconv.Atoi(t.Ref.Raw)
	if err != nil || k < 1 || k > n {
		s, e := rng(t.Ref.Pos, t.Ref.EndPos)
		c.fail(x, lang.CodeInvalidSmartList, s, e, "", "logic names filter %s, but there are filters 1 to %d", t.Ref.Raw, n)
		*ok = false
		return nil
	}
	used[k-1] = true
	return &ir.Expr{Op: ir.ExprLeaf, Filter: k - 1}
}
