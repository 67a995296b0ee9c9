package vm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/campc/campc/internal/textutil"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// Default budgets.
const (
	DefaultStepBudget    = 10000
	DefaultCascadeBudget = 100
	DefaultBatchGroup    = 500
)

// Options configure an Engine. Only the program is required.
type Options struct {
	Store   storage.Store // default: a new memstore.Store
	Clock   Clock         // default: a ManualClock at the zero time
	Effects Effects       // default: a Recorder
	// StepBudget bounds the steps of one person's pass through a flow,
	// executed children included.
	StepBudget int
	// CascadeBudget bounds the flow runs that events and requests start
	// for one person within one operation.
	CascadeBudget int
	// BatchGroup is how many people's passes a batch run commits in one
	// transaction (a person is never split across two).
	BatchGroup int
	// Tracer, when set, is told every decision of every pass (for campc
	// explain and run --trace). It slows the engine down.
	Tracer Tracer
	// Workers is how many batch groups run at once (default 1). It takes
	// effect on stores whose transactions may run concurrently (the
	// in-memory store, PostgreSQL); the log is the same either way.
	Workers int
	// Outbox, when set, puts the email and alerts a pass sends in its
	// commit (Commit.Outbox) instead of calling Effects.SendEmail and
	// SendAlert during the pass, so that a host delivers them only once
	// the pass is committed, from the store (campc serve).
	Outbox bool
	// Concurrent lets operations run at the same time instead of one at
	// a time, for a store whose transactions may run concurrently and
	// that locks a person for the transaction that loads it (PostgreSQL):
	// each person's pass stays atomic and in order by the store's row
	// locks, while passes of different people overlap. Logs are then
	// numbered in commit order, which depends on timing. campc serve
	// sets it when it shares work through River.
	Concurrent bool
	// DeferRuns, when set, leaves the flow runs that an outside operation
	// sets off — the campaign Request queues, the trigger campaigns that
	// hear Deliver's and ChangePerson's events — in the store's queue,
	// committed with the operation, instead of running them before it
	// returns: the host runs them later, on any process, with RunQueued
	// (campc serve on PostgreSQL: a River job per commit, so that a burst
	// of API calls is shared by all processes). The operation's own
	// effects (the event logged, the value set, Request Campaign logged)
	// are applied at once. The store's Tx must be a QueueReader.
	DeferRuns bool
	// DeferWebhooks, when set, makes a call webhook step of a root flow
	// park the person at the step with the rendered request
	// (Parked.Webhook) instead of calling Effects.CallWebhook during the
	// pass: the host makes the call after the commit, outside any
	// transaction, and resumes the flow with ResumeWebhook (campc serve on
	// PostgreSQL: a River job). The checker keeps call webhook out of
	// executable campaigns; in a program built without it such a step
	// still calls during the pass, as only a root flow can park.
	DeferWebhooks bool
}

// Engine runs one program. It is safe for concurrent use: operations are
// applied one at a time (at once with Options.Concurrent), each person's
// pass atomically.
type Engine struct {
	prog       *ir.Program
	store      storage.Store
	clock      Clock
	fx         Effects
	outbox     bool
	deferHooks bool // Options.DeferWebhooks
	steps      int
	cascades   int
	group      int
	workers    int
	tracer     Tracer
	readsLogs  bool       // some condition reads the activity log
	mu         sync.Mutex // operations one at a time, unless concurrent
	concurrent bool
	deferRuns  bool // Options.DeferRuns
	frameMu    sync.Mutex
	roots      map[*ir.Campaign]*frame  // each campaign's own root frame, made in New
	children   map[frameKey]*frame      // kept child frames (see childFrame), under frameMu
	listens    [ir.NumTriggerKinds]bool // event kinds some trigger campaign listens to
	waits      map[*ir.Campaign]bool    // campaigns whose flow has a wait, so may hold parked people
	hooks      map[*ir.Campaign]bool    // campaigns whose flow has a call webhook step (parks with DeferWebhooks)
	index      map[trigKey][]*ir.Campaign
	// active holds a host's activate and deactivate overrides of trigger
	// campaigns (SetActive), read by every pass under activeMu.
	activeMu sync.RWMutex
	active   map[*ir.Campaign]bool
}

