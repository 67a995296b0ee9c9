package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/campc/campc/bench/gen"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// Columns holds people as a struct of arrays: one slot per field, each
// field's text values interned in a dictionary of its own, list
// memberships as a bitset, and the qualification history as one time
// column per campaign. It is the layout the limit (Limit) runs over, and
// the one issue #10 asks the engine to move to.
type Columns struct {
	ids    []string
	part   dict     // partitions; id 0 is "" (the default partition)
	parts  []uint32 // per person: its partition's id in part
	fields []*column
	slot   map[string]int // field name -> index in fields
	lists  []uint64       // per person: bit i set when on listKeys[i]
	lkeys  []string
	lbit   map[string]int
	runs   []*runColumn
	rslot  map[string]int // campaign key -> index in runs
}

// Cell states. A null value is no value: the stores keep a field set to
// null as cleared, and so does the table.
const (
	absent uint8 = iota
	present
)

// column is one field of every person. Only the value slice of the
// column's kind is used.
type column struct {
	name  string
	typ   stdlib.FieldType
	state []uint8
	text  []uint32  // text and email: ids in dict
	num   []float64 // numbers and scores; booleans as 0 and 1
	when  []int64   // dates and date-times: microseconds since 1970
	dict  dict
}

// runColumn is one campaign's qualification history: when each person
// last qualified, in microseconds since 1970, or never.
type runColumn struct {
	key  string
	when []int64
}

const never = math.MinInt64

// dict interns text values: a value's id indexes texts.
type dict struct {
	texts []string
	ids   map[string]uint32
}

func (d *dict) intern(s string) uint32 {
	if id, ok := d.ids[s]; ok {
		return id
	}
	if d.ids == nil {
		d.ids = map[string]uint32{}
	}
	id := uint32(len(d.texts))
	d.texts = append(d.texts, s)
	d.ids[s] = id
	return id
}

// NewColumns makes an empty table; id 0 of the partitions is the
// default partition.
func NewColumns() *Columns {
	c := &Columns{slot: map[string]int{}, lbit: map[string]int{}, rslot: map[string]int{}}
	c.part.intern("")
	return c
}

// Len is how many people the table holds.
func (c *Columns) Len() int { return len(c.ids) }

// field returns the column of a field, made (all absent) when new.
func (c *Columns) field(name string, typ stdlib.FieldType) (*column, error) {
	if i, ok := c.slot[name]; ok {
		col := c.fields[i]
		if col.typ != typ {
			return nil, fmt.Errorf("field %s holds %s and %s values; a column has one type", name, col.typ, typ)
		}
		return col, nil
	}
	col := &column{name: name, typ: typ}
	col.grow(len(c.ids))
	c.slot[name] = len(c.fields)
	c.fields = append(c.fields, col)
	return col, nil
}

// grow extends the column to n people, the new ones absent.
func (col *column) grow(n int) {
	for len(col.state) < n {
		col.state = append(col.state, absent)
		switch {
		case col.typ.IsText():
			col.text = append(col.text, 0)
		case col.typ.IsTime():
			col.when = append(col.when, 0)
		default:
			col.num = append(col.num, 0)
		}
	}
}

func (c *Columns) run(key string) *runColumn {
	if i, ok := c.rslot[key]; ok {
		return c.runs[i]
	}
	r := &runColumn{key: key, when: make([]int64, len(c.ids))}
	for i := range r.when {
		r.when[i] = never
	}
	c.rslot[key] = len(c.runs)
	c.runs = append(c.runs, r)
	return r
}

