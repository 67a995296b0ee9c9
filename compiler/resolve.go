package compiler

import (
	"errors"
	"fmt"
	"net/mail"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
)

// resolveAll turns every declaration's AST into resolved IR: smart-list
// assets, email subjects, then campaigns (clone sources before clones).
func (c *checker) resolveAll() {
	for _, sl := range c.smartLists {
		c.resolveSmartListDef(sl)
	}
	for _, ws := range c.prog.Workspaces {
		for _, em := range ws.Emails {
			c.cloning = c.emailInfo[em].clone
			c.resolveEmail(em)
		}
		for _, wh := range ws.Webhooks {
			c.cloning = c.hookInfo[wh].clone
			c.resolveWebhook(ws, wh)
		}
		c.cloning = nil
	}
	state := map[*ir.Campaign]int{}
	for _, cp := range c.prog.Campaigns {
		c.resolveCampaign(cp, state)
	}
}

// resolveEmail compiles an email's clauses; each may be written once.
func (c *checker) resolveEmail(em *ir.Email) {
	seen := map[string]lang.Position{}
	for _, it := range c.emailInfo[em].email.Items {
		what := "subject"
		switch {
		case it.Operational:
			what = "operational"
		case it.From != nil:
			what = "from"
		case it.Text != nil:
			what = "text body"
		case it.HTML != nil:
			what = "html body"
		}
		s, e := rng(it.Pos, it.EndPos)
		if first, ok := seen[what]; ok {
			d := c.errorf(nil, lang.CodeDuplicate, s, e, "email %q has more than one %s", em.Name, what)
			d.Related = append(d.Related, lang.Related{Message: "first here", Start: first, End: first})
			continue
		}
		seen[what] = s
		switch {
		case it.Subject != nil:
			em.Subject = c.template(nil, it.Subject)
		case it.From != nil:
			em.From = c.template(nil, it.From)
			if em.From.Static() {
				if _, err := mail.ParseAddress(it.From.Value()); err != nil {
					fs, fe := rng(it.From.Pos, it.From.EndPos)
					c.errorf(nil, lang.CodeTypeMismatch, fs, fe, "email %q: from %q is not an email address (%v)", em.Name, it.From.Value(), err)
				}
			}
		case it.Text != nil:
			em.Text, em.TextFile = c.emailBody(em, it.Text)
		case it.HTML != nil:
			em.HTML, em.HTMLFile = c.emailBody(em, it.HTML)
		default:
			em.Operational = true
		}
	}
}

