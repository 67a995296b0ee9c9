package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
)

// timeFormat is fixed-width so that stored times sort as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeFormat, s) }

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
	Value compiler.Value
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
	v := compiler.Value{Type: t}
	var err error
	switch {
	case t.IsText():
		var s string
		err = json.Unmarshal(raw[1], &s)
		v = compiler.NewText(t, s)
	case t.IsNumeric():
		err = json.Unmarshal(raw[1], &v.Num)
	case t == stdlib.Boolean:
		err = json.Unmarshal(raw[1], &v.Bool)
	case t.IsTime():
		var s string
		if err = json.Unmarshal(raw[1], &s); err == nil {
			var tm time.Time
			tm, err = time.Parse(time.RFC3339Nano, s)
			v = compiler.NewTime(t, tm)
		}
	default:
		err = fmt.Errorf("unknown stored field type %q", t)
	}
	f.Value = v
	return err
}

func encodePerson(p *vm.Person) ([]byte, error) {
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
	sortStrings(d.Lists)
	return json.Marshal(d)
}

func decodePerson(id string, data []byte) (*vm.Person, error) {
	var d personDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("person %q: %v", id, err)
	}
	p := &vm.Person{ID: id, Partition: d.Partition, Fields: map[string]compiler.Value{}, Lists: map[string]bool{},
		Programs: d.Programs, Runs: d.Runs}
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
