package memstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/campc/campc/vm/storage"
)

// Outbox returns the messages committed to the store's outbox (see
// Options.Outbox), in commit order; the in-memory store delivers none.
func (m *Store) Outbox() []*storage.Message {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.outbox)
}

// Runs lists the store's batch runs, in the order they started.
func (m *Store) Runs() []*storage.BatchRun {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.runs)
}

// New makes an empty in-memory store.
func New() *Store {
	return &Store{parked: map[int64]*storage.Parked{}, byPerson: map[string]map[int64]*storage.Parked{}}
}

// PutPeople adds or replaces people whole (Import merges instead), keeping
// the Id order; what a people file gives empty is simply not stored. It is
// meant for loading before a run.
func (m *Store) PutPeople(ps ...*storage.Person) {
	m.idle(ps)
	defer m.lk.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(ps)
}

// put writes people whole. The caller holds m.lk (from idle) and mu.
func (m *Store) put(ps []*storage.Person) {
	added := false
	for _, p := range ps {
		row, fresh := m.rowOf(p.ID)
		m.writePerson(row, p, fresh)
		added = added || fresh
	}
	if added {
		slices.Sort(m.ids)
	}
}

// idle waits until no transaction holds any of the people, and returns
// holding m.lk, so that none takes one until the caller has written them
// and released it. A row is written in place, and a transaction reads
// the rows it holds without the store's lock. Waiting holds no person,
// so it cannot deadlock with a transaction.
func (m *Store) idle(ps []*storage.Person) {
	for {
		m.lk.Lock()
		var ch chan struct{}
		for _, p := range ps {
			if c, busy := m.held[p.ID]; busy {
				if c == nil {
					c = make(chan struct{})
					m.held[p.ID] = c
				}
				ch = c
				break
			}
		}
		if ch == nil {
			return
		}
		m.lk.Unlock()
		<-ch
	}
}

// PersonIDs implements Store.
func (m *Store) PersonIDs(ctx context.Context) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.ids))
	for _, id := range m.ids {
		if m.tab.flags(m.tab.index[id])&rowDeleted == 0 {
			out = append(out, id)
		}
	}
	return out, nil
}

// LoadPerson reads a person outside any transaction (for hosts and tests).
func (m *Store) LoadPerson(ctx context.Context, id string) (*storage.Person, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.load(id), nil
}

func (m *Store) load(id string) *storage.Person {
	row, ok := m.tab.index[id]
	if !ok || m.tab.flags(row)&rowDeleted != 0 {
		return nil
	}
	return m.unpack(row)
}

// Begin implements Store.
func (m *Store) Begin(ctx context.Context) (storage.Tx, error) {
	t := &memTx{m: m, ctx: ctx}
	if tm, ok := m.txMaps.Get().(*txMaps); ok {
		t.people, t.locked = tm.people, tm.locked
	} else {
		t.people, t.locked = map[string]*storage.Person{}, map[string]struct{}{}
	}
	return t, nil
}

