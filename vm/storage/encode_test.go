package storage

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func samplePerson() *Person {
	return &Person{ID: "7", Partition: "EMEA",
		Fields: map[string]ir.Value{
			"Email":     ir.NewText(stdlib.Email, "ü@x.example"),
			"LeadScore": ir.NewNumber(stdlib.Score, -12.5),
			"Vip":       ir.NewBool(true),
			"Born":      ir.NewTime(stdlib.Date, time.Date(1990, 5, 1, 0, 0, 0, 0, time.UTC)),
			"Seen":      ir.NewTime(stdlib.DateTime, time.Date(2026, 12, 1, 9, 0, 0, 123, time.UTC)),
			"Gone":      {Type: stdlib.Text, Null: true},
		},
		Lists:    map[string]bool{"W/Hot": true, "W/P/Cold": true},
		Programs: map[string]string{"W/Webinar": "Invited"},
		Runs: map[string]time.Time{"W/Batch": time.Date(2026, 12, 1, 9, 0, 0, 5, time.UTC),
			"W/Far": time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)}, // past 2262: not Unix nanoseconds
	}
}

// Both stored forms read back the person that was written.
func TestPersonEncoding(t *testing.T) {
	p := samplePerson()
	want := samplePerson()
	delete(want.Fields, "Gone") // null fields are not stored
	opts := cmp.Options{cmpopts.IgnoreFields(ir.Value{}, "Fold"), cmpopts.EquateEmpty()}
	for name, enc := range map[string]func(*Person) ([]byte, error){"binary": EncodePerson, "json": encodePersonJSON} {
		b, err := enc(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodePerson("7", b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := cmp.Diff(want, got, opts); d != "" {
			t.Errorf("%s round trip (-want +got):\n%s", name, d)
		}
	}
}

// A person decoded straight into a layout's slots (decodeSlots, what the
// engine loads) reads as the map form does, keeps what the layout has no
// column for, and is stored again as the same bytes; written through its
// slots, it stores what the map form written the same way stores.
func TestPersonSlots(t *testing.T) {
	// "Born" and "W/P/Cold" are outside the layout; "Aaa" and "W/None"
	// are columns the person has no value in.
	lay := &ir.Layout{Fields: []string{"Aaa", "Email", "Gone", "LeadScore", "Seen", "Vip"}, Lists: []string{"W/Hot", "W/None"}}
	p := samplePerson()
	b, _ := EncodePerson(p)
	got, err := DecodeSlots("7", b, lay)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.View.(*Slots); !ok {
		t.Fatalf("decodeSlots gave %T", got.View)
	}
	mapForm, _ := DecodePerson("7", b)
	for _, name := range []string{"Aaa", "Email", "Gone", "LeadScore", "Seen", "Vip", "Born", "Nope"} {
		gv, gok := got.LookupField(name)
		mv, mok := mapForm.LookupField(name)
		if gok != mok || !SameValue(gv, mv) {
			t.Errorf("%s: slots %v %v, map form %v %v", name, gv, gok, mv, mok)
		}
	}
	for _, key := range []string{"W/Hot", "W/None", "W/P/Cold"} {
		if got.InList(key) != mapForm.InList(key) {
			t.Errorf("list %s: slots %v", key, got.InList(key))
		}
	}
	again, _ := EncodePerson(got)
	if string(again) != string(b) {
		t.Errorf("stored again as other bytes:\n%x\n%x", again, b)
	}
	write := func(p *Person) {
		p.SetField("Aaa", ir.NewText(stdlib.Text, "new"))
		p.DeleteField("Vip")
		p.DeleteField("Born")
		p.SetField("Zzz", ir.NewNumber(stdlib.Number, 3))
		p.SetInList("W/Hot", false)
		p.SetInList("W/None", true)
		p.SetInList("W/Other", true)
		p.SetProgramStatus("W/Webinar", "Attended")
		p.SetRunAt("W/Batch", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	write(got)
	write(mapForm)
	viaSlots, _ := EncodePerson(got)
	viaMap, _ := EncodePerson(mapForm)
	if string(viaSlots) != string(viaMap) {
		t.Errorf("written through slots, stored differently:\n%x\n%x", viaSlots, viaMap)
	}
	// A legacy stored form goes through the map form.
	j, _ := encodePersonJSON(samplePerson())
	if old, err := DecodeSlots("7", j, lay); err != nil || old.Field("Email").Text != "ü@x.example" || !old.InList("W/P/Cold") {
		t.Errorf("JSON form into slots: %v %v", old, err)
	}
}

// FuzzDecodePerson: a damaged stored person is an error, never a panic,
// in the map form and in slots.
func FuzzDecodePerson(f *testing.F) {
	b, _ := EncodePerson(samplePerson())
	f.Add(b)
	j, _ := encodePersonJSON(samplePerson())
	f.Add(j)
	lay := &ir.Layout{Fields: []string{"Email", "LeadScore"}, Lists: []string{"W/Hot"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePerson("x", data)
		q, serr := DecodeSlots("x", data, lay)
		if (err == nil) != (serr == nil) {
			t.Fatalf("map form error %v, slots error %v", err, serr)
		}
		if err == nil {
			pb, _ := EncodePerson(p)
			qb, _ := EncodePerson(q)
			if string(pb) != string(qb) {
				t.Fatalf("map form and slots store differently:\n%x\n%x", pb, qb)
			}
		}
	})
}

// Rows written before keys were escaped (binary form 1, JSON) are read
// with their keys rewritten as ir.Key makes them: a program or
// campaign key splits at its first "/", a list key at every "/".
func TestPersonEncodingRekeysOldForms(t *testing.T) {
	old := &Person{ID: "7", Fields: map[string]ir.Value{},
		Lists:    map[string]bool{"W/P/Hot": true, `W/a\b`: true},
		Programs: map[string]string{"A/Y/Z": "Invited", `W/back\slash`: "Attended", "W/Plain": "Invited"},
		Runs:     map[string]time.Time{"A/Y/Z": time.Unix(5, 0).UTC()},
	}
	want := map[string]any{
		"lists":    map[string]bool{ir.Key("W", "P", "Hot"): true, ir.Key("W", `a\b`): true},
		"programs": map[string]string{ir.Key("A", "Y/Z"): "Invited", ir.Key("W", `back\slash`): "Attended", "W/Plain": "Invited"},
		"runs":     map[string]time.Time{ir.Key("A", "Y/Z"): time.Unix(5, 0).UTC()},
	}
	// Version 1 is version 2's layout but for the keys (checked here) and
	// the qualification times, Unix nanoseconds: encode without them, then
	// write them as version 1 did (the runs come last).
	noRuns := *old
	noRuns.Runs = nil
	v1, err := EncodePerson(&noRuns)
	if err != nil {
		t.Fatal(err)
	}
	v1[0] = 1
	v1 = v1[:len(v1)-1] // the empty runs count
	v1 = binary.AppendUvarint(v1, 1)
	v1 = appendStr(v1, "A/Y/Z")
	v1 = binary.AppendVarint(v1, time.Unix(5, 0).UnixNano())
	js, err := encodePersonJSON(old)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"binary 1": v1, "json": js} {
		got, err := DecodePerson("7", b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := cmp.Diff(want, map[string]any{"lists": got.Lists, "programs": got.Programs, "runs": got.Runs}); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
		// Written back, the keys stay as they are now.
		b2, _ := EncodePerson(got)
		again, err := DecodePerson("7", b2)
		if err != nil || !cmp.Equal(again.Programs, got.Programs) || !cmp.Equal(again.Lists, got.Lists) || !cmp.Equal(again.Runs, got.Runs) {
			t.Errorf("%s: written back and read again: %v, %v", name, again, err)
		}
	}
}

// A damaged stored form that names a field twice, or out of order, reads
// the same in slots as in the map form (the last value wins).
func TestPersonSlotsDuplicateNames(t *testing.T) {
	b := []byte{binVersion}
	b = appendStr(b, "")
	b = binary.AppendUvarint(b, 3)
	b = appendField(b, "Email", ir.NewText(stdlib.Email, "a@x.example"))
	b = appendField(b, "Aaa", ir.NewText(stdlib.Text, "late"))
	b = appendField(b, "Email", ir.NewText(stdlib.Email, "b@x.example"))
	b = appendTail(b, nil, nil, nil)
	lay := &ir.Layout{Fields: []string{"Aaa", "Email"}}
	p, err := DecodePerson("x", b)
	q, serr := DecodeSlots("x", b, lay)
	if err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	pb, _ := EncodePerson(p)
	qb, _ := EncodePerson(q)
	if string(pb) != string(qb) || q.Field("Email").Text != "b@x.example" || q.Field("Aaa").Text != "late" {
		t.Errorf("slots %v / %v; stored\n%x\n%x", q.Field("Email"), q.Field("Aaa"), qb, pb)
	}
}
