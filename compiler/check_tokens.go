package compiler

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
)

// scoreValue is the form of a score change and of a score token's value.
var scoreValue = regexp.MustCompile(`^[+=-][0-9]+(\.[0-9]+)?$`)

// decimalNumber is a number token's form, vm.ParseNumber's.
var decimalNumber = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// frame is one static token context a campaign can run in. my holds the My
// Token scopes in lookup order; for an executable called with "use parent
// tokens" the caller's scopes come first (the first own of them) and the
// child's own program follows as the fallback.
type frame struct {
	my      []*ir.Scope
	own     int // index in my where the campaign's own scope starts
	trigger bool
	chain   []ir.Call
}

// maxFrames bounds the contexts enumerated per campaign.
const maxFrames = 64

// frames lists the contexts a campaign can run in: its own, or through each
// caller (recursively, since a caller may itself run in its caller's frame).
func (c *checker) frames(cp *ir.Campaign, memo map[*ir.Campaign][]frame, on map[*ir.Campaign]bool) []frame {
	if fs, ok := memo[cp]; ok {
		return fs
	}
	own := frame{my: ir.TokenScopes(cp, nil, false), trigger: cp.Kind == ir.Trigger}
	if cp.Kind != ir.Executable || len(c.prog.Callers(cp)) == 0 || on[cp] {
		return []frame{own}
	}
	on[cp] = true
	defer delete(on, cp)
	var out []frame
	seen := map[string]bool{}
	add := func(f frame) {
		key := fmt.Sprint(f.my, f.trigger)
		if seen[key] || len(out) >= maxFrames {
			return
		}
		seen[key] = true
		out = append(out, f)
	}
	for _, cs := range c.prog.Callers(cp) {
		if cs.Caller.Workspace != cp.Workspace {
			continue
		}
		for _, pf := range c.frames(cs.Caller, memo, on) {
			chain := append(append([]ir.Call{}, pf.chain...), cs)
			if cs.Step.Parent {
				add(frame{my: ir.TokenScopes(cp, pf.my, true), own: len(pf.my), trigger: pf.trigger, chain: chain})
			} else {
				add(frame{my: own.my, trigger: false, chain: chain})
			}
		}
	}
	if len(out) == 0 {
		out = []frame{own}
	}
	memo[cp] = out
	return out
}

// lookup finds a My Token in a frame and says whether it came from the
// caller's part of the frame.
func (f frame) lookup(name string) (*ir.Token, bool) {
	for i, s := range f.my {
		if t := s.Lookup(name); t != nil {
			return t, i < f.own
		}
	}
	return nil, false
}

func (f frame) describe(cp *ir.Campaign) string {
	if len(f.chain) == 0 {
		return ""
	}
	var hops []string
	for _, cs := range f.chain {
		hops = append(hops, quote(cs.Caller.Name))
	}
	return fmt.Sprintf(" when executed by %s > %q", strings.Join(hops, " > "), cp.Name)
}

func chainRelated(f frame) []lang.Related {
	var out []lang.Related
	for _, cs := range f.chain {
		how := "without parent tokens"
		if cs.Step.Parent {
			how = "with use parent tokens"
		}
		out = append(out, lang.Related{Message: fmt.Sprintf("%q executes %q %s", cs.Caller.Name, cs.Step.Target.Name, how), Start: cs.Step.Pos, End: cs.Step.End})
	}
	return out
}

// tmplUse is one template a campaign renders, and how.
type tmplUse struct {
	t     ir.Template
	score bool    // the reference must be a score token
	date  bool    // the reference must hold a date (wait until a token)
	via   ir.Step // a send email or call webhook step, for its asset's template
}

func templateUses(cp *ir.Campaign) []tmplUse {
	var out []tmplUse
	ir.WalkSteps(cp.Flow, func(s ir.Step) {
		for _, t := range s.Templates() {
			u := tmplUse{t: t}
			switch s.(type) {
			case *ir.ChangeScore:
				u.score = true
			case *ir.Wait:
				u.date = true
			case *ir.SendEmail, *ir.CallWebhook:
				u.via = s
			}
			out = append(out, u)
		}
	})
	return out
}