// lock begins an operation: it waits for the one in progress, unless the
// engine is concurrent. It returns the unlock.
func (e *Engine) lock() func() {
	if e.concurrent {
		return func() {}
	}
	e.mu.Lock()
	return e.mu.Unlock
}

// Active reports whether a trigger campaign listens: its deploy-time
// override (SetActive) when it has one, else the project's word.
func (e *Engine) Active(c *ir.Campaign) bool {
	e.activeMu.RLock()
	defer e.activeMu.RUnlock()
	if a, ok := e.active[c]; ok {
		return a
	}
	return c.Active
}

// SetActive overrides whether a trigger campaign of the engine's program
// listens, until the engine is made again; the host keeps the override
// and sets it again at start. Other campaigns are refused.
func (e *Engine) SetActive(c *ir.Campaign, active bool) error {
	if c == nil || c.Kind != ir.Trigger || e.roots[c] == nil {
		return errors.New("only a trigger campaign of the program is activated or deactivated")
	}
	e.activeMu.Lock()
	defer e.activeMu.Unlock()
	if e.active == nil {
		e.active = map[*ir.Campaign]bool{}
	}
	e.active[c] = active
	return nil
}

type trigKey struct {
	ws      *ir.Workspace
	kind    ir.TriggerKind
	primary string
}

