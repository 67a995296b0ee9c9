package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
	"github.com/campc/campc/vm/vmtest"
)

// A commit of more people and activities than one prepared statement takes
// (SQLite's chunks, in every size) writes them all, and numbers the
// activities as the log orders them: the numbers given to the Activity
// values are the stored ones, commit after commit.
func testWriteChunks(t *testing.T, newStore func(*testing.T) vmtest.Store) {
	s := newStore(t).(*Store)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const people = 1100 // 1024 + 64 + 4·3
	var ps []*storage.Person
	for i := range people {
		ps = append(ps, &storage.Person{ID: fmt.Sprintf("p%05d", i), Fields: map[string]ir.Value{}})
	}
	if err := s.Import(ctx, ps, nil); err != nil {
		t.Fatal(err)
	}
	var want []*storage.Activity
	for round, acts := range []int{1337, 1, 5} { // 1337 = 1024 + 256 + 16·3 + 4·2 + 1
		tx, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range ps {
			p, err := tx.LoadPerson(p.ID)
			if err != nil || p == nil {
				t.Fatalf("load %d: %v %v", i, p, err)
			}
			p = p.Clone()
			p.Fields["LeadScore"] = ir.NewNumber(stdlib.Score, float64(round*people+i))
			if err := tx.Apply(&storage.Commit{Person: p}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range acts {
			a := &storage.Activity{Time: t0.Add(time.Duration(i) * time.Second), Person: ps[i%people].ID, Type: "T",
				Campaign: "C", Workspace: "W", Primary: fmt.Sprint(round, "/", i), Attributes: storage.Attrs{{Key: "N", Value: storage.AttrNum(float64(i))}}}
			want = append(want, a)
			if err := tx.Apply(&storage.Commit{Activities: []*storage.Activity{a}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		got, err := s.Activities(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %d activities stored, want %d", round, len(got), len(want))
		}
		for i, a := range got {
			if a.Seq != want[i].Seq || a.Primary != want[i].Primary || a.Person != want[i].Person || a.Attributes.Map()["N"] != want[i].Attributes.Map()["N"] {
				t.Fatalf("round %d: activity %d stored as %d %q (%s), given %d %q (%s)", round, i, a.Seq, a.Primary, a.Person, want[i].Seq, want[i].Primary, want[i].Person)
			}
			if i > 0 && a.Seq <= got[i-1].Seq {
				t.Fatalf("round %d: sequence numbers must increase: %d after %d", round, a.Seq, got[i-1].Seq)
			}
		}
		tx, err = s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range ps {
			p, err := tx.LoadPerson(p.ID)
			if err != nil || p == nil || p.Fields["LeadScore"].Num != float64(round*people+i) {
				t.Fatalf("round %d: person %d read back as %+v (%v)", round, i, p, err)
			}
		}
		tx.Rollback()
	}
}

func TestSQLiteWriteChunks(t *testing.T) { testWriteChunks(t, newSQLite) }
func TestPostgresWriteChunks(t *testing.T) {
	postgresURL(t)
	testWriteChunks(t, newPostgres)
}

// chunk splits any count into prepared sizes, the largest first.
func TestChunk(t *testing.T) {
	for n := 1; n <= 3000; n++ {
		left, prev := n, chunkSizes[0]
		for left > 0 {
			c := chunk(left)
			if c > left || c > prev {
				t.Fatalf("n=%d: chunk %d of %d left after %d", n, c, left, prev)
			}
			left, prev = left-c, c
		}
	}
}

// On a PostgreSQL database whose collation orders Ids otherwise than Go
// (and people.id, COLLATE "C") do, a batch group read ahead with its logs
// still gets every person's log: the logs were read by an Id range, which
// in that collation held nobody (regression).
func TestPostgresPrefetchLogsCollation(t *testing.T) {
	base := postgresURL(t)
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("t%d_icu", os.Getpid())
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`); err != nil {
		t.Skipf("no database with an ICU collation on this server: %v", err)
	}
	t.Cleanup(func() {
		// admin is closed by now, and the store too.
		if a, err := sql.Open("pgx", base); err == nil {
			if _, err := a.ExecContext(ctx, `DROP DATABASE `+name); err != nil {
				t.Errorf("drop the test's database: %v", err)
			}
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	s, err := OpenPostgres(ctx, u.String(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// "Z1" < "a1" in Go and in C; "a1" < "Z1" in en-US.
	ps := []*storage.Person{{ID: "Z1", Fields: map[string]ir.Value{}}, {ID: "a1", Fields: map[string]ir.Value{}}}
	if err := s.Import(ctx, ps, nil); err != nil {
		t.Fatal(err)
	}
	tx, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		a := &storage.Activity{Time: time.Unix(1, 0), Person: p.ID, Type: "T", Campaign: "C", Workspace: "W", Primary: p.ID, Attributes: storage.Attrs{}}
		if err := tx.Apply(&storage.Commit{Activities: []*storage.Activity{a}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	ids, err := s.PersonIDs(ctx)
	if err != nil || len(ids) != 2 || ids[0] != "Z1" {
		t.Fatalf("ids %v (%v)", ids, err)
	}
	tx, err = s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.(storage.Prefetcher).Prefetch(ids, true); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		p, err := tx.LoadPerson(id)
		if err != nil || p == nil || len(p.Log) != 1 || p.Log[0].Primary != id {
			t.Errorf("%s read ahead with its log: %+v (%v)", id, p, err)
		}
	}
}