// txMaps are a transaction's maps, kept for the next transaction: a batch
// group's 500 people grew fresh ones every time.
type txMaps struct {
	people map[string]*storage.Person
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
func (m *Store) ConcurrentTx() bool { return true }

type memTx struct {
	m       *Store
	ctx     context.Context
	people  map[string]*storage.Person // written in this transaction
	commits []*storage.Commit
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

func (t *memTx) LoadPerson(id string) (*storage.Person, error) {
	if t.done {
		return nil, storage.ErrTxDone
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

// LoadView is LoadPerson for the engine: the person is lent in the
// store's packed form (Person.View), not unpacked into maps, and the
// engine reads and writes it through Person's methods.
func (t *memTx) LoadView(id string) (*storage.Person, error) {
	if t.done {
		return nil, storage.ErrTxDone
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
	row, ok := t.m.tab.index[id]
	if !ok || t.m.tab.flags(row)&rowDeleted != 0 {
		return nil, nil
	}
	return t.m.view(row), nil
}

func (t *memTx) WaitsOf(person string) ([]*storage.Parked, error) {
	if t.done {
		return nil, storage.ErrTxDone
	}
	t.m.mu.RLock()
	var out []*storage.Parked
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
func (t *memTx) QueuedOf(person string) ([]*storage.Queued, error) {
	if t.done {
		return nil, storage.ErrTxDone
	}
	taken := map[int64]bool{}
	for _, c := range t.commits {
		for _, id := range c.Dequeue {
			taken[id] = true
		}
	}
	var out []*storage.Queued
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

func (t *memTx) Apply(c *storage.Commit) error {
	if t.done {
		return storage.ErrTxDone
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
			q.Log = append(make([]*storage.Activity, 0, len(q.Log)+n), q.Log...)
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
func (t *memTx) logOf(id string) []*storage.Activity {
	if p := t.people[id]; p != nil {
		return slices.Clip(p.Log)
	}
	t.m.mu.RLock()
	defer t.m.mu.RUnlock()
	if row, ok := t.m.tab.index[id]; ok {
		return t.m.tab.rowChunk(row).log(row & chunkMask)
	}
	return nil
}

// committed is a person as last committed, deleted or not (lent packed:
// see LoadView).
func (t *memTx) committed(id string) *storage.Person {
	t.m.mu.RLock()
	defer t.m.mu.RUnlock()
	if row, ok := t.m.tab.index[id]; ok {
		return t.m.view(row)
	}
	return nil
}

func (t *memTx) Commit() error {
	if t.done {
		return storage.ErrTxDone
	}
	t.done = true
	defer t.unlockAll()
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	added := false
	for id, p := range t.people {
		if p.View != nil {
			added = m.installView(p) || added
			continue
		}
		row, fresh := m.rowOf(id)
		m.writePerson(row, p, fresh)
		added = added || fresh
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
			msg.ID = storage.MessageID(msg)
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
				m.byPerson[p.Person] = map[int64]*storage.Parked{}
			}
			m.byPerson[p.Person][p.ID] = p
		}
		if len(c.Dequeue) > 0 {
			m.queue = slices.DeleteFunc(m.queue, func(q *storage.Queued) bool { return slices.Contains(c.Dequeue, q.ID) })
		}
		m.queue = append(m.queue, c.Enqueue...)
		if r := c.Run; r != nil {
			cp := *r
			cp.Tokens = maps.Clone(r.Tokens)
			cp.Summary = storage.RunSummary{Entered: slices.Clone(r.Summary.Entered), Steps: slices.Clone(r.Summary.Steps)}
			if i := slices.IndexFunc(m.runs, func(x *storage.BatchRun) bool { return x.ID == r.ID }); i >= 0 {
				m.runs[i] = &cp
			} else {
				m.runs = append(m.runs, &cp)
			}
		}
	}
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
func (m *Store) DueWaits(ctx context.Context, t time.Time) ([]*storage.Parked, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*storage.Parked
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
func (m *Store) Queued(ctx context.Context) ([]*storage.Queued, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.queue), nil
}

// OpenRun implements Store.
func (m *Store) OpenRun(ctx context.Context, workspace, campaign string) (*storage.BatchRun, error) {
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
func (m *Store) StartRun(ctx context.Context, want *storage.BatchRun, again bool) (*storage.BatchRun, storage.RunState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var latest *storage.BatchRun
	for _, r := range m.runs {
		if r.Workspace != want.Workspace || r.Campaign != want.Campaign {
			continue
		}
		if !r.Done {
			cp := *r
			return &cp, storage.RunResumed, nil
		}
		if r.Started.Equal(want.Started) {
			latest = r
		}
	}
	if latest != nil && !again {
		cp := *latest
		return &cp, storage.RunDone, nil
	}
	m.nextID++
	cp := *want
	cp.ID, cp.Cursor, cp.Done, cp.Summary = m.nextID, "", false, storage.RunSummary{}
	cp.Tokens = maps.Clone(want.Tokens)
	m.runs = append(m.runs, &cp)
	out := cp
	return &out, storage.RunNew, nil
}

// RunLog implements Store.
func (m *Store) RunLog(ctx context.Context, run int64) ([]*storage.Activity, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*storage.Activity
	m.log.each(func(a *storage.Activity, r int64) {
		if r == run {
			out = append(out, a)
		}
	})
	return out, nil
}

// Activities implements Store.
func (m *Store) Activities(ctx context.Context, id string) ([]*storage.Activity, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*storage.Activity
	m.log.each(func(a *storage.Activity, _ int64) {
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
func (m *Store) Import(ctx context.Context, people []*storage.Person, progress func(int)) error {
	for _, p := range people {
		if err := storage.CheckPerson(p); err != nil {
			return fmt.Errorf("import person %q: %w", p.ID, err)
		}
	}
	// Read, merge and write with nobody holding the people, in one turn
	// of the store's lock, so that no pass commits between.
	merged := make([]*storage.Person, len(people))
	m.idle(people)
	m.mu.Lock()
	for i, p := range people {
		merged[i] = storage.MergeImport(m.load(p.ID), p)
	}
	m.put(merged)
	m.mu.Unlock()
	m.lk.Unlock()
	if progress != nil {
		progress(len(people))
	}
	return nil
}

// memLog is the in-memory store's activity log: chunks of a fixed size,
// so that appending never copies what is logged (one slice of a million
// activities was copied whole each time it doubled), and the batch run
// that wrote the activities as spans of equal runs (a group's
// activities all belong to its run), not a number beside each.
type memLog struct {
	chunks [][]*storage.Activity
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

func (l *memLog) add(a *storage.Activity, run int64) {
	if k := len(l.chunks); k == 0 || len(l.chunks[k-1]) == logChunk {
		l.chunks = append(l.chunks, make([]*storage.Activity, 0, logChunk))
	}
	k := len(l.chunks) - 1
	l.chunks[k] = append(l.chunks[k], a)
	if len(l.spans) == 0 || l.spans[len(l.spans)-1].run != run {
		l.spans = append(l.spans, logSpan{start: l.n, run: run})
	}
	l.n++
}

// each calls fn with every activity in order, and the run that wrote it.
func (l *memLog) each(fn func(a *storage.Activity, run int64)) {
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
