package store

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func samplePerson() *storage.Person {
	return &storage.Person{ID: "7", Partition: "EMEA",
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
	for name, enc := range map[string]func(*storage.Person) ([]byte, error){"binary": encodePerson, "json": encodePersonJSON} {
		b, err := enc(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodePerson("7", b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := cmp.Diff(want, got, opts); d != "" {
			t.Errorf("%s round trip (-want +got):\n%s", name, d)
		}
	}
}

// FuzzDecodePerson: a damaged stored person is an error, never a panic.
func FuzzDecodePerson(f *testing.F) {
	b, _ := encodePerson(samplePerson())
	f.Add(b)
	j, _ := encodePersonJSON(samplePerson())
	f.Add(j)
	f.Fuzz(func(t *testing.T, data []byte) {
		decodePerson("x", data)
	})
}

// Rows written before keys were escaped (binary form 1, JSON) are read
// with their keys rewritten as ir.Key makes them: a program or
// campaign key splits at its first "/", a list key at every "/".
func TestPersonEncodingRekeysOldForms(t *testing.T) {
	old := &storage.Person{ID: "7", Fields: map[string]ir.Value{},
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
	v1, err := encodePerson(&noRuns)
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
		got, err := decodePerson("7", b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := cmp.Diff(want, map[string]any{"lists": got.Lists, "programs": got.Programs, "runs": got.Runs}); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
		// Written back, the keys stay as they are now.
		b2, _ := encodePerson(got)
		again, err := decodePerson("7", b2)
		if err != nil || !cmp.Equal(again.Programs, got.Programs) || !cmp.Equal(again.Lists, got.Lists) || !cmp.Equal(again.Runs, got.Runs) {
			t.Errorf("%s: written back and read again: %v, %v", name, again, err)
		}
	}
}
