package vm

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// MaxDepth is the run-time limit on nested Execute Campaign calls; the
// checker enforces the same limit before anything runs.
const MaxDepth = ir.MaxExecuteDepth

// frame is one running campaign on the stack and the token context it
// resolves in.
type frame struct {
	campaign *ir.Campaign
	tokens   *tokenCtx
	depth    int // 0 for the root campaign
	parent   bool
	kept     bool // made once and kept by the engine (see childFrame)
}

// tokenCtx is where tokens resolve: My Token scopes in lookup order, the
// API overrides of the run, and the campaign, program and trigger event
// that campaign.*, program.*, member.* and trigger.* read.
type tokenCtx struct {
	my        []*ir.Scope
	overrides map[string]string
	campaign  *ir.Campaign
	program   *ir.ProgramDef
	trigger   *storage.Event
}

// cursor is a position in a list of steps: a campaign's flow or one branch
// of an if. The stack of cursors replaces Go recursion so a flow can be
// parked and resumed, and unwound at once by Remove from Flow.
type cursor struct {
	steps  []ir.Step
	pc     int
	choice int // 1-based branch number when this is a branch; 0 otherwise
	frame  *frame
	isRoot bool
}

// pass is one person's pass through one root flow. It works on a private
// copy of the person and commits everything at the end.
type pass struct {
	r        *run
	p        *storage.Person
	root     *ir.Campaign
	stack    []*cursor
	acts     []*storage.Activity
	park     []*storage.Parked
	unpark   []int64
	events   []storage.Event
	requests []work          // Request Campaign steps, queued when the pass commits
	taken    *storage.Queued // the queue entry this pass consumes
	dequeue  []int64         // queue entries that Remove from Flow drops
	steps    int
	chain    *link              // the campaigns whose flows led to this pass, its root last
	outbox   []*storage.Message // email and alerts for the commit (Options.Outbox)
	first    link               // the root's link (chain), made with the pass
	// origin names what started the pass where the store keeps it (a
	// resumed wait, a queue entry), for webhooks' idempotency keys.
	origin string
	// entered is the campaign whose flow the pass entered (nil: resumed).
	entered *ir.Campaign
}

// link is one campaign of a cascade: the flow run that a request or event
// of the previous link's pass started. A budget error reports the chain.
type link struct {
	campaign *ir.Campaign
	prev     *link
}

// names lists a chain's campaigns from the first to this one.
func (l *link) names() []string {
	var out []string
	for ; l != nil; l = l.prev {
		out = append(out, l.campaign.Name)
	}
	slices.Reverse(out)
	return out
}

// newPass starts a pass on p, a person the pass owns (Tx.LoadPerson
// returns a private copy); its log may be shared, so appends never write
// into another's array.
func (r *run) newPass(p *storage.Person, root *ir.Campaign) *pass {
	p.Log = slices.Clip(p.Log)
	ps := &pass{r: r, p: p, root: root, stack: r.stack[:0], acts: r.actSlab()}
	if root != nil {
		ps.first = link{campaign: root}
		ps.chain = &ps.first
	}
	return ps
}

// actSlab is room for a pass's first few activities, cut from a chunk
// that the operation's successive passes share (each gets a capped piece, so an append
// past it moves to an array of its own): most passes write one to four.
func (r *run) actSlab() []*storage.Activity {
	const per = 4
	if cap(r.actBuf)-len(r.actBuf) < per {
		// Small for an operation of a few passes (an event), growing
		// for a batch run.
		r.actBuf = make([]*storage.Activity, 0, min(max(2*cap(r.actBuf), 4*per), 256*per))
	}
	n := len(r.actBuf)
	r.actBuf = r.actBuf[:n+per]
	return r.actBuf[n : n : n+per]
}

// newActivity is a zero Activity cut from a chunk the operation's passes
// share (small at first, for an event; growing, for a batch run). The
// activities stay in the store's log and the report, so a chunk is kept
// as long as its activities are.
func (r *run) newActivity() *storage.Activity {
	if len(r.actChunk) == cap(r.actChunk) {
		r.actChunk = make([]storage.Activity, 0, min(max(2*cap(r.actChunk), 4), 128))
	}
	r.actChunk = r.actChunk[:len(r.actChunk)+1]
	return &r.actChunk[len(r.actChunk)-1]
}

func (ps *pass) push(c *cursor) {
	if len(ps.stack) == 0 {
		c.isRoot = true
	}
	ps.stack = append(ps.stack, c)
}

