package vm

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// On a store that keeps no chunks (the in-memory one), StartShared runs
// the batch run here, as RunBatchAt does, with the same log; RunChunk
// says that the store shares no runs.
func TestStartSharedWithoutChunks(t *testing.T) {
	prog := compileSrc(t, raceProject)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	run := func(shared bool) []*storage.Activity {
		st := memstore.New()
		for i := range 30 {
			st.PutPeople(&storage.Person{ID: fmt.Sprintf("%04d", i), Fields: map[string]ir.Value{
				"Email": ir.NewText(stdlib.Email, fmt.Sprintf("p%d@x.example", i))}})
		}
		eng, err := New(prog, Options{Store: st, Clock: NewManualClock(at), BatchGroup: 7})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := eng.Campaign("Score All")
		var rep *Report
		if shared {
			ss, err := eng.StartShared(context.Background(), c, at, RunOptions{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if ss.Report == nil {
				t.Fatal("StartShared on the in-memory store: no report, want the run done here")
			}
			rep = ss.Report
			if _, _, err := eng.RunChunk(context.Background(), 1, 0); err == nil || !strings.Contains(err.Error(), "no shared batch runs") {
				t.Errorf("RunChunk on the in-memory store: %v", err)
			}
		} else {
			rep, err = eng.RunBatchAt(context.Background(), c, at, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
		}
		acts, err := st.Activities(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Activities) != len(acts) {
			t.Errorf("shared %v: the report has %d activities, the log %d", shared, len(rep.Activities), len(acts))
		}
		return acts
	}
	want, got := run(false), run(true)
	if len(want) != 60 || len(got) != len(want) {
		t.Fatalf("%d activities shared, %d not, want 60 each", len(got), len(want))
	}
	for i := range want {
		if fmt.Sprint(*got[i]) != fmt.Sprint(*want[i]) {
			t.Fatalf("activity %d: %v, want %v", i, *got[i], *want[i])
		}
	}
}
