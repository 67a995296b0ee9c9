package memstore

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// A person moves between the map form (storage.Person's maps, what hosts
// and the durable stores use) and the store's columns (columns.go):
// writePerson stores a map person's row whole, unpack reads a row into
// the map form, and view lends a row to the engine without unpacking it
// (memView), whose writes installView folds into the row at commit.

// interner numbers strings; it only grows. Looking up a string numbered
// a while ago takes no lock: idx is a snapshot of the index, and strings
// numbered since are in recent (under mu), merged into a new snapshot
// once recent holds as many as half the snapshot, or once looking in
// recent has cost as much as a copy (so that the copies cost linear time
// overall, in strings added and lookups made). People are packed outside the store's lock, and
// two workers packing at once then do not queue. Reading takes a snapshot
// of the list, whose entries never change once written.
type interner struct {
	mu     sync.Mutex
	idx    atomic.Pointer[map[string]uint32]
	recent map[string]uint32
	hits   int // lookups answered from recent since the last merge
	strs   atomic.Pointer[[]string]
}

func (in *interner) id(s string) uint32 {
	var snap map[string]uint32
	if p := in.idx.Load(); p != nil {
		snap = *p
		if i, ok := snap[s]; ok {
			return i
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if i, ok := in.recent[s]; ok {
		if in.hits++; in.hits > len(snap)+len(in.recent) {
			in.merge(snap)
		}
		return i
	}
	if p := in.idx.Load(); p != nil { // merged since the look above
		snap = *p
		if i, ok := snap[s]; ok {
			return i
		}
	}
	list := append(in.list(), s)
	in.strs.Store(&list)
	i := uint32(len(list) - 1)
	if in.recent == nil {
		in.recent = map[string]uint32{}
	}
	in.recent[s] = i
	if len(in.recent) >= len(snap)/2 {
		in.merge(snap)
	}
	return i
}

// merge makes a new snapshot of the index with recent. The caller holds mu.
func (in *interner) merge(snap map[string]uint32) {
	idx := make(map[string]uint32, len(snap)+len(in.recent))
	maps.Copy(idx, snap)
	maps.Copy(idx, in.recent)
	in.idx.Store(&idx)
	in.recent, in.hits = nil, 0
}

// list is a snapshot of the strings numbered so far.
func (in *interner) list() []string {
	if p := in.strs.Load(); p != nil {
		return *p
	}
	return nil
}

// lookup is a string's number, without numbering it.
func (in *interner) lookup(s string) (uint32, bool) {
	if p := in.idx.Load(); p != nil {
		if i, ok := (*p)[s]; ok {
			return i, true
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if i, ok := in.recent[s]; ok {
		return i, true
	}
	if p := in.idx.Load(); p != nil {
		i, ok := (*p)[s]
		return i, ok
	}
	return 0, false
}

// partitionID is a partition's number in a row (0: none, "Default").
func (m *Store) partitionID(name string) uint32 {
	if name == "" {
		return 0
	}
	return m.strs.id(name) + 1
}

func (m *Store) partitionName(n uint32) string {
	if n == 0 {
		return ""
	}
	return m.strs.list()[n-1]
}

// rowOf is the row of a person, making one. The caller holds mu (write).
func (m *Store) rowOf(id string) (row int32, added bool) {
	if row, ok := m.tab.index[id]; ok {
		return row, false
	}
	row = m.tab.newRow(id)
	m.ids = append(m.ids, m.tab.id(row))
	return row, true
}

// writePerson stores a person in the map form as the row's whole state
// (a new row holds nothing yet). The caller holds mu (write).
func (m *Store) writePerson(row int32, p *storage.Person, fresh bool) {
	tb := &m.tab
	if !fresh {
		if cols := tb.cols.Load(); cols != nil {
			for _, c := range *cols {
				if c != nil {
					if ch := c.cell(row); ch != nil {
						ch.kind[row&chunkMask] = 0
					}
				}
			}
		}
		if ls := tb.lists.Load(); ls != nil {
			for _, b := range *ls {
				if b != nil {
					b.set(row, false)
				}
			}
		}
	}
	var flags uint8
	if p.Deleted {
		flags |= rowDeleted
	}
	for name, v := range p.Fields {
		if v.Null {
			continue
		}
		if name == "Id" && v.Type == stdlib.Text && v.Text == p.ID {
			flags |= rowIDField
			continue
		}
		tb.setValue(tb.columnFor(m.strs.id(name)), row, v)
	}
	for k, in := range p.Lists {
		if in {
			tb.listFor(m.strs.id(k)).set(row, true)
		}
	}
	var tags []memTag
	for k, st := range p.Programs {
		if st != "" { // "": not a member, as a people file writes it
			tags = append(tags, memTag{kind: tagProgram, key: m.strs.id(k), val: int64(m.strs.id(st))})
		}
	}
	for k, t := range p.Runs {
		tags = append(tags, memTag{kind: tagRun, key: m.strs.id(k), val: t.UnixMicro()})
	}
	rc, i := tb.rowChunk(row), row&chunkMask
	rc.set(i, logOrNil(p.Log), tags)
	rc.partition[i] = m.partitionID(p.Partition)
	rc.flags[i] = flags
}

func logOrNil(log []*storage.Activity) []*storage.Activity {
	if len(log) == 0 {
		return nil
	}
	return slices.Clip(log)
}

// unpack reads a row into a Person the caller owns. The caller holds mu
// (read), or the person's lock.
func (m *Store) unpack(row int32) *storage.Person {
	tb := &m.tab
	rc, i := tb.rowChunk(row), row&chunkMask
	id := tb.id(row)
	flags := rc.flags[i]
	p := &storage.Person{ID: id, Partition: m.partitionName(rc.partition[i]), Deleted: flags&rowDeleted != 0,
		Fields: map[string]ir.Value{}, Log: rc.log(i)}
	if flags&rowIDField != 0 {
		p.Fields["Id"] = ir.Value{Type: stdlib.Text, Text: id}
	}
	strs := m.strs.list()
	if cols := tb.cols.Load(); cols != nil {
		for name, c := range *cols {
			if v, ok := tb.value(c, row); ok {
				p.Fields[strs[name]] = v
			}
		}
	}
	if ls := tb.lists.Load(); ls != nil {
		for key, b := range *ls {
			if b.has(row) {
				if p.Lists == nil {
					p.Lists = map[string]bool{}
				}
				p.Lists[strs[key]] = true
			}
		}
	}
	for _, tg := range rc.tags(i) {
		switch tg.kind {
		case tagProgram:
			if p.Programs == nil {
				p.Programs = map[string]string{}
			}
			p.Programs[strs[tg.key]] = strs[tg.val]
		case tagRun:
			if p.Runs == nil {
				p.Runs = map[string]time.Time{}
			}
			p.Runs[strs[tg.key]] = time.UnixMicro(tg.val).UTC()
		}
	}
	return p
}

// memView is a row lent to the engine (Person.View): reads look at what
// the pass wrote first, then at the row, which only the transaction
// holding the person writes, and only at commit; writes are kept beside
// it, one entry per name, and installed into the row at commit. A pass
// writes a handful of values, so the lists stay short and are scanned.
type memView struct {
	m      *Store
	row    int32
	id     string // the row's Id
	fields []viewField
	lists  []viewList
	progs  []viewProg
	runs   []viewRun
}

type viewField struct {
	name string
	n    int32 // the name's number in the store (its column), -1 when not known yet
	v    ir.Value
	gone bool // deleted
}

type viewList struct {
	key string
	in  bool
}

type viewProg struct {
	key, status string
}

type viewRun struct {
	key string
	at  time.Time
}

// Clone implements PersonView.
func (v *memView) Clone() storage.PersonView {
	c := *v
	c.fields = slices.Clone(v.fields)
	c.lists = slices.Clone(v.lists)
	c.progs = slices.Clone(v.progs)
	c.runs = slices.Clone(v.runs)
	return &c
}

func (v *memView) Field(id, name string) (ir.Value, bool) {
	for i := range v.fields {
		if f := &v.fields[i]; f.name == name {
			return f.v, !f.gone
		}
	}
	tb := &v.m.tab
	if name == "Id" && tb.flags(v.row)&rowIDField != 0 {
		return ir.Value{Type: stdlib.Text, Text: id}, true
	}
	n, ok := v.m.strs.lookup(name)
	if !ok {
		return ir.Value{}, false
	}
	return tb.value(tb.column(n), v.row)
}

// FieldOf implements PersonView: the field's column of the program's
// layout, mapped once to the store's (binding), then read by number.
func (v *memView) FieldOf(f *ir.Field) (ir.Value, bool) {
	for i := range v.fields {
		if w := &v.fields[i]; w.name == f.Name {
			return w.v, !w.gone
		}
	}
	tb := &v.m.tab
	if f.Name == "Id" && tb.flags(v.row)&rowIDField != 0 {
		return ir.Value{Type: stdlib.Text, Text: v.id}, true
	}
	n := v.m.binding(f.Layout).field(f.Col)
	if n < 0 {
		nn, ok := v.m.strs.lookup(f.Name)
		if !ok {
			return ir.Value{}, false
		}
		n = int32(nn)
	}
	return tb.value(tb.column(uint32(n)), v.row)
}

// InListOf implements PersonView, as FieldOf does.
func (v *memView) InListOf(l *ir.List) bool {
	for _, w := range v.lists {
		if w.key == l.Key {
			return w.in
		}
	}
	n := v.m.binding(l.Layout).list(l.Col)
	if n < 0 {
		nn, ok := v.m.strs.lookup(l.Key)
		if !ok {
			return false
		}
		n = int32(nn)
	}
	return v.m.tab.list(uint32(n)).has(v.row)
}

// binding maps a program's layout to the store's numbers of its field
// names and list keys (-1 for one the store has not numbered yet: the
// caller then looks it up by name, as it may have been numbered since).
// The store keeps the binding of the last layout used: a service swaps
// programs only at a deploy.
type binding struct {
	lay    *ir.Layout
	fields []int32
	lists  []int32
}

func (b *binding) field(col int) int32 {
	if b == nil || col >= len(b.fields) {
		return -1
	}
	return b.fields[col]
}

func (b *binding) list(col int) int32 {
	if b == nil || col >= len(b.lists) {
		return -1
	}
	return b.lists[col]
}

// binding returns the binding of a layout (nil for none: a field or list
// made outside a compiled program).
func (m *Store) binding(lay *ir.Layout) *binding {
	if lay == nil {
		return nil
	}
	if b := m.bound.Load(); b != nil && b.lay == lay {
		return b
	}
	b := &binding{lay: lay, fields: make([]int32, len(lay.Fields)), lists: make([]int32, len(lay.Lists))}
	for i, name := range lay.Fields {
		b.fields[i] = -1
		if n, ok := m.strs.lookup(name); ok {
			b.fields[i] = int32(n)
		}
	}
	for i, key := range lay.Lists {
		b.lists[i] = -1
		if n, ok := m.strs.lookup(key); ok {
			b.lists[i] = int32(n)
		}
	}
	m.bound.Store(b)
	return b
}

func (v *memView) SetField(name string, val ir.Value, gone bool) { v.write(name, -1, val, gone) }

// SetFieldOf implements PersonView: the write keeps the field's column,
// found through the layout's binding, so the commit need not look it up.
func (v *memView) SetFieldOf(f *ir.Field, val ir.Value, gone bool) {
	v.write(f.Name, v.m.binding(f.Layout).field(f.Col), val, gone)
}

func (v *memView) write(name string, n int32, val ir.Value, gone bool) {
	for i := range v.fields {
		if f := &v.fields[i]; f.name == name {
			f.v, f.gone = val, gone
			return
		}
	}
	if v.fields == nil {
		v.fields = make([]viewField, 0, 4) // a pass writes a few: one allocation
	}
	v.fields = append(v.fields, viewField{name: name, n: n, v: val, gone: gone})
}

func (v *memView) InList(key string) bool {
	for _, l := range v.lists {
		if l.key == key {
			return l.in
		}
	}
	n, ok := v.m.strs.lookup(key)
	return ok && v.m.tab.list(n).has(v.row)
}

func (v *memView) SetList(key string, in bool) {
	for i := range v.lists {
		if v.lists[i].key == key {
			v.lists[i].in = in
			return
		}
	}
	v.lists = append(v.lists, viewList{key, in})
}

// tag finds a row's tag of a kind for a key.
func (v *memView) tag(kind uint8, key string) (memTag, bool) {
	n, ok := v.m.strs.lookup(key)
	if !ok {
		return memTag{}, false
	}
	tb := &v.m.tab
	for _, tg := range tb.rowChunk(v.row).tags(v.row & chunkMask) {
		if tg.kind == kind && tg.key == n {
			return tg, true
		}
	}
	return memTag{}, false
}

func (v *memView) Program(key string) (string, bool) {
	for _, p := range v.progs {
		if p.key == key {
			return p.status, p.status != ""
		}
	}
	if tg, ok := v.tag(tagProgram, key); ok {
		return v.m.strs.list()[tg.val], true
	}
	return "", false
}

func (v *memView) SetProgram(key, status string) {
	for i := range v.progs {
		if v.progs[i].key == key {
			v.progs[i].status = status
			return
		}
	}
	v.progs = append(v.progs, viewProg{key, status})
}

func (v *memView) Run(key string) (time.Time, bool) {
	for _, r := range v.runs {
		if r.key == key {
			return r.at, true
		}
	}
	if tg, ok := v.tag(tagRun, key); ok {
		return time.UnixMicro(tg.val).UTC(), true
	}
	return time.Time{}, false
}

func (v *memView) SetRun(key string, at time.Time) {
	for i := range v.runs {
		if v.runs[i].key == key {
			v.runs[i].at = at
			return
		}
	}
	v.runs = append(v.runs, viewRun{key, at})
}

// view lends the engine a row without unpacking it. The caller holds mu
// (read) or the person's lock.
func (m *Store) view(row int32) *storage.Person {
	tb := &m.tab
	rc, i := tb.rowChunk(row), row&chunkMask
	id := tb.id(row)
	// One allocation for both.
	l := &struct {
		p storage.Person
		v memView
	}{storage.Person{ID: id, Partition: m.partitionName(rc.partition[i]), Deleted: rc.flags[i]&rowDeleted != 0, Log: rc.log(i)},
		memView{m: m, row: row, id: id}}
	l.p.View = &l.v
	return &l.p
}

// installView folds a lent person's writes into its row, and reports
// whether it added a row. The caller holds mu (write).
func (m *Store) installView(p *storage.Person) bool {
	v := p.View.(*memView)
	tb := &m.tab
	if p.ID != v.id { // the Id changed: the map form, under the new Id
		q := m.materialize(p)
		row, added := m.rowOf(q.ID)
		m.writePerson(row, q, added)
		return added
	}
	row := v.row
	rc, i := tb.rowChunk(row), row&chunkMask
	for _, w := range v.fields {
		if w.name == "Id" {
			rc.flags[i] &^= rowIDField
			if !w.gone && !w.v.Null && w.v.Type == stdlib.Text && w.v.Text == p.ID {
				rc.flags[i] |= rowIDField
				w.gone = true // not stored twice
			}
		}
		n := w.n
		if n < 0 {
			n = int32(m.strs.id(w.name))
		}
		c := tb.columnFor(uint32(n))
		if w.gone {
			tb.setValue(c, row, ir.Value{Null: true})
		} else {
			tb.setValue(c, row, w.v)
		}
	}
	for _, l := range v.lists {
		if l.in {
			tb.listFor(m.strs.id(l.key)).set(row, true)
		} else if n, ok := m.strs.lookup(l.key); ok {
			if b := tb.list(n); b != nil {
				b.set(row, false)
			}
		}
	}
	newTags := rc.tags(i)
	if len(v.progs) > 0 || len(v.runs) > 0 {
		old := rc.tags(i)
		tags := make([]memTag, 0, len(old)+len(v.progs)+len(v.runs))
		strs := m.strs.list()
		for _, tg := range old {
			key := strs[tg.key]
			if tg.kind == tagProgram && slices.ContainsFunc(v.progs, func(p viewProg) bool { return p.key == key }) ||
				tg.kind == tagRun && slices.ContainsFunc(v.runs, func(r viewRun) bool { return r.key == key }) {
				continue
			}
			tags = append(tags, tg)
		}
		for _, pr := range v.progs {
			if pr.status != "" {
				tags = append(tags, memTag{kind: tagProgram, key: m.strs.id(pr.key), val: int64(m.strs.id(pr.status))})
			}
		}
		for _, r := range v.runs {
			tags = append(tags, memTag{kind: tagRun, key: m.strs.id(r.key), val: r.at.UnixMicro()})
		}
		newTags = tags
	}
	rc.partition[i] = m.partitionID(p.Partition)
	if p.Deleted {
		rc.flags[i] |= rowDeleted
	} else {
		rc.flags[i] &^= rowDeleted
	}
	rc.set(i, logOrNil(p.Log), newTags)
	return false
}

// materialize is a lent person in the map form, for callers outside the
// engine. The caller holds mu (read) or the person's lock.
func (m *Store) materialize(p *storage.Person) *storage.Person {
	v := p.View.(*memView)
	q := m.unpack(v.row)
	q.ID, q.Partition, q.Deleted, q.Log = p.ID, p.Partition, p.Deleted, slices.Clip(p.Log)
	for _, f := range v.fields {
		if f.gone {
			delete(q.Fields, f.name)
		} else {
			q.Fields[f.name] = f.v
		}
	}
	for _, l := range v.lists {
		q.SetInList(l.key, l.in)
	}
	for _, pr := range v.progs {
		q.SetProgramStatus(pr.key, pr.status)
	}
	for _, r := range v.runs {
		q.SetRunAt(r.key, r.at)
	}
	return q
}
