package vm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/campc/campc/ir"
)

// Store keeps people, the activity log, qualification history (inside
// each person), parked waits, the queue of requested and triggered runs,
// and the progress of batch runs.
//
// All changes go through a Tx: the engine commits one person's pass (or a
// group of whole passes, for batch speed) as one transaction, so a crash
// never leaves half a flow applied.
type Store interface {
	// PersonIDs lists every person's Id in ascending order.
	PersonIDs(ctx context.Context) ([]string, error)
	// Begin starts a transaction.
	Begin(ctx context.Context) (Tx, error)
	// DueWaits lists the parked waits due at or before t, earliest first
	// (ties by ID).
	DueWaits(ctx context.Context, t time.Time) ([]*Parked, error)
	// Queued lists the queued runs, first in first out.
	Queued(ctx context.Context) ([]*Queued, error)
	// OpenRun returns the unfinished batch run of a campaign, or nil.
	OpenRun(ctx context.Context, workspace, campaign string) (*BatchRun, error)
	// StartRun finds or starts the batch run that want names: its
	// workspace, campaign and start time. Processes sharing the store
	// take turns at it, so that two of them never start the same run:
	//   - an unfinished run of the campaign, whatever its start, is
	//     returned to be finished (RunResumed), unless another process is
	//     running it: then the store's error says so;
	//   - otherwise the latest run of the campaign started at
	//     want.Started, when again is false, is returned (RunDone);
	//   - otherwise a new, unfinished run is stored (RunNew).
	StartRun(ctx context.Context, want *BatchRun, again bool) (*BatchRun, RunState, error)
	// RunLog lists the activities a batch run wrote, in sequence order.
	RunLog(ctx context.Context, run int64) ([]*Activity, error)
	// Activities lists the log of one person, or of everyone when id is "",
	// in sequence order.
	Activities(ctx context.Context, id string) ([]*Activity, error)
}

// Tx is a store transaction. LoadPerson sees what Apply wrote earlier in
// the same transaction; a durable store also locks the person's row so
// that two processes never run the same person's flow at once.
type Tx interface {
	// LoadPerson returns a private copy of a person (its maps may be nil
	// where it has nothing; its log may be shared, so append to a clipped
	// slice), or nil when there is none or the person was deleted.
	LoadPerson(id string) (*Person, error)
	// WaitsOf lists a person's parked waits, by ID.
	WaitsOf(person string) ([]*Parked, error)
	// Apply records a change; it takes effect at Commit. It numbers the
	// change's parked waits and queued runs (their ID fields).
	Apply(c *Commit) error
	Commit() error
	Rollback() error
}

// Queued is a flow run waiting its turn: a Request Campaign, or a trigger
// campaign an event has matched. It is stored so it survives a restart.
type Queued struct {
	ID        int64
	Person    string
	Workspace string
	Campaign  string
	Tokens    map[string]string
	Trigger   *Event
}

// BatchRun is the progress of one batch run: people are processed in Id
// order, and Cursor is the last Id whose pass is committed, so a run
// killed at any point resumes where it stopped.
type BatchRun struct {
	ID        int64
	Workspace string
	Campaign  string
	Started   time.Time // the run's clock: a resumed run keeps it
	Tokens    map[string]string
	Cursor    string
	Done      bool
	// Summary counts what the run's committed groups did, for the summary
	// of a completed run when it is shown again (its stored activities do
	// not say which step wrote them).
	Summary RunSummary
}

// RunSummary counts, in order of first appearance, the people who entered
// each campaign's flow and the people who passed each step that wrote an
// activity.
type RunSummary struct {
	Entered []EntryCount `json:"entered,omitempty"`
	Steps   []StepCount  `json:"steps,omitempty"`
}

// EntryCount is how many people entered a campaign's flow.
type EntryCount struct {
	Workspace string `json:"workspace"`
	Campaign  string `json:"campaign"`
	People    int    `json:"people"`
}

// StepCount is how many people passed a flow step that wrote activities.
type StepCount struct {
	Campaign string `json:"campaign"` // the campaign whose step it is (Activity.Campaign)
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Type     string `json:"type"`    // of the step's first activity
	Primary  string `json:"primary"` // of the step's first activity
	People   int    `json:"people"`
}

