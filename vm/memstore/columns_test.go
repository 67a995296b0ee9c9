package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

var personOpts = cmp.Options{cmpopts.IgnoreFields(ir.Value{}, "Fold"), cmpopts.EquateEmpty()}

// columnsPerson is person i of TestColumnsRoundTrip: every field type,
// text past a column's dictionary and past an arena block, times with
// nanoseconds, lists, programs, qualification times and partitions.
func columnsPerson(i int) *storage.Person {
	id := fmt.Sprintf("p%05d", i)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 1001 * time.Microsecond)
	p := &storage.Person{ID: id, Fields: map[string]ir.Value{
		"Id":      ir.NewText(stdlib.Text, id),
		"Email":   ir.NewText(stdlib.Email, fmt.Sprintf("u%d@x.example", i)), // more than dictMax distinct
		"Country": ir.NewText(stdlib.Text, []string{"DE", "FR", ""}[i%3]),
		"Score":   ir.NewNumber(stdlib.Score, float64(i)/4),
		"Opted":   ir.NewBool(i%2 == 0),
		"Seen":    {Type: stdlib.DateTime, Time: at.Add(time.Duration(i%7) * time.Nanosecond)},
		"Born":    {Type: stdlib.Date, Time: time.Date(1970+i%50, 1, 1, 0, 0, 0, 0, time.UTC)},
	}}
	if i%3 == 2 {
		delete(p.Fields, "Country")
	}
	if i%5 == 0 {
		p.Lists = map[string]bool{"W/L1": true}
	}
	if i%7 == 0 {
		p.Lists = map[string]bool{"W/L1": true, "W/L2": true}
		p.Programs = map[string]string{"W/P": "Member"}
		p.Runs = map[string]time.Time{"W/C": at}
		p.Partition = "EU"
	}
	if i == 4321 {
		p.Fields["Notes"] = ir.NewText(stdlib.Text, strings.Repeat("n", arenaSize+10))
	}
	if i == 17 {
		p.Fields["Id"] = ir.NewText(stdlib.Text, "not the Id") // stored as a value of its own
	}
	return p
}

// TestColumnsRoundTrip stores people over several row chunks and reads
// them back whole; then rewrites some in the map form (fields, lists and
// programs dropped) and deletes one.
func TestColumnsRoundTrip(t *testing.T) {
	ctx := context.Background()
	const n = 2*chunkRows + 100
	s := New()
	var want []*storage.Person
	for i := range n {
		p := columnsPerson(i)
		want = append(want, p)
		s.PutPeople(p.Clone())
	}
	check := func(stage string) {
		t.Helper()
		for i, w := range want {
			// A sample (go-cmp is slow under -race): the special people,
			// both sides of each chunk edge, and every 13th.
			if i%13 != 0 && i != 5 && i != 17 && i != 4321 && i&chunkMask != 0 && i&chunkMask != chunkMask && i != len(want)-1 {
				continue
			}
			got, err := s.LoadPerson(ctx, w.ID)
			if w.Deleted {
				if got != nil || err != nil {
					t.Fatalf("%s: deleted %s loads %v %v", stage, w.ID, got, err)
				}
				continue
			}
			if d := cmp.Diff(w, got, personOpts); d != "" {
				t.Fatalf("%s: person %s (-want +got):\n%s", stage, w.ID, d)
			}
		}
	}
	check("put")
	// Rewrite every 11th person with less, in the map form.
	for i := 0; i < n; i += 11 {
		p := &storage.Person{ID: want[i].ID, Fields: map[string]ir.Value{"Score": ir.NewNumber(stdlib.Score, -1)}}
		want[i] = p
		s.PutPeople(p.Clone())
	}
	want[5].Deleted = true
	s.PutPeople(want[5].Clone())
	check("rewrite")
	ids, _ := s.PersonIDs(ctx)
	if len(ids) != n-1 || ids[0] != "p00000" || ids[5] != "p00006" {
		t.Fatalf("PersonIDs: %d ids, first %v", len(ids), ids[:6])
	}
}

