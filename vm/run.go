package vm

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// work is a flow run waiting its turn: a request, or a triggered campaign.
type work struct {
	person   string
	campaign *ir.Campaign
	tokens   map[string]string
	trigger  *storage.Event
	queued   *storage.Queued // its entry in the store's queue, if it has one
	chain    *link           // the cascade that queued it (nil when it started one)
}

// run is the state of one operation: its clock reading, its report, its
// current transaction, and the FIFO of flow runs that requests and events
// have queued.
type run struct {
	e       *Engine
	ctx     context.Context
	now     time.Time
	report  *Report
	tx      storage.Tx
	pending *Report // what the current transaction will add to report
	queue   []work
	// deferRuns leaves the queue in the store (Options.DeferRuns): set by
	// the outside operations, whose drain then runs nothing.
	deferRuns bool
	cascades  map[string]int
	// hooks counts the webhook calls of each step for each person in the
	// current transaction, so that two calls get two idempotency keys and
	// a transaction done again (a batch group redone) the same ones.
	hooks map[string]int
	// parkedMin is the earliest due time of the waits parked since Advance
	// last looked, so that it can keep waits in due order.
	parkedMin time.Time
	// Buffers that successive passes reuse, so that a pass allocates no
	// stack of its own.
	stack    []*cursor
	cursors  []*cursor
	actBuf   []*storage.Activity // see actSlab
	actChunk []storage.Activity  // see newActivity
}

// now reads the clock, to the microsecond (see Clock).
func (e *Engine) now() time.Time { return e.clock.Now().UTC().Truncate(time.Microsecond) }

func (e *Engine) newRun(ctx context.Context) *run {
	return &run{e: e, ctx: ctx, now: e.now(), report: &Report{}, cascades: map[string]int{}}
}

// inTx runs fn in a transaction: committed when fn succeeds, rolled back
// (with its part of the report and queue) when it fails.
func (r *run) inTx(fn func() error) error {
	tx, err := r.e.store.Begin(r.ctx)
	if err != nil {
		return err
	}
	r.tx, r.pending, r.hooks = tx, &Report{}, nil
	defer func() { r.tx, r.pending = nil, nil }()
	if err := fn(); err != nil {
		tx.Rollback()
		r.queue = r.queue[:0]
		return err
	}
	if err := tx.Commit(); err != nil {
		r.queue = r.queue[:0]
		return err
	}
	r.report.Activities = append(r.report.Activities, r.pending.Activities...)
	r.report.Entered = append(r.report.Entered, r.pending.Entered...)
	return nil
}

// load reads a person in the current transaction: lent in the store's
// own form when it can (the in-memory store's rows), else decoded into
// the program's layout (the SQL stores), else a private copy.
func (r *run) load(id string) (*storage.Person, error) {
	if v, ok := r.tx.(storage.ViewLoader); ok {
		return v.LoadView(id)
	}
	if v, ok := r.tx.(storage.SlotLoader); ok && r.e.prog.Layout() != nil {
		return v.LoadSlots(r.e.prog.Layout(), id)
	}
	return r.tx.LoadPerson(id)
}

// orphan records an activity that belongs to no person's pass.
func (r *run) orphan(a *storage.Activity) {
	a.Time = r.now
	r.tx.Apply(&storage.Commit{Activities: []*storage.Activity{a}})
	r.pending.Activities = append(r.pending.Activities, a)
}

// start runs the root flow of w for person p when p qualifies: the smart
// list's filters match and the qualification rule lets p in.
func (r *run) start(w work, p *storage.Person) error {
	c := w.campaign
	ps := r.newPass(p, c)
	ps.taken = w.queued
	if w.queued != nil && w.queued.ID != 0 {
		ps.origin = "queue:" + strconv.FormatInt(w.queued.ID, 10)
	}
	ps.chain.prev = w.chain
	if ps.tracing() {
		ps.trace(TraceEvent{Kind: TraceStart, Campaign: c})
		ps.traceTrigger(c, w.trigger)
		ps.traceSmartList(c, 0)
	}
	if ok, _ := ps.smartList(c.SmartList, c.Workspace, 0); !ok {
		return r.dequeue(w)
	}
	// A person parked in a wait of this campaign is in its flow: they do
	// not enter it again, whatever the qualification rule says.
	if due, err := r.parkedIn(p.ID, c); err != nil {
		return err
	} else if !due.IsZero() {
		if ps.tracing() {
			ps.trace(TraceEvent{Kind: TraceInFlow, Campaign: c, Text: "waiting in it until " + due.UTC().Format(time.RFC3339)})
		}
		return r.dequeue(w)
	}
	q := ps.qualifies(c)
	if ps.tracing() {
		ps.trace(TraceEvent{Kind: TraceQualify, Campaign: c, Text: ps.qualifyText(c), Result: q})
	}
	if !q {
		return r.dequeue(w)
	}
	ps.recordRun(c)
	ps.entered = c
	r.pending.Entered = append(r.pending.Entered, Entry{Campaign: c, Person: p.ID})
	ps.push(ps.cursor(c.Flow, r.e.rootFrame(c, w.tokens, w.trigger)))
	return ps.finish(ps.exec())
}