// add appends an activity written by step (nil for none) in frame f. It
// keeps a copy, from the operation's chunk of activities (newActivity),
// never a itself, so that the callers' &Activity{...} need not be
// allocated one by one.
func (ps *pass) add(in *storage.Activity, step ir.Step, cur *cursor) {
	a := ps.r.newActivity()
	*a = *in
	a.Time = ps.r.now
	a.Person = ps.p.ID
	if step != nil {
		a.SetStep(step.Base())
	}
	if cur != nil {
		a.Campaign = cur.frame.campaign.Name
		a.Workspace = cur.frame.campaign.Workspace.Name
		if cur.choice > 0 {
			a.Attributes = append(a.Attributes, storage.Attr{Key: "Choice", Value: storage.AttrNum(float64(cur.choice))})
		}
	}
	ps.acts = append(ps.acts, a)
	if ps.r.e.readsLogs {
		// Only activity filters read the log during a pass; the store
		// keeps the log itself from the commit's activities.
		ps.p.Log = append(ps.p.Log, a)
	}
	if ps.tracing() && step != nil {
		ps.trace(TraceEvent{Kind: TraceActivity, Activity: a})
	}
}

// post logs a message's activity and puts the message in the pass's
// outbox, tied to the activity (the store names the message after it).
func (ps *pass) post(m *storage.Message, act *storage.Activity, st ir.Step, cur *cursor) {
	ps.add(act, st, cur)
	m.Activity = ps.acts[len(ps.acts)-1]
	ps.outbox = append(ps.outbox, m)
}

// alertSubject is an alert's subject: its text's first line, cut short.
func alertSubject(text string) string {
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	if r := []rune(text); len(r) > 100 {
		text = string(r[:100]) + "…"
	}
	return "Alert: " + text
}

// finish applies the pass to the transaction (unless err) and queues what
// it set off: its requests, then the campaigns its events trigger. A failed
// pass applies nothing.
func (ps *pass) finish(err error) error {
	if err != nil {
		return err
	}
	r := ps.r
	var next []work
	for _, w := range ps.requests {
		next = ps.enqueue(next, w)
	}
	for i := range ps.events {
		for _, w := range r.matches(ps.p, &ps.events[i]) {
			next = ps.enqueue(next, w)
		}
	}
	c := &storage.Commit{Person: ps.p, Activities: ps.acts, Park: ps.park, Unpark: ps.unpark, Dequeue: ps.dequeue, Outbox: ps.outbox}
	if ps.entered != nil {
		c.Entered, c.EnteredAt = ps.entered, r.now
	}
	if ps.taken != nil {
		c.Dequeue = append(c.Dequeue, ps.taken.ID)
	}
	for i := range next {
		w := &next[i]
		w.queued = &storage.Queued{Person: w.person, Workspace: w.campaign.Workspace.Name, Campaign: w.campaign.Name, Tokens: w.tokens, Trigger: w.trigger}
		c.Enqueue = append(c.Enqueue, w.queued)
	}
	if err := r.tx.Apply(c); err != nil {
		return err
	}
	r.stack = ps.stack[:0]
	r.pending.Activities = append(r.pending.Activities, ps.acts...)
	r.queue = append(r.queue, next...)
	return nil
}

// enqueue adds w to next unless the person is already queued for its
// campaign, in this pass or earlier in the operation: a person is in a
// campaign's flow once at a time (issue 11), so the second request or
// trigger is dropped, as Marketo drops it, and written to no log.
func (ps *pass) enqueue(next []work, w work) []work {
	same := func(q work) bool { return q.person == w.person && q.campaign == w.campaign }
	if slices.ContainsFunc(next, same) || slices.ContainsFunc(ps.r.queue, same) {
		if ps.tracing() {
			ps.trace(TraceEvent{Kind: TraceInFlow, Campaign: w.campaign, Text: "queued for it"})
		}
		return next
	}
	w.chain = ps.chain
	return append(next, w)
}

func (ps *pass) fail(err error) error {
	c := ps.root
	if len(ps.stack) > 0 {
		c = ps.stack[len(ps.stack)-1].frame.campaign
	}
	name := ""
	if c != nil {
		name = c.Name
	}
	return &Error{Campaign: name, Person: ps.p.ID, Err: err}
}

// chainNames is the pass's chain of campaigns followed by the executed
// campaigns running on its stack, for a step budget error.
func (ps *pass) chainNames() []string {
	out := ps.chain.names()
	var last *frame
	for _, c := range ps.stack {
		if c.frame != last && c.frame.depth > 0 {
			out = append(out, c.frame.campaign.Name)
		}
		last = c.frame
	}
	return out
}

// exec runs the stack until it is empty, a wait parks it, or the person
// leaves the flow.
func (ps *pass) exec() error {
	for len(ps.stack) > 0 {
		cur := ps.stack[len(ps.stack)-1]
		if cur.pc >= len(cur.steps) {
			ps.pop()
			if ps.tracing() && (len(ps.stack) == 0 || ps.stack[len(ps.stack)-1].frame != cur.frame) {
				ps.trace(TraceEvent{Kind: TraceLeave, Depth: cur.frame.depth, Campaign: cur.frame.campaign, Text: "the flow ended"})
			}
			continue
		}
		st := cur.steps[cur.pc]
		cur.pc++
		ps.steps++
		if ps.steps > ps.r.e.steps {
			err := ps.fail(fmt.Errorf("%w: more than %d steps in one pass", ErrStepBudget, ps.r.e.steps)).(*Error)
			err.Chain = ps.chainNames()
			return err
		}
		if ps.steps&255 == 0 {
			if err := ps.r.ctx.Err(); err != nil {
				return err
			}
		}
		if ps.tracing() {
			ps.trace(TraceEvent{Kind: TraceStep, Depth: cur.frame.depth, Campaign: cur.frame.campaign, Step: st})
			ps.traceTokens(st.Templates(), cur.frame)
		}
		if err := ps.step(st, cur); err != nil {
			return err
		}
	}
	return nil
}