// emailBody compiles a text or HTML body: the string itself, or the file
// it names, which the host reads (Options.ReadFile). A file's name is
// relative to the .camp file and stays below its directory.
func (c *checker) emailBody(em *ir.Email, b *lang.EmailBody) (ir.Template, string) {
	if !b.File {
		return c.template(nil, b.Str), ""
	}
	s, e := rng(b.Str.Pos, b.Str.EndPos)
	rel := b.Str.Value()
	if rel == "" || path.IsAbs(rel) || strings.Contains(rel, `\`) || strings.HasPrefix(rel, "/") || (len(rel) > 1 && rel[1] == ':') {
		c.errorf(nil, lang.CodeTypeMismatch, s, e, "email %q: body file %q must be a relative path with / between names, beside the .camp file", em.Name, rel)
		return ir.Template{}, ""
	}
	for _, el := range strings.Split(rel, "/") {
		if el == ".." {
			c.errorf(nil, lang.CodeTypeMismatch, s, e, "email %q: body file %q must not leave the .camp file's directory (no ..)", em.Name, rel)
			return ir.Template{}, ""
		}
	}
	name := path.Join(path.Dir(b.Str.Pos.Filename), rel)
	if c.readFile == nil {
		c.errorf(nil, lang.CodeUndefined, s, e, "email %q: body file %q cannot be read: this host passes no files to the compiler", em.Name, name)
		return ir.Template{}, name
	}
	text, err := c.readFile(name)
	if err != nil {
		c.errorf(nil, lang.CodeUndefined, s, e, "email %q: cannot read body file %q: %v", em.Name, name, err)
		return ir.Template{}, name
	}
	parts, d := lang.TemplateText(name, text)
	if d != nil {
		c.report(nil, d)
		return ir.Template{Parts: []ir.Part{{Lit: text}}}, name
	}
	return c.templateParts(nil, parts), name
}

func (c *checker) resolveSmartListDef(sl *ir.SmartListDef) {
	si := c.sl(sl)
	if si.state != 0 {
		return
	}
	si.state = 1
	s, _ := rng(si.decl.Pos, si.decl.EndPos)
	prev := c.cloning
	c.cloning = si.clone
	sl.List = c.smartList(nil, si.ws, si.scope, ir.Key(si.ws.Name, sl.Name), si.decl.Items, s)
	c.cloning = prev
	si.state = 2
}

// resolveCampaign compiles one campaign. A clone compiles its source's body
// in its own place (its program, its kind).
func (c *checker) resolveCampaign(cp *ir.Campaign, state map[*ir.Campaign]int) {
	ci := c.cmp(cp)
	switch state[cp] {
	case 2:
		return
	case 1:
		s, e := rng(ci.decl.Name.Pos, ci.decl.Name.EndPos)
		c.errorf(nil, lang.CodeCloneTrigger, s, e, "campaign %q is cloned from itself (through a chain of clones)", cp.Name)
		state[cp] = 2
		return
	}
	state[cp] = 1
	defer func() { state[cp] = 2 }()
	if ref := ci.decl.Clone; ref != nil {
		src := c.local(cp.Program, ref)
		if src == nil {
			src = c.campaignRef(nil, cp.Workspace, ref, true)
		}
		if src == nil {
			return
		}
		if src == cp {
			s, e := rng(ref.Pos, ref.EndPos)
			c.errorf(nil, lang.CodeCloneTrigger, s, e, "campaign %q cannot be cloned from itself", cp.Name)
			return
		}
		c.refStr(cp, ref.Name, src, false)
		c.resolveCampaign(src, state)
		cp.CloneOf = src
		if root := c.cloneRoot(src); root.SmartList != nil && len(root.SmartList.Triggers) > 0 {
			return // clone_trigger is reported by checkClones; nothing to copy
		}
		ci.body = c.cmp(src).body
	}
	if ci.body == nil {
		return
	}
	seen := map[string]lang.Position{}
	once := func(what string, start, end lang.Position) bool {
		if first, ok := seen[what]; ok {
			d := c.errorf(cp, lang.CodeDuplicate, start, end, "campaign %q has more than one %s", cp.Name, what)
			d.Related = append(d.Related, lang.Related{Message: "first here", Start: first, End: first})
			return false
		}
		seen[what] = start
		return true
	}
	for _, it := range ci.body.Items {
		s, e := rng(it.Pos, it.EndPos)
		if cp.CloneOf != nil && it.SmartList == nil && it.Flow == nil && it.Qualify == nil {
			continue // a clone copies its source's smart list, flow and qualification only
		}
		switch {
		case it.SmartList != nil:
			if once("smart list", s, e) {
				cp.SmartList = c.smartList(cp, cp.Workspace, c.prg(cp.Program).assets, cp.Key, it.SmartList.Items, s)
			}
		case it.Flow != nil:
			if once("flow", s, e) {
				cp.Flow = c.steps(cp, it.Flow.Steps)
				c.stepIDs(cp.Key, cp.Flow)
			}
		case it.Run != nil:
			if once("schedule", s, e) {
				cp.Run = c.schedule(cp, it.Run)
				ci.runAt = s
			}
		case it.Activation != nil:
			if once("active/inactive", s, e) {
				cp.Active = it.Activation.Word == "active"
				ci.activeAt = s
			}
		case it.Qualify != nil:
			if once("qualification rule", s, e) {
				cp.Qualify = c.qualify(cp, it.Qualify)
			}
		case it.Description != nil:
			if once("description", s, e) {
				cp.Description = it.Description.Value()
			}
		case it.Unknown != nil:
			c.unknownWord(cp, it.Unknown.Head, it.Unknown.Tail(), "campaign clause", stdlib.CampaignKeywords)
		}
	}
	if cp.SmartList == nil {
		cp.SmartList = &ir.SmartList{Pos: cp.Pos}
	}
}

func (c *checker) schedule(cp *ir.Campaign, r *lang.Run) *ir.Schedule {
	sch := &ir.Schedule{Pos: lang.Pos(r.Pos)}
	if r.At != nil {
		sch.At, _ = c.clockTime(cp, r.At)
	}
	if r.Every != nil {
		sch.Every, _ = c.duration(cp, r.Every)
		if r.Starting != nil {
			sch.At, _ = c.clockTime(cp, r.Starting)
		}
	}
	return sch
}

func (c *checker) qualify(cp *ir.Campaign, q *lang.Qualify) ir.Qualify {
	out := ir.Qualify{Explicit: true, Pos: lang.Pos(q.Pos)}
	switch {
	case q.EveryTime:
		out.Rule = ir.QualifyEveryTime
	case q.Every != nil:
		out.Rule = ir.QualifyEvery
		out.Every, _ = c.duration(cp, q.Every)
	default:
		out.Rule = ir.QualifyOnce
	}
	return out
}

// duration compiles "N unit": a whole positive number and a known unit.
func (c *checker) duration(cp *ir.Campaign, d *lang.Duration) (time.Duration, bool) {
	u, ok := stdlib.UnitByName(d.Unit.Name)
	if !ok {
		s, e := rng(d.Unit.Pos, d.Unit.EndPos)
		sug := nearest(d.Unit.Name, stdlib.UnitNames())
		dg := c.errorf(cp, lang.CodeSyntax, s, e, "unknown duration unit %q (minutes, hours, days, weeks or months)%s", d.Unit.Name, didYouMean(sug, false))
		dg.Suggestion = sug
		return 0, false
	}
	n, err := strconv.ParseInt(d.N.Raw, 10, 32)
	s, e := rng(d.N.Pos, d.N.EndPos)
	switch {
	case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(d.N.Raw, "-"):
		c.errorf(cp, lang.CodeTypeMismatch, s, e, "%s is too large: a duration is at most %d days", d.N.Raw, stdlib.MaxDurationDays)
		return 0, false
	case err != nil || n <= 0:
		c.errorf(cp, lang.CodeTypeMismatch, s, e, "a duration needs a whole number greater than zero, not %s", d.N.Raw)
		return 0, false
	case n*u.Minutes > stdlib.MaxDurationMinutes:
		// Checked here, before the multiplication by time.Minute could
		// overflow: past the bound a wait would wrap to a date in the past.
		_, e = rng(d.Unit.Pos, d.Unit.EndPos) // the span covers "N unit"
		c.errorf(cp, lang.CodeTypeMismatch, s, e, "%s %s is too long: a duration is at most %d days", d.N.Raw, d.Unit.Name, stdlib.MaxDurationDays)
		return 0, false
	}
	return time.Duration(n*u.Minutes) * time.Minute, true
}

func (c *checker) timeLit(cp *ir.Campaign, t *lang.TimeLit) (time.Time, bool) {
	tm, err := parseTime(t.Raw)
	if err != nil {
		s, e := rng(t.Pos, t.EndPos)
		c.errorf(cp, lang.CodeTypeMismatch, s, e, "%s is not a valid date or time", t.Raw)
		return time.Time{}, false
	}
	return tm, true
}

// clockTime compiles a time the clock must reach (a wait's date, a
// schedule's start): it must lie in the clock's range, or the store could
// not keep it and the clock could never get there.
func (c *checker) clockTime(cp *ir.Campaign, t *lang.TimeLit) (time.Time, bool) {
	tm, ok := c.timeLit(cp, t)
	if ok && !stdlib.InTimeRange(tm) {
		s, e := rng(t.Pos, t.EndPos)
		c.errorf(cp, lang.CodeTypeMismatch, s, e, "%s is outside the clock's range, %s", t.Raw, stdlib.TimeRange)
		return time.Time{}, false
	}
	return tm, ok
}

func parseTime(raw string) (time.Time, error) {
	if len(raw) == len("2006-01-02") {
		return time.Parse("2006-01-02", raw)
	}
	return time.Parse(time.RFC3339, raw)
}

// template parses a string's token references; it reports malformed ones.
func (c *checker) template(cp *ir.Campaign, s *lang.Str) ir.Template {
	parts, d := lang.Template(s)
	if d != nil {
		c.report(cp, d)
		return ir.Template{Parts: []ir.Part{{Lit: s.Value()}}}
	}
	return c.templateParts(cp, parts)
}

// templateParts makes the IR of a template's parts, keeping each
// reference as written for messages.
func (c *checker) templateParts(cp *ir.Campaign, parts []lang.Part) ir.Template {
	out := make([]ir.Part, len(parts))
	for i, p := range parts {
		if p.Ref == nil {
			out[i] = ir.Part{Lit: p.Lit}
			continue
		}
		canonicalRef(p.Ref)
		// An unknown family stays the zero Family; checkTokens reports it
		// from the reference as written.
		fam, _ := ir.FamilyNamed(p.Ref.Family)
		r := &ir.TokenRef{Family: fam, Name: p.Ref.Name, Default: p.Ref.Default, HasDefault: p.Ref.HasDefault, Start: p.Ref.Start, End: p.Ref.End}
		c.refSrc[r] = p.Ref
		out[i] = ir.Part{Ref: r}
	}
	return ir.Template{Parts: out}
}

// canonicalRef spells a reference's family, and a built-in family's token
// name, as stdlib does, so that later stages compare exactly. My Token and
// field names keep their spelling: they are the author's own names.
func canonicalRef(r *lang.TokenRef) {
	fam, ok := stdlib.FamilyByName(r.Family)
	if !ok {
		return
	}
	r.Family = fam.Name
	if n, ok := fam.Canonical(r.Name); ok {
		r.Name = n
	}
}

// partitionOwner is the first other workspace that declares the partition.
func (c *checker) partitionOwner(ws *ir.Workspace, name string) *ir.Workspace {
	for _, other := range c.prog.Workspaces {
		if _, ok := c.ws(other).partitions[name]; ok && other != ws {
			return other
		}
	}
	return nil
}

// campaignRef resolves a campaign name. Unqualified names are looked up in
// the caller's workspace, then in the others, so that a call across a
// workspace boundary is reported as such rather than as undefined.
func (c *checker) campaignRef(cp *ir.Campaign, ws *ir.Workspace, ref *lang.CampaignRef, sameOnly bool) *ir.Campaign {
	s, e := rng(ref.Name.Pos, ref.Name.EndPos)
	name := ref.Name.Value()
	if ref.Workspace != nil {
		wname := ref.Workspace.Value()
		if sameOnly && wname != ws.Name {
			ws0, we := rng(ref.Pos, ref.EndPos)
			c.errorf(cp, lang.CodeCrossWorkspace, ws0, we, "campaign %q is named in workspace %q; only campaigns of workspace %q can be named here", name, wname, ws.Name)
			return nil
		}
		other := c.workspaces[wname]
		if other == nil {
			ws0, we := rng(ref.Workspace.Pos, ref.Workspace.EndPos)
			sug := nearest(wname, names(c.workspaces))
			d := c.errorf(cp, lang.CodeUndefined, ws0, we, "undefined workspace %q%s", wname, didYouMean(sug, true))
			d.Suggestion = sug
			return nil
		}
		if t := c.ws(other).campaigns[name]; t != nil {
			c.refStr(cp, ref.Name, t, false)
			return t
		}
		sug := nearest(name, names(c.ws(other).campaigns))
		d := c.errorf(cp, lang.CodeUndefined, s, e, "undefined campaign %q in workspace %q%s", name, wname, didYouMean(sug, true))
		d.Suggestion = sug
		return nil
	}
	if t := c.local(programOrNil(cp), ref); t != nil {
		return t
	}
	if t := c.ws(ws).campaigns[name]; t != nil {
		c.refStr(cp, ref.Name, t, false)
		return t
	}
	if !sameOnly {
		for _, other := range c.prog.Workspaces {
			if t := c.ws(other).campaigns[name]; t != nil {
				c.refStr(cp, ref.Name, t, false)
				return t
			}
		}
	}
	if sameOnly {
		// The name is another workspace's: say so, rather than undefined.
		for _, other := range c.prog.Workspaces {
			if t := c.ws(other).campaigns[name]; t != nil && other != ws {
				d := c.errorf(cp, lang.CodeCrossWorkspace, s, e, "campaign %q is in workspace %q; only campaigns of workspace %q can be named here", name, other.Name, ws.Name)
				d.Related = append(d.Related, lang.Related{Message: "declared here", Start: t.Pos, End: t.Pos})
				return nil
			}
		}
	}
	sug := nearest(name, names(c.ws(ws).campaigns))
	d := c.errorf(cp, lang.CodeUndefined, s, e, "undefined campaign %q%s", name, didYouMean(sug, true))
	d.Suggestion = sug
	return nil
}

// lookup resolves a quoted asset name from a scope outwards.
func lookup[V any](c *checker, cp *ir.Campaign, code lang.Code, what string, scope *assetScope, pick func(*assetScope) map[string]V, s *lang.Str, suffix string) (V, bool) {
	if v, ok := find(scope, pick, s.Value()); ok {
		c.refStr(cp, s, v, false)
		return v, true
	}
	start, end := rng(s.Pos, s.EndPos)
	sug := nearest(s.Value(), visible(scope, pick))
	d := c.errorf(cp, code, start, end, "undefined %s %q%s%s", what, s.Value(), didYouMean(sug, true), suffix)
	d.Suggestion = sug
	var zero V
	return zero, false
}

func (c *checker) steps(cp *ir.Campaign, steps []*lang.Step) []ir.Step {
	var out []ir.Step
	for _, st := range steps {
		if s := c.step(cp, st); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (c *checker) step(cp *ir.Campaign, st *lang.Step) ir.Step {
	out := c.stepOf(cp, st)
	if out == nil {
		return nil
	}
	b := out.Base()
	b.Pos, b.End = lang.Pos(st.Pos), lang.Pos(st.EndPos)
	if st.If == nil {
		b.Source = c.text(st.Pos, st.EndPos)
	}
	c.stepSrc[out] = st
	return out
}

// stepOf makes the IR step of an AST step, or nil for one that is refused.
func (c *checker) stepOf(cp *ir.Campaign, st *lang.Step) ir.Step {
	ws := cp.Workspace
	assets := c.prg(cp.Program).assets
	und := lang.CodeUndefined
	switch {
	case st.ChangeScore != nil:
		out := &ir.ChangeScore{}
		out.Field = c.field(cp, ws, st.ChangeScore.Field, nil)
		out.Text = c.template(cp, st.ChangeScore.By)
		return out
	case st.ChangeData != nil:
		out := &ir.ChangeData{}
		out.Field = c.field(cp, ws, st.ChangeData.Field, nil)
		if v := st.ChangeData.To; v.Str != nil {
			out.Text = c.template(cp, v.Str)
		}
		return out
	case st.ChangeStatus != nil:
		out := &ir.ChangeStatus{}
		out.Program = cp.Program
		if st.ChangeStatus.Program != nil {
			p, ok := c.ws(ws).programs[st.ChangeStatus.Program.Value()]
			if clonesFrom(cp.Program, st.ChangeStatus.Program.Value()) {
				p, ok = cp.Program, true // the template's name means the clone
			}
			if !ok {
				s, e := rng(st.ChangeStatus.Program.Pos, st.ChangeStatus.Program.EndPos)
				sug := nearest(st.ChangeStatus.Program.Value(), names(c.ws(ws).programs))
				d := c.errorf(cp, und, s, e, "undefined program %q%s", st.ChangeStatus.Program.Value(), didYouMean(sug, true))
				d.Suggestion = sug
				return out
			}
			out.Program = p
			c.refStr(cp, st.ChangeStatus.Program, p, false)
		}
		to := st.ChangeStatus.To
		out.Status = to.Value()
		if out.Program != nil && out.Program.StatusIndex(out.Status) >= 0 {
			c.refStr(cp, to, StatusName{Program: out.Program, Name: out.Status}, false)
		}
		if out.Program != nil && out.Program.StatusIndex(out.Status) < 0 {
			s, e := rng(to.Pos, to.EndPos)
			sug := nearest(out.Status, statusNames(out.Program))
			d := c.errorf(cp, und, s, e, "undefined status %q in program %q%s", out.Status, out.Program.Name, didYouMean(sug, true))
			d.Suggestion = sug
		}
		return out
	case st.ChangePart != nil:
		out := &ir.ChangePartition{}
		out.Partition = st.ChangePart.Value()
		if _, ok := c.ws(ws).partitions[out.Partition]; !ok && !(len(c.ws(ws).partitions) == 0 && out.Partition == "Default") {
			s, e := rng(st.ChangePart.Pos, st.ChangePart.EndPos)
			if other := c.partitionOwner(ws, out.Partition); other != nil {
				d := c.errorf(cp, lang.CodeCrossWorkspace, s, e, "partition %q belongs to workspace %q, not %q; a campaign can only move people into partitions its own workspace sees", out.Partition, other.Name, ws.Name)
				d.Related = append(d.Related, lang.Related{Message: "declared here", Start: c.ws(other).partitions[out.Partition], End: c.ws(other).partitions[out.Partition]})
				return out
			}
			// Suggestions come from the campaign's own workspace only: another
			// workspace's names are not the author's to see.
			sug := nearest(out.Partition, ws.Partitions)
			d := c.errorf(cp, und, s, e, "undefined partition %q in workspace %q%s", out.Partition, ws.Name, didYouMean(sug, true))
			d.Suggestion = sug
		}
		return out
	case st.AddToList != nil:
		out := &ir.AddToList{}
		out.List, _ = lookup(c, cp, und, "list", assets, pickLists, st.AddToList, "")
		return out
	case st.RemoveFromList != nil:
		out := &ir.RemoveFromList{}
		out.List, _ = lookup(c, cp, und, "list", assets, pickLists, st.RemoveFromList, "")
		return out
	case st.SendEmail != nil:
		out := &ir.SendEmail{}
		out.Email, _ = lookup(c, cp, und, "email", assets, pickEmails, st.SendEmail, "")
		return out
	case st.SendAlert != nil:
		out := &ir.SendAlert{}
		out.Text = c.template(cp, st.SendAlert.Text)
		out.To = c.template(cp, st.SendAlert.To)
		return out
	case st.Moment != nil || st.AddMoment != nil:
		m := st.Moment
		if m == nil {
			m = st.AddMoment
		}
		out := &ir.Moment{}
		out.Moment = m.Type.Name
		if !contains(stdlib.MomentTypes, out.Moment) {
			s, e := rng(m.Type.Pos, m.Type.EndPos)
			sug := nearest(out.Moment, stdlib.MomentTypes)
			d := c.errorf(cp, lang.CodeSyntax, s, e, "unknown interesting moment type %q (email, web or milestone)%s", out.Moment, didYouMean(sug, false))
			d.Suggestion = sug
		}
		out.Text = c.template(cp, m.Text)
		return out
	case st.Wait != nil:
		out := &ir.Wait{}
		switch w := st.Wait; {
		case w.Until != nil:
			out.Until, _ = c.clockTime(cp, w.Until)
		case w.UntilToken != nil:
			out.Text = c.waitToken(cp, w.UntilToken)
		default:
			out.Wait, _ = c.duration(cp, w.For)
			out.Weekdays = c.weekdays(cp, w.Weekdays)
			out.Zone = time.UTC
			if w.At != nil {
				out.At, out.Zone = c.timeOfDay(cp, w.At)
			}
		}
		return out
	case st.CallWebhook != nil:
		out := &ir.CallWebhook{}
		out.Webhook, _ = lookup(c, cp, und, "webhook", assets, pickWebhooks, st.CallWebhook, "")
		return out
	case st.Request != nil:
		return &ir.Request{Target: c.campaignRef(cp, ws, st.Request, false)}
	case st.Execute != nil:
		return &ir.Execute{Target: c.campaignRef(cp, ws, st.Execute.Target, false), Parent: st.Execute.ParentTokens}
	case st.RemoveFromFlow != nil:
		out := &ir.RemoveFromFlow{}
		out.This = st.RemoveFromFlow.This
		for _, ref := range st.RemoveFromFlow.Targets {
			if t := c.campaignRef(cp, ws, ref, true); t != nil {
				out.Targets = append(out.Targets, t)
			}
		}
		return out
	case st.DeletePerson:
		return &ir.DeletePerson{}
	case st.If != nil:
		out := &ir.If{}
		for _, br := range append([]*lang.Branch{st.If.First}, st.If.ElseIf...) {
			x := &condCtx{cp: cp, ws: ws, assets: assets, owner: ir.Key(ws.Name, cp.Name, "flow"), samples: &c.cmp(cp).samples}
			b := &ir.Branch{Cond: c.expr(x, br.Cond), Text: c.text(br.Cond.Pos, br.Cond.EndPos), Steps: c.steps(cp, br.Body.Steps), Pos: lang.Pos(br.Pos)}
			c.branchSrc[b] = br
			out.Branches = append(out.Branches, b)
		}
		if st.If.Else != nil {
			out.HasElse = true
			out.Else = c.steps(cp, st.If.Else.Steps)
		}
		return out
	case st.ChangeOwner != nil:
		out := &ir.ChangeOwner{}
		out.To = c.template(cp, st.ChangeOwner.To)
		if strings.TrimSpace(st.ChangeOwner.To.Value()) == "" {
			s, e := rng(st.ChangeOwner.To.Pos, st.ChangeOwner.To.EndPos)
			c.errorf(cp, lang.CodeTypeMismatch, s, e, "change owner needs the new owner: a user's email address or name")
		}
		return out
	case st.SyncToCRM:
		return &ir.SyncToCRM{}
	case st.CreateTask != nil:
		out := &ir.CreateTask{}
		out.Text = c.template(cp, st.CreateTask.Subject)
		if strings.TrimSpace(st.CreateTask.Subject.Value()) == "" {
			s, e := rng(st.CreateTask.Subject.Pos, st.CreateTask.Subject.EndPos)
			c.errorf(cp, lang.CodeTypeMismatch, s, e, "create task needs a subject")
		}
		if st.CreateTask.For != nil {
			out.To = c.template(cp, st.CreateTask.For)
		}
		return out
	case st.Engagement != nil:
		s, e := rng(st.Pos, st.EndPos)
		c.errorf(cp, lang.CodeSyntax, s, e, "add to engagement program is out of scope: campc has no engagement programs (streams and casts); write the nurture as a campaign with waits, or send the people to the host with sync person to CRM")
		return nil
	case st.Unknown != nil:
		if h := st.Unknown.Head; h.Name == "until" || h.Name == "on" {
			// The tail of a wait whose options did not parse (the parser
			// backtracks out of an optional group and starts a new step).
			s, e := rng(h.Pos, h.EndPos)
			c.errorf(cp, lang.CodeSyntax, s, e, "%q here continues a wait, but what follows does not fit: write wait N unit [on weekdays Mon-Fri] [until 09:00 \"Europe/Berlin\"], a time of day as HH:MM and then a zone", h.Name)
			return nil
		}
		c.unknownWord(cp, st.Unknown.Head, st.Unknown.Tail(), "step", stdlib.StepKeywords)
		return nil
	}
	return nil
}

// waitToken compiles "wait until "{{token}}"": one token reference and
// nothing else, which must hold a date when it runs. What the reference
// names is checked with the other token references (checkTokens).
func (c *checker) waitToken(cp *ir.Campaign, s *lang.Str) ir.Template {
	t := c.template(cp, s)
	if len(t.Parts) != 1 || t.Parts[0].Ref == nil {
		st, e := rng(s.Pos, s.EndPos)
		c.errorf(cp, lang.CodeTypeMismatch, st, e, "wait until takes a date (2026-12-24), a date-time (2026-12-24T09:00:00Z) or one token reference in quotes (\"{{my.Event Date}}\"), not %s", s.Raw)
	}
	return t
}

// weekdayNames are the days a wait may resume on, from Monday.
var weekdayNames = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// weekday finds a day by its three-letter or full English name, ignoring case.
func weekday(name string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(name, d.String()) || strings.EqualFold(name, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

// weekdays compiles "on weekdays Mon-Fri, Sun": days and ranges of days; a
// range may wrap past Sunday (Fri-Mon).
func (c *checker) weekdays(cp *ir.Campaign, spans []*lang.DaySpan) ir.Weekdays {
	var out ir.Weekdays
	day := func(id *lang.Ident) (time.Weekday, bool) {
		d, ok := weekday(id.Name)
		if !ok {
			s, e := rng(id.Pos, id.EndPos)
			sug := nearest(id.Name, weekdayNames)
			dg := c.errorf(cp, lang.CodeSyntax, s, e, "unknown weekday %q (Mon, Tue, Wed, Thu, Fri, Sat or Sun)%s", id.Name, didYouMean(sug, false))
			dg.Suggestion = sug
		}
		return d, ok
	}
	for _, sp := range spans {
		from, ok := day(sp.From)
		if !ok {
			continue
		}
		to := from
		if sp.To != nil {
			if to, ok = day(sp.To); !ok {
				continue
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			out |= 1 << d
			if d == to {
				break
			}
		}
	}
	return out
}

// timeOfDay compiles "until HH:MM ZONE". The zone comes from the host's
// time zone database (Options.Zones); "Local" is refused, as it would make
// a wait depend on the machine that runs it.
func (c *checker) timeOfDay(cp *ir.Campaign, t *lang.TimeOfDay) (*ir.TimeOfDay, *time.Location) {
	h, m, _ := strings.Cut(t.Clock, ":")
	hour, _ := strconv.Atoi(h)
	minute, _ := strconv.Atoi(m)
	if hour > 23 || minute > 59 {
		s, e := rng(t.Pos, t.Pos)
		e.Column += len(t.Clock)
		e.Offset += len(t.Clock)
		c.errorf(cp, lang.CodeTypeMismatch, s, e, "%s is not a time of day (00:00 to 23:59)", t.Clock)
	}
	name, zs, ze := "", t.EndPos, t.EndPos
	if t.Zone != nil {
		name, zs, ze = t.Zone.Value(), t.Zone.Pos, t.Zone.EndPos
	} else {
		name, zs, ze = t.ZoneWord.Name, t.ZoneWord.Pos, t.ZoneWord.EndPos
	}
	out := &ir.TimeOfDay{Hour: hour, Minute: minute, ZoneName: name}
	if name == "UTC" {
		return out, time.UTC
	}
	s, e := rng(zs, ze)
	if c.zones == nil {
		c.errorf(cp, lang.CodeUndefined, s, e, "unknown time zone %q: the host gave no time zone database, so only UTC is known", name)
		return out, time.UTC
	}
	var loc *time.Location
	err := fmt.Errorf("not a zone name")
	if name != "" && name != "Local" {
		loc, err = c.zones(name)
	}
	if err != nil || loc == nil {
		c.errorf(cp, lang.CodeUndefined, s, e, "unknown time zone %q: name one from the IANA database, such as \"Europe/Berlin\" or \"America/New_York\", or UTC", name)
		return out, time.UTC
	}
	return out, loc
}

func statusNames(p *ir.ProgramDef) []string {
	out := make([]string, len(p.Statuses))
	for i, s := range p.Statuses {
		out[i] = s.Name
	}
	return out
}

// condCtx is where a condition stands: in a smart list (then every problem
// makes the smart list invalid) or in an if step.
type condCtx struct {
	cp      *ir.Campaign
	ws      *ir.Workspace
	assets  *assetScope // where asset names resolve from
	sl      *ir.SmartList
	owner   string // "Workspace/Campaign" or "Workspace/Smart List", for sample keys
	samples *int   // samples seen so far in the owner
}

// fail reports a problem in a condition. Inside a smart list every problem
// is invalid_smart_list and the list qualifies nobody; elsewhere the code
// says what kind of problem it is.
func (c *checker) fail(x *condCtx, code lang.Code, start, end lang.Position, sug string, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if x.sl != nil {
		if x.sl.Invalid == "" {
			x.sl.Invalid = msg
		}
		code = lang.CodeInvalidSmartList
		msg += didYouMean(sug, !strings.HasPrefix(format, "undefined field")) + "; the smart list is invalid and nobody would qualify"
	} else {
		msg += didYouMean(sug, !strings.HasPrefix(format, "undefined field"))
	}
	d := c.errorf(x.cp, code, start, end, "%s", msg)
	d.Suggestion = sug
}

// field resolves a person field; x is nil outside conditions.
func (c *checker) field(cp *ir.Campaign, ws *ir.Workspace, id *lang.Ident, x *condCtx) *ir.Field {
	if f := c.ws(ws).fields[id.Name]; f != nil {
		c.refIdent(cp, id, f, false)
		return f
	}
	s, e := rng(id.Pos, id.EndPos)
	sug := nearest(id.Name, fieldNames(ws))
	if x == nil {
		x = &condCtx{cp: cp, ws: ws}
	}
	c.fail(x, lang.CodeUndefined, s, e, sug, "undefined field %s", id.Name)
	return nil
}

func fieldNames(ws *ir.Workspace) []string {
	out := make([]string, len(ws.Fields))
	for i, f := range ws.Fields {
		out[i] = f.Name
	}
	return out
}
