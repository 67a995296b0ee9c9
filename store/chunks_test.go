package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// chunkHook stands for River: it records the chunk jobs a shared run's
// start queues, in its transaction.
type chunkHook struct {
	mu   sync.Mutex
	jobs [][2]int64 // run, chunk
}

func (h *chunkHook) InsertJobs(context.Context, *sql.Tx, []*storage.Parked, []string, []string) error {
	return nil
}
func (h *chunkHook) InsertChunkJobs(ctx context.Context, tx *sql.Tx, run int64, chunks int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range chunks {
		h.jobs = append(h.jobs, [2]int64{run, int64(i)})
	}
	return nil
}

// sharedPeople imports n people p0000, p0001, … with an e-mail address
// and a score of 0 into s.
func sharedPeople(t *testing.T, s *Store, n int) []*storage.Person {
	t.Helper()
	var ps []*storage.Person
	for i := range n {
		id := fmt.Sprintf("p%04d", i)
		ps = append(ps, &storage.Person{ID: id, Fields: map[string]ir.Value{
			"Id":        ir.NewText(stdlib.Text, id),
			"Email":     ir.NewText(stdlib.Email, id+"@x.example"),
			"LeadScore": ir.NewNumber(stdlib.Score, 0),
		}, Lists: map[string]bool{}, Programs: map[string]string{}})
	}
	if err := s.Import(context.Background(), ps, nil); err != nil {
		t.Fatal(err)
	}
	return ps
}

// sharedProject qualifies people every time, so that a pass run twice
// would show in the log (qualification history would hide it otherwise).
const sharedProject = `workspace "W"
program "P" {
  batch campaign "Bump" {
    smart list { filter Email is not empty }
    flow {
      change score LeadScore by "+1"
      interesting moment web "bumped"
    }
    qualify every time
  }
}
`