func (ps *pass) unwind() {
	for len(ps.stack) > 0 {
		ps.pop()
	}
}

// step executes one step. The step's type says what to do: a type switch
// is as fast as a table of functions and keeps each case beside the
// others; a step type the switch does not know is an error, not a no-op.
func (ps *pass) step(st ir.Step, cur *cursor) error {
	f := cur.frame
	ws := f.campaign.Workspace
	p := ps.p
	switch st := st.(type) {
	case *ir.If:
		for i, b := range st.Branches {
			if ps.expr(b.Cond, ws) {
				if ps.tracing() {
					ps.trace(TraceEvent{Kind: TraceBranch, Step: st, Branch: i + 1, Text: b.Text})
				}
				ps.pushBranch(b.Steps, i+1, f)
				return nil
			}
		}
		if st.HasElse {
			if ps.tracing() {
				ps.trace(TraceEvent{Kind: TraceBranch, Step: st, Branch: len(st.Branches) + 1, Text: "else"})
			}
			ps.pushBranch(st.Else, len(st.Branches)+1, f)
		} else if ps.tracing() {
			ps.trace(TraceEvent{Kind: TraceBranch, Step: st, Branch: 0, Text: "no choice matched"})
		}
	case *ir.ChangeScore:
		return ps.changeScore(st, cur)
	case *ir.ChangeData:
		return ps.changeData(st, cur)
	case *ir.ChangeStatus:
		key := st.Program.Key
		old, _ := p.ProgramStatus(key)
		if !statusMove(st.Program, p, key, st.Status) {
			return nil
		}
		p.SetProgramStatus(key, st.Status)
		ps.add(&storage.Activity{Type: stdlib.ActChangeProgramStatus, Primary: st.Program.Name,
			Attributes: storage.Attrs{{Key: "Old Status", Value: storage.AttrStr(old)}, {Key: "New Status", Value: storage.AttrStr(st.Status)}}}, st, cur)
		if ps.r.e.listens[ir.TrigStatusChanged] {
			ps.events = append(ps.events, storage.Event{Kind: ir.TrigStatusChanged, Person: p.ID, Program: st.Program.Name,
				Status: st.Status, Old: old, Workspace: ws.Name})
		}
	case *ir.ChangePartition:
		old := p.PartitionName()
		if old == st.Partition {
			return nil // already there: nothing changes, nothing is logged
		}
		p.Partition = st.Partition
		p.SetField("Partition", ir.NewText(stdlib.Text, st.Partition))
		if old != p.PartitionName() {
			ps.touch()
		}
		ps.add(&storage.Activity{Type: stdlib.ActChangePartition, Primary: st.Partition, Attributes: storage.Attrs{{Key: "Old Partition", Value: storage.AttrStr(old)}}}, st, cur)
	case *ir.AddToList:
		ps.changeList(st, st.List, true, cur)
	case *ir.RemoveFromList:
		ps.changeList(st, st.List, false, cur)
	case *ir.SendEmail:
		em := st.Email
		subject := ps.render(em.Subject, f)
		to := storage.FormatValue(p.Field("Email"))
		if why := notSent(p, em); why != "" {
			// The step still happens, so the log says what was not sent
			// and why; the host is not asked to deliver it.
			ps.add(&storage.Activity{Type: stdlib.ActSendEmail, Primary: em.Name, Attributes: storage.Attrs{{Key: "Subject", Value: storage.AttrStr(subject)}, {Key: "Sent", Value: storage.AttrBool(false)}, {Key: "Reason", Value: storage.AttrStr(why)}}}, st, cur)
			return nil
		}
		m := &storage.Message{Person: p.ID, Workspace: f.campaign.Workspace.Name, Campaign: f.campaign.Name, Step: st.ID, Name: em.Name,
			From: ps.render(em.From, f), To: to, Subject: subject, Text: ps.render(em.Text, f), HTML: ps.renderHTML(em.HTML, f), Operational: em.Operational}
		act := &storage.Activity{Type: stdlib.ActSendEmail, Primary: em.Name, Attributes: storage.Attrs{{Key: "Subject", Value: storage.AttrStr(subject)}}}
		if ps.r.e.outbox {
			ps.post(m, act, st, cur)
			return nil
		}
		if err := ps.r.e.fx.SendEmail(ps.r.ctx, *m); err != nil {
			return ps.fail(fmt.Errorf("send email %q: %w", em.Name, err))
		}
		ps.add(act, st, cur)
	case *ir.SendAlert:
		text, to := ps.render(st.Text, f), ps.render(st.To, f)
		m := &storage.Message{Person: p.ID, Workspace: f.campaign.Workspace.Name, Campaign: f.campaign.Name, Step: st.ID, To: to,
			Subject: alertSubject(text), Text: text, Body: text, Operational: true}
		act := &storage.Activity{Type: stdlib.ActSendAlert, Primary: text, Attributes: storage.Attrs{{Key: "To", Value: storage.AttrStr(to)}}}
		if ps.r.e.outbox {
			ps.post(m, act, st, cur)
			return nil
		}
		if err := ps.r.e.fx.SendAlert(ps.r.ctx, *m); err != nil {
			return ps.fail(fmt.Errorf("send alert: %w", err))
		}
		ps.add(act, st, cur)
	case *ir.Moment:
		ps.add(&storage.Activity{Type: stdlib.ActInterestingMoment, Primary: ps.render(st.Text, f), Attributes: storage.Attrs{{Key: "Type", Value: storage.AttrStr(st.Moment)}}}, st, cur)
	case *ir.Wait:
		return ps.wait(st, cur)
	case *ir.CallWebhook:
		return ps.callWebhook(st, cur)
	case *ir.Request:
		ps.add(&storage.Activity{Type: stdlib.ActRequestCampaign, Primary: st.Target.Name, Attributes: storage.Attrs{{Key: "Source", Value: storage.AttrStr("flow")}}}, st, cur)
		ev := &storage.Event{Kind: ir.TrigRequested, Person: p.ID, Campaign: st.Target.Name, Source: "flow", Workspace: ws.Name}
		// Asynchronous: queued when this pass ends, run after this flow
		// has finished for the person, first in first out.
		ps.requests = append(ps.requests, work{person: p.ID, campaign: st.Target, trigger: ev})
	case *ir.Execute:
		return ps.execute(st, cur)
	case *ir.RemoveFromFlow:
		return ps.removeFromFlow(st, cur)
	case *ir.ChangeOwner, *ir.SyncToCRM, *ir.CreateTask:
		return ps.hostAction(st, cur)
	case *ir.DeletePerson:
		ps.add(&storage.Activity{Type: stdlib.ActDeletePerson, Primary: p.ID}, st, cur)
		p.Deleted = true
		if ps.tracing() {
			ps.trace(TraceEvent{Kind: TraceLeave, Campaign: f.campaign, Text: "the person is deleted: nothing more runs"})
		}
		ps.unwind()
	default:
		return ps.fail(fmt.Errorf("step %T at %s: the engine does not know this kind of step", st, st.Base().Pos))
	}
	return nil
}

