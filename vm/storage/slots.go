package storage

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/campc/campc/ir"
)

// Slots is a person decoded straight into the columns of a program's
// layout (ir.Layout): a durable store that can decode its stored form so
// lends the engine a Person whose View is a *Slots (SlotLoader), and the
// engine's reads of declared fields and lists are then an index, not a
// map lookup. What the layout has no column for (a field another program
// declared, a list key it lacks) is kept beside the slots and written
// back unchanged. Programs and qualification times stay keyed by name.
type Slots struct {
	lay *ir.Layout
	// at is, by Layout.Fields column, the index in vals of the person's
	// value (which may be null, as in the map form), -1 for none: the
	// values a person has, not a value's room for every field of the
	// program (an ir.Value is near 100 bytes).
	at         []int32
	vals       []ir.Value
	lists      []bool // by Layout.Lists column
	otherVals  map[string]ir.Value
	otherLists map[string]bool
	programs   map[string]string
	runs       map[string]time.Time
}

// NewSlots makes an empty person in a layout's columns.
func NewSlots(lay *ir.Layout) *Slots {
	s := &Slots{lay: lay, at: make([]int32, len(lay.Fields)), lists: make([]bool, len(lay.Lists))}
	for i := range s.at {
		s.at[i] = -1
	}
	return s
}

// Grow makes room for n more values (a decoder knows how many it reads).
func (s *Slots) Grow(n int) { s.vals = slices.Grow(s.vals, n) }

// SlotLoader is an optional Tx method: LoadPerson for the engine, the
// person decoded into the columns of the program's layout (Person.View a
// *Slots).
type SlotLoader interface {
	LoadSlots(lay *ir.Layout, id string) (*Person, error)
}

func (s *Slots) get(col int) (ir.Value, bool) {
	if k := s.at[col]; k >= 0 {
		return s.vals[k], true
	}
	return ir.Value{}, false
}

func (s *Slots) put(col int, v ir.Value) {
	if k := s.at[col]; k >= 0 {
		s.vals[k] = v
		return
	}
	s.at[col] = int32(len(s.vals))
	s.vals = append(s.vals, v)
}

func (s *Slots) fieldCol(name string) int {
	if i, ok := slices.BinarySearch(s.lay.Fields, name); ok {
		return i
	}
	return -1
}

func (s *Slots) listCol(key string) int {
	if i, ok := slices.BinarySearch(s.lay.Lists, key); ok {
		return i
	}
	return -1
}

// Decoding. A decoder calls these with names in any order; a stored form
// written in name order (the SQL stores') may pass the column it found by
// walking the layout beside it (SetFieldAt) instead.

// SetFieldAt stores a value in column col (of Layout.Fields); when col
// < 0 (the name was not found by walking: the layout lacks it, or the
// names came out of order), in the name's column or else beside them.
func (s *Slots) SetFieldAt(col int, name string, v ir.Value) {
	if col < 0 {
		col = s.fieldCol(name)
	}
	if col >= 0 {
		s.put(col, v)
		return
	}
	if s.otherVals == nil {
		s.otherVals = map[string]ir.Value{}
	}
	s.otherVals[name] = v
}

// NextCol walks the layout's fields beside names given in order: from
// column from, the column of name, or -1 when the layout has none; and
// the column to search from for the next name.
func (s *Slots) NextCol(from int, name string) (col, next int) {
	f := s.lay.Fields
	for from < len(f) && f[from] < name {
		from++
	}
	if from < len(f) && f[from] == name {
		return from, from + 1
	}
	return -1, from
}

// AddList records a list membership.
func (s *Slots) AddList(key string) { s.SetList(key, true) }

// EachField calls fn with every value, in name order.
func (s *Slots) EachField(fn func(name string, v ir.Value)) {
	other := slices.Sorted(maps.Keys(s.otherVals))
	j := 0
	for i, name := range s.lay.Fields {
		for ; j < len(other) && other[j] < name; j++ {
			if v := s.otherVals[other[j]]; !v.Null {
				fn(other[j], v)
			}
		}
		if k := s.at[i]; k >= 0 && !s.vals[k].Null {
			fn(name, s.vals[k])
		}
	}
	for ; j < len(other); j++ {
		if v := s.otherVals[other[j]]; !v.Null {
			fn(other[j], v)
		}
	}
}

// FieldCount is how many values EachField gives.
func (s *Slots) FieldCount() int {
	n := 0
	for _, v := range s.otherVals {
		if !v.Null {
			n++
		}
	}
	for _, k := range s.at {
		if k >= 0 && !s.vals[k].Null {
			n++
		}
	}
	return n
}