// RunState says what StartRun found.
type RunState int

const (
	RunNew     RunState = iota // a new run, stored unfinished
	RunResumed                 // an unfinished run, to be finished
	RunDone                    // a completed run at the same time: nothing to do
)

// Prefetcher is an optional Tx method: a durable store reads a batch
// group's people (a range of Ids, locked as LoadPerson locks them) in a
// statement or two instead of one or two per person. withLogs false says
// the engine will not read their activity logs (the program has no
// activity filters), so LoadPerson may leave out what was committed before.
type Prefetcher interface {
	Prefetch(ids []string, withLogs bool) error
}

// ErrTaken is what a store returns when a transaction would resume a wait,
// run a queued run or move a batch run that another process (with its own
// engine on the same database) has taken since this one read it. The
// engine then leaves that work to the other process.
var ErrTaken = errors.New("already taken by another process")

// ErrTxDone is returned when a finished transaction is used again.
var ErrTxDone = errors.New("vm: transaction already committed or rolled back")

// MemStore is the in-memory Store, the embedded default. Transactions may
// run at the same time: each holds the people it has loaded until it ends,
// as a database's row locks would.
type MemStore struct {
	lk sync.Mutex // guards held
	// held is the people locked by open transactions; a nil channel says
	// nobody waits for the person yet (the first to wait makes it), so
	// that taking a person allocates nothing.
	held   map[string]chan struct{}
	txMaps sync.Pool // *txMaps of finished transactions, cleared
	mu     sync.RWMutex
	people map[string]*memPerson // packed (see mempack.go)
	strs   interner
	ids    []string // sorted
	log    memLog   // every activity, in sequence order, with the batch run that wrote it
	seq    int64
	parked map[int64]*Parked
	// byPerson indexes parked by person: WaitsOf runs on every resume and
	// on every start of a campaign that has a wait, and a scan of every
	// wait there made a simulation quadratic in its people.
	byPerson map[string]map[int64]*Parked
	queue    []*Queued
	runs     []*BatchRun
	nextID   int64
	outbox   []*Message // Commit.Outbox, recorded: nothing delivers them
}

// Outbox returns the messages committed to the store's outbox (see
// Options.Outbox), in commit order; the in-memory store delivers none.
func (m *MemStore) Outbox() []*Message {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.outbox)
}

// NewMemStore makes an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{people: map[string]*memPerson{}, parked: map[int64]*Parked{}, byPerson: map[string]map[int64]*Parked{}}
}

// PutPeople adds or replaces people whole (Import merges instead), keeping
// the Id order; what a people file gives empty is simply not stored. It is
// meant for loading before a run.
func (m *MemStore) PutPeople(ps ...*Person) {
	m.mu.Lock()
	defer m.mu.Unlock()
	added := false
	for _, p := range ps {
		if _, ok := m.people[p.ID]; !ok {
			m.ids = append(m.ids, p.ID)
			added = true
		}
		mp := m.pack(p)
		mp.log = slices.Clip(p.Log)
		m.people[p.ID] = mp
	}
	if added {
		slices.Sort(m.ids)
	}
}

// PersonIDs implements Store.
func (m *MemStore) PersonIDs(ctx context.Context) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.ids))
	for _, id := range m.ids {
		if !m.people[id].deleted {
			out = append(out, id)
		}
	}
	return out, nil
}

// LoadPerson reads a person outside any transaction (for hosts and tests).
func (m *MemStore) LoadPerson(ctx context.Context, id string) (*Person, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.load(id), nil
}

func (m *MemStore) load(id string) *Person {
	mp := m.people[id]
	if mp == nil || mp.deleted {
		return nil
	}
	return m.unpack(mp)
}

// Begin implements Store.
func (m *MemStore) Begin(ctx context.Context) (Tx, error) {
	t := &memTx{m: m, ctx: ctx}
	if tm, ok := m.txMaps.Get().(*txMaps); ok {
		t.people, t.locked = tm.people, tm.locked
	} else {
		t.people, t.locked = map[string]*Person{}, map[string]struct{}{}
	}
	return t, nil
}

