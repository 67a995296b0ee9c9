package vm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/campc/campc/compiler"
)

// Default budgets.
const (
	DefaultStepBudget    = 10000
	DefaultCascadeBudget = 100
)

// Options configure an Engine. Only the program is required.
type Options struct {
	Store   Store   // default: a new MemStore
	Clock   Clock   // default: a ManualClock at the zero time
	Effects Effects // default: a Recorder
	// StepBudget bounds the steps of one person's pass through a flow,
	// executed children included.
	StepBudget int
	// CascadeBudget bounds the flow runs that events and requests start
	// for one person within one operation.
	CascadeBudget int
}

// Engine runs one program. It is safe for concurrent use: operations are
// applied one at a time, each person's pass atomically.
type Engine struct {
	prog     *compiler.Program
	store    Store
	clock    Clock
	fx       Effects
	steps    int
	cascades int
	mu       sync.Mutex
	index    map[trigKey][]*compiler.Campaign
}

type trigKey struct {
	ws      *compiler.Workspace
	kind    compiler.TriggerKind
	primary string
}

// New makes an engine for a checked program.
func New(prog *compiler.Program, opts Options) (*Engine, error) {
	if prog == nil {
		return nil, errors.New("vm: no program")
	}
	e := &Engine{prog: prog, store: opts.Store, clock: opts.Clock, fx: opts.Effects,
		steps: opts.StepBudget, cascades: opts.CascadeBudget, index: map[trigKey][]*compiler.Campaign{}}
	if e.store == nil {
		e.store = NewMemStore()
	}
	if e.clock == nil {
		e.clock = NewManualClock(time.Time{})
	}
	if e.fx == nil {
		e.fx = &Recorder{}
	}
	if e.steps <= 0 {
		e.steps = DefaultStepBudget
	}
	if e.cascades <= 0 {
		e.cascades = DefaultCascadeBudget
	}
	// Triggers are indexed by event kind and primary value so that an event
	// looks at the few campaigns that listen to it, not at all of them.
	for _, c := range prog.Campaigns {
		if c.Kind != compiler.Trigger || c.SmartList == nil {
			continue
		}
		seen := map[trigKey]bool{}
		for _, t := range c.SmartList.Triggers {
			k := trigKey{ws: c.Workspace, kind: t.Kind, primary: triggerPrimary(t)}
			if !seen[k] {
				seen[k] = true
				e.index[k] = append(e.index[k], c)
			}
		}
	}
	return e, nil
}

func triggerPrimary(t *compiler.TriggerDef) string {
	switch t.Kind {
	case compiler.TrigDataChanges, compiler.TrigScoreChanged:
		if t.Field != nil {
			return t.Field.Name
		}
	case compiler.TrigAddedToList, compiler.TrigRemovedFromList:
		if t.List != nil {
			return t.List.Name
		}
	case compiler.TrigFillsOutForm:
		if t.Form != nil {
			return t.Form.Name
		}
	case compiler.TrigStatusChanged:
		if t.Program != nil {
			return t.Program.Name
		}
	}
	return ""
}

// Program returns the engine's program.
func (e *Engine) Program() *compiler.Program { return e.prog }

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

// RunOptions are the per-run inputs of an operation.
type RunOptions struct {
	// Tokens override My Tokens of the started campaign for this run only,
	// keyed by token name (without "my.").
	Tokens map[string]string
}

// Report is what one operation did.
type Report struct {
	Activities []*Activity // written by the operation, in order
	Entered    []Entry     // people who entered a flow (not counting executed children)
}

// Entry records a person entering a campaign's flow.
type Entry struct {
	Campaign *compiler.Campaign
	Person   string
}

// Error is a run-time failure: a budget exceeded, a value that does not
// convert, a host effect that failed. It names the campaign and person.
type Error struct {
	Campaign string
	Person   string
	Err      error
}