// New makes an engine for a checked program.
func New(prog *ir.Program, opts Options) (*Engine, error) {
	if prog == nil {
		return nil, errors.New("vm: no program")
	}
	e := &Engine{prog: prog, store: opts.Store, clock: opts.Clock, fx: opts.Effects, outbox: opts.Outbox, deferHooks: opts.DeferWebhooks,
		steps: opts.StepBudget, cascades: opts.CascadeBudget, index: map[trigKey][]*ir.Campaign{}, concurrent: opts.Concurrent, deferRuns: opts.DeferRuns}
	if e.store == nil {
		e.store = memstore.New()
	}
	if e.concurrent {
		if cs, ok := e.store.(interface{ ConcurrentTx() bool }); !ok || !cs.ConcurrentTx() {
			return nil, errors.New("vm: Options.Concurrent needs a store whose transactions may run at the same time")
		}
		if opts.Tracer != nil {
			return nil, errors.New("vm: a tracer follows one operation at a time: it cannot be used with Options.Concurrent")
		}
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
	e.tracer = opts.Tracer
	e.readsLogs = prog.ReadsActivityLogs()
	e.workers = max(opts.Workers, 1)
	e.group = opts.BatchGroup
	if e.group <= 0 {
		e.group = DefaultBatchGroup
	}
	e.roots, e.children = map[*ir.Campaign]*frame{}, map[frameKey]*frame{}
	e.waits, e.hooks = map[*ir.Campaign]bool{}, map[*ir.Campaign]bool{}
	for _, c := range prog.Campaigns {
		f := newRootFrame(c, nil, nil)
		f.kept = true
		e.roots[c] = f
		ir.WalkSteps(c.Flow, func(s ir.Step) {
			switch s.(type) {
			case *ir.Wait:
				e.waits[c] = true
			case *ir.CallWebhook:
				e.hooks[c] = true
			}
		})
	}
	// Triggers are indexed by event kind and primary value so that an event
	// looks at the few campaigns that listen to it, not at all of them.
	for _, c := range prog.Campaigns {
		if c.Kind != ir.Trigger || c.SmartList == nil {
			continue
		}
		seen := map[trigKey]bool{}
		for _, t := range c.SmartList.Triggers {
			e.listens[t.Kind] = true
			k := trigKey{ws: c.Workspace, kind: t.Kind, primary: triggerPrimary(t)}
			if !seen[k] {
				seen[k] = true
				e.index[k] = append(e.index[k], c)
			}
		}
	}
	return e, nil
}

func triggerPrimary(t *ir.TriggerDef) string {
	switch t.Kind {
	case ir.TrigDataChanges, ir.TrigScoreChanged:
		if t.Field != nil {
			return t.Field.Name
		}
	case ir.TrigAddedToList, ir.TrigRemovedFromList:
		if t.List != nil {
			return t.List.Key
		}
	case ir.TrigFillsOutForm:
		if t.Form != nil {
			return t.Form.Name
		}
	case ir.TrigStatusChanged:
		if t.Program != nil {
			return t.Program.Name
		}
	case ir.TrigOpensEmail, ir.TrigClicksEmail, ir.TrigEmailDelivered, ir.TrigEmailBounces, ir.TrigUnsubscribes:
		if t.Email != nil {
			return t.Email.Name
		}
	case ir.TrigVisitsPage, ir.TrigClicksPage:
		if t.WebPage != nil {
			return t.WebPage.Name
		}
	}
	return ""
}

// Program returns the engine's program.
func (e *Engine) Program() *ir.Program { return e.prog }

// Store returns the engine's store.
func (e *Engine) Store() storage.Store { return e.store }

// RunOptions are the per-run inputs of an operation.
type RunOptions struct {
	// Workspace is the campaign's workspace; the name is then taken as it
	// is. Without it, the name must pick one campaign (see Campaign).
	Workspace string
	// Tokens override My Tokens of the started campaign for this run only,
	// keyed by token name (without "my.").
	Tokens map[string]string
	// Again starts a new batch run even when one of the campaign at the
	// same start time is complete.
	Again bool
}

// Report is what one operation did.
type Report struct {
	Activities []*storage.Activity // written by the operation, in order
	Entered    []Entry             // people who entered a flow (not counting executed children)
	Resumed    bool                // RunBatch finished an earlier, interrupted run
	// Completed is set when RunBatch found the run it was asked for
	// complete: nothing ran, Activities is the run's stored log, and
	// Completed.Summary counts what it did.
	Completed *storage.BatchRun
}

// Entry records a person entering a campaign's flow.
type Entry struct {
	Campaign *ir.Campaign
	Person   string
}

// Error is a run-time failure: a budget exceeded, a value that does not
// convert, a host effect that failed. It names the campaign and person.
type Error struct {
	Campaign string
	Person   string
	Err      error
	// Chain, for a budget error, names the campaigns whose flows ran one
	// another for the person, in order: the campaign that started the
	// cascade first (the batch campaign, the resumed one, or the first the
	// delivered event triggered), the one that went over the budget last;
	// for the step budget, the executed campaigns running follow.
	Chain []string
}

func (e *Error) Error() string {
	// The Id as the text log shows it: quoted when it holds characters a
	// terminal would act on.
	s := fmt.Sprintf("campaign %q, person %s: %v", e.Campaign, textutil.QuoteIfNeeded(e.Person), e.Err)
	if len(e.Chain) > 0 {
		s += ": " + e.ChainText()
	}
	return s
}

// ChainText writes the chain as "A" > "B" > "C", up to the first campaign
// that comes round again, then "…": the loop, and how it was entered.
func (e *Error) ChainText() string {
	var parts []string
	seen := map[string]bool{}
	for _, name := range e.Chain {
		parts = append(parts, strconv.Quote(name))
		if seen[name] {
			parts = append(parts, "…")
			break
		}
		seen[name] = true
	}
	return strings.Join(parts, " > ")
}

func (e *Error) Unwrap() error { return e.Err }

// Budget errors.
var (
	ErrStepBudget    = errors.New("step budget exceeded")
	ErrCascadeBudget = errors.New("cascade budget exceeded (campaigns keep triggering each other)")
)

// Campaign finds a campaign by name: a campaign's name, or
// "Workspace/Campaign". A name that may mean campaigns of several
// workspaces (names may contain "/") is an *AmbiguousError: name the
// workspace with CampaignIn.
func (e *Engine) Campaign(name string) (*ir.Campaign, error) { return e.CampaignIn("", name) }

// CampaignIn finds campaign name of workspace ws, taking name as it is;
// with ws "", it is Campaign.
func (e *Engine) CampaignIn(ws, name string) (*ir.Campaign, error) {
	if ws != "" {
		if c := e.prog.Campaign(ws, name); c != nil {
			return c, nil
		}
		if !slices.ContainsFunc(e.prog.Workspaces, func(w *ir.Workspace) bool { return w.Name == ws }) {
			return nil, fmt.Errorf("no workspace %q", ws)
		}
		return nil, fmt.Errorf("workspace %q has no campaign %q", ws, name)
	}
	cs := e.prog.CampaignsNamed(name)
	switch len(cs) {
	case 1:
		return cs[0], nil
	case 0:
		return nil, fmt.Errorf("no campaign %q", name)
	}
	return nil, &AmbiguousError{Name: name, Campaigns: cs}
}

// AmbiguousError is a campaign name that may mean several campaigns: the
// same name in several workspaces, or a name with "/" that also reads as
// "Workspace/Campaign".
type AmbiguousError struct {
	Name      string
	Campaigns []*ir.Campaign // in workspace order
}

func (e *AmbiguousError) Error() string {
	var cs []string
	for _, c := range e.Campaigns {
		cs = append(cs, fmt.Sprintf("campaign %q of workspace %q", c.Name, c.Workspace.Name))
	}
	return fmt.Sprintf("%q may mean %s; name the workspace", e.Name, strings.Join(cs, " or "))
}

// checkOverrides validates API My Token overrides against the campaign.
func checkOverrides(c *ir.Campaign, tokens map[string]string) error {
	for _, name := range sortedKeys(tokens) {
		t := c.Scope().Lookup(name)
		if t == nil {
			return fmt.Errorf("campaign %q has no My Token %q to override", c.Name, name)
		}
		if err := storage.CheckTokenValue(t.Type, tokens[name]); err != nil {
			return fmt.Errorf("My Token %q is a %s token: %v", name, t.Type, err)
		}
	}
	return nil
}

// RunBatch runs a batch campaign over every person its workspace sees, in
// Id order, committing whole passes in groups. A batch run is named by its
// campaign and its start time (the engine's clock): see Store.StartRun.
// If an earlier run of the campaign stopped part way (a crash, a budget
// error), RunBatch finishes that run instead, with its original clock and
// tokens; if the run named is complete, RunBatch runs nobody and reports
// its stored log (Report.Completed), unless opts.Again asks for a new run.
// Either way every qualifying person is processed exactly once per run.
func (e *Engine) RunBatch(ctx context.Context, campaign string, opts RunOptions) (*Report, error) {
	c, err := e.CampaignIn(opts.Workspace, campaign)
	if err != nil {
		return nil, err
	}
	if c.Kind != ir.Batch {
		return nil, fmt.Errorf("campaign %q is a %s campaign, not a batch campaign", c.Name, c.Kind)
	}
	if err := checkOverrides(c, opts.Tokens); err != nil {
		return nil, err
	}
	return e.runBatch(ctx, c, e.now(), opts)
}

// runBatch is RunBatch at a given start time (a schedule's, or the clock's).
func (e *Engine) runBatch(ctx context.Context, c *ir.Campaign, at time.Time, opts RunOptions) (*Report, error) {
	defer e.lock()()
	r := e.newRun(ctx)
	r.now = at
	want := &storage.BatchRun{Workspace: c.Workspace.Name, Campaign: c.Name, Started: r.now, Tokens: opts.Tokens}
	br, state, err := e.store.StartRun(ctx, want, opts.Again)
	if err != nil {
		return nil, err
	}
	switch state {
	case storage.RunDone:
		acts, err := e.store.RunLog(ctx, br.ID)
		r.report.Activities, r.report.Completed = acts, br
		return r.report, err
	case storage.RunResumed:
		r.now = br.Started.UTC()
		r.report.Resumed = true
	}
	if c.SmartList.Invalid != "" {
		err := r.inTx(func() error {
			br.Done = true
			r.orphan(&storage.Activity{Type: stdlib.ActSmartListInvalid, Campaign: c.Name, Workspace: c.Workspace.Name, Primary: c.Name,
				Attributes: storage.Attrs{{Key: "Reason", Value: storage.AttrStr(c.SmartList.Invalid)}, {Key: "Qualified", Value: storage.AttrBool(false)}}})
			return r.commitRun(br)
		})
		return r.report, err
	}
	ids, err := e.store.PersonIDs(ctx)
	if err != nil {
		return r.report, err
	}
	ids = after(ids, br.Cursor)
	var groups [][]string
	for len(ids) > 0 {
		n := min(e.group, len(ids))
		groups = append(groups, ids[:n])
		ids = ids[n:]
	}
	if len(groups) == 0 {
		// Nobody left to process: just mark the run finished.
		groups = append(groups, nil)
	}
	if e.workers > 1 && len(groups) > 1 && e.tracer == nil {
		if cs, ok := e.store.(interface{ ConcurrentTx() bool }); ok && cs.ConcurrentTx() {
			return r.report, e.batchParallel(r, c, br, groups)
		}
	}
	for g, group := range groups {
		last := g == len(groups)-1
		failed, runErr := -1, error(nil)
		cursor, summary := br.Cursor, br.Summary
		if runErr = r.inTx(func() error {
			if err := r.prefetch(group); err != nil {
				return err
			}
			var err error
			if failed, err = r.batchGroup(c, br, group); err != nil {
				return err
			}
			br.Done = last
			return r.commitRun(br)
		}); runErr == nil {
			continue
		}
		br.Cursor, br.Done, br.Summary = cursor, false, summary
		return r.report, r.redoBefore(c, br, group, failed, runErr)
	}
	return r.report, nil
}

// commitRun applies the batch run's progress in the current transaction,
// counting what the transaction's passes did into its summary.
func (r *run) commitRun(br *storage.BatchRun) error {
	br.Summary = summaryAdd(br.Summary, r.pending)
	return r.tx.Apply(&storage.Commit{Run: br})
}

// summaryAdd returns the summary with a group's report counted in (a copy: the
// caller may keep the old one to go back to). A person is in one group
// only, so counting distinct people per group counts them over the run.
func summaryAdd(s storage.RunSummary, rep *Report) storage.RunSummary {
	if len(rep.Entered) > 0 {
		s.Entered = slices.Clone(s.Entered)
		seen := make(map[Entry]bool, len(rep.Entered))
		for _, en := range rep.Entered {
			if seen[en] {
				continue
			}
			seen[en] = true
			ws, name := en.Campaign.Workspace.Name, en.Campaign.Name
			i := slices.IndexFunc(s.Entered, func(c storage.EntryCount) bool { return c.Workspace == ws && c.Campaign == name })
			if i < 0 {
				s.Entered = append(s.Entered, storage.EntryCount{Workspace: ws, Campaign: name})
				i = len(s.Entered) - 1
			}
			s.Entered[i].People++
		}
	}
	type stepPerson struct {
		campaign string
		step     *ir.StepBase
		person   string
	}
	// A batch group runs its people one after another in Id order, so
	// each person's activities are together: then the steps seen are
	// remembered for the current person only. Otherwise, a set of all.
	ordered := slices.IsSortedFunc(rep.Activities, func(a, b *storage.Activity) int { return strings.Compare(a.Person, b.Person) })
	var seen map[stepPerson]bool
	var cur []stepPerson // ordered: the current person's
	cloned := false
	for _, a := range rep.Activities {
		st := a.Step()
		if st == nil || a.Campaign == "" {
			continue
		}
		k := stepPerson{a.Campaign, st, a.Person}
		if ordered {
			if len(cur) > 0 && cur[0].person != a.Person {
				cur = cur[:0]
			}
			if slices.Contains(cur, k) {
				continue
			}
			cur = append(cur, k)
		} else {
			if seen[k] {
				continue
			}
			if seen == nil {
				seen = make(map[stepPerson]bool, len(rep.Activities))
			}
			seen[k] = true
		}
		if !cloned {
			s.Steps, cloned = slices.Clone(s.Steps), true
		}
		file, line, col := st.Pos.Filename, st.Pos.Line, st.Pos.Column
		i := slices.IndexFunc(s.Steps, func(c storage.StepCount) bool {
			return c.Campaign == a.Campaign && c.File == file && c.Line == line && c.Column == col
		})
		if i < 0 {
			s.Steps = append(s.Steps, storage.StepCount{Campaign: a.Campaign, File: file, Line: line, Column: col, Type: a.Type, Primary: a.Primary})
			i = len(s.Steps) - 1
		}
		s.Steps[i].People++
	}
	return s
}

// prefetch reads (and on a durable store locks) a batch group's people
// ahead, when the store can.
func (r *run) prefetch(group []string) error {
	if pf, ok := r.tx.(storage.Prefetcher); ok && len(group) > 1 && r.e.tracer == nil {
		return pf.Prefetch(group, r.e.readsLogs)
	}
	return nil
}

// batchGroup runs the batch campaign for a group of people in the current
// transaction, moving the run's cursor past each. On failure it says which
// person of the group failed (-1 when it was no person's pass).
func (r *run) batchGroup(c *ir.Campaign, br *storage.BatchRun, group []string) (int, error) {
	for i, id := range group {
		if err := r.ctx.Err(); err != nil {
			return -1, err
		}
		p, err := r.load(id)
		if err != nil {
			return -1, err
		}
		if p != nil && c.Workspace.Sees(p.Partition) {
			err := r.start(work{person: id, campaign: c, tokens: br.Tokens}, p)
			if err == nil {
				err = r.drain()
			}
			if err != nil {
				return i, err
			}
		}
		br.Cursor = id
	}
	return -1, nil
}

// redoBefore handles a group that failed at person index failed: the group
// was rolled back, so the people before the failing one are run again (the
// same inputs give the same passes) and committed, leaving only the
// failing person's work undone. It returns the original error.
func (r *run) redoBefore(c *ir.Campaign, br *storage.BatchRun, group []string, failed int, runErr error) error {
	if failed > 0 {
		err := r.inTx(func() error {
			if err := r.prefetch(group[:failed]); err != nil {
				return err
			}
			if _, err := r.batchGroup(c, br, group[:failed]); err != nil {
				return err
			}
			return r.commitRun(br)
		})
		if err != nil {
			return err
		}
	}
	return runErr
}

var errStopped = errors.New("vm: an earlier group failed")

// batchParallel runs groups on several workers at once. Each group is one
// transaction; groups commit strictly in order, so the log and its
// sequence numbers are the same as a sequential run's, whatever the
// schedule. After a failure no later group commits.
//
// A worker that waits for its turn to commit holds its group's row locks,
// and a database cannot see that wait. So that processes sharing a
// database (other batch runs, whatever their groups) always make
// progress, workers also take their groups' locks in turn: group g locks
// its people (one ascending range) only once group g-1 holds all of its
// own. Then every process takes row locks in ascending Id order, and a
// worker waiting for its turn holds its locks only behind earlier groups
// that hold all of theirs, which wait on nothing but the database and
// commit. A wait for a row lock always ends, and no cycle forms.
func (e *Engine) batchParallel(r *run, c *ir.Campaign, br *storage.BatchRun, groups [][]string) error {
	n := len(groups)
	turns := make([]chan struct{}, n+1) // turns[g] is closed once groups before g are done
	locks := make([]chan struct{}, n+1) // locks[g] is closed once groups before g hold their locks
	for i := range turns {
		turns[i] = make(chan struct{})
		locks[i] = make(chan struct{})
	}
	close(turns[0])
	close(locks[0])
	type result struct {
		rep    *Report
		err    error
		failed int
		cursor string
	}
	results := make([]result, n)
	tokens := br.Tokens // workers read these; br itself is written only in turn
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < min(e.workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wr := e.newRun(r.ctx)
			wr.now = r.now
			for {
				g := int(next.Add(1) - 1)
				if g >= n {
					return
				}
				res := &results[g]
				// The transaction begins in the lock turn too: a worker
				// waiting here is not idle in a transaction.
				<-locks[g]
				tx, err := e.store.Begin(r.ctx)
				if err == nil {
					wr.tx, wr.pending, wr.hooks = tx, &Report{}, nil
					err = wr.prefetch(groups[g])
				}
				close(locks[g+1])
				if err == nil {
					local := storage.BatchRun{Tokens: tokens} // the cursor is per group until its turn
					res.failed, err = wr.batchGroup(c, &local, groups[g])
					res.cursor = local.Cursor
				}
				// Counting needs nothing of the groups before: done before the
				// turn, so that the turns (in order) are short.
				var part storage.RunSummary
				if err == nil {
					part = summaryAdd(storage.RunSummary{}, wr.pending)
				}
				<-turns[g]
				if err == nil && stop.Load() {
					err = errStopped
				}
				if err == nil {
					summary := br.Summary
					br.Cursor, br.Done = res.cursor, g == n-1
					br.Summary = br.Summary.Merge(part)
					if err = wr.tx.Apply(&storage.Commit{Run: br}); err == nil {
						err = tx.Commit()
					}
					if err != nil {
						br.Summary = summary
					}
				} else if tx != nil {
					tx.Rollback()
				}
				if err == nil {
					res.rep = wr.pending
				} else {
					wr.queue = wr.queue[:0]
					res.err = err
					if !errors.Is(err, errStopped) {
						stop.Store(true)
					}
				}
				wr.tx, wr.pending = nil, nil
				close(turns[g+1])
			}
		}()
	}
	wg.Wait()
	for g, res := range results {
		if res.err != nil {
			// Groups before g committed; the cursor is the last of them.
			br.Done = false
			if g > 0 {
				br.Cursor = results[g-1].cursor
			}
			return r.redoBefore(c, br, groups[g], res.failed, res.err)
		}
		r.report.Activities = append(r.report.Activities, res.rep.Activities...)
		r.report.Entered = append(r.report.Entered, res.rep.Entered...)
	}
	return nil
}

