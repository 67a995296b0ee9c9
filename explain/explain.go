// Package explain says why a person did or did not go through a
// campaign, step by step, from the engine's trace: the text of campc
// explain and of the console's Explain box. It runs the engine on a copy
// of the person in memory, so an explanation writes nothing.
package explain

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// NewWriter makes a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Explained reports whether a campaign considered anybody.
func (x *Writer) Explained() bool { return x.person != "" }

// Writer renders trace events as an indented explanation: for each
// campaign, its filters with what they saw, the logic and qualification
// verdicts, then each step with its tokens, branches and activities, and
// executed children explained the same way, one level deeper.
type Writer struct {
	w        io.Writer
	person   string            // the person of the last header, to separate people
	campaign *ir.Campaign      // the campaign of the last header
	open     bool              // the last header's flow is running, not ended or waiting
	started  map[rootFlow]bool // root flows whose "flow:" heading is printed
}

// rootFlow is one person's flow of one campaign; the campaign, not its
// name, since names repeat across workspaces.
type rootFlow struct {
	person   string
	campaign *ir.Campaign
}

// line writes one line of the explanation, escaped (lang.Escape): source
// text, names and values in it must not drive the terminal.
func (x *Writer) line(depth, extra int, format string, args ...any) {
	fmt.Fprintf(x.w, "%s%s\n", strings.Repeat("  ", depth*3+extra), lang.Escape(fmt.Sprintf(format, args...)))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (x *Writer) Trace(e vm.TraceEvent) {
	d := e.Depth
	switch e.Kind {
	case vm.TraceStart:
		if d == 0 {
			if x.person != "" {
				fmt.Fprintln(x.w)
			}
			x.person, x.campaign, x.open = e.Person, e.Campaign, true
			x.line(0, 0, "person %s, campaign %q (%s)", lang.QuoteIfNeeded(e.Person), e.Campaign.Name, e.Campaign.Kind)
		} else {
			x.line(d, 0, "campaign %q (%s)", e.Campaign.Name, e.Campaign.Kind)
		}
		x.line(d, 1, "smart list:")
	case vm.TraceTrigger:
		x.line(d, 2, "%s  [heard %s] %s", e.Text, e.Saw, yesNo(e.Result))
	case vm.TraceFilter:
		x.line(d, 2, "filter %d: %s  [saw %s] %s", e.Filter, e.Cond.Base().Text, e.Saw, yesNo(e.Result))
	case vm.TraceLogic:
		verdict := "qualifies"
		if !e.Result {
			verdict = "does not qualify"
		}
		if e.Reason != "" {
			verdict += " (" + e.Reason + ")"
		}
		if e.Text == "" || e.Text == "no filters" {
			x.line(d, 2, "%s%s", map[bool]string{true: "no filters: ", false: ""}[e.Text != ""], verdict)
		} else {
			x.line(d, 2, "logic %s: %s", e.Text, verdict)
		}
	case vm.TraceQualify:
		verdict := "lets the person in"
		if !e.Result {
			verdict = "keeps the person out"
		}
		x.line(d, 1, "qualification: %s: %s", e.Text, verdict)
	case vm.TraceInFlow:
		x.line(d, 1, "campaign %q: the person is in its flow already (%s): does not enter again", e.Campaign.Name, e.Text)
	case vm.TraceEnter:
		how := "its own token context"
		if e.Parent {
			how = "the caller's token context (use parent tokens)"
		}
		x.line(d, 1, "flow, in %s:", how)
	case vm.TraceStep:
		if d == 0 && (!x.open || x.person != e.Person || x.campaign != e.Campaign) {
			// A flow resumed from a wait (advance, --until): its own
			// heading, not the steps of whoever was explained last.
			if x.person != "" {
				fmt.Fprintln(x.w)
			}
			x.person, x.campaign, x.open = e.Person, e.Campaign, true
			x.line(0, 0, "person %s, campaign %q (%s), resumed:", lang.QuoteIfNeeded(e.Person), e.Campaign.Name, e.Campaign.Kind)
			x.line(0, 1, "flow:")
			x.lastDepth0Flow(e)
		} else if d == 0 && e.Step != nil && x.lastDepth0Flow(e) {
			x.line(0, 1, "flow:")
		}
		src := e.Step.Base().Source
		if _, ok := e.Step.(*ir.If); ok {
			src = "if …"
		}
		x.line(d, 2, "%s: %s", e.Step.Base().Pos, src)
	case vm.TraceToken:
		x.line(d, 3, "%s = %q  from %s", e.Token, e.Value, e.From)
	case vm.TraceBranch:
		switch {
		case e.Branch == 0:
			x.line(d, 3, "no choice matched; nothing runs")
		case e.Text == "else":
			x.line(d, 3, "choice %d (else) taken", e.Branch)
		default:
			x.line(d, 3, "choice %d taken: %s", e.Branch, e.Text)
		}
	case vm.TraceActivity:
		a := e.Activity
		x.line(d, 3, "→ %s %q%s", a.Type, a.Primary, FormatAttrs(a.Attributes))
	case vm.TraceLeave:
		x.line(d, 1, "%s", e.Text)
		if d == 0 {
			x.open = false
		}
	}
}

// lastDepth0Flow reports whether this is the first step of a root flow,
// so that the "flow:" heading is printed once per root campaign.
func (x *Writer) lastDepth0Flow(e vm.TraceEvent) bool {
	key := rootFlow{e.Person, e.Campaign}
	if x.started == nil {
		x.started = map[rootFlow]bool{}
	}
	if x.started[key] {
		return false
	}
	x.started[key] = true
	return true
}

func FormatAttrs(attrs storage.Attrs) string {
	if len(attrs) == 0 {
		return ""
	}
	sorted := append(storage.Attrs(nil), attrs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	var parts []string
	for _, a := range sorted {
		parts = append(parts, a.Key+": "+a.Value.String())
	}
	return "  {" + strings.Join(parts, ", ") + "}"
}

// SimulatedEvent is the event that a trigger campaign's first trigger
// listens to, for campc run to deliver.
func SimulatedEvent(c *ir.Campaign) (storage.Event, error) {
	t := c.SmartList.Triggers[0]
	ev := storage.Event{Kind: t.Kind, Workspace: c.Workspace.Name}
	switch t.Kind {
	case ir.TrigStatusChanged:
		p := t.Program
		if p == nil {
			p = c.Program
		}
		if t.Status == "" {
			return ev, fmt.Errorf("campaign %q listens to any status change; campc run needs a trigger that names the status (to \"S\")", c.Name)
		}
		ev.Program, ev.Status = p.Name, t.Status
	case ir.TrigAddedToList, ir.TrigRemovedFromList:
		ev.List, ev.ListKey = t.List.Name, t.List.Key
	case ir.TrigFillsOutForm:
		ev.Form = t.Form.Name
		if t.WebPage != nil {
			ev.WebPage = t.WebPage.Name
		}
	// Engagement triggers (issue 11): the event they name, on the link
	// they name.
	case ir.TrigOpensEmail, ir.TrigClicksEmail, ir.TrigEmailDelivered, ir.TrigEmailBounces, ir.TrigUnsubscribes:
		ev.Email, ev.Link = t.Email.Name, t.Link
	case ir.TrigVisitsPage, ir.TrigClicksPage:
		ev.WebPage, ev.Link = t.WebPage.Name, t.Link
	case ir.TrigCreated:
	case ir.TrigRequested:
		return ev, fmt.Errorf("campaign %q listens for requests from flow only; add api to its trigger (\"trigger campaign is requested from flow, api\") to run it directly", c.Name)
	default:
		return ev, fmt.Errorf("campaign %q is started by a data or score change, which campc run cannot simulate; give it \"trigger campaign is requested from api\" to run it directly", c.Name)
	}
	return ev, nil
}

// Person explains campaign c for one person at now, as campc explain
// --db does: the person and their parked waits are copied into memory, the
// campaign is started for them (a batch run, an API request, or its
// first trigger's event), and the trace is written to w. Nothing is
// written to the person's store.
func Person(ctx context.Context, prog *ir.Program, who *storage.Person, waits []*storage.Parked, c *ir.Campaign, tokens map[string]string, now time.Time, w io.Writer) error {
	if c.Kind == ir.Executable {
		return fmt.Errorf("campaign %q is executable: it runs only when another campaign executes it", c.Name)
	}
	if c.Kind == ir.Trigger && !c.Workspace.Sees(who.Partition) {
		return fmt.Errorf("person %s is in partition %q, which workspace %q does not see", lang.QuoteIfNeeded(who.ID), who.PartitionName(), c.Workspace.Name)
	}
	st := memstore.New()
	st.PutPeople(who)
	if len(waits) > 0 {
		tx, err := st.Begin(ctx)
		if err != nil {
			return err
		}
		if err := tx.Apply(&storage.Commit{Park: waits}); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	x := NewWriter(w)
	eng, err := vm.New(prog, vm.Options{Store: st, Clock: vm.NewManualClock(now), Tracer: x})
	if err != nil {
		return err
	}
	opts := vm.RunOptions{Workspace: c.Workspace.Name, Tokens: tokens}
	switch {
	case c.Kind == ir.Batch:
		_, err = eng.RunBatch(ctx, c.Name, opts)
	case c.Requestable("api"):
		_, err = eng.Request(ctx, c.Name, []string{who.ID}, opts)
	default:
		var ev storage.Event
		if ev, err = SimulatedEvent(c); err == nil {
			ev.Person = who.ID
			_, err = eng.Deliver(ctx, ev)
		}
	}
	if !x.Explained() {
		fmt.Fprintf(w, "person %s: campaign %q did not consider this person (not in its workspace's partitions, or its trigger did not fire)\n", lang.Escape(lang.QuoteIfNeeded(who.ID)), c.Name)
	}
	return err
}
