package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
)

// personDoc is how a person's state (all but its activity log) is stored.
type personDoc struct {
	Partition string                `json:"partition,omitempty"`
	Fields    map[string]fieldValue `json:"fields,omitempty"`
	Lists     []string              `json:"lists,omitempty"`
	Programs  map[string]string     `json:"programs,omitempty"`
	Runs      map[string]time.Time  `json:"runs,omitempty"`
}

// fieldValue is a typed field value: [type, value].
type fieldValue struct {
	Type  stdlib.FieldType
	Value ir.Value
}

func (f fieldValue) MarshalJSON() ([]byte, error) {
	v := f.Value
	var x any
	switch {
	case v.Type.IsText():
		x = v.Text
	case v.Type.IsNumeric():
		x = v.Num
	case v.Type == stdlib.Boolean:
		x = v.Bool
	default:
		x = v.Time.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal([]any{v.Type, x})
}

func (f *fieldValue) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 2 {
		return fmt.Errorf("bad stored field value %s", b)
	}
	var t stdlib.FieldType
	if err := json.Unmarshal(raw[0], &t); err != nil {
		return err
	}
	v := ir.Value{Type: t}
	var err error
	switch {
	case t.IsText():
		var s string
		err = json.Unmarshal(raw[1], &s)
		v = ir.NewText(t, s)
	case t.IsNumeric():
		err = json.Unmarshal(raw[1], &v.Num)
	case t == stdlib.Boolean:
		err = json.Unmarshal(raw[1], &v.Bool)
	case t.IsTime():
		var s string
		if err = json.Unmarshal(raw[1], &s); err == nil {
			var tm time.Time
			tm, err = time.Parse(time.RFC3339Nano, s)
			v = ir.NewTime(t, tm)
		}
	default:
		err = fmt.Errorf("unknown stored field type %q", t)
	}
	f.Value = v
	return err
}

// encodePersonJSON is the first stored form of a person, still read.
func encodePersonJSON(p *Person) ([]byte, error) {
	d := personDoc{Partition: p.Partition, Programs: p.Programs, Runs: p.Runs, Fields: map[string]fieldValue{}}
	for k, v := range p.Fields {
		if !v.Null {
			d.Fields[k] = fieldValue{Value: v}
		}
	}
	for k, in := range p.Lists {
		if in {
			d.Lists = append(d.Lists, k)
		}
	}
	sort.Strings(d.Lists)
	return json.Marshal(d)
}

func decodePersonJSON(id string, data []byte) (*Person, error) {
	var d personDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("person %q: %v", id, err)
	}
	p := &Person{ID: id, Partition: d.Partition, Fields: map[string]ir.Value{}, Lists: map[string]bool{},
		Programs: d.Programs, Runs: d.Runs}
	defer rekeyV1(p)
	for k, v := range d.Fields {
		p.Fields[k] = v.Value
	}
	for _, l := range d.Lists {
		p.Lists[l] = true
	}
	if p.Programs == nil {
		p.Programs = map[string]string{}
	}
	if p.Runs == nil {
		p.Runs = map[string]time.Time{}
	}
	return p, nil
}

// A person is stored in a compact binary form: a version byte, then the
// partition, the fields (name, type, value), the lists, the program
// statuses and the qualification times; strings are length-prefixed.
// JSON, which the first schema stored, is still read, and so is version 1,
// which joined key names with "/" as they were and stored qualification
// times as Unix nanoseconds (wrong past 2262). Version 2 makes keys with
// ir.Key and stores times as seconds and nanoseconds, as field times
// are; version 1 and JSON are read with their keys rewritten (see rekeyV1),
// and a person is written back in version 2.
const binVersion = 2