// parkedIn is the due time of the person's earliest parked wait in
// campaign c, or the zero time when they are not waiting in it. Only a
// campaign whose flow has a wait can hold one, so others cost no read.
func (r *run) parkedIn(person string, c *ir.Campaign) (time.Time, error) {
	var due time.Time
	if !r.e.waits[c] && !(r.e.deferHooks && r.e.hooks[c]) {
		return due, nil
	}
	waits, err := r.tx.WaitsOf(person)
	if err != nil {
		return due, err
	}
	for _, w := range waits {
		if w.Campaign == c.Name && w.Workspace == c.Workspace.Name && (due.IsZero() || w.Due.Before(due)) {
			due = w.Due
		}
	}
	return due, nil
}

// rootFrame is the token context of a campaign started on its own.
func (e *Engine) rootFrame(c *ir.Campaign, tokens map[string]string, trigger *storage.Event) *frame {
	if tokens == nil && trigger == nil {
		return e.roots[c] // made in New, never changed: no lock
	}
	return newRootFrame(c, tokens, trigger)
}

func newRootFrame(c *ir.Campaign, tokens map[string]string, trigger *storage.Event) *frame {
	return &frame{campaign: c, tokens: &tokenCtx{my: ir.TokenScopes(c, nil, false), overrides: tokens,
		campaign: c, program: c.Program, trigger: trigger}}
}

// dequeue takes a queued run that will not run off the store's queue.
func (r *run) dequeue(w work) error {
	if w.queued == nil {
		return nil
	}
	return r.tx.Apply(&storage.Commit{Dequeue: []int64{w.queued.ID}})
}

// drain runs queued work first in, first out, in the current transaction.
// Each run reloads its person, so it sees what earlier passes wrote.
func (r *run) drain() error {
	if r.deferRuns {
		// Each entry is in the store's queue already (the pass that
		// queued it enqueued it in its commit): RunQueued runs it.
		r.queue = r.queue[:0]
		return nil
	}
	for len(r.queue) > 0 {
		w := r.queue[0]
		r.queue = r.queue[1:]
		if err := r.ctx.Err(); err != nil {
			return err
		}
		c := w.campaign
		if !r.e.Active(c) {
			if err := r.dequeue(w); err != nil {
				return err
			}
			continue
		}
		r.cascades[w.person]++
		if r.cascades[w.person] > r.e.cascades {
			chain := (&link{campaign: c, prev: w.chain}).names()
			return &Error{Campaign: c.Name, Person: w.person, Err: fmt.Errorf("%w: more than %d flow runs in one operation", ErrCascadeBudget, r.e.cascades), Chain: chain}
		}
		p, err := r.load(w.person)
		if err != nil {
			return err
		}
		if p == nil || !c.Workspace.Sees(p.Partition) {
			if err := r.dequeue(w); err != nil {
				return err
			}
			continue
		}
		if c.SmartList.Invalid != "" {
			r.orphan(&storage.Activity{Person: p.ID, Type: stdlib.ActSmartListInvalid, Campaign: c.Name, Workspace: c.Workspace.Name,
				Primary: c.Name, Attributes: storage.Attrs{{Key: "Reason", Value: storage.AttrStr(c.SmartList.Invalid)}, {Key: "Qualified", Value: storage.AttrBool(false)}}})
			if err := r.dequeue(w); err != nil {
				return err
			}
			continue
		}
		if err := r.start(w, p); err != nil {
			return err
		}
	}
	return nil
}

