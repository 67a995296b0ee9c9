package memstore

import (
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// The in-memory store keeps people packed: a person's text values share
// one string, field names and keys are numbers into a table of interned
// strings, and lists, program statuses and qualification times are one
// small slice. A packed person takes a few hundred bytes where the Person
// form (maps of values) takes well over a kilobyte; LoadPerson unpacks.

type memPerson struct {
	id        string
	partition uint32 // the interned partition's number + 1; 0: none ("Default")
	deleted   bool
	idField   bool   // Fields["Id"] is the Id as text (not stored twice)
	arena     string // the text of every text value, one after another
	fields    []memField
	tags      []memTag
	log       []*storage.Activity // the person's activity log, oldest first
}

type memField struct {
	name   uint32 // interned field name
	typ    uint8  // index in stdlib.FieldTypes
	b      bool
	off, n uint32 // text: arena[off:off+n]; time: n is the nanoseconds
	bits   uint64 // number: float bits; time: Unix seconds
}

type memTag struct {
	kind uint8  // tagList, tagProgram, tagRun
	key  uint32 // interned list key, program key or campaign key
	val  int64  // program: interned status; run: Unix microseconds (see Clock)
}

const (
	tagList = iota
	tagProgram
	tagRun
)

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

func typeIndex(t stdlib.FieldType) uint8 {
	for i, x := range stdlib.FieldTypes {
		if x == t {
			return uint8(i)
		}
	}
	return 0
}

// pack turns a person into its stored form; it needs no lock of the store.
func (m *Store) pack(p *storage.Person) *memPerson {
	if p.View != nil {
		return m.packView(p)
	}
	mp := &memPerson{id: p.ID, deleted: p.Deleted, partition: m.partitionID(p.Partition)}
	var arena strings.Builder
	mp.fields = make([]memField, 0, len(p.Fields))
	for name, v := range p.Fields {
		if v.Null {
			continue
		}
		if name == "Id" && v.Type == stdlib.Text && v.Text == p.ID {
			mp.idField = true
			continue
		}
		f := memField{name: m.strs.id(name), typ: typeIndex(v.Type)}
		switch {
		case v.Type.IsText():
			f.off, f.n = uint32(arena.Len()), uint32(len(v.Text))
			arena.WriteString(v.Text)
		case v.Type.IsNumeric():
			f.bits = math.Float64bits(v.Num)
		case v.Type == stdlib.Boolean:
			f.b = v.Bool
		default:
			f.bits, f.n = uint64(v.Time.Unix()), uint32(v.Time.Nanosecond())
		}
		mp.fields = append(mp.fields, f)
	}
	mp.arena = arena.String()
	for k, in := range p.Lists {
		if in {
			mp.tags = append(mp.tags, memTag{kind: tagList, key: m.strs.id(k)})
		}
	}
	for k, st := range p.Programs {
		if st == "" { // not a member, as a people file writes it
			continue
		}
		mp.tags = append(mp.tags, memTag{kind: tagProgram, key: m.strs.id(k), val: int64(m.strs.id(st))})
	}
	for k, t := range p.Runs {
		mp.tags = append(mp.tags, memTag{kind: tagRun, key: m.strs.id(k), val: t.UnixMicro()})
	}
	return mp
}

// partitionID is a partition's number in the stored form (memPerson).
func (m *Store) partitionID(name string) uint32 {
	if name == "" {
		return 0
	}
	return m.strs.id(name) + 1
}

// partitionName is the person's partition ("" for none); strs is a
// snapshot of the interner taken after the person was packed.
func (mp *memPerson) partitionName(strs []string) string {
	if mp.partition == 0 {
		return ""
	}
	return strs[mp.partition-1]
}

// unpack makes a Person the caller owns. The caller holds m.mu (read).
func (m *Store) unpack(mp *memPerson) *storage.Person {
	strs := m.strs.list()
	p := &storage.Person{ID: mp.id, Partition: mp.partitionName(strs), Deleted: mp.deleted,
		Fields: make(map[string]ir.Value, len(mp.fields)+1), Log: mp.log}
	if mp.idField {
		p.Fields["Id"] = ir.Value{Type: stdlib.Text, Text: mp.id}
	}
	for i := range mp.fields {
		f := &mp.fields[i]
		p.Fields[strs[f.name]] = mp.value(f)
	}
	for _, tg := range mp.tags {
		switch tg.kind {
		case tagList:
			if p.Lists == nil {
				p.Lists = map[string]bool{}
			}
			p.Lists[strs[tg.key]] = true
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

// memView is a person lent to the engine in its packed form (Person.View):
// reads look at what the pass wrote first, then at the stored form, which
// is never changed (other transactions may be reading it); writes are kept
// beside it, one entry per name, and packed with it at commit. A pass
// writes a handful of values, so the lists stay short and are scanned.
type memView struct {
	base   *memPerson
	strs   []string // the interner's snapshot: holds every number of base
	fields []viewField
	lists  []viewList
	progs  []viewProg
	runs   []viewRun
}

type viewField struct {
	name string
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
	c := v.clone()
	return &c
}

func (v *memView) clone() memView {
	c := *v
	c.fields = slices.Clone(v.fields)
	c.lists = slices.Clone(v.lists)
	c.progs = slices.Clone(v.progs)
	c.runs = slices.Clone(v.runs)
	return c
}

func (v *memView) Field(id, name string) (ir.Value, bool) {
	for i := range v.fields {
		if f := &v.fields[i]; f.name == name {
			return f.v, !f.gone
		}
	}
	b := v.base
	if b.idField && name == "Id" {
		return ir.Value{Type: stdlib.Text, Text: id}, true
	}
	for i := range b.fields {
		if f := &b.fields[i]; v.strs[f.name] == name {
			return b.value(f), true
		}
	}
	return ir.Value{}, false
}

func (v *memView) SetField(name string, val ir.Value, gone bool) {
	for i := range v.fields {
		if f := &v.fields[i]; f.name == name {
			f.v, f.gone = val, gone
			return
		}
	}
	if v.fields == nil {
		v.fields = make([]viewField, 0, 4) // a pass writes a few: one allocation
	}
	v.fields = append(v.fields, viewField{name: name, v: val, gone: gone})
}

func (v *memView) InList(key string) bool {
	for _, l := range v.lists {
		if l.key == key {
			return l.in
		}
	}
	for _, tg := range v.base.tags {
		if tg.kind == tagList && v.strs[tg.key] == key {
			return true
		}
	}
	return false
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

func (v *memView) Program(key string) (string, bool) {
	for _, p := range v.progs {
		if p.key == key {
			return p.status, p.status != ""
		}
	}
	for _, tg := range v.base.tags {
		if tg.kind == tagProgram && v.strs[tg.key] == key {
			return v.strs[tg.val], true
		}
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
	for _, tg := range v.base.tags {
		if tg.kind == tagRun && v.strs[tg.key] == key {
			return time.UnixMicro(tg.val).UTC(), true
		}
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

// value decodes one stored field.
func (mp *memPerson) value(f *memField) ir.Value {
	t := stdlib.FieldTypes[f.typ]
	v := ir.Value{Type: t}
	switch {
	case t.IsText():
		v.Text = mp.arena[f.off : f.off+f.n]
	case t.IsNumeric():
		v.Num = math.Float64frombits(f.bits)
	case t == stdlib.Boolean:
		v.Bool = f.b
	default:
		v.Time = time.Unix(int64(f.bits), int64(f.n)).UTC()
	}
	return v
}

// view lends the engine a stored person without unpacking it. The caller
// holds m.mu (read).
func (m *Store) view(mp *memPerson) *storage.Person {
	// One allocation for both.
	strs := m.strs.list()
	l := &struct {
		p storage.Person
		v memView
	}{storage.Person{ID: mp.id, Partition: mp.partitionName(strs), Deleted: mp.deleted, Log: mp.log}, memView{base: mp, strs: strs}}
	l.p.View = &l.v
	return &l.p
}

// packView packs a lent person: its stored form with the pass's writes.
// A person the pass did not change keeps its stored form (it is never
// changed in place, so it may be shared).
func (m *Store) packView(p *storage.Person) *memPerson {
	v := p.View.(*memView)
	b := v.base
	if len(v.fields) == 0 && len(v.lists) == 0 && len(v.progs) == 0 && len(v.runs) == 0 &&
		p.ID == b.id && p.Partition == b.partitionName(v.strs) && p.Deleted == b.deleted {
		return b
	}
	mp := &memPerson{id: p.ID, deleted: p.Deleted, idField: b.idField, partition: m.partitionID(p.Partition)}
	written := func(name string) bool {
		return slices.ContainsFunc(v.fields, func(f viewField) bool { return f.name == name })
	}
	// The text of the kept fields and of the written ones, in one string.
	size, text := 0, false
	for i := range b.fields {
		if f := &b.fields[i]; stdlib.FieldTypes[f.typ].IsText() {
			size += int(f.n)
		}
	}
	for i := range v.fields {
		if f := &v.fields[i]; !f.gone && !f.v.Null && f.v.Type.IsText() {
			size += len(f.v.Text)
			text = true
		}
	}
	var arena strings.Builder
	if text {
		arena.Grow(size)
	} else {
		mp.arena = b.arena // the kept fields' offsets stay valid
	}
	mp.fields = make([]memField, 0, len(b.fields)+len(v.fields))
	for i := range b.fields {
		f := b.fields[i]
		if written(v.strs[f.name]) {
			continue
		}
		if text && stdlib.FieldTypes[f.typ].IsText() {
			s := b.arena[f.off : f.off+f.n]
			f.off = uint32(arena.Len())
			arena.WriteString(s)
		}
		mp.fields = append(mp.fields, f)
	}
	for i := range v.fields {
		w := &v.fields[i]
		if w.name == "Id" {
			mp.idField = false
		}
		if w.gone || w.v.Null {
			continue
		}
		if w.name == "Id" && w.v.Type == stdlib.Text && w.v.Text == p.ID {
			mp.idField = true
			continue
		}
		f := memField{name: m.strs.id(w.name), typ: typeIndex(w.v.Type)}
		switch t := w.v.Type; {
		case t.IsText():
			f.off, f.n = uint32(arena.Len()), uint32(len(w.v.Text))
			arena.WriteString(w.v.Text)
		case t.IsNumeric():
			f.bits = math.Float64bits(w.v.Num)
		case t == stdlib.Boolean:
			f.b = w.v.Bool
		default:
			f.bits, f.n = uint64(w.v.Time.Unix()), uint32(w.v.Time.Nanosecond())
		}
		mp.fields = append(mp.fields, f)
	}
	if text {
		mp.arena = arena.String()
	}
	mp.tags = make([]memTag, 0, len(b.tags)+len(v.lists)+len(v.progs)+len(v.runs))
	for _, tg := range b.tags {
		key := v.strs[tg.key]
		switch tg.kind {
		case tagList:
			if slices.ContainsFunc(v.lists, func(l viewList) bool { return l.key == key }) {
				continue
			}
		case tagProgram:
			if slices.ContainsFunc(v.progs, func(p viewProg) bool { return p.key == key }) {
				continue
			}
		case tagRun:
			if slices.ContainsFunc(v.runs, func(r viewRun) bool { return r.key == key }) {
				continue
			}
		}
		mp.tags = append(mp.tags, tg)
	}
	for _, l := range v.lists {
		if l.in {
			mp.tags = append(mp.tags, memTag{kind: tagList, key: m.strs.id(l.key)})
		}
	}
	for _, pr := range v.progs {
		if pr.status != "" {
			mp.tags = append(mp.tags, memTag{kind: tagProgram, key: m.strs.id(pr.key), val: int64(m.strs.id(pr.status))})
		}
	}
	for _, r := range v.runs {
		mp.tags = append(mp.tags, memTag{kind: tagRun, key: m.strs.id(r.key), val: r.at.UnixMicro()})
	}
	return mp
}

// materialize is a lent person in the map form, for callers outside the
// engine. The caller holds m.mu (read).
func (m *Store) materialize(p *storage.Person) *storage.Person {
	v := p.View.(*memView)
	q := m.unpack(v.base)
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
