package people

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/vm/storage"
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
	// An empty cell is a null value: importing it clears the field.
	if v, ok := ps[1].Fields["Email"]; !ok || !v.Null {
		t.Errorf("an empty cell must be a null value, got %+v, %v", v, ok)
	}
}

func TestParseJSONL(t *testing.T) {
	s := schemaFor(t)
	ps, err := ParseJSONL("p.jsonl", []byte(`{"Id": "7", "Email": "a@x.example", "lists": ["Hot"], "programs": {"P": "Invited"}}`+"\n\n"), s)
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
		{"a.csv", "Id,Emial\n1,x\n", `a.csv:1:4: unknown column "Emial" in the header: no field has this name or display name; did you mean Email?`},
		{"a.csv", "Id,LeadScore\n1,5\n2,lots\n", `a.csv:3:3: field LeadScore (score): "lots" is not a number`},
		{"a.csv", "Id,Email\n1,a@x.example\n,b@x.example\n", "a.csv:3:1: missing Id"},
		{"a.csv", "Id,Email\n1,a@x.example\n1,b@x.example\n", `a.csv:3:1: Id "1" already appears on line 2`},
		{"a.jsonl", `{"Id": "1"}` + "\n\n" + `{"Email": "b@x.example", "Id": "1"}`, `a.jsonl:3:32: Id "1" already appears on line 1`},
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
		// NUL and invalid UTF-8 are refused at the door, in any cell.
		{"a.csv", "Id,Email\n1,a\x00@x.example\n", "a.csv:2:3: field Email: a NUL byte at byte 2"},
		{"a.csv", "Id,Email\n1,a\xff@x.example\n", "a.csv:2:3: field Email: invalid UTF-8 (byte 0xff at byte 2)"},
		{"a.csv", "Id,Email\n1\x002,a@x.example\n", "a.csv:2:1: Id a NUL byte at byte 2"},
		{"a.csv", "Id,Em\xffail\n", "a.csv:1:4: column name: invalid UTF-8"},
		{"a.jsonl", `{"Id": "1", "Email": "a\u0000@x.example"}`, "a.jsonl:1:22: field Email: a NUL byte at byte 2"},
		{"a.jsonl", "{\"Id\": \"1\", \"Email\": \"a\xff@x.example\"}", "a.jsonl:1:24: invalid UTF-8 (byte 0xff at byte 24)"},
		{"a.jsonl", "{\"Id\": \"1\x00\"}", "a.jsonl:1:10: a NUL byte at byte 10"},
		// Control characters in Ids: they would rewrite a terminal or fake
		// a log line.
		{"a.csv", "Id,Email\n\"7\x1b[1A\",a@x.example\n", `a.csv:2:1: Id "7\x1b[1A" holds the control character U+001B at byte 2`},
		{"a.csv", "Id,Email\n\"1\n2\",a@x.example\n", `a.csv:2:1: Id "1\n2" holds the control character U+000A`},
		{"a.csv", "Id,Email\n\"1\r2\",a@x.example\n", `Id "1\r2" holds the control character U+000D`},
		{"a.csv", "Id,Email\n1\t2,a@x.example\n", `a.csv:2:1: Id "1\t2" holds the control character U+0009`},
		{"a.csv", "Id,Email\n1\x7f,a@x.example\n", `Id "1\x7f" holds the control character U+007F`},
		{"a.csv", "Id,Email\n1\u009b2,a@x.example\n", `Id "1\u009b2" holds the control character U+009B`},
		{"a.jsonl", `{"Id": "7\u001b[2K"}`, `a.jsonl:1:8: Id "7\x1b[2K" holds the control character U+001B`},
		{"a.jsonl", `{"Id": "a\nb"}`, `a.jsonl:1:8: Id "a\nb" holds the control character U+000A`},
		// NaN, infinities and other spellings strconv would take.
		{"a.csv", "Id,LeadScore\n1,NaN\n", `a.csv:2:3: field LeadScore (score): "NaN" is not a number`},
		{"a.csv", "Id,LeadScore\n1,-Inf\n", `"-Inf" is not a number`},
		{"a.csv", "Id,LeadScore\n1,infinity\n", `"infinity" is not a number`},
		{"a.csv", "Id,LeadScore\n1,0x1p4\n", `"0x1p4" is not a number`},
		{"a.csv", "Id,LeadScore\n1,1_000\n", `"1_000" is not a number`},
		{"a.csv", "Id,LeadScore\n1,1e400\n", `"1e400" is out of range`},
		{"a.jsonl", `{"Id": "1", "LeadScore": "nan"}`, `a.jsonl:1:26: field LeadScore (score): "nan" is not a number`},
		{"a.jsonl", `{"Id": "1", "LeadScore": 1e999}`, `"1e999" is out of range`},
		// Duplicate keys are an error at the second key, not last-wins.
		{"a.jsonl", `{"Id": "1", "Id": "2"}`, `a.jsonl:1:13: key "Id" appears twice in the object (first at column 2)`},
		{"a.jsonl", `{"Id": "1", "Email": "a@x.example","Email": "b@x.example"}`, `a.jsonl:1:36: key "Email" appears twice in the object (first at column 13)`},
		{"a.jsonl", `{"Id": "1", "programs": {"P": "Invited", "P": "Attended"}}`, `a.jsonl:1:25: program "P" appears twice in "programs"`},
		// Keys match fields ignoring case, so a key differing only by case
		// is Email again.
		{"a.jsonl", `{"Id": "1", "Email": "a@x.example", "email": "b@x.example"}`, `a.jsonl:1:37: key "email" names field Email, as the key at column 13 does`},
		// An Id is text: 1 and 1.0 would be two people.
		{"a.jsonl", `{"Id": 1}`, `a.jsonl:1:8: Id must be a string`},
		{"a.jsonl", `{"Id": 1.0}`, `a.jsonl:1:8: Id must be a string`},
		{"a.jsonl", `{"Id": true}`, `a.jsonl:1:8: Id must be a string`},
		{"a.jsonl", `{"Id": ""}`, `a.jsonl:1:8: missing Id`},
	} {
		checkPeopleError(t, s, tc.file, tc.data, tc.want)
	}
}

