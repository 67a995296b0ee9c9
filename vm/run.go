package vm

import (
	"context"
	"fmt"
	"time"

	"github.com/campc/campc/compiler"
)

// work is a flow run waiting its turn: a request, or a triggered campaign.
type work struct {
	person    string
	campaign  *compiler.Campaign
	tokens    map[string]string
	trigger   *Event
	requested bool
}

// run is the state of one operation: its clock reading, its report, and
// the FIFO of flow runs that requests and events have queued.
type run struct {
	e        *Engine
	ctx      context.Context
	now      time.Time
	report   *Report
	queue    []work
	cascades map[string]int
	orphans  []*Activity // activities that belong to no person's pass
}

func (e *Engine) newRun(ctx context.Context) *run {
	return &run{e: e, ctx: ctx, now: e.clock.Now().UTC(), report: &Report{}, cascades: map[string]int{}}
}

// log records an activity of the operation that belongs to no pass.
func (r *run) log(a *Activity, step *compiler.Step) {
	a.Time = r.now
	a.step = step
	r.orphans = append(r.orphans, a)
}

func (r *run) flushOrphans() error {
	if len(r.orphans) == 0 {
		return nil
	}
	err := r.e.store.Commit(r.ctx, &Commit{Activities: r.orphans})
	r.report.Activities = append(r.report.Activities, r.orphans...)
	r.orphans = nil
	return err
}

// start runs the root flow of w for person p when p qualifies: the smart
// list's filters match and the qualification rule lets p in.
func (r *run) start(w work, p *Person) error {
	c := w.campaign
	ps := r.newPass(p, c)
	if ok, _ := ps.smartList(c.SmartList, c.Workspace, nil); !ok {
		return nil
	}
	if !ps.qualifies(c) {
		return nil
	}
	ps.recordRun(c)
	r.report.Entered = append(r.report.Entered, Entry{Campaign: c, Person: p.ID})
	ps.push(&cursor{steps: c.Flow, frame: rootFrame(c, w.tokens, w.trigger)})
	return ps.finish(ps.exec())
}

// rootFrame is the token context of a campaign started on its own.
func rootFrame(c *compiler.Campaign, tokens map[string]string, trigger *Event) *frame {
	return &frame{campaign: c, tokens: &tokenCtx{my: []*compiler.Scope{c.Scope()}, overrides: tokens,
		campaign: c, program: c.Program, trigger: trigger}}
}

// drain runs queued work first in, first out. Each run reloads its person,
// so it sees what earlier passes committed.
func (r *run) drain() error {
	for len(r.queue) > 0 {
		w := r.queue[0]
		r.queue = r.queue[1:]
		if err := r.ctx.Err(); err != nil {
			return err
		}
		c := w.campaign
		if !c.Active {
			continue
		}
		r.cascades[w.person]++
		if r.cascades[w.person] > r.e.cascades {
			return &Error{Campaign: c.Name, Person: w.person, Err: fmt.Errorf("%w: more than %d flow runs in one operation", ErrCascadeBudget, r.e.cascades)}
		}
		p, err := r.e.store.LoadPerson(r.ctx, w.person)
		if err != nil {
			return err
		}
		if p == nil || !c.Workspace.Sees(p.Partition) {
			continue
		}
		if c.SmartList.Invalid != "" {
			r.log(&Activity{Person: p.ID, Type: "Smart List Invalid", Campaign: c.Name, Workspace: c.Workspace.Name,
				Primary: c.Name, Attributes: map[string]any{"Reason": c.SmartList.Invalid, "Qualified": false}}, nil)
			if err := r.flushOrphans(); err != nil {
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

// enqueue matches an event against the active trigger campaigns of every
// workspace that sees the person, and queues those that listen.
func (r *run) enqueue(p *Person, ev *Event) {
	for _, ws := range r.e.prog.Workspaces {
		if (ev.Workspace != "" && ws.Name != ev.Workspace) || !ws.Sees(p.Partition) {
			continue
		}
		primary := ev.Field
		switch ev.Kind {
		case compiler.TrigAddedToList, compiler.TrigRemovedFromList:
			primary = ev.List
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
			r.queue = append(r.queue, work{person: p.ID, campaign: c, trigger: ev})
		}
	}
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
	act := &Activity{Workspace: ws.Name, Attributes: map[string]any{}}
	switch ev.Kind {
	case compiler.TrigFillsOutForm:
		act.Type, act.Primary = "Fill Out Form", ev.Form
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
		ev.Old = formatValue(old)
		p.Fields[f.Name] = v
		act.Type, act.Primary = "Change Data Value", f.Name
		act.Attributes["Old Value"], act.Attributes["New Value"] = jsonValue(old), jsonValue(v)
	case compiler.TrigAddedToList, compiler.TrigRemovedFromList:
		if ws.List(ev.List) == nil {
			return fmt.Errorf("workspace %q has no list %q", ws.Name, ev.List)
		}
		key := ws.Name + "/" + ev.List
		if ev.Kind == compiler.TrigAddedToList {
			p.Lists[key] = true
			act.Type = "Add to List"
		} else {
			delete(p.Lists, key)
			act.Type = "Remove from List"
		}
		act.Primary = ev.List
	case compiler.TrigStatusChanged:
		prog := ws.ProgramNamed(ev.Program)
		if prog == nil || prog.StatusIndex(ev.Status) < 0 {
			return fmt.Errorf("workspace %q has no program %q with status %q", ws.Name, ev.Program, ev.Status)
		}
		key := ws.Name + "/" + ev.Program
		ev.Old = p.Programs[key]
		p.Programs[key] = ev.Status
		act.Type, act.Primary = "Change Program Status", ev.Program
		act.Attributes["Old Status"], act.Attributes["New Status"] = ev.Old, ev.Status
	case compiler.TrigCreated:
		act.Type, act.Primary = "New Person", p.ID
	default:
		return fmt.Errorf("events of this kind are started with Request, not Deliver")
	}
	ps.add(act, nil, nil)
	ps.events = append(ps.events, *ev)
	return ps.finish(nil)
}

// resume continues a parked flow at its due time.
func (r *run) resume(w *Parked) error {
	p, err := r.e.store.LoadPerson(r.ctx, w.Person)
	if err != nil {
		return err
	}
	if p == nil {
		return r.e.store.Commit(r.ctx, &Commit{Unpark: []int64{w.ID}})
	}
	var c *compiler.Campaign
	for _, cand := range r.e.prog.CampaignsNamed(w.Workspace + "/" + w.Campaign) {
		c = cand
	}
	ps := r.newPass(p, c)
	ps.unpark = append(ps.unpark, w.ID)
	if c == nil {
		// The program changed under the parked flow: drop the wait and say so.
		ps.add(&Activity{Type: "Wait Dropped", Workspace: w.Workspace, Campaign: w.Campaign, Primary: w.Campaign,
			Attributes: map[string]any{"Reason": "the campaign no longer exists"}}, nil, nil)
		return ps.finish(nil)
	}
	if err := ps.restore(c, w); err != nil {
		ps.add(&Activity{Type: "Wait Dropped", Workspace: w.Workspace, Campaign: w.Campaign, Primary: w.Campaign,
			Attributes: map[string]any{"Reason": err.Error()}}, nil, nil)
		return ps.finish(nil)
	}
	return ps.finish(ps.exec())
}
