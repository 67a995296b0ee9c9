package vm

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// crashStore fails the commit of its n-th transaction, as a crash would.
type crashStore struct {
	*memstore.Store
	n, seen int
}

var errCrash = errors.New("crash")

func (s *crashStore) Begin(ctx context.Context) (storage.Tx, error) {
	tx, err := s.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	s.seen++
	if s.seen == s.n {
		return &crashTx{tx}, nil
	}
	return tx, nil
}

type crashTx struct{ storage.Tx }

func (t *crashTx) Commit() error {
	t.Tx.Rollback()
	return errCrash
}

// A batch run that dies part way is finished by the next RunBatch, with
// every qualifying person processed exactly once, at the first run's clock.
func TestBatchResumesAfterCrash(t *testing.T) {
	prog := compileSrc(t, `workspace "W"
list "Done"
program "P" {
  batch campaign "Every Time" {
    smart list { filter Email is not empty }
    flow {
      change score LeadScore by "+1"
      add to list "Done"
    }
    qualify every time
  }
}
`)
	for crashAt := 1; crashAt <= 4; crashAt++ {
		t.Run(fmt.Sprint(crashAt), func(t *testing.T) {
			mem := memstore.New()
			const n = 7
			for i := 0; i < n; i++ {
				mem.PutPeople(&storage.Person{ID: fmt.Sprint(i), Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "x@y.example")}})
			}
			store := &crashStore{Store: mem, n: crashAt}
			clock := NewManualClock(testStart)
			eng, _ := New(prog, Options{Store: store, Clock: clock, BatchGroup: 2})
			if _, err := eng.RunBatch(context.Background(), "Every Time", RunOptions{}); !errors.Is(err, errCrash) {
				t.Fatalf("want the crash, got %v", err)
			}
			clock.Set(testStart.Add(time.Hour))
			eng2, _ := New(prog, Options{Store: mem, Clock: clock, BatchGroup: 2})
			rep, err := eng2.RunBatch(context.Background(), "Every Time", RunOptions{})
			// The run is stored when it starts, so even a crash in its
			// first group leaves it to be finished, at its first clock.
			wantTime := testStart
			if err != nil || !rep.Resumed {
				t.Fatalf("resume: %v (resumed %v, want true)", err, rep.Resumed)
			}
			acts, _ := mem.Activities(context.Background(), "")
			per := map[string]int{}
			for _, a := range acts {
				per[a.Person+"/"+a.Type]++
				if !a.Time.Equal(wantTime) {
					t.Errorf("activity at %v, want %v", a.Time, wantTime)
				}
			}
			for i := 0; i < n; i++ {
				for _, typ := range []string{"Change Score", "Add to List"} {
					if got := per[fmt.Sprint(i)+"/"+typ]; got != 1 {
						t.Errorf("person %d: %d %q activities, want exactly 1", i, got, typ)
					}
				}
			}
			// The run is finished: a new RunBatch is a new run.
			if open, _ := mem.OpenRun(context.Background(), "W", "Every Time"); open != nil {
				t.Errorf("run still open: %+v", open)
			}
		})
	}
}

var testStart = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