// changeList adds the person to a list or removes them from it.
func (ps *pass) changeList(st ir.Step, list *ir.List, add bool, cur *cursor) {
	p, ws := ps.p, cur.frame.campaign.Workspace
	key := list.Key
	if p.InList(key) == add {
		return // already so: nothing changes, nothing is logged
	}
	kind, typ := ir.TrigAddedToList, stdlib.ActAddToList
	p.SetInList(key, add)
	if !add {
		kind, typ = ir.TrigRemovedFromList, stdlib.ActRemoveFromList
	}
	ps.add(&storage.Activity{Type: typ, Primary: list.Name}, st, cur)
	if ps.r.e.listens[kind] {
		ps.events = append(ps.events, storage.Event{Kind: kind, Person: p.ID, List: list.Name, ListKey: list.Key, Workspace: ws.Name})
	}
}

func (ps *pass) pushBranch(steps []ir.Step, choice int, f *frame) {
	c := ps.cursor(steps, f)
	c.choice = choice
	ps.push(c)
}

// cursor takes a cursor from the run's free list.
func (ps *pass) cursor(steps []ir.Step, f *frame) *cursor {
	r := ps.r
	var c *cursor
	if n := len(r.cursors); n > 0 {
		c = r.cursors[n-1]
		r.cursors = r.cursors[:n-1]
		*c = cursor{}
	} else {
		c = new(cursor)
	}
	c.steps, c.frame = steps, f
	return c
}

// pop removes the top cursor and gives it back to the free list.
func (ps *pass) pop() {
	n := len(ps.stack) - 1
	ps.r.cursors = append(ps.r.cursors, ps.stack[n])
	ps.stack = ps.stack[:n]
}