// checkTokens checks My Token declarations and every token reference in the
// context (frame) or contexts where it is rendered.
func checkTokens(c *checker) {
	for _, ws := range c.prog.Workspaces {
		var scopes []*ir.Scope
		for _, f := range ws.Folders {
			scopes = append(scopes, f.Scope)
		}
		for _, p := range ws.Programs {
			scopes = append(scopes, p.Scope)
		}
		for _, sc := range scopes {
			for _, t := range sc.Order {
				c.checkTokenValue(t)
			}
		}
	}
	c.checkAssetTemplates()
	memo := map[*ir.Campaign][]frame{}
	for _, cp := range c.prog.Campaigns {
		frames := c.frames(cp, memo, map[*ir.Campaign]bool{})
		reported := map[*ir.TokenRef]bool{}
		for _, u := range templateUses(cp) {
			for _, p := range u.t.Parts {
				if p.Ref != nil && !reported[p.Ref] {
					reported[p.Ref] = true
					c.checkRef(cp, frames, c.refSrc[p.Ref], u)
				}
			}
		}
	}
}

func (c *checker) checkTokenValue(t *ir.Token) {
	s, e := rng(c.tokenDecl[t].Value.Pos, c.tokenDecl[t].Value.EndPos)
	bad := ""
	switch t.Type {
	case "score":
		if !scoreValue.MatchString(t.Value) {
			bad = "a score token is +n, -n or =n"
		}
	case "number":
		// As in people files: decimal and finite, no NaN, Inf or 1_000.
		if n, err := strconv.ParseFloat(t.Value, 64); err != nil || !decimalNumber.MatchString(t.Value) || math.IsInf(n, 0) {
			bad = "a number token holds a number"
		}
	case "date":
		if _, err := parseTime(t.Value); err != nil || len(t.Value) != len("2006-01-02") {
			bad = "a date token holds a date written 2026-12-01"
		}
	}
	if bad != "" {
		c.errorf(nil, lang.CodeBadToken, s, e, "token %q has value %q; %s", t.Name, t.Value, bad)
	}
}

// staticProblem says what is wrong with a reference wherever it is
// rendered: an unknown family, a lead field the workspace lacks, a name the
// family does not offer. My Tokens and trigger tokens depend on the frame.
func (c *checker) staticProblem(ws *ir.Workspace, r *lang.TokenRef) string {
	fam, ok := stdlib.FamilyByName(r.Family)
	if !ok {
		var all []string
		for _, f := range stdlib.Families {
			all = append(all, f.Name)
		}
		return fmt.Sprintf("unknown token family %q in %s (one of %s)%s", r.Family, r, strings.Join(all, ", "), didYouMean(nearest(r.Family, all), false))
	}
	switch fam.Name {
	case "my":
		return ""
	case "lead":
		if c.ws(ws).fields[r.Name] == nil {
			return fmt.Sprintf("%s names no field%s", r, didYouMean(nearest(r.Name, fieldNames(ws)), false))
		}
		return ""
	}
	if !contains(fam.Names, r.Name) {
		return fmt.Sprintf("%s is not a %s token (one of %s)%s", r, fam.Name, strings.Join(fam.Names, ", "), didYouMean(nearest(r.Name, fam.Names), false))
	}
	return ""
}

// checkAssetTemplates checks what does not depend on the sender in every
// email subject and webhook URL, header and payload, used or not.
func (c *checker) checkAssetTemplates() {
	for _, ws := range c.prog.Workspaces {
		var ts []ir.Template
		for _, em := range ws.Emails {
			ts = append(ts, em.Templates()...)
		}
		for _, wh := range ws.Webhooks {
			ts = append(ts, wh.Templates()...)
		}
		for _, t := range ts {
			for _, p := range t.Parts {
				if p.Ref != nil {
					if msg := c.staticProblem(ws, c.refSrc[p.Ref]); msg != "" {
						c.errorf(nil, lang.CodeBadToken, p.Ref.Start, p.Ref.End, "%s", msg)
					}
				}
			}
		}
	}
}