// EncodePerson is a person's stored form (all but its activity log), the
// one the SQL stores keep: a version byte, then the partition, the
// fields in name order, the lists in order, the program statuses and the
// qualification times. It is the same for a person in the map form and
// in slots (Slots).
func EncodePerson(p *Person) ([]byte, error) {
	if s, ok := p.View.(*Slots); ok {
		return encodeSlots(p, s), nil
	}
	b := make([]byte, 0, 64+32*len(p.Fields))
	b = append(b, binVersion)
	b = appendStr(b, p.Partition)
	n := 0
	for _, v := range p.Fields {
		if !v.Null {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for _, name := range slices.Sorted(maps.Keys(p.Fields)) {
		if v := p.Fields[name]; !v.Null {
			b = appendField(b, name, v)
		}
	}
	var lists []string
	for k, in := range p.Lists {
		if in {
			lists = append(lists, k)
		}
	}
	sort.Strings(lists)
	return appendTail(b, lists, p.Programs, p.Runs), nil
}

// encodeSlots is encodePerson of a person decoded into slots: the same
// bytes as its map form gives.
func encodeSlots(p *Person, s *Slots) []byte {
	b := make([]byte, 0, 64+32*s.FieldCount())
	b = append(b, binVersion)
	b = appendStr(b, p.Partition)
	b = binary.AppendUvarint(b, uint64(s.FieldCount()))
	s.EachField(func(name string, v ir.Value) { b = appendField(b, name, v) })
	var lists []string
	s.EachList(func(key string) { lists = append(lists, key) })
	return appendTail(b, lists, s.Programs(), s.Runs())
}

func appendField(b []byte, name string, v ir.Value) []byte {
	b = appendStr(b, name)
	b = append(b, typeCode(v.Type))
	switch {
	case v.Type.IsText():
		b = appendStr(b, v.Text)
	case v.Type.IsNumeric():
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Num))
	case v.Type == stdlib.Boolean:
		b = append(b, boolByte(v.Bool))
	default:
		b = binary.AppendVarint(b, v.Time.Unix())
		b = binary.AppendUvarint(b, uint64(v.Time.Nanosecond()))
	}
	return b
}

// appendTail writes the lists (sorted), program statuses and
// qualification times.
func appendTail(b []byte, lists []string, programs map[string]string, runs map[string]time.Time) []byte {
	b = binary.AppendUvarint(b, uint64(len(lists)))
	for _, k := range lists {
		b = appendStr(b, k)
	}
	b = binary.AppendUvarint(b, uint64(len(programs)))
	for _, k := range slices.Sorted(maps.Keys(programs)) {
		b = appendStr(appendStr(b, k), programs[k])
	}
	b = binary.AppendUvarint(b, uint64(len(runs)))
	for _, k := range slices.Sorted(maps.Keys(runs)) {
		t := runs[k]
		b = binary.AppendVarint(appendStr(b, k), t.Unix())
		b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	}
	return b
}

// DecodePerson reads a stored form (any version, the first JSON form
// included) into the map form; an error says how the data is damaged.
func DecodePerson(id string, data []byte) (*Person, error) {
	if len(data) > 0 && data[0] == '{' {
		return decodePersonJSON(id, data)
	}
	d := binReader{s: string(data)} // one copy; every string below shares it
	v := d.byte()
	if v != 1 && v != binVersion {
		return nil, fmt.Errorf("person %q: unknown stored form %d", id, v)
	}
	p := &Person{ID: id, Partition: d.str()}
	n := d.count()
	p.Fields = make(map[string]ir.Value, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		name := d.str()
		p.Fields[name] = d.value()
	}
	if n := d.count(); n > 0 {
		p.Lists = make(map[string]bool, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			p.Lists[d.str()] = true
		}
	}
	p.Programs, p.Runs = d.tail(v)
	if d.err != nil {
		return nil, fmt.Errorf("person %q: %v", id, d.err)
	}
	if v == 1 {
		rekeyV1(p)
	}
	return p, nil
}

// tail reads the program statuses and the qualification times (nil
// maps when there are none), as form v stores them.
func (d *binReader) tail(v byte) (map[string]string, map[string]time.Time) {
	var progs map[string]string
	if n := d.count(); n > 0 {
		progs = make(map[string]string, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			k := d.str()
			progs[k] = d.str()
		}
	}
	var runs map[string]time.Time
	if n := d.count(); n > 0 {
		runs = make(map[string]time.Time, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			k := d.str()
			if v == 1 {
				runs[k] = time.Unix(0, d.varint()).UTC()
			} else {
				sec := d.varint()
				runs[k] = time.Unix(sec, int64(d.uvarint())).UTC()
			}
		}
	}
	return progs, runs
}

// value reads a field's type and value.
func (d *binReader) value() ir.Value {
	t := fieldType(d.byte())
	v := ir.Value{Type: t}
	switch {
	case t.IsText():
		v.Text = d.str()
	case t.IsNumeric():
		v.Num = math.Float64frombits(d.uint64())
	case t == stdlib.Boolean:
		v.Bool = d.byte() != 0
	default:
		sec := d.varint()
		v.Time = time.Unix(sec, int64(d.uvarint())).UTC()
	}
	return v
}