// A shared batch run over 1,000 people in chunks of 300, on two stores
// (two processes): a chunk whose group fails part way resumes at its
// cursor; chunks run by both processes at once, and again after they are
// done, process everyone exactly once; the commit of the last chunk
// finishes the run, with the summary one process's run would have.
func TestPostgresSharedRunChunks(t *testing.T) {
	ctx := context.Background()
	res := compiler.Compile([]lang.Source{{Name: "c.camp", Text: sharedProject}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	s1, s2 := postgresPair(t)
	hook := &chunkHook{}
	s1.SetJobHook(hook)
	s2.SetJobHook(hook)
	s1.SetLease(Lease{Owner: "one"})
	s2.SetLease(Lease{Owner: "two"})
	const people = 1000
	ps := sharedPeople(t, s1, people)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := vm.NewManualClock(at)
	e1, err := vm.New(prog, vm.Options{Store: s1, Clock: clock, BatchGroup: 50})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := vm.New(prog, vm.Options{Store: s2, Clock: clock, BatchGroup: 50})
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Campaign("W", "Bump")
	st, err := e1.StartShared(ctx, c, at, vm.RunOptions{Workspace: "W"}, 300)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != storage.RunNew || st.Report != nil || len(hook.jobs) != 4 {
		t.Fatalf("start: state %v, report %v, %d jobs; want a new run and 4 chunk jobs", st.State, st.Report, len(hook.jobs))
	}
	run := st.Run.ID
	// Starting it again (another process's tick) finds it going on.
	if again, err := e2.StartShared(ctx, c, at, vm.RunOptions{Workspace: "W"}, 300); err != nil || again.State != storage.RunResumed || again.Run.ID != run || len(hook.jobs) != 4 {
		t.Fatalf("second start: %+v, %v, %d jobs", again, err, len(hook.jobs))
	}
	// A one-process run of the campaign refuses it: it is the jobs'.
	var busy *RunBusyError
	if _, err := e2.RunBatch(ctx, "Bump", vm.RunOptions{}); !errors.As(err, &busy) {
		t.Fatalf("RunBatch during a shared run: %v, want a RunBusyError", err)
	}

	// Chunk 0 stops as its third group begins (the context cancelled):
	// two groups of 50 are committed, and the retry resumes after them.
	cctx, cancel := context.WithCancel(ctx)
	n := 0
	e3, err := vm.New(prog, vm.Options{Store: &cancelAfter{Store: s1, n: 3, count: &n, cancel: cancel}, Clock: clock, BatchGroup: 50})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e3.RunChunk(cctx, run, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("chunk 0 cut: %v, want context.Canceled", err)
	}
	_, ch, err := s1.ChunkOf(ctx, run, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Cursor != "p0099" || ch.Done || ch.Activities != 200 {
		t.Fatalf("chunk 0 after the cut: cursor %q, done %v, %d activities; want p0099, not done, 200", ch.Cursor, ch.Done, ch.Activities)
	}

	// Every chunk, chunk 0 included, by both processes at once.
	var mu sync.Mutex
	var finished []*storage.Chunk
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, e := range []*vm.Engine{e1, e2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 4 {
				_, fin, err := e.RunChunk(ctx, run, k)
				if err != nil {
					errs <- fmt.Errorf("chunk %d: %w", k, err)
					return
				}
				if fin != nil {
					mu.Lock()
					finished = append(finished, fin)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(finished) != 1 {
		t.Fatalf("%d chunk commits finished the run, want 1", len(finished))
	}
	check := func(when string) {
		t.Helper()
		acts, err := s1.Activities(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		for _, a := range acts {
			per[a.Person+" "+a.Type]++
		}
		if len(acts) != 2*people {
			t.Errorf("%s: %d activities, want %d", when, len(acts), 2*people)
		}
		for _, p := range ps {
			for _, typ := range []string{stdlib.ActChangeScore, stdlib.ActInterestingMoment} {
				if k := per[p.ID+" "+typ]; k != 1 {
					t.Fatalf("%s: %s has %d %s activities, want 1", when, p.ID, k, typ)
				}
			}
		}
		log, err := s1.RunLog(ctx, run)
		if err != nil || len(log) != 2*people {
			t.Errorf("%s: the run's log has %d activities (%v), want %d", when, len(log), err, 2*people)
		}
	}
	check("after the chunks")
	fin := finished[0].Finished
	if !fin.Done || fin.Cursor != "p0999" || finished[0].RunActivities != 2*people {
		t.Errorf("finished run: done %v, cursor %q, %d activities", fin.Done, fin.Cursor, finished[0].RunActivities)
	}
	if len(fin.Summary.Entered) != 1 || fin.Summary.Entered[0].People != people || len(fin.Summary.Steps) != 2 ||
		fin.Summary.Steps[0].People != people || fin.Summary.Steps[0].Type != stdlib.ActChangeScore || fin.Summary.Steps[1].People != people {
		t.Errorf("finished run's summary: %+v", fin.Summary)
	}

	// Jobs run again (River retrying after their commit) write nothing.
	for k := range 4 {
		rep, fin, err := e2.RunChunk(ctx, run, k)
		if err != nil || len(rep.Activities) != 0 || fin != nil {
			t.Fatalf("chunk %d again: %d activities, finished %v, %v", k, len(rep.Activities), fin != nil, err)
		}
	}
	check("after the chunks again")
	// The run is named by its campaign and start: complete, it is not
	// started again, and the summary is stored.
	again, err := e1.StartShared(ctx, c, at, vm.RunOptions{Workspace: "W"}, 300)
	if err != nil || again.State != storage.RunDone || !again.Run.Done || again.Run.Summary.Entered[0].People != people || len(hook.jobs) != 4 {
		t.Fatalf("start after the run: %+v, %v", again, err)
	}
	var workers int
	if err := s1.DB().QueryRowContext(ctx, `SELECT count(DISTINCT worker) FROM batch_chunks WHERE run_id = $1 AND worker <> ''`, run).Scan(&workers); err != nil || workers == 0 {
		t.Errorf("chunks record no worker: %d, %v", workers, err)
	}
}

// A deploy removes the campaign while its shared run is in progress: the
// chunks left end where they are (vm.ErrCampaignGone), running nobody, the
// last of them finishes the run with what ran before, and a job run again
// has nothing to do.
func TestPostgresSharedRunCampaignGone(t *testing.T) {
	ctx := context.Background()
	compile := func(text string) *ir.Program {
		t.Helper()
		res := compiler.Compile([]lang.Source{{Name: "c.camp", Text: text}}, compiler.Options{})
		prog, err := res.Runnable(false)
		if err != nil {
			t.Fatalf("%v\n%s", err, res)
		}
		return prog
	}
	prog := compile(sharedProject)
	without := compile(strings.Replace(sharedProject, `"Bump"`, `"Other"`, 1))
	s, _ := postgresPair(t)
	hook := &chunkHook{}
	s.SetJobHook(hook)
	sharedPeople(t, s, 1000)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := vm.NewManualClock(at)
	before, err := vm.New(prog, vm.Options{Store: s, Clock: clock, BatchGroup: 50})
	if err != nil {
		t.Fatal(err)
	}
	after, err := vm.New(without, vm.Options{Store: s, Clock: clock, BatchGroup: 50})
	if err != nil {
		t.Fatal(err)
	}
	st, err := before.StartShared(ctx, prog.Campaign("W", "Bump"), at, vm.RunOptions{Workspace: "W"}, 300)
	if err != nil || len(hook.jobs) != 4 {
		t.Fatalf("start: %v, %d jobs", err, len(hook.jobs))
	}
	run := st.Run.ID
	if _, fin, err := before.RunChunk(ctx, run, 0); err != nil || fin != nil {
		t.Fatalf("chunk 0: finished %v, %v", fin != nil, err)
	}
	for k := 1; k < 4; k++ {
		rep, fin, err := after.RunChunk(ctx, run, k)
		if !errors.Is(err, vm.ErrCampaignGone) || len(rep.Activities) != 0 || (fin != nil) != (k == 3) {
			t.Fatalf("chunk %d after the deploy: %d activities, finished %v, %v; want vm.ErrCampaignGone, the last finishing the run", k, len(rep.Activities), fin != nil, err)
		}
		if !strings.Contains(err.Error(), `"Bump"`) {
			t.Errorf("chunk %d: the error does not name the campaign: %v", k, err)
		}
		if k == 3 && (!fin.Finished.Done || fin.RunActivities != 2*300 || len(fin.Finished.Summary.Entered) != 1 || fin.Finished.Summary.Entered[0].People != 300) {
			t.Errorf("the finished run: done %v, %d activities, summary %+v; want done, 600 activities, 300 people entered", fin.Finished.Done, fin.RunActivities, fin.Finished.Summary)
		}
	}
	for k := range 4 {
		if _, fin, err := after.RunChunk(ctx, run, k); err != nil || fin != nil {
			t.Fatalf("chunk %d again: finished %v, %v; want nothing to do", k, fin != nil, err)
		}
	}
	acts, err := s.Activities(ctx, "")
	if err != nil || len(acts) != 2*300 {
		t.Fatalf("%d activities (%v), want chunk 0's 600", len(acts), err)
	}
}
