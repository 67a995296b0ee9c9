package vm

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"
)

// Store keeps people, the activity log, qualification history and parked
// waits. Implementations must make Commit atomic: all of it or none.
type Store interface {
	// PersonIDs lists every person's Id in ascending order.
	PersonIDs(ctx context.Context) ([]string, error)
	// LoadPerson returns a private copy of a person, or nil when there is
	// none (or the person was deleted).
	LoadPerson(ctx context.Context, id string) (*Person, error)
	// Commit applies one change atomically and numbers its activities.
	Commit(ctx context.Context, c *Commit) error
	// DueWaits lists the parked waits due at or before t, earliest first
	// (ties by ID).
	DueWaits(ctx context.Context, t time.Time) ([]*Parked, error)
	// WaitsOf lists the parked waits of one person, by ID.
	WaitsOf(ctx context.Context, person string) ([]*Parked, error)
	// Activities lists the log of one person, or of everyone when id is "".
	Activities(ctx context.Context, id string) ([]*Activity, error)
}

// MemStore is the in-memory Store, the embedded default.
type MemStore struct {
	mu     sync.RWMutex
	people map[string]*Person
	ids    []string // sorted
	log    []*Activity
	seq    int64
	parked map[int64]*Parked
	nextID int64
}

// NewMemStore makes an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{people: map[string]*Person{}, parked: map[int64]*Parked{}}
}

// PutPeople adds or replaces people (as an import does), keeping the Id
// order. It is meant for loading before a run.
func (m *MemStore) PutPeople(ps ...*Person) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range ps {
		if _, ok := m.people[p.ID]; !ok {
			m.ids = append(m.ids, p.ID)
		}
		m.people[p.ID] = p.Clone()
	}
	slices.Sort(m.ids)
}

// PersonIDs implements Store.
func (m *MemStore) PersonIDs(ctx context.Context) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.ids), nil
}

// LoadPerson implements Store.
func (m *MemStore) LoadPerson(ctx context.Context, id string) (*Person, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p := m.people[id]
	if p == nil || p.Deleted {
		return nil, nil
	}
	return p.Clone(), nil
}

// Commit implements Store.
func (m *MemStore) Commit(ctx context.Context, c *Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range c.Activities {
		m.seq++
		a.Seq = m.seq
		m.log = append(m.log, a)
	}
	if c.Person != nil {
		if _, ok := m.people[c.Person.ID]; !ok {
			m.ids = append(m.ids, c.Person.ID)
			slices.Sort(m.ids)
		}
		m.people[c.Person.ID] = c.Person
	}
	for _, id := range c.Unpark {
		delete(m.parked, id)
	}
	for _, p := range c.Park {
		m.nextID++
		p.ID = m.nextID
		m.parked[p.ID] = p
	}
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

// Activities implements Store.
func (m *MemStore) Activities(ctx context.Context, id string) ([]*Activity, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if id == "" {
		return slices.Clone(m.log), nil
	}
	if p := m.people[id]; p != nil {
		return slices.Clone(p.Log), nil
	}
	return nil, nil
}

// WaitsOf implements Store.
func (m *MemStore) WaitsOf(ctx context.Context, person string) ([]*Parked, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Parked
	for _, p := range m.parked {
		if p.Person == person {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