// DecodeSlots is DecodePerson straight into the columns of a program's
// layout (Slots): the fields, stored in name order, are matched
// to the layout's, also in name order, by walking both. Older stored
// forms go through the map form.
func DecodeSlots(id string, data []byte, lay *ir.Layout) (*Person, error) {
	if len(data) == 0 || data[0] != binVersion {
		p, err := DecodePerson(id, data)
		if err != nil {
			return nil, err
		}
		return SlotsOf(p, lay), nil
	}
	d := binReader{s: string(data)}
	d.byte()
	p := &Person{ID: id, Partition: d.str()}
	s := NewSlots(lay)
	n := d.count()
	s.Grow(int(n)) // count bounds n by the bytes left
	for i, from := uint64(0), 0; i < n && d.err == nil; i++ {
		name := d.str()
		var col int
		col, from = s.NextCol(from, name)
		s.SetFieldAt(col, name, d.value())
	}
	for i, n := uint64(0), d.count(); i < n && d.err == nil; i++ {
		s.AddList(d.str())
	}
	progs, runs := d.tail(binVersion)
	s.SetPrograms(progs)
	s.SetRuns(runs)
	if d.err != nil {
		return nil, fmt.Errorf("person %q: %v", id, d.err)
	}
	p.View = s
	return p, nil
}

// rekeyV1 rewrites the keys of a person stored before form 2, whose keys
// joined names with "/" as they were: every "/" of a list key separates
// names, and a program's or campaign's key is a workspace's name, "/",
// and the program's or campaign's name. Keys of names without "/" or "\"
// are the same in both forms. A list named with a "/" cannot be told from
// a deeper one in the old form: its membership is left under a key no
// list has.
func rekeyV1(p *Person) {
	if len(p.Lists) > 0 {
		lists := make(map[string]bool, len(p.Lists))
		for k, in := range p.Lists {
			lists[ir.Key(strings.Split(k, "/")...)] = in
		}
		p.Lists = lists
	}
	pair := func(k string) string {
		ws, name, _ := strings.Cut(k, "/")
		return ir.Key(ws, name)
	}
	if len(p.Programs) > 0 {
		progs := make(map[string]string, len(p.Programs))
		for k, st := range p.Programs {
			progs[pair(k)] = st
		}
		p.Programs = progs
	}
	if len(p.Runs) > 0 {
		runs := make(map[string]time.Time, len(p.Runs))
		for k, t := range p.Runs {
			runs[pair(k)] = t
		}
		p.Runs = runs
	}
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func typeCode(t stdlib.FieldType) byte {
	for i, x := range stdlib.FieldTypes {
		if x == t {
			return byte(i)
		}
	}
	return 0
}

func fieldType(c byte) stdlib.FieldType {
	if int(c) < len(stdlib.FieldTypes) {
		return stdlib.FieldTypes[c]
	}
	return stdlib.Text
}

// binReader reads the binary form; the first problem sticks in err.
type binReader struct {
	s   string
	i   int
	err error
}

func (d *binReader) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("stored person is cut short at byte %d", d.i)
	}
	d.i = len(d.s)
}

func (d *binReader) byte() byte {
	if d.i >= len(d.s) {
		d.fail()
		return 0
	}
	d.i++
	return d.s[d.i-1]
}

func (d *binReader) uvarint() uint64 {
	v, n := binary.Uvarint([]byte(d.s[d.i:min(len(d.s), d.i+binary.MaxVarintLen64)]))
	if n <= 0 {
		d.fail()
		return 0
	}
	d.i += n
	return v
}

// count reads a number of entries, each at least one byte long: more than
// the bytes left is damage, not a reason to allocate.
func (d *binReader) count() uint64 {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i) {
		d.fail()
		return 0
	}
	return n
}

func (d *binReader) varint() int64 {
	v, n := binary.Varint([]byte(d.s[d.i:min(len(d.s), d.i+binary.MaxVarintLen64)]))
	if n <= 0 {
		d.fail()
		return 0
	}
	d.i += n
	return v
}

func (d *binReader) uint64() uint64 {
	if d.i+8 > len(d.s) {
		d.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64([]byte(d.s[d.i : d.i+8]))
	d.i += 8
	return v
}

func (d *binReader) str() string {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i) {
		d.fail()
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}
