package store

import (
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func samplePerson() *vm.Person {
	return &vm.Person{ID: "7", Partition: "EMEA",
		Fields: map[string]compiler.Value{
			"Email":     compiler.NewText(stdlib.Email, "ü@x.example"),
			"LeadScore": compiler.NewNumber(stdlib.Score, -12.5),
			"Vip":       compiler.NewBool(true),
			"Born":      compiler.NewTime(stdlib.Date, time.Date(1990, 5, 1, 0, 0, 0, 0, time.UTC)),
			"Seen":      compiler.NewTime(stdlib.DateTime, time.Date(2026, 12, 1, 9, 0, 0, 123, time.UTC)),
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
	opts := cmp.Options{cmpopts.IgnoreFields(compiler.Value{}, "Fold"), cmpopts.EquateEmpty()}
	for name, enc := range map[string]func(*vm.Person) ([]byte, error){"binary": encodePerson, "json": encodePersonJSON} {
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