// A leading byte order mark is accepted in both forms, and changes nothing.
func TestPeopleBOM(t *testing.T) {
	s := schemaFor(t)
	for _, tc := range []struct {
		file, data string
		parse      func(string, []byte, *Schema) ([]*storage.Person, error)
	}{
		{"a.csv", "Id,Email\n1,a@x.example\n", ParseCSV},
		{"a.jsonl", `{"Id": "1", "Email": "a@x.example"}` + "\n", ParseJSONL},
	} {
		plain, err := tc.parse(tc.file, []byte(tc.data), s)
		if err != nil {
			t.Fatal(err)
		}
		withBOM, err := tc.parse(tc.file, []byte("\ufeff"+tc.data), s)
		if err != nil {
			t.Fatalf("%s with a BOM: %v", tc.file, err)
		}
		if !reflect.DeepEqual(plain, withBOM) {
			t.Errorf("%s: a BOM changed the people: %+v", tc.file, withBOM[0])
		}
	}
	// Only a leading one: elsewhere it is part of a value.
	if _, err := ParseJSONL("a.jsonl", []byte(`{"Id": "1"}`+"\n\ufeff"+`{"Id": "2"}`), s); err == nil || !strings.Contains(err.Error(), "a.jsonl:2:1:") {
		t.Errorf("a BOM on line 2: got %v", err)
	}
}

