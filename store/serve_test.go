package store

import (
	"context"
	"testing"
	"time"

	"github.com/campc/campc/vm"
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
	p := &vm.Person{ID: "5"}
	acts := []*vm.Activity{{Time: at, Person: "5", Type: "T", Workspace: "W"}, {Time: at.Add(time.Hour), Person: "5", Type: "U", Workspace: "W"}}
	if err := tx.Apply(&vm.Commit{Person: p, Activities: acts}); err != nil {
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

// The activity pages of the API.
func TestSQLiteActivityPage(t *testing.T) {
	s := newSQLite(t).(*Store)
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	tx, _ := s.BeginServe(ctx)
	var acts []*vm.Activity
	for i := 0; i < 5; i++ {
		acts = append(acts, &vm.Activity{Time: at.Add(time.Duration(i) * time.Hour), Person: "p", Type: "T", Workspace: "W"})
	}
	if err := tx.Apply(&vm.Commit{Person: &vm.Person{ID: "p"}, Activities: acts}); err != nil {
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
