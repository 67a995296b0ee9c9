package vm

import (
	"strings"
	"testing"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/lang"
)

const peopleProject = `workspace "W"
field Vip boolean
field Born date
list "Hot"
program "P" {
  statuses "Invited", "Attended"
  batch campaign "C" {
    smart list { filter Email is not empty }
    flow { add to list "Hot" }
  }
}
`

func schemaFor(t *testing.T) *Schema {
	res := compiler.Compile([]lang.Source{{Name: "p.camp", Text: peopleProject}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatal(res)
	}
	s, err := NewSchema(prog)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseCSV(t *testing.T) {
	s := schemaFor(t)
	ps, err := ParseCSV("p.csv", []byte("Id,Email,LeadScore,Vip,Born\n1,a@x.example,12,true,1990-05-01\n2,,,false,\n"), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Fields["LeadScore"].Num != 12 || !ps[0].Fields["Vip"].Bool || ps[0].Fields["Born"].Time.Year() != 1990 {
		t.Fatalf("bad parse: %+v", ps[0].Fields)
	}
	if _, ok := ps[1].Fields["Email"]; ok {
		t.Errorf("an empty cell must leave the field empty")
	}
}

func TestParseJSONL(t *testing.T) {
	s := schemaFor(t)
	ps, err := ParseJSONL("p.jsonl", []byte(`{"Id": 7, "Email": "a@x.example", "lists": ["Hot"], "programs": {"P": "Invited"}}`+"\n\n"), s)
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].ID != "7" || !ps[0].Lists["W/Hot"] || ps[0].Programs["W/P"] != "Invited" {
		t.Fatalf("bad parse: %+v", ps[0])
	}
}

func TestPeopleErrors(t *testing.T) {
	s := schemaFor(t)
	for _, tc := range []struct {
		file, data, want string
	}{
		{"a.csv", "Email\nx@y.example\n", "a.csv:1:1: the header has no Id column"},
		{"a.csv", "Id,Emial\n1,x\n", `a.csv:1:4: unknown field "Emial" in the header; did you mean Email?`},
		{"a.csv", "Id,LeadScore\n1,5\n2,lots\n", `a.csv:3:3: field LeadScore (score): "lots" is not a number`},
		{"a.csv", "Id,Email\n1,a@x.example\n,b@x.example\n", "a.csv:3:1: missing Id"},
		{"a.csv", "Id,Email\n1,a@x.example\n1,b@x.example\n", `a.csv:3:1: Id "1" already appears on line 2`},
		{"a.csv", "Id,Email\n1,a@x.example,extra\n", "a.csv:2:1: row has 3 cells; the header has 2"},
		{"a.csv", "Id,Born\n1,1990-13-01\n", `a.csv:2:3: field Born (date): "1990-13-01" is not a date (2026-12-01)`},
		{"a.csv", "", "a.csv:1:1: the file is empty"},
		{"a.jsonl", `{"Email": "a@x.example"}`, `a.jsonl:1:1: missing "Id"`},
		{"a.jsonl", `{"Id": "1"}` + "\n" + `{"Id": "2", "Vip": "maybe"}`, `a.jsonl:2:20: field Vip (boolean): "maybe" is not true or false`},
		{"a.jsonl", `{"Id": "1", "lists": ["Cold"]}`, `a.jsonl:1:22: no list "Cold" in any workspace`},
		{"a.jsonl", `{"Id": "1", "programs": {"P": "Gone"}}`, `a.jsonl:1:25: program "P" has no status "Gone"`},
		{"a.jsonl", `[1,2]`, "a.jsonl:1:1: each line must be one JSON object"},
		{"a.jsonl", `{"Id": "1", "Emial": "x"}`, `a.jsonl:1:22: unknown field "Emial"`},
		{"a.jsonl", `{"Id": "1"} {"Id": "2"}`, "one JSON object per line"},
	} {
		var err error
		if strings.HasSuffix(tc.file, ".csv") {
			_, err = ParseCSV(tc.file, []byte(tc.data), s)
		} else {
			_, err = ParseJSONL(tc.file, []byte(tc.data), s)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.data, err, tc.want)
		}
	}
}

// FuzzPeople feeds arbitrary bytes to both people parsers: they must never
// panic, and every error must carry a place.
func FuzzPeople(f *testing.F) {
	f.Add([]byte("Id,Email,LeadScore\n1,a@x.example,3\n"))
	f.Add([]byte(`{"Id": "1", "lists": ["Hot"], "programs": {"P": "Invited"}}`))
	f.Add([]byte("Id,\"Email\n1"))
	s := schemaFor(&testing.T{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func(string, []byte, *Schema) ([]*Person, error){ParseCSV, ParseJSONL} {
			_, err := parse("f", data, s)
			if err != nil {
				pe, ok := err.(*PeopleError)
				if !ok || pe.Line < 1 || pe.Column < 1 {
					t.Fatalf("error without a place: %v", err)
				}
			}
		}
	})
}
