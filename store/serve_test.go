package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// The service's ids: given once, kept across transactions and reopening,
// never given twice; a key may ask for an id, which it gets when free.
func testServeIDs(t *testing.T, s *Store) {
	ctx := context.Background()
	tx, err := s.BeginServe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tx.IDs("campaign", []string{"W/A", "W/B"}, nil)
	if err != nil || ids["W/A"] != 1 || ids["W/B"] != 2 {
		t.Fatalf("first ids: %v %v", ids, err)
	}
	prefer := func(k string) int64 {
		return map[string]int64{"5": 5, "x": 0, "again5": 5}[k]
	}
	leads, err := tx.IDs("lead", []string{"5", "x", "again5"}, prefer)
	if err != nil || leads["5"] != 5 || leads["x"] != 6 || leads["again5"] != 7 {
		t.Fatalf("lead ids: %v %v", leads, err)
	}
	if err := tx.SetState("k", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// A rolled-back transaction gives nothing.
	tx, _ = s.BeginServe(ctx)
	if _, err := tx.IDs("campaign", []string{"W/C"}, nil); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	tx, _ = s.BeginServe(ctx)
	defer tx.Rollback()
	ids, err = tx.IDs("campaign", []string{"W/B", "W/C", "W/A"}, nil)
	if err != nil || ids["W/A"] != 1 || ids["W/B"] != 2 || ids["W/C"] != 3 {
		t.Fatalf("ids again: %v %v", ids, err)
	}
	keys, err := tx.KeysOf("lead", []int64{5, 6, 99})
	if err != nil || keys[5] != "5" || keys[6] != "x" || len(keys) != 2 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	if v, err := tx.State("k"); v != "v1" || err != nil {
		t.Fatalf("state: %q %v", v, err)
	}
	if n, err := tx.NextID("lead"); n != 8 || err != nil {
		t.Fatalf("next lead id: %d %v", n, err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	sc := &APISchedule{Workspace: "W", Campaign: "A", RunAt: at, Tokens: `{"X":"y"}`}
	if err := tx.AddSchedule(sc); err != nil || sc.ID == 0 {
		t.Fatalf("add schedule: %v", err)
	}
	if due, err := tx.DueSchedules(at.Add(-time.Second)); len(due) != 0 || err != nil {
		t.Fatalf("due before its time: %v %v", due, err)
	}
	due, err := tx.DueSchedules(at)
	if err != nil || len(due) != 1 || !due[0].RunAt.Equal(at) || due[0].Tokens != `{"X":"y"}` {
		t.Fatalf("due: %v %v", due, err)
	}
	if err := tx.ScheduleDone(sc.ID); err != nil {
		t.Fatal(err)
	}
	if due, _ := tx.DueSchedules(at); len(due) != 0 {
		t.Fatalf("done but due: %v", due)
	}
	// The activity log, paged by sequence number.
	p := &storage.Person{ID: "5"}
	acts := []*storage.Activity{{Time: at, Person: "5", Type: "T", Workspace: "W"}, {Time: at.Add(time.Hour), Person: "5", Type: "U", Workspace: "W"}}
	if err := tx.Apply(&storage.Commit{Person: p, Activities: acts}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := tx.Exists("5"); !ok {
		t.Error("person 5 written in the transaction does not exist")
	}
	if ok, _ := tx.Exists("6"); ok {
		t.Error("person 6 exists")
	}
}

func TestSQLiteServeIDs(t *testing.T) { testServeIDs(t, newSQLite(t).(*Store)) }
func TestPostgresServeIDs(t *testing.T) {
	postgresURL(t)
	testServeIDs(t, newPostgres(t).(*Store))
}

// Many keys at once (a first start gives every stored person a lead id,
// many to a statement): each gets the id it asks for when no key has it,
// including one given earlier in the same call, else the next; the
// people who have an id are not listed again.
func testManyIDs(t *testing.T, s *Store) {
	ctx := context.Background()
	var people []*storage.Person
	for i := range 1203 {
		people = append(people, &storage.Person{ID: fmt.Sprintf("%d", i+1)}, &storage.Person{ID: fmt.Sprintf("p%04d", i)})
	}
	if err := s.Import(ctx, people, nil); err != nil {
		t.Fatal(err)
	}
	tx, err := s.BeginServe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Before: lead 3 is taken by a key that is not a person's. Person "3"
	// comes after "1203" in Id order: the ids given before it are larger
	// than any the database held.
	if _, err := tx.IDs("lead", []string{"other"}, func(string) int64 { return 3 }); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, _ = s.BeginServe(ctx)
	missing, err := tx.PeopleWithoutLeadID()
	if err != nil || len(missing) != len(people) {
		t.Fatalf("people without a lead id: %d, %v; want %d", len(missing), err, len(people))
	}
	if !slices.IsSorted(missing) {
		t.Fatal("people without a lead id: not in Id order")
	}
	prefer := func(k string) int64 {
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	ids, err := tx.IDs("lead", missing, prefer)
	if err != nil {
		t.Fatal(err)
	}
	// What the ids must be, given one at a time in the order of the keys.
	taken := map[int64]bool{3: true}
	next := int64(4)
	for _, k := range missing {
		want := prefer(k)
		if want == 0 || taken[want] {
			want = next
			next++
		}
		if want >= next {
			next = want + 1
		}
		taken[want] = true
		if ids[k] != want {
			t.Fatalf("lead id of %q: %d, want %d", k, ids[k], want)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, _ = s.BeginServe(ctx)
	defer tx.Rollback()
	if missing, err := tx.PeopleWithoutLeadID(); len(missing) != 0 || err != nil {
		t.Fatalf("people without a lead id after: %d, %v", len(missing), err)
	}
	again, err := tx.IDs("lead", []string{"p0000", "1203", "3"}, prefer)
	if err != nil || again["p0000"] != ids["p0000"] || again["1203"] != 1203 || again["3"] != ids["3"] || ids["3"] == 3 {
		t.Fatalf("ids read again: %v %v (first %d, %d)", again, err, ids["p0000"], ids["3"])
	}
}

func TestSQLiteManyIDs(t *testing.T) { testManyIDs(t, newSQLite(t).(*Store)) }
func TestPostgresManyIDs(t *testing.T) {
	postgresURL(t)
	testManyIDs(t, newPostgres(t).(*Store))
}

// The activity pages of the API.
func TestSQLiteActivityPage(t *testing.T) {
	s := newSQLite(t).(*Store)
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	tx, _ := s.BeginServe(ctx)
	var acts []*storage.Activity
	for i := 0; i < 5; i++ {
		acts = append(acts, &storage.Activity{Time: at.Add(time.Duration(i) * time.Hour), Person: "p", Type: "T", Workspace: "W"})
	}
	if err := tx.Apply(&storage.Commit{Person: &storage.Person{ID: "p"}, Activities: acts}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, _ = s.BeginServe(ctx)
	defer tx.Rollback()
	seq, err := tx.FirstSeqSince(at.Add(2 * time.Hour))
	if err != nil || seq != acts[2].Seq-1 {
		t.Fatalf("first seq since: %d %v, want %d", seq, err, acts[2].Seq-1)
	}
	page, err := tx.ActivityPage(seq, time.Time{}, 2)
	if err != nil || len(page) != 2 || page[0].Seq != acts[2].Seq {
		t.Fatalf("page: %v %v", page, err)
	}
	if seq, _ := tx.FirstSeqSince(at.Add(24 * time.Hour)); seq != acts[4].Seq {
		t.Errorf("a token past the log: %d, want %d", seq, acts[4].Seq)
	}
}

// A transaction keeps the people it read (by LoadPerson or PrefetchSet,
// any set of Ids, repeated or unknown): later loads see the same state and
// log, the changes applied since, and the activities still to be written.
func testKeptPeople(t *testing.T, s *Store) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	person := func(id, stage string) *storage.Person {
		return &storage.Person{ID: id, Fields: map[string]ir.Value{"Id": ir.NewText(stdlib.Text, id), "Stage": ir.NewText(stdlib.Text, stage)}}
	}
	act := func(id, what string) *storage.Activity {
		return &storage.Activity{Person: id, Time: at, Type: stdlib.ActInterestingMoment, Workspace: "W", Primary: what}
	}
	if err := s.Import(ctx, []*storage.Person{person("a", "new"), person("b", "new"), person("c", "new")}, nil); err != nil {
		t.Fatal(err)
	}
	tx, _ := s.BeginServe(ctx)
	if err := tx.Apply(&storage.Commit{Activities: []*storage.Activity{act("a", "first")}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	check := func(tx *ServeTx, id, stage string, log ...string) {
		t.Helper()
		p, err := tx.LoadPerson(id)
		if err != nil || p == nil {
			t.Fatalf("load %s: %v %v", id, p, err)
		}
		var got []string
		for _, a := range p.Log {
			got = append(got, a.Primary)
		}
		if p.Field("Stage").Text != stage || strings.Join(got, ",") != strings.Join(log, ",") {
			t.Fatalf("%s: stage %q, log %v; want %q, %v", id, p.Field("Stage").Text, got, stage, log)
		}
	}
	tx, _ = s.BeginServe(ctx)
	if err := tx.PrefetchSet([]string{"c", "a", "a", "nobody"}, true); err != nil {
		t.Fatal(err)
	}
	check(tx, "a", "new", "first")
	check(tx, "a", "new", "first")
	if p, err := tx.LoadPerson("nobody"); p != nil || err != nil {
		t.Fatalf("nobody: %v %v", p, err)
	}
	if err := tx.Apply(&storage.Commit{Person: person("a", "seen"), Activities: []*storage.Activity{act("a", "second")}}); err != nil {
		t.Fatal(err)
	}
	check(tx, "a", "seen", "first", "second")
	// Read ahead again, what was written stays.
	if err := tx.PrefetchSet([]string{"a", "b"}, true); err != nil {
		t.Fatal(err)
	}
	check(tx, "a", "seen", "first", "second")
	check(tx, "b", "new")
	if err := tx.Apply(&storage.Commit{Person: person("b", "seen"), Activities: []*storage.Activity{act("b", "b1")}}); err != nil {
		t.Fatal(err)
	}
	check(tx, "b", "seen", "b1")
	check(tx, "c", "new")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, _ = s.BeginServe(ctx)
	defer tx.Rollback()
	check(tx, "a", "seen", "first", "second")
	check(tx, "b", "seen", "b1")
	// Without logs (the program reads none), a person comes without them.
	if err := tx.PrefetchSet([]string{"c", "a"}, false); err != nil {
		t.Fatal(err)
	}
	check(tx, "c", "new")
	check(tx, "a", "seen", "first", "second") // read before: kept as it was
}

func TestSQLiteKeptPeople(t *testing.T) { testKeptPeople(t, newSQLite(t).(*Store)) }
func TestPostgresKeptPeople(t *testing.T) {
	postgresURL(t)
	testKeptPeople(t, newPostgres(t).(*Store))
}