// txMaps are a transaction's maps, kept for the next transaction: a batch
// group's 500 people grew fresh ones every time.
type txMaps struct {
	people map[string]*Person
	locked map[string]struct{}
}

// end gives a finished transaction's maps back.
func (t *memTx) end() {
	clear(t.people)
	clear(t.locked)
	t.m.txMaps.Put(&txMaps{people: t.people, locked: t.locked})
	t.people, t.locked = nil, nil
}

// ConcurrentTx reports that transactions on different people may run at
// the same time, so a batch run may use several workers.
func (m *MemStore) ConcurrentTx() bool { return true }

// preparer is a Tx that can do the work of its commit that needs no lock
// ahead (the in-memory store packs its people): a parallel batch worker
// calls it before it waits for its turn to commit.
type preparer interface {
	prepare() error
}

type memTx struct {
	m       *MemStore
	ctx     context.Context
	people  map[string]*Person // written in this transaction
	packed  []memInstall       // people packed by prepare, while people is unchanged
	commits []*Commit
	unpark  map[int64]bool
	locked  map[string]struct{}
	done    bool
}

// lock takes a person for the transaction, waiting while another holds it.
func (t *memTx) lock(id string) error {
	if _, ok := t.locked[id]; ok {
		return nil
	}
	m := t.m
	for {
		m.lk.Lock()
		if m.held == nil {
			m.held = map[string]chan struct{}{}
		}
		ch, busy := m.held[id]
		if !busy {
			m.held[id] = nil
			m.lk.Unlock()
			t.locked[id] = struct{}{}
			return nil
		}
		if ch == nil {
			ch = make(chan struct{})
			m.held[id] = ch
		}
		m.lk.Unlock()
		select {
		case <-ch:
		case <-t.ctx.Done():
			return t.ctx.Err()
		}
	}
}

func (t *memTx) unlockAll() {
	m := t.m
	m.lk.Lock()
	for id := range t.locked {
		if ch := m.held[id]; ch != nil {
			close(ch)
		}
		delete(m.held, id)
	}
	m.lk.Unlock()
	t.end()
}

func (t *memTx) LoadPerson(id string) (*Person, error) {
	if t.done {
		return nil, ErrTxDone
	}
	if err := t.lock(id); err != nil {
		return nil, err
	}
	if p, ok := t.people[id]; ok {
		if p.Deleted {
			return nil, nil
		}
		if p.View != nil {
			t.m.mu.RLock()
			defer t.m.mu.RUnlock()
			return t.m.materialize(p), nil
		}
		return p.Clone(), nil
	}
	t.m.mu.RLock()
	defer t.m.mu.RUnlock()
	return t.m.load(id), nil
}

// loadView is LoadPerson for the engine: the person is lent in the
// store's packed form (Person.View), not unpacked into maps, and the
// engine reads and writes it through Person's methods.
func (t *memTx) loadView(id string) (*Person, error) {
	if t.done {
		return nil, ErrTxDone
	}
	if err := t.lock(id); err != nil {
		return nil, err
	}
	if p, ok := t.people[id]; ok {
		if p.Deleted {
			return nil, nil
		}
		return p.Clone(), nil
	}
	t.m.mu.RLock()
	defer t.m.mu.RUnlock()
	mp := t.m.people[id]
	if mp == nil || mp.deleted {
		return nil, nil
	}
	return t.m.view(mp), nil
}

// viewLoader is the in-memory store's Tx: it lends people packed.
type viewLoader interface {
	loadView(id string) (*Person, error)
}