// A streamed first pass can note where each person is, and a second pass
// read each again from those bytes alone, in any order.
func TestPeopleReaderRecords(t *testing.T) {
	s := schemaFor(t)
	for _, tc := range []struct {
		file, data string
		open       func(io.Reader) (*PeopleReader, error)
	}{
		{"a.csv", "\ufeffId,Email,Born\r\n1,a@x.example,1990-05-01\r\n\"2\",\"b\n@x.example\",\n3,c@x.example,\n", func(r io.Reader) (*PeopleReader, error) { return NewCSVReader("a.csv", r, s) }},
		{"a.jsonl", "\ufeff{\"Id\": \"1\", \"Email\": \"a@x.example\"}\n\n{\"Id\": \"2\", \"lists\": [\"Hot\"]}\r\n{\"Id\": \"3\"}", func(r io.Reader) (*PeopleReader, error) { return NewJSONLReader("a.jsonl", r, s), nil }},
	} {
		pr, err := tc.open(strings.NewReader(tc.data))
		if err != nil {
			t.Fatal(err)
		}
		var recs []PeopleRecord
		var people []*storage.Person
		for {
			p, err := pr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			people = append(people, p)
			recs = append(recs, pr.Record())
		}
		if len(people) != 3 {
			t.Fatalf("%s: read %d people", tc.file, len(people))
		}
		for i := len(recs) - 1; i >= 0; i-- {
			r := recs[i]
			p, err := pr.ReadRecord([]byte(tc.data[r.Offset:r.Offset+r.Size]), r)
			if err != nil {
				t.Fatalf("%s: record %d: %v", tc.file, i, err)
			}
			if !reflect.DeepEqual(p, people[i]) {
				t.Errorf("%s: record %d read again is %+v, not %+v", tc.file, i, p, people[i])
			}
		}
		if recs[2].Line != 5 && tc.file == "a.csv" || recs[2].Line != 4 && tc.file == "a.jsonl" {
			t.Errorf("%s: the third person is on line %d", tc.file, recs[2].Line)
		}
	}
}

// FuzzPeople feeds arbitrary bytes to both people parsers: they must never
// panic, every error must carry a place, and what they accept is clean:
// Ids are printable UTF-8 text, values hold no NUL or invalid UTF-8, and
// numbers are finite.
func FuzzPeople(f *testing.F) {
	f.Add([]byte("Id,Email,LeadScore\n1,a@x.example,3\n"))
	f.Add([]byte(`{"Id": "1", "lists": ["Hot"], "programs": {"P": "Invited"}}`))
	f.Add([]byte("Id,\"Email\n1"))
	f.Add([]byte("\ufeffId,Email,LeadScore\n\"7\x1b[1A\",a@x.example,NaN\n"))
	f.Add([]byte("\ufeff{\"Id\": \"a\\u0000\", \"LeadScore\": 1e999}\n"))
	f.Add([]byte("Id,Email\n\"1\r\n2\",\xff\x00\n\u0085,x@\u009b\n"))
	f.Add([]byte("{\"Id\": \"1\\n2\", \"Id\": \"\\u007f\", \"Email\": \"\xc3\"}\n{\"Id\": 1.0}\n"))
	// Marketo's headings, membership columns and values that clear.
	f.Add([]byte("ID, Email Address ,Lead Score,lists,program:P,Partition\n1,a@x.example,3,Hot;;Hot,Invited,Default\n2,,,,,\n3,b@x.example,,Hot,Attended,Nowhere\n"))
	f.Add([]byte("Id,Email,email address,LISTS,Program: P\n1,a@x.example,,;,\n"))
	f.Add([]byte(`{"id": "1", "Email Address": null, "lists": [], "program:P": null, "Lead Score": "", "Partition": "Default"}` + "\n" + `{"Id": "2", "programs": {"P": null}, "lists": null, "program:P": "Invited"}`))
	s := schemaFor(&testing.T{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Each person read again from its record's bytes alone is the
		// same: the streaming import's second pass relies on it.
		csvr, _ := NewCSVReader("f", bytes.NewReader(data), s)
		for _, pr := range []*PeopleReader{csvr, NewJSONLReader("f", bytes.NewReader(data), s)} {
			for pr != nil {
				p, err := pr.Next()
				if err != nil {
					break
				}
				r := pr.Record()
				if r.Offset < 0 || r.Size <= 0 || r.Offset+r.Size > int64(len(data)) {
					t.Fatalf("record %+v outside the %d bytes", r, len(data))
				}
				again, err := pr.ReadRecord(data[r.Offset:r.Offset+r.Size], r)
				if err != nil || !reflect.DeepEqual(again, p) {
					t.Fatalf("record %+v reads again as %+v, %v; first %+v", r, again, err, p)
				}
			}
		}
		for _, parse := range []func(string, []byte, *Schema) ([]*storage.Person, error){ParseCSV, ParseJSONL} {
			ps, err := parse("f", data, s)
			if err != nil {
				pe, ok := err.(*Error)
				if !ok || pe.Line < 1 || pe.Column < 1 {
					t.Fatalf("error without a place: %v", err)
				}
				continue
			}
			for _, p := range ps {
				if err := storage.CheckID(p.ID); err != nil {
					t.Fatalf("accepted a bad Id %q: %v", p.ID, err)
				}
				for name, v := range p.Fields {
					if err := storage.CheckText(v.Text); err != nil {
						t.Fatalf("accepted a bad %s %q: %v", name, v.Text, err)
					}
					if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
						t.Fatalf("accepted %s = %v", name, v.Num)
					}
				}
			}
		}
	})
}