// matches lists the active trigger campaigns of every workspace that sees
// the person that listen to an event, as work to queue.
func (r *run) matches(p *storage.Person, ev *storage.Event) []work {
	var out []work
	for _, ws := range r.e.prog.Workspaces {
		if (ev.Workspace != "" && ws.Name != ev.Workspace) || !ws.Sees(p.Partition) {
			continue
		}
		cands := r.e.index[trigKey{ws: ws, kind: ev.Kind, primary: eventPrimary(ev)}]
		if ev.Kind == ir.TrigStatusChanged {
			cands = append(append([]*ir.Campaign{}, cands...), r.e.index[trigKey{ws: ws, kind: ev.Kind}]...)
		}
		seen := map[*ir.Campaign]bool{}
		for _, c := range cands {
			if seen[c] || !r.e.Active(c) || !triggerMatches(c, ev) {
				continue
			}
			seen[c] = true
			out = append(out, work{person: p.ID, campaign: c, trigger: ev})
		}
	}
	return out
}

// eventPrimary is the value an event is indexed by, as triggerPrimary is
// a trigger's.
func eventPrimary(ev *storage.Event) string {
	switch ev.Kind {
	case ir.TrigDataChanges, ir.TrigScoreChanged:
		return ev.Field
	case ir.TrigAddedToList, ir.TrigRemovedFromList:
		return ev.ListKey
	case ir.TrigFillsOutForm:
		return ev.Form
	case ir.TrigStatusChanged:
		return ev.Program
	case ir.TrigOpensEmail, ir.TrigClicksEmail, ir.TrigEmailDelivered, ir.TrigEmailBounces, ir.TrigUnsubscribes:
		return ev.Email
	case ir.TrigVisitsPage, ir.TrigClicksPage:
		return ev.WebPage
	}
	return ""
}

// triggerMatches applies a trigger's constraints beyond its index key. A
// campaign may have several triggers of one kind: the event must meet the
// constraints of one that names what it names.
func triggerMatches(c *ir.Campaign, ev *storage.Event) bool {
	for _, t := range c.SmartList.Triggers {
		if t.Kind != ev.Kind {
			continue
		}
		// Requests are queued directly, never matched.
		if t.Kind != ir.TrigRequested && triggerMet(t, ev) {
			return true
		}
	}
	return false
}

// triggerMet reports whether an event of the trigger's kind is the one it
// names, and meets its constraints.
func triggerMet(t *ir.TriggerDef, ev *storage.Event) bool {
	if t.Kind == ir.TrigStatusChanged {
		return (t.Program == nil || t.Program.Name == ev.Program) && (t.Status == "" || t.Status == ev.Status)
	}
	return triggerPrimary(t) == eventPrimary(ev) && constraintsMet(t, ev)
}

// constraintsMet applies a trigger's optional constraints (from/to, by at
// least, on web page, link) to an event of its kind.
func constraintsMet(t *ir.TriggerDef, ev *storage.Event) bool {
	switch t.Kind {
	case ir.TrigDataChanges:
		if t.Field == nil {
			return false
		}
		if t.From != nil && !valueIs(t.Field.Type, ev.Old, *t.From) {
			return false
		}
		if t.To != nil && !valueIs(t.Field.Type, ev.New, *t.To) {
			return false
		}
	case ir.TrigScoreChanged:
		if t.HasAtLeast {
			// Old is empty when the score had no value: it counted as 0.
			oldN, _ := strconv.ParseFloat(ev.Old, 64)
			newN, err := strconv.ParseFloat(ev.New, 64)
			if err != nil {
				return false
			}
			d := newN - oldN
			// A negative bound asks for a fall of at least that much.
			if (t.AtLeast > 0 && d < t.AtLeast) || (t.AtLeast < 0 && d > t.AtLeast) {
				return false
			}
		}
	case ir.TrigFillsOutForm:
		if t.WebPage != nil && t.WebPage.Name != ev.WebPage {
			return false
		}
	case ir.TrigClicksEmail, ir.TrigClicksPage:
		if t.Link != "" && !strings.EqualFold(t.Link, ev.Link) {
			return false
		}
	}
	return true
}

// valueIs reports whether an event's value, as text, equals a constraint's
// value of the field's type; an empty value equals nothing.
func valueIs(typ stdlib.FieldType, text string, want ir.Value) bool {
	if text == "" {
		return false
	}
	v, err := storage.ParseFieldValue(typ, text)
	return err == nil && !v.Null && equal(v, want)
}