func (t *memTx) WaitsOf(person string) ([]*Parked, error) {
	if t.done {
		return nil, ErrTxDone
	}
	t.m.mu.RLock()
	var out []*Parked
	for _, p := range t.m.byPerson[person] {
		if !t.unpark[p.ID] {
			out = append(out, p)
		}
	}
	t.m.mu.RUnlock()
	for _, c := range t.commits {
		for _, p := range c.Park {
			if p.Person == person && !t.unpark[p.ID] {
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// QueuedOf implements QueueReader: the person's committed queued runs and
// those this transaction queued, less those it took.
func (t *memTx) QueuedOf(person string) ([]*Queued, error) {
	if t.done {
		return nil, ErrTxDone
	}
	taken := map[int64]bool{}
	for _, c := range t.commits {
		for _, id := range c.Dequeue {
			taken[id] = true
		}
	}
	var out []*Queued
	t.m.mu.RLock()
	for _, q := range t.m.queue {
		if q.Person == person && !taken[q.ID] {
			out = append(out, q)
		}
	}
	t.m.mu.RUnlock()
	for _, c := range t.commits {
		for _, q := range c.Enqueue {
			if q.Person == person && !taken[q.ID] {
				out = append(out, q)
			}
		}
	}
	return out, nil
}

func (t *memTx) Apply(c *Commit) error {
	if t.done {
		return ErrTxDone
	}
	t.m.mu.Lock()
	for _, p := range c.Park {
		t.m.nextID++
		p.ID = t.m.nextID
	}
	for _, q := range c.Enqueue {
		t.m.nextID++
		q.ID = t.m.nextID
	}
	if c.Run != nil && c.Run.ID == 0 {
		t.m.nextID++
		c.Run.ID = t.m.nextID
	}
	t.m.mu.Unlock()
	if c.Person != nil || len(c.Activities) > 0 {
		t.packed = nil
	}
	// The store keeps each person's log itself: a person's state comes
	// from the commit, its log from what was committed and applied before,
	// plus this commit's activities.
	if p := c.Person; p != nil {
		q := p
		if p.View == nil {
			// The caller's person is its own: keep a copy. A lent person
			// is the engine's, which leaves it here once applied (and
			// loads a clone to go on).
			cp := *p
			q = &cp
		}
		q.Log = t.logOf(p.ID)
		n := 0
		for _, a := range c.Activities {
			if a.Person == p.ID {
				n++
			}
		}
		if n > 0 { // room for the activities below, in one allocation
			q.Log = append(make([]*Activity, 0, len(q.Log)+n), q.Log...)
		}
		t.people[p.ID] = q
	}
	for _, a := range c.Activities {
		if a.Person == "" {
			continue
		}
		if p := t.people[a.Person]; p != nil {
			p.Log = append(p.Log, a)
		} else if p := t.committed(a.Person); p != nil {
			p.Log = append(p.Log, a)
			t.people[a.Person] = p
		}
	}
	if t.unpark == nil {
		t.unpark = map[int64]bool{}
	}
	for _, id := range c.Unpark {
		t.unpark[id] = true
	}
	t.commits = append(t.commits, c)
	return nil
}

// logOf is a person's log as this transaction sees it.
func (t *memTx) logOf(id string) []*Activity {
	if p := t.people[id]; p != nil {
		return slices.Clip(p.Log)
	}
	t.m.mu.RLock()
	defer t.m.mu.RUnlock()
	if mp := t.m.people[id]; mp != nil {
		return mp.log
	}
	return nil
}

// committed is a person as last committed, deleted or not (lent packed:
// see loadView).
func (t *memTx) committed(id string) *Person {
	t.m.mu.RLock()
	defer t.m.mu.RUnlock()
	if mp := t.m.people[id]; mp != nil {
		return t.m.view(mp)
	}
	return nil
}

func (t *memTx) Commit() error {
	if t.done {
		return ErrTxDone
	}
	t.done = true
	defer t.unlockAll()
	m := t.m
	// Pack first, outside the store's lock, so that other transactions'
	// reads wait only for the installing below.
	packed := t.packed
	if packed == nil {
		packed = t.pack()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	added := false
	for _, in := range packed {
		id := in.p.ID
		if _, ok := m.people[id]; !ok {
			m.ids = append(m.ids, id)
			added = true
		}
		mp, log := in.mp, slices.Clip(in.p.Log)
		if len(log) == 0 {
			log = nil
		}
		// A log only grows: the same length from the same start is the same.
		if len(log) != len(mp.log) || (len(log) > 0 && &log[0] != &mp.log[0]) {
			if mp == m.people[id] { // a lent person's stored form (unchanged): shared
				cp := *mp
				mp = &cp
			}
			mp.log = log
		}
		m.people[id] = mp
	}
	if added {
		slices.Sort(m.ids)
	}
	// A transaction that moves a batch run is one of its groups: all its
	// activities belong to the run.
	var run int64
	for _, c := range t.commits {
		if c.Run != nil {
			run = c.Run.ID
		}
	}
	for _, c := range t.commits {
		for _, a := range c.Activities {
			m.seq++
			a.Seq = m.seq
			m.log.add(a, run)
		}
		for _, msg := range c.Outbox {
			msg.ID = MessageID(msg)
			m.outbox = append(m.outbox, msg)
		}
		for _, id := range c.Unpark {
			if p := m.parked[id]; p != nil {
				delete(m.byPerson[p.Person], id)
				if len(m.byPerson[p.Person]) == 0 {
					delete(m.byPerson, p.Person)
				}
			}
			delete(m.parked, id)
		}
		for _, p := range c.Park {
			m.parked[p.ID] = p
			if m.byPerson[p.Person] == nil {
				m.byPerson[p.Person] = map[int64]*Parked{}
			}
			m.byPerson[p.Person][p.ID] = p
		}
		if len(c.Dequeue) > 0 {
			m.queue = slices.DeleteFunc(m.queue, func(q *Queued) bool { return slices.Contains(c.Dequeue, q.ID) })
		}
		m.queue = append(m.queue, c.Enqueue...)
		if r := c.Run; r != nil {
			cp := *r
			cp.Tokens = maps.Clone(r.Tokens)
			cp.Summary = RunSummary{Entered: slices.Clone(r.Summary.Entered), Steps: slices.Clone(r.Summary.Steps)}
			if i := slices.IndexFunc(m.runs, func(x *BatchRun) bool { return x.ID == r.ID }); i >= 0 {
				m.runs[i] = &cp
			} else {
				m.runs = append(m.runs, &cp)
			}
		}
	}
	return nil
}

// memInstall is a person of a transaction and its packed form.
type memInstall struct {
	p  *Person
	mp *memPerson
}

func (t *memTx) pack() []memInstall {
	packed := make([]memInstall, 0, len(t.people))
	for _, p := range t.people {
		packed = append(packed, memInstall{p, t.m.pack(p)})
	}
	return packed
}

// prepare packs the transaction's people before Commit; an Apply after it
// (of a person or an activity) drops the work.
func (t *memTx) prepare() error {
	if t.done {
		return ErrTxDone
	}
	t.packed = t.pack()
	return nil
}

func (t *memTx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	t.unlockAll()
	return nil
}

// DueWaits implements Store.
func (m *MemStore) DueWaits(ctx context.Context, t time.Time) ([]*Parked, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Parked
	for _, p := range m.parked {
		if !p.Due.After(t) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Due.Equal(out[j].Due) {
			return out[i].Due.Before(out[j].Due)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Queued implements Store.
func (m *MemStore) Queued(ctx context.Context) ([]*Queued, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.queue), nil
}

// OpenRun implements Store.
func (m *MemStore) OpenRun(ctx context.Context, workspace, campaign string) (*BatchRun, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, r := range m.runs {
		if !r.Done && r.Workspace == workspace && r.Campaign == campaign {
			cp := *r
			return &cp, nil
		}
	}
	return nil, nil
}

// StartRun implements Store. The in-memory store belongs to one process,
// so no other process can be running an unfinished run.
func (m *MemStore) StartRun(ctx context.Context, want *BatchRun, again bool) (*BatchRun, RunState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var latest *BatchRun
	for _, r := range m.runs {
		if r.Workspace != want.Workspace || r.Campaign != want.Campaign {
			continue
		}
		if !r.Done {
			cp := *r
			return &cp, RunResumed, nil
		}
		if r.Started.Equal(want.Started) {
			latest = r
		}
	}
	if latest != nil && !again {
		cp := *latest
		return &cp, RunDone, nil
	}
	m.nextID++
	cp := *want
	cp.ID, cp.Cursor, cp.Done, cp.Summary = m.nextID, "", false, RunSummary{}
	cp.Tokens = maps.Clone(want.Tokens)
	m.runs = append(m.runs, &cp)
	out := cp
	return &out, RunNew, nil
}

// RunLog implements Store.
func (m *MemStore) RunLog(ctx context.Context, run int64) ([]*Activity, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Activity
	m.log.each(func(a *Activity, r int64) {
		if r == run {
			out = append(out, a)
		}
	})
	return out, nil
}

// Activities implements Store.
func (m *MemStore) Activities(ctx context.Context, id string) ([]*Activity, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Activity
	m.log.each(func(a *Activity, _ int64) {
		if id == "" || a.Person == id {
			out = append(out, a)
		}
	})
	return out, nil
}

// Import adds or updates people as the durable stores' Import does (see
// MergeImport): the fields, lists and programs given are set or cleared,
// and a known person keeps the rest, with its qualification history and
// activity log.
func (m *MemStore) Import(ctx context.Context, people []*Person, progress func(int)) error {
	for _, p := range people {
		if err := CheckPerson(p); err != nil {
			return fmt.Errorf("import person %q: %w", p.ID, err)
		}
	}
	merged := make([]*Person, len(people))
	m.mu.RLock()
	for i, p := range people {
		merged[i] = MergeImport(m.load(p.ID), p)
	}
	m.mu.RUnlock()
	m.PutPeople(merged...)
	if progress != nil {
		progress(len(people))
	}
	return nil
}

// MergeImport is the person that importing p makes of old, the stored
// person with p's Id (nil if there is none, or it was deleted). What p
// mentions is set, and what it mentions empty is cleared: a null field
// (a people file's empty cell or JSON null) is removed, a list marked
// false is left, and a program whose status is "" is left; a Partition
// field null moves the person back to "Default". What p does not mention
// is kept, and so are old's qualification history and log. Neither old
// nor p is changed.
func MergeImport(old, p *Person) *Person {
	var q *Person
	if old == nil {
		q = &Person{ID: p.ID, Fields: map[string]ir.Value{}, Lists: map[string]bool{}, Programs: map[string]string{},
			Runs: maps.Clone(p.Runs), Log: p.Log}
		if q.Runs == nil {
			q.Runs = map[string]time.Time{}
		}
	} else {
		q = old.Clone()
	}
	for k, v := range p.Fields {
		if v.Null {
			delete(q.Fields, k)
		} else {
			q.Fields[k] = v
		}
	}
	for k, in := range p.Lists {
		if in {
			q.Lists[k] = true
		} else {
			delete(q.Lists, k)
		}
	}
	for k, st := range p.Programs {
		if st == "" {
			delete(q.Programs, k)
		} else {
			q.Programs[k] = st
		}
	}
	if _, ok := p.Fields["Partition"]; ok || p.Partition != "" {
		q.Partition = p.Partition
	}
	if old != nil {
		// old is untouched (q is its clone): what was stored until now.
		ImportTimes(old.Fields, old.Partition, q)
	}
	return q
}

// memLog is the in-memory store's activity log: chunks of a fixed size,
// so that appending never copies what is logged (one slice of a million
// activities was copied whole each time it doubled), and the batch run
// that wrote the activities as spans of equal runs (a group's
// activities all belong to its run), not a number beside each.
type memLog struct {
	chunks [][]*Activity
	spans  []logSpan
	n      int
}

// logSpan says that activities from index start on were written by run
// (0: by no batch run), up to the next span.
type logSpan struct {
	start int
	run   int64
}

const logChunk = 4096

func (l *memLog) add(a *Activity, run int64) {
	if k := len(l.chunks); k == 0 || len(l.chunks[k-1]) == logChunk {
		l.chunks = append(l.chunks, make([]*Activity, 0, logChunk))
	}
	k := len(l.chunks) - 1
	l.chunks[k] = append(l.chunks[k], a)
	if len(l.spans) == 0 || l.spans[len(l.spans)-1].run != run {
		l.spans = append(l.spans, logSpan{start: l.n, run: run})
	}
	l.n++
}

// each calls fn with every activity in order, and the run that wrote it.
func (l *memLog) each(fn func(a *Activity, run int64)) {
	i, span := 0, 0
	for _, c := range l.chunks {
		for _, a := range c {
			for span+1 < len(l.spans) && l.spans[span+1].start <= i {
				span++
			}
			fn(a, l.spans[span].run)
			i++
		}
	}
}