func (ps *pass) changeScore(st *ir.ChangeScore, cur *cursor) error {
	f := st.Field
	old, _ := ps.p.FieldOf(f)
	oldN := old.Num
	sc := st.Score
	if sc.Token != nil {
		v := strings.TrimSpace(ps.tokenValue(sc.Token, cur.frame))
		if !validScore(v) {
			return ps.fail(fmt.Errorf("token %s has value %q; a score change needs +n, -n or =n", sc.Token, v))
		}
		n, _ := strconv.ParseFloat(v[1:], 64)
		sc = ir.ScoreChange{Set: v[0] == '=', Delta: n}
		if v[0] == '-' {
			sc.Delta = -n
		}
	}
	newN := oldN + sc.Delta
	if sc.Set {
		newN = sc.Delta
	}
	if math.IsInf(newN, 0) {
		return ps.fail(fmt.Errorf("score %s would leave the range of numbers (%g plus %g is beyond ±1.8e308)", f.Name, oldN, sc.Delta))
	}
	if newN == oldN {
		// "+0", or "=n" on a score of n (an empty score counts as 0): a
		// change that changes nothing writes nothing and raises no event,
		// so "data value changed" filters and score triggers do not see it.
		return nil
	}
	ps.p.SetFieldOf(f, ir.Value{Type: f.Type, Num: newN})
	if newN != oldN {
		ps.touch()
	}
	ps.add(&storage.Activity{Type: stdlib.ActChangeScore, Primary: f.Name, Attributes: storage.Attrs{{Key: "Change Value", Value: storage.AttrNum(newN - oldN)}, {Key: "Old Value", Value: storage.AttrNum(oldN)}, {Key: "New Value", Value: storage.AttrNum(newN)}}}, st, cur)
	if ps.r.e.listens[ir.TrigScoreChanged] {
		// Events stay in the workspace where they happened (§13.4).
		ps.events = append(ps.events, storage.Event{Kind: ir.TrigScoreChanged, Person: ps.p.ID, Field: f.Name,
			Old: storage.FormatNum(oldN), New: storage.FormatNum(newN), Workspace: cur.frame.campaign.Workspace.Name})
	}
	return nil
}

func (ps *pass) changeData(st *ir.ChangeData, cur *cursor) error {
	f := st.Field
	if f.Builtin && stdlib.ReadOnlyField(f.Name) {
		// The checker refuses this (read_only_field); a program built
		// another way must not move a person out of its workspace's sight
		// or change its identity either.
		return ps.fail(fmt.Errorf("change data value cannot change %s; use change person partition", f.Name))
	}
	v := st.Value
	if len(st.Text.Parts) > 0 {
		text := ps.render(st.Text, cur.frame)
		var err error
		if v, err = storage.ParseFieldValue(f.Type, text); err != nil {
			return ps.fail(fmt.Errorf("change data value %s: %v", f.Name, err))
		}
	}
	ps.setData(st, f, v, cur, nil)
	return nil
}

// setData gives field f the value v, as change data value does: a value
// it already has changes nothing and logs nothing; a change is logged
// (with extra attributes after the old and new value) and raises "data
// value changes".
func (ps *pass) setData(st ir.Step, f *ir.Field, v ir.Value, cur *cursor, extra storage.Attrs) {
	old, _ := ps.p.FieldOf(f)
	if storage.SameValue(old, v) {
		// The value it already has: nothing is written and no event is
		// raised, so "data value changed" filters do not see it.
		return
	}
	if v.Null {
		ps.p.DeleteFieldOf(f)
	} else {
		ps.p.SetFieldOf(f, v)
	}
	ps.touch()
	ps.add(&storage.Activity{Type: stdlib.ActChangeDataValue, Primary: f.Name, Attributes: append(storage.Attrs{{Key: "Old Value", Value: storage.AttrOf(old)}, {Key: "New Value", Value: storage.AttrOf(v)}}, extra...)}, st, cur)
	if ps.r.e.listens[ir.TrigDataChanges] {
		ps.events = append(ps.events, storage.Event{Kind: ir.TrigDataChanges, Person: ps.p.ID, Field: f.Name,
			Old: storage.FormatValue(old), New: storage.FormatValue(v), Workspace: cur.frame.campaign.Workspace.Name})
	}
}

// hostAction logs a host-effect step and hands it to the host. Like an
// email, it is logged only once the host has taken it.
func (ps *pass) hostAction(st ir.Step, cur *cursor) error {
	f := cur.frame
	a := Action{Person: ps.p.ID, Campaign: f.campaign.Name}
	var act *storage.Activity
	switch st := st.(type) {
	case *ir.ChangeOwner:
		a.Type, a.Owner = stdlib.ActChangeOwner, ps.render(st.To, f)
		act = &storage.Activity{Type: a.Type, Primary: a.Owner}
	case *ir.SyncToCRM:
		a.Type = stdlib.ActSyncToCRM
		act = &storage.Activity{Type: a.Type, Primary: ps.p.ID}
	case *ir.CreateTask:
		a.Type, a.Subject, a.Owner = stdlib.ActCreateTask, ps.render(st.Text, f), ps.render(st.To, f)
		to := a.Owner
		if to == "" {
			to = "owner" // the person's owner, as "for owner" says
		}
		act = &storage.Activity{Type: a.Type, Primary: a.Subject, Attributes: storage.Attrs{{Key: "Assigned To", Value: storage.AttrStr(to)}}}
	}
	if err := ps.r.e.fx.HostAction(ps.r.ctx, a); err != nil {
		return ps.fail(fmt.Errorf("%s: %w", a.Type, err))
	}
	ps.add(act, st, cur)
	return nil
}