func (e *Error) Error() string {
	return fmt.Sprintf("campaign %q, person %s: %v", e.Campaign, e.Person, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Budget errors.
var (
	ErrStepBudget    = errors.New("step budget exceeded")
	ErrCascadeBudget = errors.New("cascade budget exceeded (campaigns keep triggering each other)")
)

// Campaign finds a campaign by name ("Workspace/Name" when the name is in
// several workspaces).
func (e *Engine) Campaign(name string) (*compiler.Campaign, error) {
	cs := e.prog.CampaignsNamed(name)
	switch len(cs) {
	case 1:
		return cs[0], nil
	case 0:
		return nil, fmt.Errorf("no campaign %q", name)
	}
	var ws []string
	for _, c := range cs {
		ws = append(ws, fmt.Sprintf("%q", c.Workspace.Name+"/"+name))
	}
	return nil, fmt.Errorf("campaign %q is in several workspaces; write one of %s", name, strings.Join(ws, ", "))
}

// checkOverrides validates API My Token overrides against the campaign.
func checkOverrides(c *compiler.Campaign, tokens map[string]string) error {
	for _, name := range sortedKeys(tokens) {
		t := c.Scope().Lookup(name)
		if t == nil {
			return fmt.Errorf("campaign %q has no My Token %q to override", c.Name, name)
		}
		if t.Type == "score" && !validScore(tokens[name]) {
			return fmt.Errorf("My Token %q is a score token: its value must be +n, -n or =n, not %q", name, tokens[name])
		}
	}
	return nil
}

// RunBatch runs a batch campaign now over every person its workspace sees.
func (e *Engine) RunBatch(ctx context.Context, campaign string, opts RunOptions) (*Report, error) {
	c, err := e.Campaign(campaign)
	if err != nil {
		return nil, err
	}
	if c.Kind != compiler.Batch {
		return nil, fmt.Errorf("campaign %q is a %s campaign, not a batch campaign", c.Name, c.Kind)
	}
	if err := checkOverrides(c, opts.Tokens); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.newRun(ctx)
	if c.SmartList.Invalid != "" {
		r.log(&Activity{Type: "Smart List Invalid", Campaign: c.Name, Workspace: c.Workspace.Name, Primary: c.Name,
			Attributes: map[string]any{"Reason": c.SmartList.Invalid, "Qualified": false}}, nil)
		return r.report, r.flushOrphans()
	}
	ids, err := e.store.PersonIDs(ctx)
	if err != nil {
		return r.report, err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return r.report, err
		}
		p, err := e.store.LoadPerson(ctx, id)
		if err != nil {
			return r.report, err
		}
		if p == nil || !c.Workspace.Sees(p.Partition) {
			continue
		}
		if err := r.start(work{person: id, campaign: c, tokens: opts.Tokens}, p); err != nil {
			return r.report, err
		}
		if err := r.drain(); err != nil {
			return r.report, err
		}
	}
	return r.report, nil
}

// Request requests a trigger campaign for people, as the API does: the
// campaign must listen for requests from "api".
func (e *Engine) Request(ctx context.Context, campaign string, people []string, opts RunOptions) (*Report, error) {
	c, err := e.Campaign(campaign)
	if err != nil {
		return nil, err
	}
	if c.Kind != compiler.Trigger || !c.Requestable("api") {
		return nil, fmt.Errorf("campaign %q does not listen for API requests: it needs \"trigger campaign is requested from api\"", c.Name)
	}
	if !c.Active {
		return nil, fmt.Errorf("campaign %q is not active, so it cannot be requested", c.Name)
	}
	if err := checkOverrides(c, opts.Tokens); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// Check every person before running anyone: nothing half-applied.
	for _, id := range people {
		p, err := e.store.LoadPerson(ctx, id)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, fmt.Errorf("no person with Id %q", id)
		}
		if !c.Workspace.Sees(p.Partition) {
			return nil, fmt.Errorf("person %q (partition %q) is not visible to workspace %q", id, p.Partition, c.Workspace.Name)
		}
	}
	r := e.newRun(ctx)
	for _, id := range people {
		ev := &Event{Kind: compiler.TrigRequested, Person: id, Campaign: c.Name, Source: "api", Workspace: c.Workspace.Name}
		r.queue = append(r.queue, work{person: id, campaign: c, tokens: opts.Tokens, trigger: ev, requested: true})
		if err := r.drain(); err != nil {
			return r.report, err
		}
	}
	return r.report, nil
}

// Deliver applies an event to its person (a form fill is logged, a data
// value or status is set, a list is joined) and starts the active trigger
// campaigns that listen to it.
func (e *Engine) Deliver(ctx context.Context, ev Event) (*Report, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.newRun(ctx)
	p, err := e.store.LoadPerson(ctx, ev.Person)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("no person with Id %q", ev.Person)
	}
	if err := r.applyEvent(p, &ev); err != nil {
		return r.report, err
	}
	return r.report, r.drain()
}

// Advance resumes every parked wait due at or before the clock's time,
// each at its own due time, and runs what that sets off.
func (e *Engine) Advance(ctx context.Context) (*Report, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	until := e.clock.Now()
	r := e.newRun(ctx)
	for {
		due, err := e.store.DueWaits(ctx, until)
		if err != nil {
			return r.report, err
		}
		if len(due) == 0 {
			return r.report, nil
		}
		for _, w := range due {
			if err := ctx.Err(); err != nil {
				return r.report, err
			}
			// The flow resumes at its due time, and what it sets off runs then too.
			r.now = w.Due.UTC()
			if err := r.resume(w); err != nil {
				return r.report, err
			}
			if err := r.drain(); err != nil {
				return r.report, err
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