// A project of two workspaces whose display names meet in people files.
const headingsProject = `workspace "W"
field Region text "Sales Region"
field Tier number "Account Tier"
list "Hot"
list "Cold"
program "Webinar" {
  statuses "Invited", "Registered", "Attended"
  list "Hot"
}
=== v.camp
workspace "V"
partition "EMEA", "North America"
field Area text "Sales Area"
field Zone text "account tier"
list "Hot"
program "Webinar" {
  statuses "Invited", "Registered"
}
`

func schemaOf(t *testing.T, project string) *Schema {
	t.Helper()
	var srcs []lang.Source
	for i, part := range strings.Split(project, "=== ") {
		name := "p.camp"
		if i > 0 {
			name, part, _ = strings.Cut(part, "\n")
		}
		srcs = append(srcs, lang.Source{Name: name, Text: part})
	}
	res := compiler.Compile(srcs, compiler.Options{})
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

// Headings may be display names, as Marketo exports write them, and
// match ignoring case and surrounding spaces.
func TestPeopleDisplayNames(t *testing.T) {
	s := schemaOf(t, headingsProject)
	csvData := "ID, Email Address ,first name,LAST NAME,Lead Score,Sales Region,sales area,Company Name,Country\n" +
		"1,a@x.example,Ana,Ruiz,12,South,North,Acme,ES\n"
	jsonData := `{"id": "1", "Email Address": "a@x.example", "first name": "Ana", " LAST NAME ": "Ruiz", "Lead Score": 12, "Sales Region": "South", "sales area": "North", "Company Name": "Acme", "Country": "ES"}` + "\n"
	for _, tc := range []struct {
		file, data string
		parse      func(string, []byte, *Schema) ([]*storage.Person, error)
	}{{"a.csv", csvData, ParseCSV}, {"a.jsonl", jsonData, ParseJSONL}} {
		ps, err := tc.parse(tc.file, []byte(tc.data), s)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		got := map[string]string{}
		for k, v := range ps[0].Fields {
			got[k] = v.Text
		}
		got["LeadScore"] = fmt.Sprint(ps[0].Fields["LeadScore"].Num)
		want := map[string]string{"Id": "1", "Email": "a@x.example", "FirstName": "Ana", "LastName": "Ruiz", "LeadScore": "12",
			"Region": "South", "Area": "North", "Company": "Acme", "Country": "ES"}
		if !reflect.DeepEqual(got, want) || ps[0].ID != "1" {
			t.Errorf("%s: fields %v, want %v", tc.file, got, want)
		}
	}
}

func TestPeopleHeadingErrors(t *testing.T) {
	s := schemaOf(t, headingsProject)
	for _, tc := range []struct {
		file, data, want string
	}{
		{"a.csv", "Id,Emial Adress\n1,x\n", `a.csv:1:4: unknown column "Emial Adress" in the header: no field has this name or display name; did you mean Email Address?`},
		{"a.csv", "Id,Sales Regoin\n1,x\n", `did you mean Sales Region?`},
		{"a.jsonl", `{"Id": "1", "Frist Name": "x"}`, `a.jsonl:1:27: unknown field "Frist Name": no field has this name or display name; did you mean First Name?`},
		// Two workspaces give one display name to two fields.
		{"a.csv", "Id,Account Tier\n1,x\n", `a.csv:1:4: "Account Tier" may name field Tier or Zone: write the field's name`},
		// A field named twice, by its name and its display name.
		{"a.csv", "Id,Email,email address\n1,a@x.example,b@x.example\n", `a.csv:1:10: column "email address" names field Email, as the column at column 4 does`},
		{"a.csv", "Id,id\n1,1\n", `a.csv:1:4: column "id" names field Id, as the column at column 1 does`},
		{"a.jsonl", `{"Id": "1", "Email": "a@x.example", "Email Address": "b@x.example"}`, `a.jsonl:1:37: key "Email Address" names field Email, as the key at column 13 does`},
		{"a.csv", "Id,programs\n1,x\n", `a.csv:1:4: unknown column "programs": in CSV, a program's status goes in a column headed program:Name`},
		{"a.csv", "Id,program:Webinr\n1,x\n", `a.csv:1:4: no program "Webinr" in any workspace; did you mean Webinar?`},
		{"a.csv", "Id,lists,Lists\n1,,\n", `a.csv:1:10: column "Lists" names "lists", as the column at column 4 does`},
		{"a.csv", "Id,program:Webinar,Program: Webinar\n1,,\n", `column "Program: Webinar" names program "Webinar", as the column at column 4 does`},
		{"a.jsonl", `{"Id": "1", "program:Webinar": "Invited", "programs": {"Webinar": "Invited"}}`, `a.jsonl:1:55: program "Webinar" in "programs" is also the key at column 13`},
		// Values of the membership columns.
		{"a.csv", "Id,lists\n1,Hot;Warm\n", `a.csv:2:3: no list "Warm" in any workspace`},
		{"a.csv", "Id,program:Webinar\n1,Attended\n", `a.csv:2:3: program "Webinar" has no status "Attended"`},
		{"a.jsonl", `{"Id": "1", "program:Webinar": 3}`, `a.jsonl:1:32: the status of program "Webinar" must be a string or null`},
		{"a.jsonl", `{"Id": "1", "lists": "Hot"}`, `a.jsonl:1:22: "lists" must be an array of list names`},
		// A partition no workspace sees, and "Default" where none does.
		{"a.csv", "Id,Partition\n1,EMEA\n2,Emea\n", `a.csv:3:3: unknown partition "Emea": no workspace sees it (the project's partitions: Default, EMEA, North America); did you mean EMEA?`},
		{"a.jsonl", `{"Id": "1", "Partition": "APAC"}`, `a.jsonl:1:26: unknown partition "APAC"`},
		{"a.csv", "Id,Person Partition\n1,Nowhere\n", `a.csv:2:3: unknown partition "Nowhere"`},
	} {
		checkPeopleError(t, s, tc.file, tc.data, tc.want)
	}
	// "Default" is a partition only where a workspace sees it.
	s2 := schemaOf(t, "workspace \"V\"\npartition \"EMEA\"\n")
	if _, err := ParseCSV("b.csv", []byte("Id,Partition\n1,EMEA\n2,Default\n3,\n"), s2); err == nil || !strings.Contains(err.Error(), `b.csv:3:3: error[people]: unknown partition "Default": no workspace sees it (the project's partitions: EMEA)`) {
		t.Errorf("Default where no workspace sees it: %v", err)
	}
}

// What a file says empty is marked for clearing: a null field, every
// list of the project off but those named, a program status "".
func TestPeopleMemberships(t *testing.T) {
	s := schemaOf(t, headingsProject)
	csvData := "Id,lists,program:Webinar,Region,Partition\n" +
		"1, Hot ; Cold ,Registered,South,EMEA\n" +
		"2,,,,\n"
	jsonData := `{"Id": "1", "lists": ["Hot", "Cold"], "programs": {"Webinar": "Registered"}, "Region": "South", "Partition": "EMEA"}` + "\n" +
		`{"Id": "2", "lists": [], "program:Webinar": null, "Region": null, "Partition": ""}` + "\n"
	for _, tc := range []struct {
		file, data string
		parse      func(string, []byte, *Schema) ([]*storage.Person, error)
	}{{"a.csv", csvData, ParseCSV}, {"a.jsonl", jsonData, ParseJSONL}} {
		ps, err := tc.parse(tc.file, []byte(tc.data), s)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		on := map[string]bool{"W/Hot": true, "W/Cold": true, "W/Webinar/Hot": true, "V/Hot": true}
		if !reflect.DeepEqual(ps[0].Lists, on) {
			t.Errorf("%s: lists %v", tc.file, ps[0].Lists)
		}
		if want := map[string]string{"W/Webinar": "Registered", "V/Webinar": "Registered"}; !reflect.DeepEqual(ps[0].Programs, want) {
			t.Errorf("%s: programs %v", tc.file, ps[0].Programs)
		}
		if ps[0].Partition != "EMEA" {
			t.Errorf("%s: partition %q", tc.file, ps[0].Partition)
		}
		off := map[string]bool{"W/Hot": false, "W/Cold": false, "W/Webinar/Hot": false, "V/Hot": false}
		if !reflect.DeepEqual(ps[1].Lists, off) {
			t.Errorf("%s: no lists is %v", tc.file, ps[1].Lists)
		}
		if want := map[string]string{"W/Webinar": "", "V/Webinar": ""}; !reflect.DeepEqual(ps[1].Programs, want) {
			t.Errorf("%s: no program is %v", tc.file, ps[1].Programs)
		}
		if !ps[1].Fields["Region"].Null || !ps[1].Fields["Partition"].Null || ps[1].Partition != "" {
			t.Errorf("%s: empty values are %+v", tc.file, ps[1].Fields)
		}
	}
}

// Importing sets what a file mentions, clears what it mentions empty and
// keeps what it does not mention.
func TestMergeImport(t *testing.T) {
	s := schemaOf(t, headingsProject)
	first, err := ParseCSV("a.csv", []byte("Id,Email,Region,Tier,lists,program:Webinar,Partition\n1,a@x.example,South,3,Hot;Cold,Invited,EMEA\n"), s)
	if err != nil {
		t.Fatal(err)
	}
	old := storage.MergeImport(nil, first[0])
	old.Runs["W/C"] = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	second, err := ParseJSONL("b.jsonl", []byte(`{"Id": "1", "Region": null, "Email": "", "lists": ["Cold"], "programs": {"Webinar": ""}, "Partition": null}`), s)
	if err != nil {
		t.Fatal(err)
	}
	p := storage.MergeImport(old, second[0])
	if _, ok := p.Fields["Region"]; ok {
		t.Errorf("null kept Region: %+v", p.Fields["Region"])
	}
	if _, ok := p.Fields["Email"]; ok {
		t.Errorf("\"\" kept Email")
	}
	if p.Fields["Tier"].Num != 3 || len(p.Runs) != 1 {
		t.Errorf("what the file does not mention must stay: %+v, runs %v", p.Fields, p.Runs)
	}
	if !reflect.DeepEqual(p.Lists, map[string]bool{"W/Cold": true}) || len(p.Programs) != 0 || p.Partition != "" {
		t.Errorf("lists %v, programs %v, partition %q", p.Lists, p.Programs, p.Partition)
	}
	if old.Fields["Region"].Text != "South" || !old.Lists["W/Hot"] {
		t.Errorf("MergeImport changed the old person")
	}
}

// checkPeopleError parses a people file that is wrong and checks the
// error: reported as a lang diagnostic, file:line:col: error[people]:
// message, of code people, whose message holds want.
func checkPeopleError(t *testing.T, s *Schema, file, data, want string) {
	t.Helper()
	var err error
	if strings.HasSuffix(file, ".csv") {
		_, err = ParseCSV(file, []byte(data), s)
	} else {
		_, err = ParseJSONL(file, []byte(data), s)
	}
	want = placed.ReplaceAllString(want, "${1}error[people]: ")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%q: got %v, want %q", data, err, want)
	}
	var pe *Error
	if errors.As(err, &pe) {
		if d := pe.Diagnostic(); d.Code != lang.CodePeople || d.Start.Filename != file || d.Start.Line < 1 || d.Start.Column < 1 {
			t.Errorf("%q: diagnostic %+v", data, d)
		}
	}
}

// placed matches the place at the start of an expected message.
var placed = regexp.MustCompile(`^([^ ]+:[0-9]+:[0-9]+: )`)
