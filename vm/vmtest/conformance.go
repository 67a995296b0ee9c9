package vmtest

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func samplePerson(id string) *storage.Person {
	return &storage.Person{ID: id, Partition: "EMEA",
		Fields: map[string]ir.Value{
			"Id":        ir.NewText(stdlib.Text, id),
			"Email":     ir.NewText(stdlib.Email, id+"@x.example"),
			"LeadScore": ir.NewNumber(stdlib.Score, 12.5),
			"Vip":       ir.NewBool(true),
			"Born":      ir.NewTime(stdlib.Date, time.Date(1990, 5, 1, 0, 0, 0, 0, time.UTC)),
			"SeenAt":    ir.NewTime(stdlib.DateTime, t0.Add(90*time.Second)),
		},
		Lists:    map[string]bool{"W/Hot": true},
		Programs: map[string]string{"W/Webinar": "Invited"},
		Runs:     map[string]time.Time{"W/Batch": t0},
	}
}

// Conformance checks the behaviour every vm.Store must have. newStore
// gives a new, empty store each time.
func Conformance(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	begin := func(t *testing.T, s Store) storage.Tx {
		t.Helper()
		tx, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	apply := func(t *testing.T, tx storage.Tx, c *storage.Commit) {
		t.Helper()
		if err := tx.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(t *testing.T, tx storage.Tx) {
		t.Helper()
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// Fold is a cache of a text value's lower case: stores may leave it out.
	personOpts := cmp.Options{cmpopts.IgnoreFields(storage.Person{}, "Log"), cmpopts.IgnoreFields(ir.Value{}, "Fold"), cmpopts.EquateEmpty(),
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })}

	t.Run("person round trip", func(t *testing.T) {
		s := newStore(t)
		want := samplePerson("p1")
		if err := s.Import(ctx, []*storage.Person{want}, nil); err != nil {
			t.Fatal(err)
		}
		tx := begin(t, s)
		got, err := tx.LoadPerson("p1")
		if err != nil || got == nil {
			t.Fatalf("load: %v %v", got, err)
		}
		tx.Rollback()
		if d := cmp.Diff(want, got, personOpts); d != "" {
			t.Errorf("person differs (-want +got):\n%s", d)
		}
	})

	t.Run("commit, rollback and reads in a transaction", func(t *testing.T) {
		s := newStore(t)
		s.Import(ctx, []*storage.Person{samplePerson("a")}, nil)
		tx := begin(t, s)
		p, _ := tx.LoadPerson("a")
		p = p.Clone() // the maps of a loaded person may be the store's
		p.Fields["LeadScore"] = ir.NewNumber(stdlib.Score, 99)
		act := &storage.Activity{Time: t0, Person: "a", Type: "Change Score", Campaign: "C", Workspace: "W", Primary: "LeadScore", Attributes: storage.Attrs{{Key: "New Value", Value: storage.AttrNum(99)}}}
		p.Log = append(p.Log, act)
		apply(t, tx, &storage.Commit{Person: p, Activities: []*storage.Activity{act}})
		again, _ := tx.LoadPerson("a")
		if again.Fields["LeadScore"].Num != 99 {
			t.Errorf("a transaction must read its own writes")
		}
		tx.Rollback()
		tx = begin(t, s)
		after, _ := tx.LoadPerson("a")
		tx.Rollback()
		if after.Fields["LeadScore"].Num != 12.5 {
			t.Errorf("rollback kept a write: score %v", after.Fields["LeadScore"].Num)
		}
		if acts, _ := s.Activities(ctx, ""); len(acts) != 0 {
			t.Errorf("rollback kept %d activities", len(acts))
		}
		tx = begin(t, s)
		p, _ = tx.LoadPerson("a")
		p = p.Clone()
		p.Fields["LeadScore"] = ir.NewNumber(stdlib.Score, 50)
		apply(t, tx, &storage.Commit{Person: p, Activities: []*storage.Activity{act}})
		commit(t, tx)
		if act.Seq <= 0 {
			t.Errorf("a committed activity gets a sequence number, got %d", act.Seq)
		}
		tx = begin(t, s)
		p, _ = tx.LoadPerson("a")
		tx.Rollback()
		if p.Fields["LeadScore"].Num != 50 || len(p.Log) != 1 || p.Log[0].Type != "Change Score" || p.Log[0].Attributes.Map()["New Value"] != 99.0 {
			t.Errorf("committed state not read back: %v, log %v", p.Fields["LeadScore"], p.Log)
		}
	})

	t.Run("ids in order, deleted people gone", func(t *testing.T) {
		s := newStore(t)
		var ps []*storage.Person
		for _, id := range []string{"b", "10", "a", "2", "B"} {
			ps = append(ps, samplePerson(id))
		}
		s.Import(ctx, ps, nil)
		tx := begin(t, s)
		p, _ := tx.LoadPerson("a")
		p = p.Clone()
		p.Deleted = true
		apply(t, tx, &storage.Commit{Person: p})
		commit(t, tx)
		ids, err := s.PersonIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"10", "2", "B", "b"}, ids); d != "" {
			t.Errorf("ids (-want +got):\n%s", d)
		}
		tx = begin(t, s)
		if p, _ := tx.LoadPerson("a"); p != nil {
			t.Errorf("a deleted person loads as nil")
		}
		if p, _ := tx.LoadPerson("nobody"); p != nil {
			t.Errorf("an unknown person loads as nil")
		}
		tx.Rollback()
	})

	t.Run("import merges and keeps history", func(t *testing.T) {
		s := newStore(t)
		s.Import(ctx, []*storage.Person{samplePerson("a")}, nil)
		upd := &storage.Person{ID: "a", Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "new@x.example")},
			Lists: map[string]bool{"W/Cold": true}, Programs: map[string]string{}}
		s.Import(ctx, []*storage.Person{upd}, nil)
		tx := begin(t, s)
		p, _ := tx.LoadPerson("a")
		tx.Rollback()
		if p.Fields["Email"].Text != "new@x.example" || p.Fields["LeadScore"].Num != 12.5 || !p.Lists["W/Hot"] || !p.Lists["W/Cold"] || !p.Runs["W/Batch"].Equal(t0) || p.Partition != "EMEA" {
			t.Errorf("import did not merge: %+v", p)
		}
	})

	// A people file's empty value clears (issue 11, bug 4): a null field,
	// a list marked false, a program status "" and a null Partition are
	// removed; what the record does not mention stays.
	t.Run("import clears what is given empty", func(t *testing.T) {
		s := newStore(t)
		s.Import(ctx, []*storage.Person{samplePerson("a")}, nil)
		upd := &storage.Person{ID: "a", Fields: map[string]ir.Value{
			"Email":     {Type: stdlib.Email, Null: true},
			"Vip":       {Type: stdlib.Boolean, Null: true},
			"Partition": {Type: stdlib.Text, Null: true},
			"FirstName": ir.NewText(stdlib.Text, "Ana"),
		},
			Lists: map[string]bool{"W/Hot": false, "W/Cold": false}, Programs: map[string]string{"W/Webinar": ""}}
		if err := s.Import(ctx, []*storage.Person{upd}, nil); err != nil {
			t.Fatal(err)
		}
		tx := begin(t, s)
		p, _ := tx.LoadPerson("a")
		tx.Rollback()
		want := samplePerson("a")
		delete(want.Fields, "Email")
		delete(want.Fields, "Vip")
		want.Fields["FirstName"] = ir.NewText(stdlib.Text, "Ana")
		want.Partition = ""
		want.Lists = nil
		want.Programs = nil
		if d := cmp.Diff(want, p, personOpts); d != "" {
			t.Errorf("import of empty values (-want +got):\n%s", d)
		}
		// A new person given empty values holds none.
		s.Import(ctx, []*storage.Person{{ID: "n", Fields: upd.Fields, Lists: upd.Lists, Programs: upd.Programs}}, nil)
		tx = begin(t, s)
		n, _ := tx.LoadPerson("n")
		tx.Rollback()
		want = &storage.Person{ID: "n", Fields: map[string]ir.Value{"FirstName": ir.NewText(stdlib.Text, "Ana")}}
		if d := cmp.Diff(want, n, personOpts); d != "" {
			t.Errorf("new person with empty values (-want +got):\n%s", d)
		}
	})

	// What the door refuses, every store refuses too, whoever calls it:
	// PostgreSQL cannot hold a NUL, so SQLite and memory must not either.
	t.Run("import refuses unclean people, and imports none of them", func(t *testing.T) {
		for _, bad := range []*storage.Person{
			{ID: "b", Fields: map[string]ir.Value{"FirstName": ir.NewText(stdlib.Text, "B\x00b")}},
			{ID: "b", Fields: map[string]ir.Value{"FirstName": ir.NewText(stdlib.Text, "B\xffb")}},
			{ID: "b\x1b[2K"},
			{ID: "b\nc"},
			{ID: ""},
			{ID: "b", Partition: "P\x00"},
			{ID: "b", Fields: map[string]ir.Value{"LeadScore": ir.NewNumber(stdlib.Score, math.NaN())}},
			{ID: "b", Fields: map[string]ir.Value{"LeadScore": ir.NewNumber(stdlib.Score, math.Inf(-1))}},
		} {
			s := newStore(t)
			err := s.Import(ctx, []*storage.Person{samplePerson("a"), bad}, nil)
			if err == nil {
				t.Errorf("import of %q %+v: no error", bad.ID, bad.Fields)
			}
			if ids, _ := s.PersonIDs(ctx); len(ids) != 0 {
				t.Errorf("import of %q failed but left %v", bad.ID, ids)
			}
		}
	})

	t.Run("waits", func(t *testing.T) {
		s := newStore(t)
		s.Import(ctx, []*storage.Person{samplePerson("a"), samplePerson("b")}, nil)
		tx := begin(t, s)
		// New waits are stored by step identity; waits parked by older
		// versions, by path, must still read back.
		w1 := &storage.Parked{Person: "a", Workspace: "W", Campaign: "C", Step: "0123456789abcdef", Due: t0.Add(48 * time.Hour),
			Tokens: map[string]string{"X": "1"}, Trigger: &storage.Event{Kind: ir.TrigFillsOutForm, Person: "a", Form: "F"}}
		w2 := &storage.Parked{Person: "b", Workspace: "W", Campaign: "C", Path: []int{1}, Due: t0.Add(24 * time.Hour)}
		w3 := &storage.Parked{Person: "a", Workspace: "W", Campaign: "D", Path: []int{1}, Due: t0.Add(24 * time.Hour)}
		apply(t, tx, &storage.Commit{Park: []*storage.Parked{w1, w2, w3}})
		if w1.ID == 0 || w2.ID == 0 || w1.ID == w2.ID {
			t.Fatalf("parked waits need distinct IDs: %d %d", w1.ID, w2.ID)
		}
		mine, _ := tx.WaitsOf("a")
		if len(mine) != 2 {
			t.Errorf("WaitsOf in the transaction: %d waits, want 2", len(mine))
		}
		commit(t, tx)
		due, err := s.DueWaits(ctx, t0.Add(48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var order []int64
		for _, d := range due {
			order = append(order, d.ID)
		}
		if d := cmp.Diff([]int64{w2.ID, w3.ID, w1.ID}, order); d != "" {
			t.Errorf("due order (-want +got):\n%s", d)
		}
		for i, w := range []*storage.Parked{w2, w1} {
			if d := cmp.Diff(w, due[2*i], cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
				t.Errorf("wait round trip (-want +got):\n%s", d)
			}
		}
		if due, _ := s.DueWaits(ctx, t0.Add(24*time.Hour-time.Second)); len(due) != 0 {
			t.Errorf("waits before their time: %d", len(due))
		}
		tx = begin(t, s)
		apply(t, tx, &storage.Commit{Unpark: []int64{w2.ID}})
		commit(t, tx)
		if due, _ := s.DueWaits(ctx, t0.Add(72*time.Hour)); len(due) != 2 {
			t.Errorf("unpark: %d waits left, want 2", len(due))
		}
	})

	t.Run("queue is first in first out", func(t *testing.T) {
		s := newStore(t)
		tx := begin(t, s)
		var qs []*storage.Queued
		for i := 0; i < 3; i++ {
			qs = append(qs, &storage.Queued{Person: fmt.Sprint(i), Workspace: "W", Campaign: "R", Tokens: map[string]string{"T": "v"},
				Trigger: &storage.Event{Kind: ir.TrigRequested, Campaign: "R", Source: "flow"}})
		}
		apply(t, tx, &storage.Commit{Enqueue: qs})
		commit(t, tx)
		tx = begin(t, s)
		apply(t, tx, &storage.Commit{Dequeue: []int64{qs[1].ID}})
		commit(t, tx)
		got, err := s.Queued(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]*storage.Queued{qs[0], qs[2]}, got); d != "" {
			t.Errorf("queue (-want +got):\n%s", d)
		}
	})

	t.Run("batch runs", func(t *testing.T) {
		s := newStore(t)
		if r, _ := s.OpenRun(ctx, "W", "C"); r != nil {
			t.Fatalf("no run yet, got %+v", r)
		}
		r := &storage.BatchRun{Workspace: "W", Campaign: "C", Started: t0, Tokens: map[string]string{"A": "1"}, Cursor: "17"}
		tx := begin(t, s)
		apply(t, tx, &storage.Commit{Run: r})
		commit(t, tx)
		got, _ := s.OpenRun(ctx, "W", "C")
		if got == nil || got.ID != r.ID || got.Cursor != "17" || !got.Started.Equal(t0) || got.Tokens["A"] != "1" {
			t.Fatalf("open run: %+v", got)
		}
		r.Cursor, r.Done = "20", true
		tx = begin(t, s)
		apply(t, tx, &storage.Commit{Run: r})
		commit(t, tx)
		if got, _ := s.OpenRun(ctx, "W", "C"); got != nil {
			t.Errorf("a finished run is not open: %+v", got)
		}
	})

	t.Run("batch run by start time", func(t *testing.T) {
		s := newStore(t)
		want := &storage.BatchRun{Workspace: "W", Campaign: "C", Started: t0, Tokens: map[string]string{"A": "1"}}
		r, state, err := s.StartRun(ctx, want, false)
		if err != nil || state != storage.RunNew || r.ID == 0 || r.Done || r.Cursor != "" {
			t.Fatalf("start: %v %v %+v", state, err, r)
		}
		if again, state, err := s.StartRun(ctx, want, false); err != nil || state != storage.RunResumed || again.ID != r.ID || again.Tokens["A"] != "1" {
			t.Fatalf("an unfinished run is resumed: %v %v %+v", state, err, again)
		}
		tx := begin(t, s)
		other := &storage.Activity{Time: t0, Person: "x", Type: "T", Campaign: "D", Workspace: "W", Primary: "other", Attributes: storage.Attrs{}}
		apply(t, tx, &storage.Commit{Activities: []*storage.Activity{other}})
		commit(t, tx)
		tx = begin(t, s)
		mine := &storage.Activity{Time: t0, Person: "a", Type: "T", Campaign: "C", Workspace: "W", Primary: "mine", Attributes: storage.Attrs{}}
		apply(t, tx, &storage.Commit{Activities: []*storage.Activity{mine}})
		r.Cursor, r.Done = "a", true
		r.Summary = storage.RunSummary{Entered: []storage.EntryCount{{Workspace: "W", Campaign: "C", People: 1}}}
		apply(t, tx, &storage.Commit{Run: r})
		commit(t, tx)
		done, state, err := s.StartRun(ctx, want, false)
		if err != nil || state != storage.RunDone || done.ID != r.ID || !done.Done || len(done.Summary.Entered) != 1 || done.Summary.Entered[0].People != 1 {
			t.Fatalf("a complete run at the same time: %v %v %+v", state, err, done)
		}
		log, err := s.RunLog(ctx, done.ID)
		if err != nil || len(log) != 1 || log[0].Primary != "mine" {
			t.Fatalf("the run's log: %v %+v", err, log)
		}
		later := &storage.BatchRun{Workspace: "W", Campaign: "C", Started: t0.Add(time.Hour)}
		if n, state, err := s.StartRun(ctx, later, false); err != nil || state != storage.RunNew || n.ID == r.ID {
			t.Fatalf("another time: %v %v %+v", state, err, n)
		}
	})

	t.Run("activity log order", func(t *testing.T) {
		s := newStore(t)
		tx := begin(t, s)
		for i := 0; i < 5; i++ {
			person := []string{"a", "b"}[i%2]
			apply(t, tx, &storage.Commit{Activities: []*storage.Activity{{Time: t0.Add(time.Duration(i) * time.Second), Person: person, Type: "T", Campaign: "C", Workspace: "W", Primary: fmt.Sprint(i), Attributes: storage.Attrs{}}}})
		}
		commit(t, tx)
		all, _ := s.Activities(ctx, "")
		var prims []string
		for i, a := range all {
			prims = append(prims, a.Primary)
			if i > 0 && a.Seq <= all[i-1].Seq {
				t.Errorf("sequence numbers must increase")
			}
		}
		if d := cmp.Diff([]string{"0", "1", "2", "3", "4"}, prims); d != "" {
			t.Errorf("log order (-want +got):\n%s", d)
		}
		b, _ := s.Activities(ctx, "b")
		if len(b) != 2 || b[0].Primary != "1" || b[1].Primary != "3" || b[0].Person != "b" {
			t.Errorf("one person's log: %+v", b)
		}
	})

	t.Run("import keeps CreatedAt and moves UpdatedAt on a change", func(t *testing.T) { importTimestamps(t, newStore) })
	t.Run("waits stored by path still resume", func(t *testing.T) { pathWaits(t, newStore) })
}
