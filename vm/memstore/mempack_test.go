package memstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// TestLentPersonWrites checks that a person the in-memory store lends
// packed (Person.View) reads and writes as the map form does, and that the
// store packs the writes with the stored form at commit: the person
// loaded afterwards is the map person changed the same way.
func TestLentPersonWrites(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 123456000, time.UTC)
	stored := &storage.Person{ID: "p1", Partition: "EU",
		Fields: map[string]ir.Value{"Id": ir.NewText(stdlib.Text, "p1"), "Email": ir.NewText(stdlib.Email, "a@x.example"),
			"Country": ir.NewText(stdlib.Text, "Germany"), "LeadScore": ir.NewNumber(stdlib.Score, 10),
			"Opted": ir.NewBool(true), "Seen": {Type: stdlib.DateTime, Time: at}},
		Lists:    map[string]bool{"l/a": true, "l/b": true},
		Programs: map[string]string{"p/x": "Member"},
		Runs:     map[string]time.Time{"c/1": at.Truncate(time.Microsecond)}}
	write := func(p *storage.Person) {
		p.SetField("Country", ir.NewText(stdlib.Text, "Österreich"))
		p.SetField("LeadScore", ir.NewNumber(stdlib.Score, 25))
		p.DeleteField("Opted")
		p.SetField("Segment", ir.NewText(stdlib.Text, "Engaged"))
		p.SetField("Segment", ir.NewText(stdlib.Text, "Hot")) // written twice: the last wins
		p.SetInList("l/a", false)
		p.SetInList("l/c", true)
		p.SetProgramStatus("p/x", "Attended")
		p.SetProgramStatus("p/y", "Invited")
		p.SetRunAt("c/2", at.Add(time.Hour).Truncate(time.Microsecond))
	}
	want := stored.Clone()
	write(want)

	s := New()
	s.PutPeople(stored.Clone())
	tx, _ := s.Begin(ctx)
	lent, err := tx.(storage.ViewLoader).LoadView("p1")
	if err != nil || lent == nil || lent.View == nil {
		t.Fatalf("LoadView: %v %v", lent, err)
	}
	if v := lent.Field("Email"); v.Text != "a@x.example" {
		t.Errorf("Email reads %q", v.Text)
	}
	if v, ok := lent.LookupField("Id"); !ok || v.Text != "p1" {
		t.Errorf("Id reads %v %v", v, ok)
	}
	write(lent)
	for name, v := range want.Fields {
		if got, ok := lent.LookupField(name); !ok || !storage.SameValue(got, v) {
			t.Errorf("before commit, %s reads %v %v, want %v", name, got, ok, v)
		}
	}
	if _, ok := lent.LookupField("Opted"); ok {
		t.Error("a deleted field still reads")
	}
	if lent.InList("l/a") || !lent.InList("l/b") || !lent.InList("l/c") {
		t.Error("lists read wrong")
	}
	if st, ok := lent.ProgramStatus("p/y"); !ok || st != "Invited" {
		t.Errorf("program reads %q %v", st, ok)
	}
	// Another transaction's reads (of the stored form) are unchanged.
	if p, _ := s.LoadPerson(ctx, "p1"); p.Fields["Country"].Text != "Germany" {
		t.Errorf("the stored form changed before commit: %v", p.Fields["Country"])
	}
	if err := tx.Apply(&storage.Commit{Person: lent}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got, _ := s.LoadPerson(ctx, "p1")
	opts := cmp.Options{cmpopts.IgnoreFields(ir.Value{}, "Fold"), cmpopts.EquateEmpty()}
	if d := cmp.Diff(want, got, opts); d != "" {
		t.Errorf("after commit (-want +got):\n%s", d)
	}
}

// TestInternerConcurrent numbers strings from several goroutines at once:
// each string gets one number, and the list gives it back.
func TestInternerConcurrent(t *testing.T) {
	var in interner
	var wg sync.WaitGroup
	got := make([][]uint32, 4)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				got[g] = append(got[g], in.id(fmt.Sprint("s", (i*7+g)%500)))
			}
		}()
	}
	wg.Wait()
	list := in.list()
	if len(list) != 500 {
		t.Fatalf("%d strings numbered, want 500", len(list))
	}
	for g := range got {
		for i, id := range got[g] {
			if want := fmt.Sprint("s", (i*7+g)%500); list[id] != want {
				t.Fatalf("number %d is %q, want %q", id, list[id], want)
			}
		}
	}
}

// TestMemLog checks the store's chunked log over more than one chunk:
// every activity comes back in order with the run that wrote it.
func TestMemLog(t *testing.T) {
	var l memLog
	var want []int64
	acts := make([]*storage.Activity, 2*logChunk+10)
	for i := range acts {
		acts[i] = &storage.Activity{Seq: int64(i)}
		run := int64(i / 1000 % 3) // spans of 1,000, run 0 among them
		l.add(acts[i], run)
		want = append(want, run)
	}
	i := 0
	l.each(func(a *storage.Activity, run int64) {
		if a != acts[i] || run != want[i] {
			t.Fatalf("activity %d: seq %d run %d, want seq %d run %d", i, a.Seq, run, i, want[i])
		}
		i++
	})
	if i != len(acts) {
		t.Fatalf("%d activities, want %d", i, len(acts))
	}
}
