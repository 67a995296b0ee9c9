package memstore

import (
	"encoding/binary"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// People are kept in columns: a person is a row number, and each field is
// a column of fixed-size cells (a kind byte and 8 bytes of data per row)
// allocated in chunks of rows; list memberships are one bitset per list;
// program statuses and qualification times, which few people have for
// any one key, are a short list of tags per row. Text is interned per
// column while the column has few distinct values (countries, segments,
// names), and otherwise written once into an append-only arena; an Id is
// in the arena too, so the index and the Id order hold no string of their
// own. Nothing here points into the Go heap per person but the activity
// log and the tags, so a million people cost the collector little.
//
// Concurrency. The store's mu guards every write (at commit and import)
// and the readers that hold no person lock. A person lent to a
// transaction (memView) is read without mu: only the transaction holding
// the person's lock ever writes its row, so the cells it reads do not
// change under it. What other rows' writes may grow (the directories of
// chunks, columns, lists and arena blocks) is published by atomic
// pointers and never changed in place; a bitset word, shared by 64 rows,
// is read and written atomically.

const (
	chunkBits = 12
	chunkRows = 1 << chunkBits
	chunkMask = chunkRows - 1
	// dictMax is how many distinct values a column interns; past it, new
	// values go to the arena (a column of e-mail addresses would only
	// grow its dictionary).
	dictMax = 4096
	// arenaBlock is the size of an arena block (a longer text gets a
	// block of its own).
	arenaSize = 1 << 20
)

// Cell kinds: the low 3 bits are the field type's index in
// stdlib.FieldTypes plus one (0: no value); kindArena marks text in the
// arena (else in the column's dictionary).
const (
	kindType  = 0x07
	kindArena = 0x08
)

// rowChunk holds what every person has, for chunkRows rows.
type rowChunk struct {
	id        [chunkRows]uint64 // arena reference of the Id
	partition [chunkRows]uint32 // interned partition + 1; 0: none
	flags     [chunkRows]uint8  // rowDeleted, rowIDField
	// extra holds the activity log and the tags (program statuses and
	// qualification times) of a row that has any: nil for most people
	// as loaded, 8 bytes where two slices would take 48.
	extra [chunkRows]*rowExtra
}

type rowExtra struct {
	log  []*storage.Activity
	tags []memTag
}

func (rc *rowChunk) log(i int32) []*storage.Activity {
	if x := rc.extra[i]; x != nil {
		return x.log
	}
	return nil
}

func (rc *rowChunk) tags(i int32) []memTag {
	if x := rc.extra[i]; x != nil {
		return x.tags
	}
	return nil
}

// set replaces a row's log and tags. Only the writer of the row reads
// its rowExtra without the store's lock (see columns.go), so it is
// changed in place.
func (rc *rowChunk) set(i int32, log []*storage.Activity, tags []memTag) {
	if len(log) == 0 && len(tags) == 0 {
		rc.extra[i] = nil
		return
	}
	if x := rc.extra[i]; x != nil {
		x.log, x.tags = log, tags
		return
	}
	rc.extra[i] = &rowExtra{log: log, tags: tags}
}

const (
	rowDeleted = 1 << iota
	rowIDField // the Id field is the Id as text (not stored twice)
)

// column is one field's cells, by row chunk.
type column struct {
	typeOf uint8                          // not used for decoding: cells carry their type
	chunks atomic.Pointer[[]*columnChunk] // by row chunk; nil where no row of the chunk has a value
	dict   map[string]uint32              // interned values (under mu)
	vals   atomic.Pointer[[]string]       // dictionary values by number
}

type columnChunk struct {
	kind [chunkRows]uint8
	data [chunkRows]uint64 // text: dictionary number or arena reference; number: float bits; boolean: 0/1; time: Unix seconds
	nsec atomic.Pointer[[chunkRows]uint32]
}

// bitset is one list's members, by row chunk.
type bitset struct {
	chunks atomic.Pointer[[]*bitWords]
}

// bitWords are a bitset's words for one chunk of rows.
type bitWords [chunkRows / 64]atomic.Uint64

// memTag is a program status or a qualification time of a row.
type memTag struct {
	kind uint8  // tagProgram, tagRun
	key  uint32 // interned program key or campaign key
	val  int64  // program: interned status; run: Unix microseconds
}

const (
	tagProgram = iota + 1
	tagRun
)

// table is the store's people.
type table struct {
	rows   atomic.Pointer[[]*rowChunk]
	n      int32                         // rows in use (under mu)
	index  map[string]int32              // Id -> row (under mu)
	cols   atomic.Pointer[[]*column]     // by interned field name
	lists  atomic.Pointer[[]*bitset]     // by interned list key
	arena  atomic.Pointer[[]*arenaBlock] // text
	cursor int                           // bytes used of the last block (under mu)
}

type arenaBlock struct{ b []byte }

func (tb *table) rowChunk(row int32) *rowChunk { return (*tb.rows.Load())[row>>chunkBits] }

// newRow adds a row for a person. The caller holds mu (write).
func (tb *table) newRow(id string) int32 {
	row := tb.n
	tb.n++
	atFor(&tb.rows, int(row>>chunkBits), func() *rowChunk { return new(rowChunk) })
	ref := tb.put(id)
	tb.rowChunk(row).id[row&chunkMask] = ref
	if tb.index == nil {
		tb.index = map[string]int32{}
	}
	tb.index[tb.text(ref)] = row // the key is the arena's copy
	return row
}

// put writes text into the arena and returns its reference: the block's
// number and the offset of a length prefix. The caller holds mu (write).
func (tb *table) put(s string) uint64 {
	need := binary.MaxVarintLen64 + len(s)
	blocks := tb.arena.Load()
	if blocks == nil || len(*blocks) == 0 || tb.cursor+need > len((*blocks)[len(*blocks)-1].b) {
		var grown []*arenaBlock
		if blocks != nil {
			grown = append(grown, *blocks...)
		}
		grown = append(grown, &arenaBlock{make([]byte, max(arenaSize, need))})
		tb.arena.Store(&grown)
		blocks, tb.cursor = &grown, 0
	}
	k := len(*blocks) - 1
	b := (*blocks)[k].b
	off := tb.cursor
	n := binary.PutUvarint(b[off:], uint64(len(s)))
	copy(b[off+n:], s)
	tb.cursor = off + n + len(s)
	return uint64(k)<<32 | uint64(off)
}

// text reads the arena. Written bytes never change, so the string may
// share them.
func (tb *table) text(ref uint64) string {
	b := (*tb.arena.Load())[ref>>32].b
	off := int(ref & math.MaxUint32)
	n, k := binary.Uvarint(b[off:])
	if n == 0 {
		return ""
	}
	return unsafe.String(&b[off+k], int(n))
}

func (tb *table) id(row int32) string { return tb.text(tb.rowChunk(row).id[row&chunkMask]) }

func (tb *table) flags(row int32) uint8 { return tb.rowChunk(row).flags[row&chunkMask] }

// at is the i-th entry of a directory published by p, or nil.
func at[T any](p *atomic.Pointer[[]*T], i int) *T {
	d := p.Load()
	if d == nil || i >= len(*d) {
		return nil
	}
	return (*d)[i]
}

// atFor is at, making the entry (and growing the directory) when it has
// none. A directory is never changed in place: a grown copy is published,
// so that readers holding no lock see one or the other. The caller holds
// the store's mu (write).
func atFor[T any](p *atomic.Pointer[[]*T], i int, make func() *T) *T {
	if x := at(p, i); x != nil {
		return x
	}
	var grown []*T
	if d := p.Load(); d != nil {
		grown = append(grown, *d...)
	}
	for len(grown) <= i {
		grown = append(grown, nil)
	}
	x := make()
	grown[i] = x
	p.Store(&grown)
	return x
}

// column returns a field's column, or nil when no row ever had the field.
func (tb *table) column(name uint32) *column { return at(&tb.cols, int(name)) }

// columnFor returns a field's column, making it. The caller holds mu (write).
func (tb *table) columnFor(name uint32) *column {
	return atFor(&tb.cols, int(name), func() *column { return &column{dict: map[string]uint32{}} })
}

// cell returns the chunk holding a row's cell of the column, or nil.
func (c *column) cell(row int32) *columnChunk { return at(&c.chunks, int(row>>chunkBits)) }

// cellFor returns the chunk for a row's cell, making it. The caller holds mu (write).
func (c *column) cellFor(row int32) *columnChunk {
	return atFor(&c.chunks, int(row>>chunkBits), func() *columnChunk { return new(columnChunk) })
}

// value reads a row's cell of a column.
func (tb *table) value(c *column, row int32) (ir.Value, bool) {
	if c == nil {
		return ir.Value{}, false
	}
	ch := c.cell(row)
	if ch == nil {
		return ir.Value{}, false
	}
	i := row & chunkMask
	k := ch.kind[i]
	if k&kindType == 0 {
		return ir.Value{}, false
	}
	t := stdlib.FieldTypes[k&kindType-1]
	v := ir.Value{Type: t}
	d := ch.data[i]
	switch {
	case t.IsText():
		if k&kindArena != 0 {
			v.Text = tb.text(d)
		} else {
			v.Text = (*c.vals.Load())[d]
		}
	case t.IsNumeric():
		v.Num = math.Float64frombits(d)
	case t == stdlib.Boolean:
		v.Bool = d != 0
	default:
		var ns int64
		if p := ch.nsec.Load(); p != nil {
			ns = int64(p[i])
		}
		v.Time = time.Unix(int64(d), ns).UTC()
	}
	return v, true
}

// setValue writes a row's cell; a null value clears it. The caller holds
// mu (write).
func (tb *table) setValue(c *column, row int32, v ir.Value) {
	if v.Null {
		if ch := c.cell(row); ch != nil {
			ch.kind[row&chunkMask] = 0
		}
		return
	}
	ch := c.cellFor(row)
	i := row & chunkMask
	k := typeIndex(v.Type) + 1
	var d uint64
	switch t := v.Type; {
	case t.IsText():
		if n, ok := c.dict[v.Text]; ok {
			d = uint64(n)
		} else if len(c.dict) < dictMax {
			var vals []string
			if p := c.vals.Load(); p != nil {
				vals = *p
			}
			s := tb.text(tb.put(v.Text)) // the dictionary's copy, in the arena
			vals = append(vals[:len(vals):len(vals)], s)
			c.vals.Store(&vals)
			c.dict[s] = uint32(len(vals) - 1)
			d = uint64(len(vals) - 1)
		} else {
			d, k = tb.put(v.Text), k|kindArena
		}
	case t.IsNumeric():
		d = math.Float64bits(v.Num)
	case t == stdlib.Boolean:
		if v.Bool {
			d = 1
		}
	default:
		d = uint64(v.Time.Unix())
		if ns := v.Time.Nanosecond(); ns != 0 || ch.nsec.Load() != nil {
			p := ch.nsec.Load()
			if p == nil {
				p = new([chunkRows]uint32)
				ch.nsec.Store(p)
			}
			p[i] = uint32(ns)
		}
	}
	ch.data[i] = d
	ch.kind[i] = k
}

// list returns a list's bitset, or nil when nobody was ever on it.
func (tb *table) list(key uint32) *bitset { return at(&tb.lists, int(key)) }

// listFor returns a list's bitset, making it. The caller holds mu (write).
func (tb *table) listFor(key uint32) *bitset {
	return atFor(&tb.lists, int(key), func() *bitset { return new(bitset) })
}

func (b *bitset) has(row int32) bool {
	if b == nil {
		return false
	}
	words := at(&b.chunks, int(row>>chunkBits))
	return words != nil && words[(row&chunkMask)>>6].Load()&(1<<(row&63)) != 0
}

// set adds or removes a row. The caller holds mu (write).
func (b *bitset) set(row int32, in bool) {
	words := at(&b.chunks, int(row>>chunkBits))
	if words == nil {
		if !in {
			return
		}
		words = atFor(&b.chunks, int(row>>chunkBits), func() *bitWords { return new(bitWords) })
	}
	w := &words[(row&chunkMask)>>6]
	if in {
		w.Or(1 << (row & 63))
	} else {
		w.And(^uint64(1 << (row & 63)))
	}
}

func typeIndex(t stdlib.FieldType) uint8 {
	for i, x := range stdlib.FieldTypes {
		if x == t {
			return uint8(i)
		}
	}
	return 0
}
