package storage

import (
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
)

// The engine keeps two built-in fields of every person (spec §5.3):
// CreatedAt, when the person came into the store, and UpdatedAt, when one
// of the person's fields last changed value, by a step, a delivered event
// or an import. They are read-only to flows.
const (
	FieldCreatedAt = "CreatedAt"
	FieldUpdatedAt = "UpdatedAt"
)

// StampImport gives the people an import brings, as read from a file, the
// import's time as CreatedAt and UpdatedAt where the file gives none (a
// file may carry them, exported from another system). Call it before
// Import: the store then keeps a known person's CreatedAt, and moves its
// UpdatedAt only when the import changes a field (ImportTimes).
func StampImport(people []*Person, now time.Time) {
	at := ir.Value{Type: stdlib.DateTime, Time: now.UTC().Truncate(time.Microsecond)}
	for _, p := range people {
		if p.Fields == nil {
			p.Fields = map[string]ir.Value{}
		}
		for _, name := range []string{FieldCreatedAt, FieldUpdatedAt} {
			if v, ok := p.Fields[name]; !ok || v.Null {
				p.Fields[name] = at
			}
		}
	}
}

// ImportTimes settles the timestamps of a known person after an import
// merged a record into it. before holds the person's fields and partition
// as stored until now; merged is the result, whose CreatedAt and
// UpdatedAt are the record's. A known person keeps the CreatedAt it has;
// its UpdatedAt takes the record's only when a field or the partition
// changed value, and otherwise stays.
func ImportTimes(before map[string]ir.Value, beforePartition string, merged *Person) {
	if merged.Fields == nil {
		merged.Fields = map[string]ir.Value{}
	}
	if c, ok := before[FieldCreatedAt]; ok && !c.Null {
		merged.Fields[FieldCreatedAt] = c
	}
	if fieldsChanged(before, merged.Fields) || beforePartition != merged.Partition {
		return
	}
	if u, ok := before[FieldUpdatedAt]; ok && !u.Null {
		merged.Fields[FieldUpdatedAt] = u
	}
}

// fieldsChanged reports whether any field but the two timestamps has a
// different value in a and b (a missing field is no value).
func fieldsChanged(a, b map[string]ir.Value) bool {
	differs := func(x, y map[string]ir.Value) bool {
		for name, v := range x {
			if name == FieldCreatedAt || name == FieldUpdatedAt {
				continue
			}
			if !SameValue(v, y[name]) {
				return true
			}
		}
		return false
	}
	return differs(a, b) || differs(b, a)
}
