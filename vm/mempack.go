package vm

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
)

// The in-memory store keeps people packed: a person's text values share
// one string, field names and keys are numbers into a table of interned
// strings, and lists, program statuses and qualification times are one
// small slice. A packed person takes a few hundred bytes where the Person
// form (maps of values) takes well over a kilobyte; LoadPerson unpacks.

type memPerson struct {
	id        string
	partition string
	deleted   bool
	idField   bool   // Fields["Id"] is the Id as text (not stored twice)
	arena     string // the text of every text value, one after another
	fields    []memField
	tags      []memTag
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

// interner numbers strings; it only grows. Numbering takes its own lock,
// so people are packed outside the store's lock; reading takes a snapshot
// of the list, whose entries never change once written.
type interner struct {
	mu   sync.Mutex
	idx  map[string]uint32
	strs atomic.Pointer[[]string]
}

func (in *interner) id(s string) uint32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	if i, ok := in.idx[s]; ok {
		return i
	}
	if in.idx == nil {
		in.idx = map[string]uint32{}
	}
	list := append(in.list(), s)
	in.strs.Store(&list)
	i := uint32(len(list) - 1)
	in.idx[s] = i
	return i
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
func (m *MemStore) pack(p *Person) *memPerson {
	mp := &memPerson{id: p.ID, deleted: p.Deleted}
	if p.Partition != "" {
		i := m.strs.id(p.Partition) // numbered first: the snapshot below must hold it
		mp.partition = m.strs.list()[i]
	}
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

// unpack makes a Person the caller owns. The caller holds m.mu (read).
func (m *MemStore) unpack(mp *memPerson) *Person {
	p := &Person{ID: mp.id, Partition: mp.partition, Deleted: mp.deleted,
		Fields: make(map[string]ir.Value, len(mp.fields)+1), Log: m.logs[mp.id]}
	strs := m.strs.list()
	if mp.idField {
		p.Fields["Id"] = ir.Value{Type: stdlib.Text, Text: mp.id}
	}
	for _, f := range mp.fields {
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
		p.Fields[strs[f.name]] = v
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