// checkRef reports a reference that cannot resolve in some frame of cp.
func (c *checker) checkRef(cp *ir.Campaign, frames []frame, r *lang.TokenRef, u tmplUse) {
	// A reference inside an email subject stands in the email's text; the
	// send step tells which campaign renders it.
	report := func(f *frame, format string, args ...any) {
		var d *lang.Diagnostic
		if u.via != nil {
			d = c.errorf(nil, lang.CodeBadToken, r.Start, r.End, format, args...)
			d.Message += fmt.Sprintf(" (rendered by %q)", cp.Name)
			d.Related = append(d.Related, lang.Related{Message: "used here", Start: u.via.Base().Pos, End: u.via.Base().End})
		} else {
			d = c.errorf(cp, lang.CodeBadToken, r.Start, r.End, format, args...)
		}
		if f != nil {
			d.Related = append(d.Related, chainRelated(*f)...)
		}
	}
	if msg := c.staticProblem(cp.Workspace, r); msg != "" {
		if u.via == nil {
			report(nil, "%s", msg)
		}
		return
	}
	switch r.Family {
	case "my":
		c.checkMy(cp, frames, r, u, report)
		return
	case "trigger":
		for i := range frames {
			if !frames[i].trigger {
				report(&frames[i], "%s is available only when the campaign was started by a trigger, and %q is not%s", r, cp.Name, frames[i].describe(cp))
				return
			}
		}
	}
	if u.score {
		report(nil, "a score change takes a score token ({{my.Name}}), not %s", r)
	}
	if u.date {
		if why := c.notADate(cp.Workspace, r); why != "" {
			report(nil, "%s %s; wait until needs a date token, a date or datetime field, or {{system.date}}", r, why)
		}
	}
}

// notADate says why a reference (not a My Token) cannot hold a date, or ""
// when it can or only the run can tell (the trigger's values).
func (c *checker) notADate(ws *ir.Workspace, r *lang.TokenRef) string {
	switch r.Family {
	case "lead":
		if f := c.ws(ws).fields[r.Name]; f != nil && !f.Type.IsTime() {
			return fmt.Sprintf("is a %s field", f.Type)
		}
	case "system":
		if r.Name == "time" {
			return "is a time of day"
		}
	case "trigger":
	default:
		return "is text"
	}
	return ""
}

func (c *checker) checkMy(cp *ir.Campaign, frames []frame, r *lang.TokenRef, u tmplUse, report func(*frame, string, ...any)) {
	fromCaller, fromOwn := -1, -1
	var first *ir.Token
	differ := false
	for i := range frames {
		f := &frames[i]
		t, viaCaller := f.lookup(r.Name)
		if t == nil {
			var visible []string
			for _, s := range f.my {
				visible = append(visible, s.Names()...)
			}
			where := "its program and folders"
			if cp.Program != nil {
				where = fmt.Sprintf("program %q and its folders", cp.Program.Name)
			}
			if len(f.chain) > 0 && f.own > 0 {
				where = fmt.Sprintf("the caller's context or in %s", where)
			}
			report(f, "%s is not defined in %s%s%s", r, where, f.describe(cp), didYouMean(nearest(r.Name, visible), true))
			return
		}
		if u.score && t.Type != "score" {
			report(f, "%s is a %s token; a score change needs a score token (+n, -n or =n)%s", r, t.Type, f.describe(cp))
			return
		}
		if u.date && t.Type != "date" {
			report(f, "%s is a %s token; wait until needs a date token%s", r, t.Type, f.describe(cp))
			return
		}
		if first == nil {
			first = t
		} else if t != first {
			differ = true
		}
		if f.own > 0 {
			if viaCaller {
				fromCaller = i
			} else {
				fromOwn = i
			}
		}
	}
	if differ && fromCaller >= 0 && fromOwn >= 0 {
		d := c.warnf(cp, lang.CodeTokenContext, r.Start, r.End,
			"%s comes from the caller%s, but from %q's own program%s, whose callers define it differently",
			r, frames[fromCaller].describe(cp), cp.Name, frames[fromOwn].describe(cp))
		d.Related = append(chainRelated(frames[fromCaller]), chainRelated(frames[fromOwn])...)
	}
}