// applyEvent makes a delivered event true of its person, logs it, and
// queues the campaigns that listen to it.
func (r *run) applyEvent(p *storage.Person, ev *storage.Event) error {
	ps := r.newPass(p, nil)
	var ws *ir.Workspace
	for _, w := range r.e.prog.Workspaces {
		if (ev.Workspace == "" || w.Name == ev.Workspace) && w.Sees(p.Partition) {
			ws = w
			break
		}
	}
	if ws == nil {
		return fmt.Errorf("person %q is not visible to any workspace", p.ID)
	}
	act := &storage.Activity{Workspace: ws.Name, Attributes: storage.Attrs{}}
	switch ev.Kind {
	case ir.TrigFillsOutForm:
		act.Type, act.Primary = stdlib.ActFillOutForm, ev.Form
		if ev.WebPage != "" {
			act.Attributes = storage.Attrs{{Key: "Web Page", Value: storage.AttrStr(ev.WebPage)}}
		}
	case ir.TrigDataChanges, ir.TrigScoreChanged:
		f := ws.Field(ev.Field)
		if f == nil {
			return fmt.Errorf("workspace %q has no field %q", ws.Name, ev.Field)
		}
		v, err := storage.ParseFieldValue(f.Type, ev.New)
		if err != nil {
			return fmt.Errorf("field %s: %v", f.Name, err)
		}
		old, _ := p.FieldOf(f)
		if storage.SameValue(old, v) {
			return nil // no change, so no event
		}
		ev.Old = storage.FormatValue(old)
		p.SetFieldOf(f, v)
		ps.touch()
		act.Type, act.Primary = stdlib.ActChangeDataValue, f.Name
		act.Attributes = storage.Attrs{{Key: "Old Value", Value: storage.AttrOf(old)}, {Key: "New Value", Value: storage.AttrOf(v)}}
	case ir.TrigAddedToList, ir.TrigRemovedFromList:
		key := ev.ListKey
		if key == "" {
			lists := ws.ListsNamed(ev.List)
			switch len(lists) {
			case 0:
				return fmt.Errorf("workspace %q has no list %q", ws.Name, ev.List)
			case 1:
				key = lists[0].Key
			default:
				return fmt.Errorf("workspace %q has several lists named %q (%s and others); give the event's ListKey", ws.Name, ev.List, lists[0].Key)
			}
			ev.ListKey = key
		}
		if p.InList(key) == (ev.Kind == ir.TrigAddedToList) {
			return nil // already so: no change, no event
		}
		p.SetInList(key, ev.Kind == ir.TrigAddedToList)
		if ev.Kind == ir.TrigAddedToList {
			act.Type = stdlib.ActAddToList
		} else {
			act.Type = stdlib.ActRemoveFromList
		}
		act.Primary = ev.List
	case ir.TrigStatusChanged:
		prog := ws.ProgramNamed(ev.Program)
		if prog == nil || prog.StatusIndex(ev.Status) < 0 {
			return fmt.Errorf("workspace %q has no program %q with status %q", ws.Name, ev.Program, ev.Status)
		}
		key := prog.Key
		if !statusMove(prog, p, key, ev.Status) {
			return nil // backwards or no move: nothing happens
		}
		ev.Old, _ = p.ProgramStatus(key)
		p.SetProgramStatus(key, ev.Status)
		act.Type, act.Primary = stdlib.ActChangeProgramStatus, ev.Program
		act.Attributes = storage.Attrs{{Key: "Old Status", Value: storage.AttrStr(ev.Old)}, {Key: "New Status", Value: storage.AttrStr(ev.Status)}}
	case ir.TrigCreated:
		act.Type, act.Primary = stdlib.ActNewPerson, p.ID
	case ir.TrigOpensEmail, ir.TrigClicksEmail, ir.TrigEmailDelivered, ir.TrigEmailBounces, ir.TrigUnsubscribes,
		ir.TrigVisitsPage, ir.TrigClicksPage:
		if err := engagement(act, ev); err != nil {
			return err
		}
	default:
		return fmt.Errorf("events of this kind are started with Request, not Deliver")
	}
	ps.add(act, nil, nil)
	ps.events = append(ps.events, *ev)
	if ev.Kind == ir.TrigUnsubscribes {
		ps.unsubscribe(ws, ev)
	}
	return ps.finish(nil)
}

