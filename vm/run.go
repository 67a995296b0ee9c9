package vm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/stdlib"
)

// work is a flow run waiting its turn: a request, or a triggered campaign.
type work struct {
	person   string
	campaign *compiler.Campaign
	tokens   map[string]string
	trigger  *Event
	queued   *Queued // its entry in the store's queue, if it has one
}

// run is the state of one operation: its clock reading, its report, its
// current transaction, and the FIFO of flow runs that requests and events
// have queued.
type run struct {
	e        *Engine
	ctx      context.Context
	now      time.Time
	report   *Report
	tx       Tx
	pending  *Report // what the current transaction will add to report
	queue    []work
	cascades map[string]int
	// parkedMin is the earliest due time of the waits parked since Advance
	// last looked, so that it can keep waits in due order.
	parkedMin time.Time
	// Buffers that successive passes reuse, so that a pass allocates no
	// stack of its own.
	stack   []*cursor
	cursors []*cursor
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
	r.tx, r.pending = tx, &Report{}
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

// orphan records an activity that belongs to no person's pass.
func (r *run) orphan(a *Activity) {
	a.Time = r.now
	r.tx.Apply(&Commit{Activities: []*Activity{a}})
	r.pending.Activities = append(r.pending.Activities, a)
}

// start runs the root flow of w for person p when p qualifies: the smart
// list's filters match and the qualification rule lets p in.
func (r *run) start(w work, p *Person) error {
	c := w.campaign
	ps := r.newPass(p, c)
	ps.taken = w.queued
	if ps.tracing() {
		ps.trace(TraceEvent{Kind: TraceStart, Campaign: c})
		ps.traceSmartList(c, 0)
	}
	if ok, _ := ps.smartList(c.SmartList, c.Workspace, 0); !ok {
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
	r.pending.Entered = append(r.pending.Entered, Entry{Campaign: c, Person: p.ID})
	ps.push(ps.cursor(c.Flow, r.e.rootFrame(c, w.tokens, w.trigger)))
	return ps.finish(ps.exec())
}

// rootFrame is the token context of a campaign started on its own.
func (e *Engine) rootFrame(c *compiler.Campaign, tokens map[string]string, trigger *Event) *frame {
	if tokens == nil && trigger == nil {
		return e.roots[c] // made in New, never changed: no lock
	}
	return newRootFrame(c, tokens, trigger)
}

func newRootFrame(c *compiler.Campaign, tokens map[string]string, trigger *Event) *frame {
	return &frame{campaign: c, tokens: &tokenCtx{my: []*compiler.Scope{c.Scope()}, overrides: tokens,
		campaign: c, program: c.Program, trigger: trigger}}
}

// dequeue takes a queued run that will not run off the store's queue.
func (r *run) dequeue(w work) error {
	if w.queued == nil {
		return nil
	}
	return r.tx.Apply(&Commit{Dequeue: []int64{w.queued.ID}})
}

// drain runs queued work first in, first out, in the current transaction.
// Each run reloads its person, so it sees what earlier passes wrote.
func (r *run) drain() error {
	for len(r.queue) > 0 {
		w := r.queue[0]
		r.queue = r.queue[1:]
		if err := r.ctx.Err(); err != nil {
			return err
		}
		c := w.campaign
		if !c.Active {
			if err := r.dequeue(w); err != nil {
				return err
			}
			continue
		}
		r.cascades[w.person]++
		if r.cascades[w.person] > r.e.cascades {
			return &Error{Campaign: c.Name, Person: w.person, Err: fmt.Errorf("%w: more than %d flow runs in one operation", ErrCascadeBudget, r.e.cascades)}
		}
		p, err := r.tx.LoadPerson(w.person)
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
			r.orphan(&Activity{Person: p.ID, Type: stdlib.ActSmartListInvalid, Campaign: c.Name, Workspace: c.Workspace.Name,
				Primary: c.Name, Attributes: Attrs{{"Reason", AttrStr(c.SmartList.Invalid)}, {"Qualified", AttrBool(false)}}})
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
func (r *run) matches(p *Person, ev *Event) []work {
	var out []work
	for _, ws := range r.e.prog.Workspaces {
		if (ev.Workspace != "" && ws.Name != ev.Workspace) || !ws.Sees(p.Partition) {
			continue
		}
		primary := ev.Field
		switch ev.Kind {
		case compiler.TrigAddedToList, compiler.TrigRemovedFromList:
			primary = ev.ListKey
		case compiler.TrigFillsOutForm:
			primary = ev.Form
		case compiler.TrigStatusChanged:
			primary = ev.Program
		case compiler.TrigCreated:
			primary = ""
		}
		cands := r.e.index[trigKey{ws: ws, kind: ev.Kind, primary: primary}]
		if ev.Kind == compiler.TrigStatusChanged {
			cands = append(append([]*compiler.Campaign{}, cands...), r.e.index[trigKey{ws: ws, kind: ev.Kind}]...)
		}
		seen := map[*compiler.Campaign]bool{}
		for _, c := range cands {
			if seen[c] || !c.Active || !triggerMatches(c, ev) {
				continue
			}
			seen[c] = true
			out = append(out, work{person: p.ID, campaign: c, trigger: ev})
		}
	}
	return out
}

// triggerMatches applies a trigger's constraints beyond its index key.
func triggerMatches(c *compiler.Campaign, ev *Event) bool {
	for _, t := range c.SmartList.Triggers {
		if t.Kind != ev.Kind {
			continue
		}
		switch t.Kind {
		case compiler.TrigStatusChanged:
			if t.Program != nil && t.Program.Name != ev.Program {
				continue
			}
			if t.Status != "" && t.Status != ev.Status {
				continue
			}
		case compiler.TrigRequested:
			continue // requests are queued directly, never matched
		}
		return true
	}
	return false
}

// applyEvent makes a delivered event true of its person, logs it, and
// queues the campaigns that listen to it.
func (r *run) applyEvent(p *Person, ev *Event) error {
	ps := r.newPass(p, nil)
	var ws *compiler.Workspace
	for _, w := range r.e.prog.Workspaces {
		if (ev.Workspace == "" || w.Name == ev.Workspace) && w.Sees(p.Partition) {
			ws = w
			break
		}
	}
	if ws == nil {
		return fmt.Errorf("person %q is not visible to any workspace", p.ID)
	}
	act := &Activity{Workspace: ws.Name, Attributes: Attrs{}}
	switch ev.Kind {
	case compiler.TrigFillsOutForm:
		act.Type, act.Primary = stdlib.ActFillOutForm, ev.Form
	case compiler.TrigDataChanges, compiler.TrigScoreChanged:
		f := ws.Field(ev.Field)
		if f == nil {
			return fmt.Errorf("workspace %q has no field %q", ws.Name, ev.Field)
		}
		v, err := parseValue(f.Type, ev.New)
		if err != nil {
			return fmt.Errorf("field %s: %v", f.Name, err)
		}
		old := p.Fields[f.Name]
		if formatValue(old) == formatValue(v) && old.Null == v.Null {
			return nil // no change, so no event
		}
		ev.Old = formatValue(old)
		ps.fields()[f.Name] = v
		ps.touch()
		act.Type, act.Primary = stdlib.ActChangeDataValue, f.Name
		act.Attributes = Attrs{{"Old Value", attrValue(old)}, {"New Value", attrValue(v)}}
	case compiler.TrigAddedToList, compiler.TrigRemovedFromList:
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
		if p.Lists[key] == (ev.Kind == compiler.TrigAddedToList) {
			return nil // already so: no change, no event
		}
		if ev.Kind == compiler.TrigAddedToList {
			ps.lists()[key] = true
			act.Type = stdlib.ActAddToList
		} else {
			delete(ps.lists(), key)
			act.Type = stdlib.ActRemoveFromList
		}
		act.Primary = ev.List
	case compiler.TrigStatusChanged:
		prog := ws.ProgramNamed(ev.Program)
		if prog == nil || prog.StatusIndex(ev.Status) < 0 {
			return fmt.Errorf("workspace %q has no program %q with status %q", ws.Name, ev.Program, ev.Status)
		}
		key := prog.Key
		if !statusMove(prog, p, key, ev.Status) {
			return nil // backwards or no move: nothing happens
		}
		ev.Old = p.Programs[key]
		ps.programs()[key] = ev.Status
		act.Type, act.Primary = stdlib.ActChangeProgramStatus, ev.Program
		act.Attributes = Attrs{{"Old Status", AttrStr(ev.Old)}, {"New Status", AttrStr(ev.Status)}}
	case compiler.TrigCreated:
		act.Type, act.Primary = stdlib.ActNewPerson, p.ID
	default:
		return fmt.Errorf("events of this kind are started with Request, not Deliver")
	}
	ps.add(act, nil, nil)
	ps.events = append(ps.events, *ev)
	return ps.finish(nil)
}

// resume continues a parked flow at its due time.
func (r *run) resume(w *Parked) error {
	p, err := r.tx.LoadPerson(w.Person)
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
		if !slices.ContainsFunc(waits, func(x *Parked) bool { return x.ID == w.ID }) {
			return nil
		}
	}
	// A person who is gone, or who moved out of the workspace's sight, is
	// not touched: the wait is dropped.
	if p == nil || (c != nil && !c.Workspace.Sees(p.Partition)) {
		return r.tx.Apply(&Commit{Unpark: []int64{w.ID}})
	}
	ps := r.newPass(p, c)
	ps.unpark = append(ps.unpark, w.ID)
	if c == nil {
		// The program changed under the parked flow: drop the wait and say so.
		ps.add(&Activity{Type: stdlib.ActWaitDropped, Workspace: w.Workspace, Campaign: w.Campaign, Primary: w.Campaign,
			Attributes: Attrs{{"Reason", AttrStr("the campaign no longer exists")}}}, nil, nil)
		return ps.finish(nil)
	}
	if err := ps.restore(c, w); err != nil {
		ps.add(&Activity{Type: stdlib.ActWaitDropped, Workspace: w.Workspace, Campaign: w.Campaign, Primary: w.Campaign,
			Attributes: Attrs{{"Reason", AttrStr(err.Error())}}}, nil, nil)
		return ps.finish(nil)
	}
	return ps.finish(ps.exec())
}
