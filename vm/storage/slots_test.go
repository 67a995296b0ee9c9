package storage

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
)

// TestSlotsLikeMapForm applies the same random reads and writes to a
// person in the map form and to its copy in a layout's slots (names in
// and out of the layout, null values, deletes): every read answers the
// same, and the two end as the same person.
func TestSlotsLikeMapForm(t *testing.T) {
	lay := &ir.Layout{Fields: []string{"A", "C", "E"}, Lists: []string{"L1", "L3"}}
	fields := []string{"A", "B", "C", "D", "E"}
	lists := []string{"L1", "L2", "L3"}
	opts := cmp.Options{cmpopts.IgnoreFields(ir.Value{}, "Fold"), cmpopts.EquateEmpty()}
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		m := &Person{ID: "p", Fields: map[string]ir.Value{"B": ir.NewText(stdlib.Text, "b")}, Lists: map[string]bool{"L2": true}}
		s := SlotsOf(m.Clone(), lay)
		for op := range 200 {
			name, key := fields[r.IntN(len(fields))], lists[r.IntN(len(lists))]
			f := &ir.Field{Name: name, Col: -1}
			if i := indexOf(lay.Fields, name); i >= 0 {
				f.Col, f.Layout = i, lay
			}
			switch r.IntN(9) {
			case 0:
				v := ir.NewNumber(stdlib.Number, float64(r.IntN(5)))
				m.SetField(name, v)
				s.SetField(name, v)
			case 1:
				v := ir.Value{Type: stdlib.Text, Null: true}
				m.SetField(name, v)
				s.SetField(name, v)
			case 2:
				m.DeleteField(name)
				s.DeleteField(name)
			case 3:
				in := r.IntN(2) == 0
				m.SetInList(key, in)
				s.SetInList(key, in)
			case 4:
				st := []string{"", "Member"}[r.IntN(2)]
				m.SetProgramStatus(key, st)
				s.SetProgramStatus(key, st)
			case 5:
				at := time.Unix(int64(r.IntN(100)), 0).UTC()
				m.SetRunAt(key, at)
				s.SetRunAt(key, at)
			case 6:
				s = s.Clone() // a clone reads and writes as its original
			case 7:
				v := ir.NewNumber(stdlib.Number, float64(r.IntN(5)))
				if r.IntN(2) == 0 {
					m.SetField(name, v)
					s.SetFieldOf(f, v)
				} else {
					m.DeleteField(name)
					s.DeleteFieldOf(f)
				}
			}
			mv, mok := m.LookupField(name)
			sv, sok := s.LookupField(name)
			fv, fok := s.FieldOf(f)
			if f.Layout == nil {
				fv, fok = sv, sok
			}
			if mok != sok || mok != fok || !SameValue(mv, sv) || !SameValue(mv, fv) || mv.Null != sv.Null {
				t.Fatalf("seed %d op %d: field %s: map %v %v, slots %v %v, FieldOf %v %v", seed, op, name, mv, mok, sv, sok, fv, fok)
			}
			if m.InList(key) != s.InList(key) {
				t.Fatalf("seed %d op %d: list %s", seed, op, key)
			}
			ms, mok2 := m.ProgramStatus(key)
			ss, sok2 := s.ProgramStatus(key)
			if ms != ss || mok2 != sok2 {
				t.Fatalf("seed %d op %d: program %s: %q %v, slots %q %v", seed, op, key, ms, mok2, ss, sok2)
			}
		}
		got := mapForm(s.View.(*Slots), s)
		want := m.Clone()
		for name, v := range want.Fields {
			if v.Null { // the map form keeps a null value; mapForm, as a store, does not
				delete(want.Fields, name)
			}
		}
		if d := cmp.Diff(want, got, opts); d != "" {
			t.Fatalf("seed %d: (-map form +slots):\n%s", seed, d)
		}
	}
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

// mapForm is a person in slots in the map form of Person.
func mapForm(s *Slots, p *Person) *Person {
	q := &Person{ID: p.ID, Partition: p.Partition, Deleted: p.Deleted, Log: slices.Clip(p.Log),
		Fields: map[string]ir.Value{}, Lists: map[string]bool{},
		Programs: maps.Clone(s.programs), Runs: maps.Clone(s.runs)}
	s.EachField(func(name string, v ir.Value) { q.Fields[name] = v })
	s.EachList(func(key string) { q.Lists[key] = true })
	return q
}