// TestColumnsConcurrentViews runs passes on people lent as views while
// other transactions add people (growing every directory: rows, columns,
// lists, arena) and change others: under -race, this checks that a lent
// row is read without the store's lock safely; and every write lands.
func TestColumnsConcurrentViews(t *testing.T) {
	ctx := context.Background()
	s := New()
	const base = 600
	for i := range base {
		s.PutPeople(columnsPerson(i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < base; i += 4 {
				id := fmt.Sprintf("p%05d", i)
				tx, _ := s.Begin(ctx)
				p, err := tx.(storage.ViewLoader).LoadView(id)
				if err != nil || p == nil || p.View == nil {
					errs <- fmt.Errorf("LoadView %s: %v %v", id, p, err)
					return
				}
				sc := p.Field("Score").Num
				p.SetField("Score", ir.NewNumber(stdlib.Score, sc+1000))
				p.SetField(fmt.Sprintf("New%d", g), ir.NewText(stdlib.Text, id))
				p.SetInList(fmt.Sprintf("W/G%d", g), true)
				p.SetRunAt("W/C2", time.Unix(int64(i), 0).UTC())
				if err := applyCommit(tx, p); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // new people, new columns and lists, at the same time
		defer wg.Done()
		for i := base; i < base+chunkRows+100; i++ {
			p := columnsPerson(i)
			p.Fields[fmt.Sprintf("F%d", i%50)] = ir.NewText(stdlib.Text, p.ID)
			p.Lists = map[string]bool{fmt.Sprintf("W/N%d", i%30): true}
			tx, _ := s.Begin(ctx)
			if err := applyCommit(tx, p); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range base {
		want := columnsPerson(i)
		g := i % 4
		want.Fields["Score"] = ir.NewNumber(stdlib.Score, want.Fields["Score"].Num+1000)
		want.Fields[fmt.Sprintf("New%d", g)] = ir.NewText(stdlib.Text, want.ID)
		if want.Lists == nil {
			want.Lists = map[string]bool{}
		}
		want.Lists[fmt.Sprintf("W/G%d", g)] = true
		if want.Runs == nil {
			want.Runs = map[string]time.Time{}
		}
		want.Runs["W/C2"] = time.Unix(int64(i), 0).UTC()
		got, _ := s.LoadPerson(ctx, want.ID)
		if d := cmp.Diff(want, got, personOpts); d != "" {
			t.Fatalf("person %s (-want +got):\n%s", want.ID, d)
		}
	}
	ids, _ := s.PersonIDs(ctx)
	if len(ids) != base+chunkRows+100 {
		t.Fatalf("%d people, want %d", len(ids), base+chunkRows+100)
	}
}

// TestFieldOfThroughLayout reads a lent row through a program layout's
// columns (FieldOf, InListOf): the same values as by name, the pass's
// own writes first, a field the store has never held (and then holds,
// after another person's commit) and a layout swapped for another.
func TestFieldOfThroughLayout(t *testing.T) {
	ctx := context.Background()
	s := New()
	s.PutPeople(columnsPerson(7), columnsPerson(8))
	lay := &ir.Layout{Fields: []string{"Country", "Email", "Later", "Score"}, Lists: []string{"W/L1", "W/L2", "W/L9"}}
	field := func(l *ir.Layout, name string) *ir.Field {
		return &ir.Field{Name: name, Col: slices.Index(l.Fields, name), Layout: l}
	}
	list := func(l *ir.Layout, key string) *ir.List {
		return &ir.List{Key: key, Col: slices.Index(l.Lists, key), Layout: l}
	}
	tx, _ := s.Begin(ctx)
	p, _ := tx.(storage.ViewLoader).LoadView("p00007")
	for _, name := range []string{"Country", "Email", "Score", "Later"} {
		gotV, gotOK := p.FieldOf(field(lay, name))
		wantV, wantOK := p.LookupField(name)
		if gotOK != wantOK || !storage.SameValue(gotV, wantV) {
			t.Errorf("FieldOf(%s) = %v %v, LookupField %v %v", name, gotV, gotOK, wantV, wantOK)
		}
	}
	if !p.InListOf(list(lay, "W/L1")) || !p.InListOf(list(lay, "W/L2")) || p.InListOf(list(lay, "W/L9")) {
		t.Error("InListOf reads wrong")
	}
	p.SetField("Score", ir.NewNumber(stdlib.Score, 99))
	p.SetInList("W/L9", true)
	if v, _ := p.FieldOf(field(lay, "Score")); v.Num != 99 || !p.InListOf(list(lay, "W/L9")) {
		t.Errorf("the pass's writes do not read first: %v", v)
	}
	// Writes through the layout land in the right columns at commit,
	// "Later" (not a column yet) included.
	p.SetFieldOf(field(lay, "Country"), ir.NewText(stdlib.Text, "AT"))
	p.DeleteFieldOf(field(lay, "Email"))
	p.SetFieldOf(field(lay, "Later"), ir.NewText(stdlib.Text, "soon"))
	if v, ok := p.LookupField("Country"); !ok || v.Text != "AT" {
		t.Errorf("SetFieldOf does not read back by name: %v %v", v, ok)
	}
	if err := applyCommit(tx, p); err != nil {
		t.Fatal(err)
	}
	got, _ := s.LoadPerson(ctx, "p00007")
	if got.Fields["Country"].Text != "AT" || got.Fields["Later"].Text != "soon" || got.Fields["Score"].Num != 99 {
		t.Errorf("after commit: %v", got.Fields)
	}
	if _, ok := got.Fields["Email"]; ok {
		t.Error("DeleteFieldOf left the value")
	}

	// Another person's commit makes the column "Later" the binding had
	// not seen: a new layout, and the old one, both read it.
	q := columnsPerson(8)
	q.Fields["Later"] = ir.NewText(stdlib.Text, "now")
	tx, _ = s.Begin(ctx)
	tx.Apply(&storage.Commit{Person: q})
	tx.Commit()
	lay2 := &ir.Layout{Fields: []string{"Later"}}
	for _, l := range []*ir.Layout{lay, lay2, lay} {
		tx, _ = s.Begin(ctx)
		p, _ = tx.(storage.ViewLoader).LoadView("p00008")
		if v, ok := p.FieldOf(field(l, "Later")); !ok || v.Text != "now" {
			t.Errorf("FieldOf(Later) through %v = %v %v", l.Fields, v, ok)
		}
		tx.Rollback()
	}
}

// applyCommit commits a person's new state in tx.
func applyCommit(tx storage.Tx, p *storage.Person) error {
	if err := tx.Apply(&storage.Commit{Person: p}); err != nil {
		return err
	}
	return tx.Commit()
}

// TestPutPeopleWaitsForTransaction: PutPeople of a person a transaction
// holds (lent as a row that is read without the store's lock) waits for
// the transaction to end, and then writes. Under -race this is also the
// check that the import does not write the row under the reader.
func TestPutPeopleWaitsForTransaction(t *testing.T) {
	ctx := context.Background()
	s := New()
	s.PutPeople(columnsPerson(1))
	tx, _ := s.Begin(ctx)
	p, _ := tx.(storage.ViewLoader).LoadView("p00001")
	done := make(chan struct{})
	go func() {
		q := columnsPerson(1)
		q.Fields["Score"] = ir.NewNumber(stdlib.Score, -5)
		s.PutPeople(q)
		close(done)
	}()
	for range 50 { // the lent row reads as loaded while the import waits
		if v := p.Field("Score"); v.Num != columnsPerson(1).Fields["Score"].Num {
			t.Fatalf("the row changed under its transaction: %v", v)
		}
		select {
		case <-done:
			t.Fatal("PutPeople did not wait for the transaction")
		case <-time.After(time.Millisecond):
		}
	}
	tx.Rollback()
	<-done
	if got, _ := s.LoadPerson(ctx, "p00001"); got.Fields["Score"].Num != -5 {
		t.Errorf("after the transaction, Score %v", got.Fields["Score"])
	}
}