// EachList calls fn with every list key the person is on, in key order.
func (s *Slots) EachList(fn func(key string)) {
	keys := make([]string, 0, len(s.otherLists)+4)
	for i, in := range s.lists {
		if in {
			keys = append(keys, s.lay.Lists[i])
		}
	}
	for k, in := range s.otherLists {
		if in {
			keys = append(keys, k)
		}
	}
	if len(s.otherLists) > 0 {
		sort.Strings(keys)
	}
	for _, k := range keys {
		fn(k)
	}
}

// Programs and Runs are the person's program statuses and qualification
// times, by key (the caller must not change them).
func (s *Slots) Programs() map[string]string { return s.programs }
func (s *Slots) Runs() map[string]time.Time  { return s.runs }

// SetPrograms and SetRuns give a decoded person its statuses and times.
func (s *Slots) SetPrograms(m map[string]string) { s.programs = m }
func (s *Slots) SetRuns(m map[string]time.Time)  { s.runs = m }

// PersonView.

func (s *Slots) Field(id, name string) (ir.Value, bool) {
	if i := s.fieldCol(name); i >= 0 {
		return s.get(i)
	}
	v, ok := s.otherVals[name]
	return v, ok
}

func (s *Slots) FieldOf(f *ir.Field) (ir.Value, bool) {
	if f.Layout == s.lay {
		return s.get(f.Col)
	}
	return s.Field("", f.Name)
}

func (s *Slots) SetField(name string, v ir.Value, gone bool) {
	if i := s.fieldCol(name); i >= 0 {
		if gone {
			s.at[i] = -1
		} else {
			s.put(i, v)
		}
		return
	}
	if gone {
		delete(s.otherVals, name)
		return
	}
	s.SetFieldAt(-1, name, v)
}

func (s *Slots) SetFieldOf(f *ir.Field, v ir.Value, gone bool) {
	if f.Layout != s.lay {
		s.SetField(f.Name, v, gone)
		return
	}
	if gone {
		s.at[f.Col] = -1
	} else {
		s.put(f.Col, v)
	}
}

func (s *Slots) InList(key string) bool {
	if i := s.listCol(key); i >= 0 {
		return s.lists[i]
	}
	return s.otherLists[key]
}

func (s *Slots) InListOf(l *ir.List) bool {
	if l.Layout == s.lay {
		return s.lists[l.Col]
	}
	return s.InList(l.Key)
}

func (s *Slots) SetList(key string, in bool) {
	if i := s.listCol(key); i >= 0 {
		s.lists[i] = in
		return
	}
	if !in {
		delete(s.otherLists, key)
		return
	}
	if s.otherLists == nil {
		s.otherLists = map[string]bool{}
	}
	s.otherLists[key] = true
}

func (s *Slots) Program(key string) (string, bool) {
	st, ok := s.programs[key]
	return st, ok
}

func (s *Slots) SetProgram(key, status string) {
	if s.programs == nil {
		s.programs = map[string]string{}
	}
	s.programs[key] = status
}

func (s *Slots) Run(key string) (time.Time, bool) {
	t, ok := s.runs[key]
	return t, ok
}

func (s *Slots) SetRun(key string, at time.Time) {
	if s.runs == nil {
		s.runs = map[string]time.Time{}
	}
	s.runs[key] = at
}

func (s *Slots) Clone() PersonView {
	c := *s
	c.at = slices.Clone(s.at)
	c.vals = slices.Clone(s.vals)
	c.lists = slices.Clone(s.lists)
	c.otherVals = maps.Clone(s.otherVals)
	c.otherLists = maps.Clone(s.otherLists)
	c.programs = maps.Clone(s.programs)
	c.runs = maps.Clone(s.runs)
	return &c
}

// SlotsOf is a person in the map form moved into a layout's columns (a
// copy: p is not changed).
func SlotsOf(p *Person, lay *ir.Layout) *Person {
	s := NewSlots(lay)
	for name, v := range p.Fields {
		s.SetFieldAt(s.fieldCol(name), name, v)
	}
	for k, in := range p.Lists {
		if in {
			s.SetList(k, true)
		}
	}
	s.programs, s.runs = maps.Clone(p.Programs), maps.Clone(p.Runs)
	return &Person{ID: p.ID, Partition: p.Partition, Deleted: p.Deleted, Log: slices.Clip(p.Log), View: s}
}
