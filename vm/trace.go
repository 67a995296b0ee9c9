package vm

import (
	"fmt"
	"slices"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// TraceKind says what a TraceEvent reports.
type TraceKind int

// Trace event kinds, in the order a pass produces them.
const (
	TraceStart    TraceKind = iota // a campaign's flow is considered for a person (Campaign)
	TraceFilter                    // one smart-list filter (Filter, Cond, Saw, Result)
	TraceLogic                     // the smart list's verdict (Text, Result, Reason)
	TraceQualify                   // the qualification rule's verdict (Text, Result)
	TraceStep                      // a step runs (Step)
	TraceToken                     // a token was resolved for the step (Token, Value, From)
	TraceBranch                    // an if chose a branch (Step, Branch: 1-based, 0 = none)
	TraceEnter                     // an executed child starts (Campaign, Parent)
	TraceLeave                     // a campaign's flow ended for the person (Campaign, Text says how)
	TraceActivity                  // a step wrote an activity (Activity)
	// TraceTrigger: the trigger that started a trigger campaign, and the
	// event it heard (Text: the trigger as written, Saw: the event); it
	// comes after TraceStart, before the filters.
	TraceTrigger
	// TraceInFlow: the person is in the campaign's flow already, so they
	// do not enter it again (Campaign; Text says how: waiting in it, or
	// queued for it). It takes the place of the qualification verdict.
	TraceInFlow
)

// TraceEvent is one thing the engine did or decided for a person, for
// explanations. Depth is the Execute Campaign nesting (0 for the root).
type TraceEvent struct {
	Kind     TraceKind
	Depth    int
	Person   string
	Campaign *ir.Campaign
	Filter   int // 1-based filter number
	Cond     ir.Cond
	Saw      string // what the filter looked at
	Result   bool
	Reason   string
	Text     string
	Step     ir.Step
	Branch   int
	Token    *ir.TokenRef
	Value    string
	From     string // where the token's value came from
	Parent   bool   // TraceEnter: use parent tokens
	Activity *storage.Activity
}

// Tracer receives trace events. The engine calls it synchronously.
type Tracer interface {
	Trace(e TraceEvent)
}

// TraceFunc adapts a function to Tracer.
type TraceFunc func(TraceEvent)

// Trace implements Tracer.
func (f TraceFunc) Trace(e TraceEvent) { f(e) }

func (ps *pass) tracing() bool { return ps.r.e.tracer != nil }

func (ps *pass) trace(e TraceEvent) {
	e.Person = ps.p.ID
	if len(ps.stack) > 0 && e.Depth == 0 {
		e.Depth = ps.stack[len(ps.stack)-1].frame.depth
	}
	ps.r.e.tracer.Trace(e)
}

// traceSmartList reports every filter of a smart list with what it saw,
// then the verdict; depth is the campaign's nesting.
func (ps *pass) traceSmartList(c *ir.Campaign, depth int) {
	sl := c.SmartList
	ws := c.Workspace
	if sl.Invalid != "" {
		ps.trace(TraceEvent{Kind: TraceLogic, Depth: depth, Campaign: c, Result: false, Reason: "invalid smart list: " + sl.Invalid})
		return
	}
	for i, f := range sl.Filters {
		ps.trace(TraceEvent{Kind: TraceFilter, Depth: depth, Campaign: c, Filter: i + 1, Cond: f, Saw: ps.saw(f, ws), Result: ps.cond(f, ws, 0)})
	}
	ok, reason := ps.smartList(sl, ws, 0)
	text := sl.LogicText
	if text == "" {
		text = "all"
	}
	if len(sl.Filters) == 0 {
		text = "no filters"
	}
	ps.trace(TraceEvent{Kind: TraceLogic, Depth: depth, Campaign: c, Text: text, Result: ok, Reason: reason})
}

// saw describes what a condition looked at for the person.
func (ps *pass) saw(c ir.Cond, ws *ir.Workspace) string {
	p := ps.p
	switch c := c.(type) {
	case *ir.MemberList:
		if c.List != nil && p.InListOf(c.List) {
			return "a member"
		}
		return "not a member"
	case *ir.MemberSmartList:
		if c.SmartList != nil && c.SmartList.List != nil {
			if ok, _ := ps.smartList(c.SmartList.List, ws, 0); ok {
				return "in the smart list"
			}
		}
		return "not in the smart list"
	case *ir.MemberProgram:
		if c.Program == nil {
			return "not a member"
		}
		if st, ok := p.ProgramStatus(c.Program.Key); ok {
			return fmt.Sprintf("status %q", st)
		}
		return "not a member"
	case *ir.ActivityCond:
		if primary, workspace, ok := c.Subject(); ok {
			return countText(ps.countLog(stdlib.FilterActivity[c.Kind], primary, c.Window, workspace))
		}
		return ""
	case *ir.Sample:
		return "the sample draw"
	case *ir.FieldCond:
		if c.Field == nil {
			return ""
		}
		v, ok := p.FieldOf(c.Field)
		if !ok || v.Null {
			return c.Field.Name + " is empty"
		}
		return fmt.Sprintf("%s = %s", c.Field.Name, quoteValue(v))
	}
	return ""
}

// traceTrigger reports which trigger of a trigger campaign heard the event
// that started it.
func (ps *pass) traceTrigger(c *ir.Campaign, ev *storage.Event) {
	if ev == nil || c.Kind != ir.Trigger {
		return
	}
	t := heardBy(c, ev)
	if t == nil {
		return
	}
	ps.trace(TraceEvent{Kind: TraceTrigger, Campaign: c, Text: t.Text, Saw: describeEvent(ev), Result: true})
}

// heardBy is the trigger of c that an event meets, or nil.
func heardBy(c *ir.Campaign, ev *storage.Event) *ir.TriggerDef {
	for _, t := range c.SmartList.Triggers {
		if t.Kind != ev.Kind {
			continue
		}
		if t.Kind == ir.TrigRequested {
			if len(t.Sources) == 0 || slices.Contains(t.Sources, ev.Source) {
				return t
			}
			continue
		}
		if triggerMet(t, ev) {
			return t
		}
	}
	return nil
}

// describeEvent says what happened, for explanations.
func describeEvent(ev *storage.Event) string {
	s := triggerName(ev.Kind)
	switch ev.Kind {
	case ir.TrigRequested:
		s += " from " + ev.Source
	case ir.TrigStatusChanged:
		s += fmt.Sprintf(" in %q to %q", ev.Program, ev.Status)
	case ir.TrigDataChanges, ir.TrigScoreChanged:
		s += fmt.Sprintf(" %s from %q to %q", ev.Field, ev.Old, ev.New)
	case ir.TrigAddedToList, ir.TrigRemovedFromList:
		s += fmt.Sprintf(" %q", ev.List)
	case ir.TrigFillsOutForm:
		s += fmt.Sprintf(" %q", ev.Form)
		if ev.WebPage != "" {
			s += fmt.Sprintf(" on web page %q", ev.WebPage)
		}
	case ir.TrigOpensEmail, ir.TrigClicksEmail, ir.TrigEmailDelivered, ir.TrigEmailBounces, ir.TrigUnsubscribes:
		s += fmt.Sprintf(" %q", ev.Email)
	case ir.TrigVisitsPage, ir.TrigClicksPage:
		s += fmt.Sprintf(" %q", ev.WebPage)
	}
	if ev.Link != "" {
		s += fmt.Sprintf(" link %q", ev.Link)
	}
	return s
}

func countText(n int) string {
	if n == 1 {
		return "1 matching activity"
	}
	return fmt.Sprintf("%d matching activities", n)
}

func quoteValue(v ir.Value) string {
	s := storage.FormatValue(v)
	if v.Type.IsText() || v.Type.IsTime() {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// traceTokens reports the tokens a step resolves, with where each came from.
func (ps *pass) traceTokens(ts []ir.Template, f *frame) {
	seen := map[string]bool{}
	for _, t := range ts {
		for _, part := range t.Parts {
			r := part.Ref
			if r == nil || seen[r.String()] {
				continue
			}
			seen[r.String()] = true
			v, from := ps.tokenSource(r, f)
			if v == "" && r.HasDefault {
				v, from = r.Default, "the default in the reference"
			}
			ps.trace(TraceEvent{Kind: TraceToken, Token: r, Value: v, From: from})
		}
	}
}

// tokenSource resolves a reference like tokenValue and says where the
// value came from.
func (ps *pass) tokenSource(r *ir.TokenRef, f *frame) (string, string) {
	tc := f.tokens
	switch r.Family {
	case ir.FamLead:
		return ps.tokenValue(r, f), "the person's field " + r.Name
	case ir.FamMy:
		if v, ok := tc.overrides[r.Name]; ok {
			return v, "an API override of this run"
		}
		for i, s := range tc.my {
			for sc := s; sc != nil; sc = sc.Parent {
				if t := sc.Tokens[r.Name]; t != nil {
					from := sc.Owner
					if f.parent && i < len(tc.my)-1 && s != tc.my[len(tc.my)-1] {
						from += " (the caller's context)"
					}
					return t.Value, from
				}
			}
		}
		return "", "nowhere: no such My Token in this context"
	case ir.FamCampaign:
		return ps.tokenValue(r, f), fmt.Sprintf("campaign %q", tc.campaign.Name)
	case ir.FamProgram:
		if tc.program != nil {
			return ps.tokenValue(r, f), fmt.Sprintf("program %q", tc.program.Name)
		}
	case ir.FamMember:
		if tc.program != nil {
			return ps.tokenValue(r, f), fmt.Sprintf("membership in program %q", tc.program.Name)
		}
	case ir.FamTrigger:
		if tc.trigger == nil {
			return "", "no trigger started this run"
		}
		return ps.tokenValue(r, f), "the triggering event"
	case ir.FamSystem:
		return ps.tokenValue(r, f), "the engine's clock"
	}
	return ps.tokenValue(r, f), r.Family.String()
}

// qualifyText describes a campaign's rule and the person's history.
func (ps *pass) qualifyText(c *ir.Campaign) string {
	rule := "once"
	switch c.Qualify.Rule {
	case ir.QualifyEveryTime:
		rule = "every time"
	case ir.QualifyEvery:
		rule = "once every " + formatWait(c.Qualify.Every)
	}
	if !c.Qualify.Explicit {
		rule += " (the default)"
	}
	if last, ok := ps.p.RunAt(c.Key); ok {
		return fmt.Sprintf("qualify %s; last ran %s", rule, last.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return fmt.Sprintf("qualify %s; never ran", rule)
}