func (ps *pass) wait(st *ir.Wait, cur *cursor) error {
	due := st.Until
	label := "until " + st.Until.UTC().Format(time.RFC3339)
	switch {
	case st.Wait > 0:
		due = resumeTime(ps.r.now.Add(st.Wait), st)
		label = formatWait(st.Wait)
		if st.Weekdays != 0 {
			label += " on weekdays " + st.Weekdays.String()
		}
		if st.At != nil {
			label += " until " + st.At.String()
		}
	case len(st.Text.Parts) > 0:
		// wait until "{{token}}": the token's value, in the frame the flow
		// runs in, when the step runs.
		text := ps.render(st.Text, cur.frame)
		t, err := parseDate(text)
		if err != nil {
			return ps.fail(fmt.Errorf("wait until %s: %q is not a date (2026-12-24) or a date-time (2026-12-24T09:00:00Z)", st.Text, text))
		}
		due = t.Truncate(time.Microsecond)
		label = "until " + due.UTC().Format(time.RFC3339)
	}
	if due.UTC().Year() > stdlib.MaxYear {
		// The check bounds waits, not the clock they start from: a stored
		// due time past the range could never come due.
		return ps.fail(fmt.Errorf("wait %s from %s would end at %s, past the clock's range, %s", label, ps.r.now.UTC().Format(time.RFC3339), due.UTC().Format(time.RFC3339), stdlib.TimeRange))
	}
	for _, c := range ps.stack {
		if c.frame.depth > 0 {
			return ps.fail(fmt.Errorf("a wait cannot run inside an executed campaign"))
		}
	}
	ps.add(&storage.Activity{Type: stdlib.ActWait, Primary: label, Attributes: storage.Attrs{{Key: "Until", Value: storage.AttrStr(due.UTC().Format(time.RFC3339))}}}, st, cur)
	if !due.After(ps.r.now) {
		return nil // the date has passed: the flow goes straight on
	}
	root := ps.stack[0].frame
	if ps.r.parkedMin.IsZero() || due.Before(ps.r.parkedMin) {
		ps.r.parkedMin = due
	}
	ps.park = append(ps.park, &storage.Parked{Person: ps.p.ID, Workspace: root.campaign.Workspace.Name, Campaign: root.campaign.Name,
		Step: st.ID, Due: due.UTC(), Tokens: root.tokens.overrides, Trigger: root.tokens.trigger})
	if ps.tracing() {
		ps.trace(TraceEvent{Kind: TraceLeave, Campaign: root.campaign, Text: "waiting until " + due.UTC().Format(time.RFC3339) + "; the rest of the flow runs then"})
	}
	ps.unwind()
	return nil
}

// resumeTime is when a wait of N units that ended at end resumes: the
// first instant at or after end that falls on one of the step's weekdays
// and, with a time of day, reads that time on the clock of the step's zone.
// Days are the zone's calendar days, so a wait ending Friday evening
// resumes on Monday (at midnight, or at the time of day), and a time of day
// already past on the day the wait ends moves to the next allowed day. A
// time that a daylight-saving change skips resolves as time.Date does (in
// Europe/Berlin, 02:30 on the spring day is 03:30).
func resumeTime(end time.Time, st *ir.Wait) time.Time {
	if st.Weekdays == 0 && st.At == nil {
		return end
	}
	loc := st.Zone
	if loc == nil {
		loc = time.UTC
	}
	local := end.In(loc)
	y, m, d := local.Date()
	// Eight days reach the next allowed day even when the time of day has
	// passed on the day the wait ends and only that weekday is allowed.
	for i := 0; i <= 7; i++ {
		if !st.Weekdays.Has(time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC).Weekday()) {
			continue
		}
		var t time.Time
		switch {
		case st.At != nil:
			t = time.Date(y, m, d+i, st.At.Hour, st.At.Minute, 0, 0, loc)
		case i == 0:
			t = end
		default:
			t = time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		}
		if !t.Before(end) {
			return t
		}
	}
	return end // unreachable: some day in eight is allowed
}

// parseDate reads a date token's value: a date (midnight UTC) or an
// RFC 3339 date-time.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == len("2006-01-02") {
		return time.Parse("2006-01-02", s)
	}
	return time.Parse(time.RFC3339, s)
}

