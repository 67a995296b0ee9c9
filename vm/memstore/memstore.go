package memstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/campc/campc/vm/storage"
)

// HistoryEnd implements HistoryEnder.
func (m *Store) HistoryEnd(ctx context.Context) (time.Time, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var end time.Time
	m.log.each(func(a *storage.Activity, _ int64) {
		if a.Time.After(end) {
			end = a.Time
		}
	})
	for _, r := range m.runs {
		if r.Started.After(end) {
			end = r.Started
		}
	}
	return end.UTC(), nil
}

// Store is the in-memory storage.Store, the embedded default. Transactions may
// run at the same time: each holds the people it has loaded until it ends,
// as a database's row locks would.
type Store struct {
	lk sync.Mutex // guards held
	// held is the people locked by open transactions; a nil channel says
	// nobody waits for the person yet (the first to wait makes it), so
	// that taking a person allocates nothing.
	held   map[string]chan struct{}
	txMaps sync.Pool // *txMaps of finished transactions, cleared
	mu     sync.RWMutex
	tab    table                   // the people, in columns (columns.go)
	strs   interner                // field names, keys, statuses and partitions
	bound  atomic.Pointer[binding] // the last program layout used, bound to strs
	ids    []string                // sorted (the strings are the arena's)
	log    memLog                  // every activity, in sequence order, with the batch run that wrote it
	seq    int64
	parked map[int64]*storage.Parked
	// byPerson indexes parked by person: WaitsOf runs on every resume and
	// on every start of a campaign that has a wait, and a scan of every
	// wait there made a simulation quadratic in its people.
	byPerson map[string]map[int64]*storage.Parked
	queue    []*storage.Queued
	runs     []*storage.BatchRun
	nextID   int64
	outbox   []*storage.Message // Commit.Outbox, recorded: nothing delivers them
}