// engagement fills in the activity of an engagement event (issue 11),
// with Marketo's activity type names.
func engagement(act *storage.Activity, ev *storage.Event) error {
	var what string
	switch ev.Kind {
	case ir.TrigOpensEmail:
		act.Type, what = stdlib.ActOpenEmail, "an email open"
	case ir.TrigClicksEmail:
		act.Type, what = stdlib.ActClickEmail, "a click in an email"
	case ir.TrigEmailDelivered:
		act.Type, what = stdlib.ActEmailDelivered, "an email delivery"
	case ir.TrigEmailBounces:
		act.Type, what = stdlib.ActEmailBounced, "an email bounce"
	case ir.TrigUnsubscribes:
		act.Type, what = stdlib.ActUnsubscribe, "an unsubscription"
	case ir.TrigVisitsPage:
		act.Type, what = stdlib.ActVisitWebpage, "a web page visit"
	case ir.TrigClicksPage:
		act.Type, what = stdlib.ActClickLink, "a click on a web page"
	}
	act.Primary = ev.Email
	name := "email"
	if ev.Kind == ir.TrigVisitsPage || ev.Kind == ir.TrigClicksPage {
		act.Primary, name = ev.WebPage, "web page"
	}
	if act.Primary == "" {
		return fmt.Errorf("%s needs the %s it happened on", what, name)
	}
	if ev.Link != "" && (ev.Kind == ir.TrigClicksEmail || ev.Kind == ir.TrigClicksPage) {
		act.Attributes = storage.Attrs{{Key: "Link", Value: storage.AttrStr(ev.Link)}}
	}
	return nil
}

// unsubscribe sets the person's Unsubscribed field, as Marketo does when a
// person unsubscribes from an email: logged as a data value change, which
// "data value changes Unsubscribed" triggers hear.
func (ps *pass) unsubscribe(ws *ir.Workspace, ev *storage.Event) {
	f := ws.Field("Unsubscribed")
	if f == nil || f.Type != stdlib.Boolean {
		return
	}
	old, _ := ps.p.FieldOf(f)
	if !old.Null && old.Type == stdlib.Boolean && old.Bool {
		return // already unsubscribed: nothing changes
	}
	v := ir.NewBool(true)
	ps.p.SetFieldOf(f, v)
	ps.add(&storage.Activity{Type: stdlib.ActChangeDataValue, Workspace: ws.Name, Primary: f.Name,
		Attributes: storage.Attrs{{Key: "Old Value", Value: storage.AttrOf(old)}, {Key: "New Value", Value: storage.AttrOf(v)}, {Key: "Reason", Value: storage.AttrStr("Unsubscribe Email " + ev.Email)}}}, nil, nil)
	ps.events = append(ps.events, storage.Event{Kind: ir.TrigDataChanges, Person: ps.p.ID, Field: f.Name,
		Old: storage.FormatValue(old), New: storage.FormatValue(v), Workspace: ev.Workspace})
}

// resume continues a parked flow at its due time.
func (r *run) resume(w *storage.Parked) error {
	p, err := r.load(w.Person)
	if err != nil {
		return err
	}
	c := r.e.prog.Campaign(w.Workspace, w.Campaign)
	// Another process may have resumed this wait while this one waited for
	// the person's lock: then there is nothing left to do.
	if p != nil {
		waits, err := r.tx.WaitsOf(w.Person)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(waits, func(x *storage.Parked) bool { return x.ID == w.ID }) {
			return nil
		}
	}
	ps, err := r.unparked(p, c, w, "wait:")
	if ps == nil {
		return err
	}
	return ps.finish(ps.exec())
}

// unparked takes a parked flow (a wait, or a webhook call) off the store
// and returns the pass that goes on with it, its stack restored. It
// returns no pass when there is nothing to go on with, having done what
// that calls for: a person who is gone, or who moved out of the
// workspace's sight, is not touched (the row is dropped); a flow whose
// campaign or step the program no longer has is left with a Wait Dropped
// activity saying why.
func (r *run) unparked(p *storage.Person, c *ir.Campaign, w *storage.Parked, origin string) (*pass, error) {
	if p == nil || (c != nil && !c.Workspace.Sees(p.Partition)) {
		return nil, r.tx.Apply(&storage.Commit{Unpark: []int64{w.ID}})
	}
	ps := r.newPass(p, c)
	ps.unpark = append(ps.unpark, w.ID)
	ps.origin = origin + strconv.FormatInt(w.ID, 10)
	reason := "the campaign no longer exists"
	if c != nil {
		err := ps.restore(c, w)
		if err == nil {
			return ps, nil
		}
		reason = err.Error()
	}
	ps.add(&storage.Activity{Type: stdlib.ActWaitDropped, Workspace: w.Workspace, Campaign: w.Campaign, Primary: w.Campaign,
		Attributes: storage.Attrs{{Key: "Reason", Value: storage.AttrStr(reason)}}}, nil, nil)
	return nil, ps.finish(nil)
}