// formatWait writes a duration in the largest unit that divides it.
func formatWait(d time.Duration) string {
	units := []struct {
		name string
		d    time.Duration
	}{{"week", 7 * 24 * time.Hour}, {"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}}
	for _, u := range units {
		if d%u.d == 0 {
			n := int64(d / u.d)
			if n == 1 {
				return "1 " + u.name
			}
			return fmt.Sprintf("%d %ss", n, u.name)
		}
	}
	return d.String()
}

// restore rebuilds the stack of a parked flow: it finds the wait by its
// step identity in the current program and continues after it. A wait
// stored before identities (by path alone) resumes by its path, which is
// right while the program is unchanged; the step the path ends after must
// still be a wait. The error says why the place is gone.
func (ps *pass) restore(c *ir.Campaign, w *storage.Parked) error {
	path := w.Path
	if w.Step != "" {
		path = stepPath(c.Flow, w.Step)
		if path == nil {
			return fmt.Errorf("%s step %s is no longer in the flow of campaign %q", parkedKind(w), w.Step, c.Name)
		}
	}
	changed := fmt.Errorf("the flow of campaign %q changed since the person started waiting", c.Name)
	fr := ps.r.e.rootFrame(c, w.Tokens, w.Trigger)
	cur := ps.cursor(c.Flow, fr)
	ps.push(cur)
	for len(path) > 1 {
		i, b := path[0], path[1]
		if i < 0 || i >= len(cur.steps) {
			return changed
		}
		st, ok := cur.steps[i].(*ir.If)
		if !ok {
			return changed
		}
		cur.pc = i + 1
		next := ps.cursor(nil, fr)
		switch {
		case b == 0 && st.HasElse:
			next.steps, next.choice = st.Else, len(st.Branches)+1
		case b >= 1 && b <= len(st.Branches):
			next.steps, next.choice = st.Branches[b-1].Steps, b
		default:
			return changed
		}
		ps.push(next)
		cur = next
		path = path[2:]
	}
	if len(path) != 1 || path[0] < 1 || path[0] > len(cur.steps) {
		return changed
	}
	if !parksAt(w, cur.steps[path[0]-1]) {
		return changed
	}
	cur.pc = path[0]
	return nil
}

// parkedKind names the step a parked row waits at, for messages.
func parkedKind(w *storage.Parked) string {
	if w.Webhook != nil {
		return "call webhook"
	}
	return "wait"
}

// parksAt reports whether st is a step the parked row can wait at: a
// wait, or a call webhook step for a parked webhook call.
func parksAt(w *storage.Parked, st ir.Step) bool {
	if w.Webhook != nil {
		_, ok := st.(*ir.CallWebhook)
		return ok
	}
	_, ok := st.(*ir.Wait)
	return ok
}

// stepPath is where the step with identity id is in steps, in the form of
// a parked path (for each enclosing if: its index and branch number, 0 for
// else; then the index after the step), or nil when no step has it.
func stepPath(steps []ir.Step, id string) []int {
	for i, step := range steps {
		if step.Base().ID == id {
			return []int{i + 1}
		}
		st, ok := step.(*ir.If)
		if !ok {
			continue
		}
		for b, br := range st.Branches {
			if p := stepPath(br.Steps, id); p != nil {
				return append([]int{i, b + 1}, p...)
			}
		}
		if p := stepPath(st.Else, id); p != nil {
			return append([]int{i, 0}, p...)
		}
	}
	return nil
}

func (ps *pass) execute(st *ir.Execute, cur *cursor) error {
	f := cur.frame
	child := st.Target
	if f.depth+1 > MaxDepth {
		return ps.fail(fmt.Errorf("execute campaign %q would nest %d levels deep; the limit is %d", child.Name, f.depth+1, MaxDepth))
	}
	if ps.tracing() {
		ps.trace(TraceEvent{Kind: TraceStart, Depth: f.depth + 1, Campaign: child})
		ps.traceSmartList(child, f.depth+1)
	}
	ok, reason := ps.smartList(child.SmartList, child.Workspace, 0)
	attrs := storage.Attrs{{Key: "Qualified", Value: storage.AttrBool(false)}, {Key: "Use Parent Token Context", Value: storage.AttrBool(st.Parent)}}
	if ok {
		q := ps.qualifies(child)
		if ps.tracing() {
			ps.trace(TraceEvent{Kind: TraceQualify, Depth: f.depth + 1, Campaign: child, Text: ps.qualifyText(child), Result: q})
		}
		if !q {
			ok, reason = false, "the qualification rule blocks the person"
		}
	}
	if reason != "" {
		attrs = append(attrs, storage.Attr{Key: "Reason", Value: storage.AttrStr(reason)})
	}
	if ok {
		attrs[0].Value = storage.AttrBool(true)
		ps.recordRun(child)
	}
	ps.add(&storage.Activity{Type: stdlib.ActExecutedCampaign, Primary: child.Name, Attributes: attrs}, st, cur)
	if !ok {
		return nil
	}
	// With parent tokens the child resolves in the caller's context, its own
	// program only as the fallback; without, in its own program alone.
	nf := ps.r.e.childFrame(f, child, st.Parent)
	if ps.tracing() {
		ps.trace(TraceEvent{Kind: TraceEnter, Depth: f.depth + 1, Campaign: child, Parent: st.Parent})
	}
	ps.push(ps.cursor(child.Flow, nf))
	return nil
}

func (ps *pass) removeFromFlow(st *ir.RemoveFromFlow, cur *cursor) error {
	var names []string
	targets := st.Targets
	if st.This {
		targets = []*ir.Campaign{cur.frame.campaign}
		names = []string{cur.frame.campaign.Name}
	}
	for _, t := range st.Targets {
		names = append(names, t.Name)
	}
	ps.add(&storage.Activity{Type: stdlib.ActRemoveFromFlow, Primary: strings.Join(names, ", ")}, st, cur)
	stop := false
	for _, t := range targets {
		inChain := false
		for _, c := range ps.stack {
			if c.frame.campaign == t {
				inChain = true
			}
		}
		if inChain {
			// Naming a running campaign (an executable, or the root) ends the
			// whole chain: nothing after this point runs, here or above.
			stop = true
		}
		if t.Kind != ir.Executable {
			if err := ps.dropPending(t); err != nil {
				return err
			}
		}
	}
	if stop {
		if ps.tracing() {
			ps.trace(TraceEvent{Kind: TraceLeave, Campaign: cur.frame.campaign, Text: "removed from the flow: nothing after this runs, here or in any caller"})
		}
		ps.unwind()
	}
	return nil
}

// dropPending removes a person's pending work in a campaign: parked waits
// and queued requests.
func (ps *pass) dropPending(c *ir.Campaign) error {
	waits, err := ps.r.tx.WaitsOf(ps.p.ID)
	if err != nil {
		return err
	}
	for _, w := range waits {
		if w.Campaign == c.Name && w.Workspace == c.Workspace.Name {
			ps.unpark = append(ps.unpark, w.ID)
		}
	}
	q := ps.r.queue[:0]
	for _, w := range ps.r.queue {
		if w.person == ps.p.ID && w.campaign == c {
			if w.queued != nil {
				ps.dequeue = append(ps.dequeue, w.queued.ID)
			}
			continue
		}
		q = append(q, w)
	}
	ps.r.queue = q
	ps.requests = slices.DeleteFunc(ps.requests, func(w work) bool { return w.campaign == c })
	return nil
}

// qualifies applies a campaign's qualification rule to the person.
func (ps *pass) qualifies(c *ir.Campaign) bool {
	last, ran := ps.p.RunAt(c.Key)
	switch c.Qualify.Rule {
	case ir.QualifyEveryTime:
		return true
	case ir.QualifyEvery:
		return !ran || !ps.r.now.Before(last.Add(c.Qualify.Every))
	default:
		return !ran
	}
}

func (ps *pass) recordRun(c *ir.Campaign) {
	ps.p.SetRunAt(c.Key, ps.r.now)
}

func validScore(v string) bool {
	_, _, err := storage.ParseScore(v)
	return err == nil
}

// statusMove reports whether a person may move to a program status:
// statuses move forward only, except into one marked "(back)"; moving to
// the status one has is no move.
func statusMove(prog *ir.ProgramDef, p *storage.Person, key, status string) bool {
	old, member := p.ProgramStatus(key)
	if !member {
		return true
	}
	ni, oi := prog.StatusIndex(status), prog.StatusIndex(old)
	return ni != oi && (ni > oi || prog.Statuses[ni].Back)
}

// frameKey names a frame the engine keeps: a campaign's own root frame
// (parent nil), or a child's frame under a kept parent frame.
type frameKey struct {
	parent *frame
	child  *ir.Campaign
	inPar  bool // use parent tokens
}

// childFrame is the frame an executed child runs in. Frames that depend
// only on the program (no API overrides, no trigger event) are made once
// and kept; the others are made per run.
func (e *Engine) childFrame(f *frame, child *ir.Campaign, parent bool) *frame {
	key := frameKey{parent: f, child: child, inPar: parent}
	if f.kept {
		e.frameMu.Lock()
		defer e.frameMu.Unlock()
		if nf := e.children[key]; nf != nil {
			return nf
		}
	}
	tc := &tokenCtx{my: ir.TokenScopes(child, nil, false), campaign: child, program: child.Program}
	if parent {
		tc = &tokenCtx{my: ir.TokenScopes(child, f.tokens.my, true), overrides: f.tokens.overrides, campaign: f.tokens.campaign, program: f.tokens.program, trigger: f.tokens.trigger}
	}
	nf := &frame{campaign: child, tokens: tc, depth: f.depth + 1, parent: parent, kept: f.kept}
	if f.kept {
		e.children[key] = nf
	}
	return nf
}

// notSent is why an email is not sent to p, or "" when it is sent: the
// first of stdlib.EmailBlocks that holds for the email.
func notSent(p *storage.Person, em *ir.Email) string {
	for _, b := range stdlib.EmailBlocks {
		if em.Operational && !b.Operational {
			continue
		}
		v, ok := p.LookupField(b.Field)
		if b.Field == "Email" {
			if !ok || v.Null || strings.TrimSpace(v.Text) == "" {
				return b.Reason
			}
			continue
		}
		if ok && !v.Null && v.Bool {
			return b.Reason
		}
	}
	return ""
}

// touch records that a step or event changed one of the person's fields.
func (ps *pass) touch() {
	ps.p.SetField(storage.FieldUpdatedAt, ir.Value{Type: stdlib.DateTime, Time: ps.r.now})
}