// Add appends people, in the order given. It refuses what the table does
// not model (program memberships, logs, deleted people, more than 64
// lists, a field with values of two types).
func (c *Columns) Add(people ...*storage.Person) error {
	for _, p := range people {
		if len(p.Programs) > 0 || len(p.Log) > 0 || p.Deleted {
			return fmt.Errorf("person %s: program memberships, logs and deleted people are not modelled", p.ID)
		}
		i := len(c.ids)
		c.ids = append(c.ids, p.ID)
		c.parts = append(c.parts, c.part.intern(p.Partition))
		for _, name := range sortedKeys(p.Fields) {
			v := p.Fields[name]
			col, err := c.field(name, v.Type)
			if err != nil {
				return fmt.Errorf("person %s: %v", p.ID, err)
			}
			col.grow(i + 1)
			if v.Null {
				continue
			}
			col.state[i] = present
			switch {
			case v.Type.IsText():
				col.text[i] = col.dict.intern(v.Text)
			case v.Type.IsTime():
				col.when[i] = v.Time.UnixMicro()
			case v.Type == stdlib.Boolean:
				col.num[i] = 0
				if v.Bool {
					col.num[i] = 1
				}
			default:
				col.num[i] = v.Num
			}
		}
		var bits uint64
		for _, l := range sortedKeys(p.Lists) {
			if !p.Lists[l] {
				continue
			}
			b, ok := c.lbit[l]
			if !ok {
				if len(c.lkeys) == 64 {
					return fmt.Errorf("person %s: more than 64 lists", p.ID)
				}
				b = len(c.lkeys)
				c.lbit[l] = b
				c.lkeys = append(c.lkeys, l)
			}
			bits |= 1 << b
		}
		c.lists = append(c.lists, bits)
		for _, r := range c.runs {
			r.when = append(r.when, never)
		}
		for _, k := range sortedKeys(p.Runs) {
			c.run(k).when[i] = p.Runs[k].UnixMicro()
		}
	}
	for _, col := range c.fields {
		col.grow(len(c.ids))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// listBit is the bit of a list key, allotted when new.
func (c *Columns) listBit(key string) uint64 {
	b, ok := c.lbit[key]
	if !ok {
		if len(c.lkeys) == 64 {
			panic("bench: more than 64 lists") // Add refuses them first
		}
		b = len(c.lkeys)
		c.lbit[key] = b
		c.lkeys = append(c.lkeys, key)
	}
	return 1 << b
}

// Person is person i as the engine's stores hold it (without a log).
func (c *Columns) Person(i int) *storage.Person {
	p := &storage.Person{ID: c.ids[i], Partition: c.part.texts[c.parts[i]], Fields: map[string]ir.Value{},
		Lists: map[string]bool{}, Runs: map[string]time.Time{}}
	for _, col := range c.fields {
		if col.state[i] == absent {
			continue
		}
		v := ir.Value{Type: col.typ}
		switch {
		case col.typ.IsText():
			v = ir.NewText(col.typ, col.dict.texts[col.text[i]])
		case col.typ.IsTime():
			v.Time = time.UnixMicro(col.when[i]).UTC()
		case col.typ == stdlib.Boolean:
			v.Bool = col.num[i] != 0
		default:
			v.Num = col.num[i]
		}
		p.Fields[col.name] = v
	}
	for b, k := range c.lkeys {
		if c.lists[i]&(1<<b) != 0 {
			p.Lists[k] = true
		}
	}
	for _, r := range c.runs {
		if r.when[i] != never {
			p.Runs[r.key] = time.UnixMicro(r.when[i]).UTC()
		}
	}
	return p
}

// CanonicalColumns is an empty table with the slots the canonical
// program declares (as the compiler would give every field of a
// workspace a slot): the fields its flow writes and its campaigns'
// qualification history, so that a run only fills slots.
func CanonicalColumns() *Columns {
	c := NewColumns()
	c.field("Segment", stdlib.Text)
	c.field("UpdatedAt", stdlib.DateTime)
	c.run(gen.Workspace + "/" + gen.Batch)
	c.run(gen.Workspace + "/" + gen.Child)
	c.listBit(gen.SubscribersKey)
	c.listBit(gen.HotLeadsKey)
	return c
}

// LoadColumns makes a canonical table of persons [from, to) of the
// population, generating them in pieces so that a large population is
// never held twice.
func LoadColumns(from, to int) *Columns {
	c := CanonicalColumns()
	for i := from; i < to; i += 10_000 {
		if err := c.Add(gen.People(gen.Seed, i, min(i+10_000, to))...); err != nil {
			panic(err) // the generator makes only what the table models
		}
	}
	return c
}

// Activity kinds of the canonical workload.
const (
	actExecuted uint8 = iota
	actChangeScore
	actAddToList
	actChangeData
)

// LimitActivity is one activity the limit writes: what the engine's
// activity says, in 32 bytes, with the texts as ids in the dictionary of
// the Segment column.
type LimitActivity struct {
	Person   int32
	Kind     uint8
	Flag     bool    // Executed Campaign: the child qualified; Change Data Value: there was no old value
	Old, New float64 // Change Score
	OldText  uint32  // Change Data Value
	NewText  uint32
}

// Limit is the canonical workload written by hand over Columns: the
// physical-limit yardstick for the engine. It knows the program (the
// columns it reads and writes are resolved once, the My Token is a
// constant), keeps no store, transaction or batch-run record, and
// appends its activities to one slice. It changes the same values and
// writes the same activities, in the same order, as the engine and
// Handwritten (TestLimitMatchesEngine).
type Limit struct{}

// Run runs the canonical batch over every person of the table, in table
// order, and returns the activities written.
func (Limit) Run(c *Columns) ([]LimitActivity, error) {
	col := func(name string, typ stdlib.FieldType) (*column, error) { return c.field(name, typ) }
	country, err := col("Country", stdlib.Text)
	if err != nil {
		return nil, err
	}
	score, err := col("LeadScore", stdlib.Score)
	if err != nil {
		return nil, err
	}
	email, err := col("Email", stdlib.Email)
	if err != nil {
		return nil, err
	}
	segment, err := col("Segment", stdlib.Text)
	if err != nil {
		return nil, err
	}
	updated, err := col("UpdatedAt", stdlib.DateTime)
	if err != nil {
		return nil, err
	}
	batchRun := c.run(gen.Workspace + "/" + gen.Batch).when
	childRun := c.run(gen.Workspace + "/" + gen.Child).when
	sub, hot := c.listBit(gen.SubscribersKey), c.listBit(gen.HotLeadsKey)
	now := Now.UnixMicro()

	// The filters over the dictionaries, once: which countries match
	// (case-insensitively), which partitions the workspace sees, which
	// email is empty.
	wanted := map[string]bool{}
	for _, k := range gen.FilterCountries {
		wanted[strings.ToLower(k)] = true
	}
	countryOK := make([]bool, len(country.dict.texts))
	for id, t := range country.dict.texts {
		countryOK[id] = wanted[strings.ToLower(t)]
	}
	visible := make([]bool, len(c.part.texts))
	for id, t := range c.part.texts {
		visible[id] = t == "" || t == "Default"
	}
	noEmail, hasEmpty := email.dict.ids[""]
	engaged := segment.dict.intern(gen.SegmentValue)

	acts := make([]LimitActivity, 0, c.Len()*3)
	for i := range c.Len() {
		if !visible[c.parts[i]] || country.state[i] != present || !countryOK[country.text[i]] ||
			score.state[i] != present || score.num[i] < gen.FilterMinScore || c.lists[i]&sub == 0 {
			continue
		}
		p := int32(i)
		batchRun[i] = now
		child := email.state[i] == present && !(hasEmpty && email.text[i] == noEmail)
		acts = append(acts, LimitActivity{Person: p, Kind: actExecuted, Flag: child})
		if child {
			childRun[i] = now
			old := score.num[i]
			score.num[i] = old + gen.ScoreChange
			updated.state[i], updated.when[i] = present, now
			acts = append(acts, LimitActivity{Person: p, Kind: actChangeScore, Old: old, New: old + gen.ScoreChange})
		}
		if score.num[i] >= gen.HotThreshold && c.lists[i]&hot == 0 {
			c.lists[i] |= hot
			acts = append(acts, LimitActivity{Person: p, Kind: actAddToList})
		}
		if segment.state[i] == present && segment.text[i] == engaged {
			continue
		}
		a := LimitActivity{Person: p, Kind: actChangeData, Flag: segment.state[i] != present, OldText: segment.text[i], NewText: engaged}
		segment.state[i], segment.text[i] = present, engaged
		updated.state[i], updated.when[i] = present, now
		acts = append(acts, a)
	}
	return acts, nil
}

// Activities are the limit's activities as the engine writes them.
func (Limit) Activities(c *Columns, acts []LimitActivity) []*storage.Activity {
	seg := c.fields[c.slot["Segment"]].dict.texts
	out := make([]*storage.Activity, 0, len(acts))
	for _, a := range acts {
		v := &storage.Activity{Time: Now, Person: c.ids[a.Person], Workspace: gen.Workspace, Campaign: gen.Batch}
		switch a.Kind {
		case actExecuted:
			v.Type, v.Primary = "Executed Campaign", gen.Child
			v.Attributes = storage.Attrs{{Key: "Qualified", Value: storage.AttrBool(a.Flag)}, {Key: "Use Parent Token Context", Value: storage.AttrBool(true)}}
		case actChangeScore:
			v.Type, v.Primary, v.Campaign = "Change Score", "LeadScore", gen.Child
			v.Attributes = storage.Attrs{{Key: "Change Value", Value: storage.AttrNum(a.New - a.Old)},
				{Key: "Old Value", Value: storage.AttrNum(a.Old)}, {Key: "New Value", Value: storage.AttrNum(a.New)}}
		case actAddToList:
			v.Type, v.Primary = "Add to List", gen.HotLeads
			v.Attributes = storage.Attrs{{Key: "Choice", Value: storage.AttrNum(1)}}
		case actChangeData:
			old := storage.AttrNull()
			if !a.Flag {
				old = storage.AttrStr(seg[a.OldText])
			}
			v.Type, v.Primary = "Change Data Value", "Segment"
			v.Attributes = storage.Attrs{{Key: "Old Value", Value: old}, {Key: "New Value", Value: storage.AttrStr(seg[a.NewText])}}
		}
		out = append(out, v)
	}
	return out
}