// Request requests a trigger campaign for people, as the API does: the
// campaign must listen for requests from "api".
func (e *Engine) Request(ctx context.Context, campaign string, people []string, opts RunOptions) (*Report, error) {
	c, err := e.CampaignIn(opts.Workspace, campaign)
	if err != nil {
		return nil, err
	}
	if c.Kind != ir.Trigger || !c.Requestable("api") {
		return nil, fmt.Errorf("campaign %q does not listen for API requests: it needs \"trigger campaign is requested from api\"", c.Name)
	}
	if !e.Active(c) {
		return nil, fmt.Errorf("campaign %q is not active, so it cannot be requested", c.Name)
	}
	if err := checkOverrides(c, opts.Tokens); err != nil {
		return nil, err
	}
	defer e.lock()()
	r := e.newRun(ctx)
	r.deferRuns = e.deferRuns
	// Check every person before running anyone: nothing half-applied.
	err = r.inTx(func() error {
		for _, id := range people {
			p, err := r.load(id)
			if err != nil {
				return err
			}
			if p == nil {
				return fmt.Errorf("no person with Id %q", id)
			}
			if !c.Workspace.Sees(p.Partition) {
				return fmt.Errorf("person %q (partition %q) is not visible to workspace %q", id, p.PartitionName(), c.Workspace.Name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range people {
		err := r.inTx(func() error {
			p, err := r.load(id)
			if err != nil || p == nil {
				return err
			}
			ps := r.newPass(p, nil)
			ps.add(&storage.Activity{Type: stdlib.ActRequestCampaign, Workspace: c.Workspace.Name, Primary: c.Name, Attributes: storage.Attrs{{Key: "Source", Value: storage.AttrStr("api")}}}, nil, nil)
			ev := &storage.Event{Kind: ir.TrigRequested, Person: id, Campaign: c.Name, Source: "api", Workspace: c.Workspace.Name}
			ps.requests = append(ps.requests, work{person: id, campaign: c, tokens: opts.Tokens, trigger: ev})
			if err := ps.finish(nil); err != nil {
				return err
			}
			return r.drain()
		})
		if err != nil {
			return r.report, err
		}
	}
	return r.report, nil
}

// Deliver applies an event to its person (a form fill is logged, a data
// value or status is set, a list is joined; an engagement event — an
// email open, click, delivery, bounce or unsubscription, a web page visit
// or click — is logged under Marketo's activity type) and starts the
// active trigger campaigns that listen to it.
func (e *Engine) Deliver(ctx context.Context, ev storage.Event) (*Report, error) {
	defer e.lock()()
	r := e.newRun(ctx)
	r.deferRuns = e.deferRuns
	err := r.inTx(func() error {
		p, err := r.load(ev.Person)
		if err != nil {
			return err
		}
		if p == nil {
			return fmt.Errorf("no person with Id %q", ev.Person)
		}
		if err := r.applyEvent(p, &ev); err != nil {
			return err
		}
		return r.drain()
	})
	return r.report, err
}

// Recover runs the queued requests and triggered runs that a stopped
// engine left in the store. Advance recovers first, by itself.
func (e *Engine) Recover(ctx context.Context) (*Report, error) {
	defer e.lock()()
	r := e.newRun(ctx)
	return r.report, r.recover()
}

func (r *run) recover() error {
	queued, err := r.e.store.Queued(r.ctx)
	if err != nil {
		return err
	}
	for _, q := range queued {
		w, ok := r.e.workOf(q)
		err := r.inTx(func() error {
			if !ok {
				return r.tx.Apply(&storage.Commit{Dequeue: []int64{q.ID}})
			}
			r.queue = append(r.queue, w)
			return r.drain()
		})
		if errors.Is(err, storage.ErrTaken) {
			continue // another process ran it
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// workOf turns a stored queue entry back into work; false when its
// campaign is gone.
func (e *Engine) workOf(q *storage.Queued) (work, bool) {
	c := e.prog.Campaign(q.Workspace, q.Campaign)
	if c == nil {
		return work{}, false
	}
	return work{person: q.Person, campaign: c, tokens: q.Tokens, trigger: q.Trigger, queued: q}, true
}

// Advance resumes every parked wait due at or before the clock's time,
// each at its own due time, and runs what that sets off.
func (e *Engine) Advance(ctx context.Context) (*Report, error) {
	return e.advance(ctx, e.now())
}

// advance is Advance up to a given time (for CatchUp, which moves through
// time without moving the host's clock).
func (e *Engine) advance(ctx context.Context, until time.Time) (*Report, error) {
	return e.advanceQueue(ctx, until, true)
}

// advanceQueue is advance, running the queued runs first when recover is
// set.
func (e *Engine) advanceQueue(ctx context.Context, until time.Time, recover bool) (*Report, error) {
	defer e.lock()()
	r := e.newRun(ctx)
	r.now = until
	if recover {
		if err := r.recover(); err != nil {
			return r.report, err
		}
	}
	for {
		due, err := e.store.DueWaits(ctx, until)
		if err != nil {
			return r.report, err
		}
		// A parked webhook call is not a wait: the host's job for it
		// makes the call and resumes it (ResumeWebhook).
		due = slices.DeleteFunc(due, func(w *storage.Parked) bool { return w.Webhook != nil })
		if len(due) == 0 {
			return r.report, nil
		}
		for i, w := range due {
			if err := ctx.Err(); err != nil {
				return r.report, err
			}
			// The flow resumes at its due time, and what it sets off runs then too.
			r.now = w.Due.UTC()
			r.parkedMin = time.Time{}
			err := r.inTx(func() error {
				if err := r.resume(w); err != nil {
					return err
				}
				return r.drain()
			})
			if errors.Is(err, storage.ErrTaken) {
				continue // another process resumed it
			}
			if err != nil {
				return r.report, err
			}
			// A wait parked just now may fall due before the rest of this
			// list: ask the store again so waits resume in due order.
			if !r.parkedMin.IsZero() && !r.parkedMin.After(until) && i+1 < len(due) && r.parkedMin.Before(due[i+1].Due) {
				break
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

// after is the Ids (ascending) past a batch cursor: all when it is "".
func after(ids []string, cursor string) []string {
	if cursor == "" {
		return ids
	}
	return ids[sort.SearchStrings(ids, cursor+"\x00"):]
}
