package storage

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/campc/campc/ir"
)

// merge returns the summary with another's counts added (a copy), keeping
// the order of first appearance: summaryAdd(s, rep) is s.Merge(summaryAdd(RunSummary{}, rep)),
// so a worker counts its group before its turn to commit, and the turn
// only adds.
func (s RunSummary) merge(o RunSummary) RunSummary {
	if len(o.Entered) > 0 {
		s.Entered = slices.Clone(s.Entered)
		for _, e := range o.Entered {
			i := slices.IndexFunc(s.Entered, func(c EntryCount) bool { return c.Workspace == e.Workspace && c.Campaign == e.Campaign })
			if i < 0 {
				s.Entered = append(s.Entered, EntryCount{Workspace: e.Workspace, Campaign: e.Campaign})
				i = len(s.Entered) - 1
			}
			s.Entered[i].People += e.People
		}
	}
	if len(o.Steps) > 0 {
		s.Steps = slices.Clone(s.Steps)
		for _, st := range o.Steps {
			i := slices.IndexFunc(s.Steps, func(c StepCount) bool {
				return c.Campaign == st.Campaign && c.File == st.File && c.Line == st.Line && c.Column == st.Column
			})
			if i < 0 {
				s.Steps = append(s.Steps, StepCount{Campaign: st.Campaign, File: st.File, Line: st.Line, Column: st.Column, Type: st.Type, Primary: st.Primary})
				i = len(s.Steps) - 1
			}
			s.Steps[i].People += st.People
		}
	}
	return s
}

// Chunk is one part of a shared batch run: the people whose Ids lie from
// First to Last (both included), run in Id order. Cursor is the last Id
// whose pass is committed, as a BatchRun's.
type Chunk struct {
	Run         int64
	Index       int // from 0, in Id order
	First, Last string
	Cursor      string
	Done        bool
	Summary     RunSummary // what the chunk's committed groups did
	Activities  int        // how many activities they wrote
	// Finished is set by the commit that finishes the chunk when it also
	// finishes the run (every chunk done): the run as stored then, its
	// summary the chunks' merged in chunk order.
	Finished *BatchRun
	// RunActivities, with Finished, is how many activities the run wrote.
	RunActivities int
}

// ChunkStore is an optional Store: a store that several processes share
// through a job queue keeps the chunks of shared batch runs.
type ChunkStore interface {
	// StartShared is StartRun for a shared run, in one transaction that
	// takes the same turns as StartRun: it finds an unfinished run of the
	// campaign (RunResumed; shared tells whether it has chunks, that is,
	// whether jobs finish it) or a completed one at want.Started (RunDone,
	// unless again), or else stores a new run with its people's Ids split
	// into chunks of size and queues one job per chunk (RunNew). A new
	// run with nobody in it is stored done.
	StartShared(ctx context.Context, want *BatchRun, again bool, size int) (run *BatchRun, state RunState, shared bool, err error)
	// ChunkOf reads a chunk of a run and the run.
	ChunkOf(ctx context.Context, run int64, index int) (*BatchRun, *Chunk, error)
	// PersonIDsIn lists the Ids from first to last (both included) in
	// ascending order.
	PersonIDsIn(ctx context.Context, first, last string) ([]string, error)
}

// ChunkTx is the transaction of a ChunkStore.
type ChunkTx interface {
	// LockChunk reads a chunk's progress, locking it until the
	// transaction ends: one group of a chunk commits at a time.
	LockChunk(run int64, index int) (*Chunk, error)
	// MoveChunk records the chunk's new progress (Cursor, Done, Summary,
	// Activities), written at Commit with the run's activities. When the
	// chunk is done and so are the run's other chunks, the commit also
	// finishes the run, and says so in ch.Finished.
	MoveChunk(ch *Chunk) error
}

// Merge returns the summary with another's counts added, keeping the order
// of first appearance: a shared run's summary is its chunks' merged in
// chunk order, which is what one process running the run in Id order
// counts.
func (s RunSummary) Merge(o RunSummary) RunSummary { return s.merge(o) }

// HistoryEnder is an optional Store method: the latest time the store's
// history holds (its latest activity or batch run start), zero when it
// holds none. A host refuses to move the clock back before it.
type HistoryEnder interface {
	HistoryEnd(ctx context.Context) (time.Time, error)
}

// QueueReader is a Tx that lists one person's queued runs: what
// RunQueued needs (Options.DeferRuns).
type QueueReader interface {
	// QueuedOf lists a person's queued runs, first in first out.
	QueuedOf(person string) ([]*Queued, error)
}

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

// ViewLoader is an optional Tx method: LoadPerson for the engine, which
// may lend the person in the store's own form (Person.View). The engine
// reads and writes such a person only through its methods.
type ViewLoader interface {
	LoadView(id string) (*Person, error)
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
