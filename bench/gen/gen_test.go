package gen

import (
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"hash/fnv"
	"reflect"
	"testing"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/people"
)

// Every project size checks clean: no errors, no warnings.
func TestProjectsCheckClean(t *testing.T) {
	for _, n := range []int{2, 10, 100, 1_000, 10_000} {
		if testing.Short() && n > 1_000 {
			continue
		}
		srcs := Project(n)
		res := compiler.Compile(srcs, compiler.Options{MaxErrors: -1})
		if len(res.Diagnostics) > 0 {
			t.Fatalf("Project(%d) has diagnostics:\n%s", n, res)
		}
		if got := len(res.Program.Campaigns); got != n {
			t.Errorf("Project(%d) has %d campaigns", n, got)
		}
	}
	res := compiler.Compile(EventsProject(1000), compiler.Options{MaxErrors: -1})
	if len(res.Diagnostics) > 0 {
		t.Fatalf("EventsProject(1000) has diagnostics:\n%s", res)
	}
	active := 0
	for _, c := range res.Program.Campaigns {
		if c.Kind == ir.Trigger && c.Active {
			active++
		}
	}
	if active != 1000 {
		t.Errorf("EventsProject(1000) has %d active trigger campaigns", active)
	}
}

// The same seed gives the same people, whatever piece is generated.
func TestPeopleDeterministic(t *testing.T) {
	a := People(Seed, 0, 1000)
	b := People(Seed, 0, 1000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generations differ")
	}
	if !reflect.DeepEqual(a[500:], People(Seed, 500, 1000)) {
		t.Fatal("a piece differs from the whole")
	}
	if reflect.DeepEqual(a, People(Seed+1, 0, 1000)) {
		t.Fatal("another seed gives the same people")
	}
	// A fingerprint pins the output across machines and Go versions.
	h := fnv.New64a()
	for _, p := range a {
		fmt.Fprintf(h, "%s|%v|%v|%v|%v\n", p.ID, p.Fields["Country"].Text, p.Fields["LeadScore"].Num, p.Lists[SubscribersKey], p.Lists[HotLeadsKey])
	}
	if got, want := fmt.Sprintf("%x", h.Sum64()), peopleFingerprint; got != want {
		t.Errorf("people fingerprint %s, want %s", got, want)
	}
}

const peopleFingerprint = "60ac1c119865ddcf"

func TestProjectDeterministic(t *testing.T) {
	if !reflect.DeepEqual(Project(300), Project(300)) {
		t.Fatal("two generations differ")
	}
	if !reflect.DeepEqual(Event(12345, 10, 1000), Event(12345, 10, 1000)) {
		t.Fatal("two events differ")
	}
}

func TestGoSourceParses(t *testing.T) {
	src := GoSource(100_000)
	if len(src) < 100_000 || len(src) > 102_000 {
		t.Errorf("GoSource(100000) is %d bytes", len(src))
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "gen.go", src, 0); err != nil {
		t.Fatal(err)
	}
}

// PeopleCSV writes a file campc reads back as the same people (less their
// lists, which CSV cannot carry).
func TestPeopleCSVReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if err := PeopleCSV(&buf, 7, 0, 200); err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(CanonicalSources(), compiler.Options{}).Runnable(false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := people.NewSchema(prog)
	if err != nil {
		t.Fatal(err)
	}
	got, err := people.ParseCSV("people.csv", buf.Bytes(), s)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range got {
		want := Person(7, i)
		// An empty cell reads as a value cleared (null): the same as none.
		for name, v := range p.Fields {
			if v.Null {
				delete(p.Fields, name)
			}
		}
		if p.ID != want.ID || !reflect.DeepEqual(p.Fields, want.Fields) {
			t.Fatalf("person %d reads back as %+v, not %+v", i, p.Fields, want.Fields)
		}
	}
	if len(got) != 200 {
		t.Fatalf("read %d people", len(got))
	}
}
