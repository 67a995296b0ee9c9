package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

const sharedBatch = `workspace "Acme"
program "P" {
  batch campaign "Nurture" {
    smart list { filter Email is not empty }
    flow {
      change score LeadScore by "+1"
      wait 1 minute
      interesting moment web "done"
    }
    run at 2026-12-01T09:31:00Z
  }
}
`

// patience is how long TestRiverSharedBatch waits for the run, and then
// for the waits.
const patience = 4 * time.Minute

// Three services on one PostgreSQL share one scheduled batch run over
// 3,000 people: its chunks (200 people each) are River jobs that more than
// one service works; every person has one activity per step, the run
// completes once with the summary of everyone, and chunk jobs run again
// after it (River retrying) write nothing.
func TestRiverSharedBatch(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	clock := vm.NewManualClock(t0)
	envs := riverServices(t, dsn, compileText(t, sharedBatch), clock, 3, func(c *Config) { c.BatchChunk = 200 })
	const people = 3000
	var ps []*storage.Person
	for i := range people {
		id := fmt.Sprintf("p%05d", i)
		ps = append(ps, &storage.Person{ID: id, Fields: map[string]ir.Value{
			"Id":        ir.NewText(stdlib.Text, id),
			"Email":     ir.NewText(stdlib.Email, id+"@example.com"),
			"LeadScore": ir.NewNumber(stdlib.Score, 0),
		}, Lists: map[string]bool{}, Programs: map[string]string{}})
	}
	if err := envs[0].st.Import(ctx, ps, nil); err != nil {
		t.Fatal(err)
	}
	db := envs[0].st.DB()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	clock.Set(t0.Add(time.Minute)) // the run's time
	began := time.Now()
	// About 6 s here and 10 s for the waits below, under -race on a quiet
	// 2-core machine; ten times that when CI's packages load it.
	deadline := time.Now().Add(patience)
	for count(`SELECT count(*) FROM batch_runs WHERE done <> 0`) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := count(`SELECT count(*) FROM batch_runs`); n != 1 {
		t.Fatalf("%d batch runs, want 1", n)
	}
	if n := count(`SELECT count(*) FROM batch_runs WHERE done <> 0`); n != 1 {
		t.Fatalf("the batch run is not done after %v: %d of %d people scored", patience, count(`SELECT count(*) FROM activities WHERE type = 'Change Score'`), people)
	}
	t.Logf("the batch run took %v", time.Since(began))
	var run int64
	var summary string
	if err := db.QueryRowContext(ctx, `SELECT id, summary FROM batch_runs`).Scan(&run, &summary); err != nil {
		t.Fatal(err)
	}
	var sum storage.RunSummary
	if err := json.Unmarshal([]byte(summary), &sum); err != nil || len(sum.Entered) != 1 || sum.Entered[0].People != people {
		t.Errorf("the run's summary %s (%v): want %d people entered", summary, err, people)
	}
	chunks := count(`SELECT count(*) FROM batch_chunks WHERE run_id = $1 AND done <> 0`, run)
	if chunks != people/200 {
		t.Errorf("%d chunks done, want %d", chunks, people/200)
	}
	if w := count(`SELECT count(DISTINCT worker) FROM batch_chunks WHERE run_id = $1`, run); w < 2 {
		t.Errorf("the chunks were run by %d service(s), want more than one", w)
	}
	// River marks jobs completed in batches, a little after they return.
	for end := time.Now().Add(10 * time.Second); count(`SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`, kindBatch) < chunks && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := count(`SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`, kindBatch); n < chunks {
		t.Errorf("%d chunk jobs completed, want at least %d", n, chunks)
	}
	// Jobs run again (River retries a job whose process died after its
	// commit) find their chunks done.
	for k := range chunks {
		envs[1].svc.mu.Lock()
		rep, fin, err := envs[1].svc.eng.RunChunk(ctx, run, k)
		envs[1].svc.mu.Unlock()
		if err != nil || len(rep.Activities) != 0 || fin != nil {
			t.Fatalf("chunk %d run again: %d activities, finished %v, %v", k, len(rep.Activities), fin != nil, err)
		}
	}
	// Past the waits (the ticks resume those overdue).
	clock.Set(t0.Add(10 * time.Minute))
	began = time.Now()
	deadline = time.Now().Add(patience)
	for count(`SELECT count(*) FROM parked`) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the waits took %v", time.Since(began))
	for _, typ := range []string{stdlib.ActChangeScore, stdlib.ActInterestingMoment} {
		if n := count(`SELECT count(*) FROM activities WHERE type = $1`, typ); n != people {
			t.Errorf("%d %s activities, want %d", n, typ, people)
		}
	}
	if n := count(`SELECT count(*) FROM (SELECT person, type FROM activities GROUP BY person, type HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d (person, step) pairs have more than one activity", n)
	}
	// The run's log is what its passes wrote: all but the activities of
	// the resumed waits.
	inRun := count(`SELECT count(*) FROM activities WHERE type <> $1`, stdlib.ActInterestingMoment)
	if n := count(`SELECT count(*) FROM activities WHERE run = $1`, run); n != inRun {
		t.Errorf("%d activities belong to the run, want %d", n, inRun)
	}
	log, err := envs[2].st.RunLog(ctx, run)
	if err != nil || len(log) != inRun {
		t.Errorf("the run's log: %d activities (%v), want %d", len(log), err, inRun)
	}
}

// The chunks whose job runs on a process whose heartbeat has lapsed (a
// process killed) get a new job; a chunk whose job waits, runs on a live
// process or was discarded does not, and a second pass queues nothing
// more.
func TestRiverRequeueChunks(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	prog := compileText(t, sharedBatch)
	svc, st := riverService(t, dsn, prog, vm.NewManualClock(t0), 10)
	importForty(t, st)
	// The River client is not started: the jobs stay as this test sets them.
	c := prog.Campaign("Acme", "Nurture")
	if _, shared, err := svc.startBatch(ctx, c, t0.Add(time.Minute), vm.RunOptions{Workspace: "Acme"}); err != nil || !shared {
		t.Fatalf("start: shared %v, %v", shared, err)
	}
	db := st.DB()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	jobs := func(chunk int) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND (args->>'chunk')::int = $2`, kindBatch, chunk).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for k := range 4 {
		if n := jobs(k); n != 1 {
			t.Fatalf("chunk %d has %d jobs after the start, want 1", k, n)
		}
	}
	now := time.Now()
	if err := st.ProcessAlive(ctx, "live", "h", 1, now, now); err != nil {
		t.Fatal(err)
	}
	if err := st.ProcessAlive(ctx, "dead", "h", 2, now.Add(-time.Hour), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	running := `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(), attempted_by = ARRAY[$1::text] WHERE kind = '` + kindBatch + `' AND (args->>'chunk')::int = $2`
	exec(running, "dead", 0)  // its process was killed
	exec(running, "live", 1)  // running on a live process
	exec(running, "never", 2) // a process that never beat
	exec(`UPDATE river_job SET state = 'discarded', finalized_at = now() WHERE kind = $1 AND (args->>'chunk')::int = 3`, kindBatch)
	if err := svc.requeueChunks(ctx); err != nil {
		t.Fatal(err)
	}
	for k, want := range []int{2, 1, 2, 1} {
		if n := jobs(k); n != want {
			t.Errorf("chunk %d has %d jobs, want %d", k, n, want)
		}
	}
	if err := svc.requeueChunks(ctx); err != nil {
		t.Fatal(err)
	}
	for k, want := range []int{2, 1, 2, 1} {
		if n := jobs(k); n != want {
			t.Errorf("after a second pass, chunk %d has %d jobs, want %d", k, n, want)
		}
	}
}

// A "run every 1 minute" whose run outlasts its minute: the next period's
// run waits until the previous shared run is done (the tick holds it and
// tries again), then starts at its own time; it is neither lost nor run
// beside the first.
func TestRiverSharedRunHoldsNext(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	prog := compileText(t, everyMinute)
	clock := vm.NewManualClock(t0)
	svc, st := riverService(t, dsn, prog, clock, 10)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var ps []*storage.Person
	for i := range 25 {
		id := fmt.Sprintf("p%03d", i)
		ps = append(ps, &storage.Person{ID: id, Fields: map[string]ir.Value{"Id": ir.NewText(stdlib.Text, id), "Email": ir.NewText(stdlib.Email, id+"@example.com")},
			Lists: map[string]bool{}, Programs: map[string]string{}})
	}
	if err := st.Import(ctx, ps, nil); err != nil {
		t.Fatal(err)
	}
	runs := func() []string {
		t.Helper()
		rows, err := st.DB().QueryContext(ctx, `SELECT started, done FROM batch_runs ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var started int64
			var done int
			if err := rows.Scan(&started, &done); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s done=%d", time.UnixMicro(started).UTC().Format("15:04"), done))
		}
		return out
	}
	// The River client is not started: the chunks wait until the test runs them.
	tick := func(at time.Time) {
		t.Helper()
		clock.Set(at)
		if err := svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tick(t0.Add(90 * time.Second))  // 09:31:30: the 09:31 run starts
	tick(t0.Add(150 * time.Second)) // 09:32:30: the 09:32 run waits
	tick(t0.Add(155 * time.Second))
	if got := fmt.Sprint(runs()); got != "[09:31 done=0]" {
		t.Fatalf("runs while the first is in progress: %s", got)
	}
	var run int64
	if err := st.DB().QueryRowContext(ctx, `SELECT id FROM batch_runs`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		if _, _, err := svc.eng.RunChunk(ctx, run, k); err != nil {
			t.Fatal(err)
		}
	}
	tick(t0.Add(160 * time.Second)) // the 09:32 run starts now, at its own time
	if got := fmt.Sprint(runs()); got != "[09:31 done=1 09:32 done=0]" {
		t.Fatalf("runs after the first is done: %s", got)
	}
}

// The jobs a process was running when it died go back to the others once
// its heartbeat has lapsed, with an error saying why; a live process's,
// and one started moments ago, are left alone; chunks are requeueChunks'.
func TestRiverRescueDead(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	svc, st := riverService(t, dsn, compileText(t, sharedBatch), vm.NewManualClock(t0), 0)
	// The River client is not started: the jobs stay as this test sets them.
	now := time.Now()
	if err := st.ProcessAlive(ctx, "live", "h", 1, now, now); err != nil {
		t.Fatal(err)
	}
	if err := st.ProcessAlive(ctx, "dead", "h", 2, now.Add(-time.Hour), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, name := range []string{"tick of the dead", "wait of the live", "just started", "chunk of the dead"} {
		var args river.JobArgs = WaitArgs{People: []string{name}, Due: t0}
		switch name {
		case "tick of the dead":
			args = TickArgs{}
		case "chunk of the dead":
			args = BatchArgs{Run: 1, Chunk: 0}
		}
		res, err := svc.river.client.Insert(ctx, args, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = res.Job.ID
	}
	db := st.DB()
	running := func(name, by string, since time.Duration) {
		if _, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - $1::interval, attempted_by = ARRAY[$2::text] WHERE id = $3`,
			fmt.Sprintf("%d seconds", int(since.Seconds())), by, ids[name]); err != nil {
			t.Fatal(err)
		}
	}
	running("tick of the dead", "dead", time.Minute)
	running("wait of the live", "live", time.Minute)
	running("just started", "dead", 0)
	running("chunk of the dead", "dead", time.Minute)
	if err := svc.rescueDead(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tick of the dead": "retryable", "wait of the live": "running", "just started": "running", "chunk of the dead": "running"}
	for name, id := range ids {
		var state, errs string
		if err := db.QueryRowContext(ctx, `SELECT state::text, COALESCE(errors::text, '') FROM river_job WHERE id = $1`, id).Scan(&state, &errs); err != nil {
			t.Fatal(err)
		}
		if state != want[name] {
			t.Errorf("%s: %s, want %s", name, state, want[name])
		}
		if state == "retryable" && !strings.Contains(errs, "heartbeat lapsed") {
			t.Errorf("%s: errors %s, want why it was rescued", name, errs)
		}
	}
}

// importForty imports people p000 to p039, each with an e-mail address.
func importForty(t *testing.T, st *store.Store) {
	t.Helper()
	var ps []*storage.Person
	for i := range 40 {
		id := fmt.Sprintf("p%03d", i)
		ps = append(ps, &storage.Person{ID: id, Fields: map[string]ir.Value{"Id": ir.NewText(stdlib.Text, id), "Email": ir.NewText(stdlib.Email, id+"@example.com")},
			Lists: map[string]bool{}, Programs: map[string]string{}})
	}
	if err := st.Import(context.Background(), ps, nil); err != nil {
		t.Fatal(err)
	}
}

// riverService is a service in River mode on dsn whose River client is
// not started, so that the jobs stay as the test sets them; chunk is its
// BatchChunk (0: the default).
func riverService(t *testing.T, dsn string, prog *ir.Program, clock vm.Clock, chunk int) (*Service, *store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, dsn, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := New(ctx, Config{Program: prog, Store: st, Clock: clock, Users: []User{{ID: "acme", Secret: "acme-secret", Workspace: "Acme"}},
		Poll: 50 * time.Millisecond, BatchChunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.UseRiver(2); err != nil {
		t.Fatal(err)
	}
	return svc, st
}

// A deploy removes the campaign while its shared run is in progress: the
// chunk jobs left complete (no error for River to retry until it
// discards them), running nobody; the last one finishes the run and says
// once that it stopped.
func TestRiverChunksOfRemovedCampaign(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	prog := compileText(t, sharedBatch)
	svc, st := riverService(t, dsn, prog, vm.NewManualClock(t0), 10)
	var logs strings.Builder
	svc.log = slog.New(slog.NewTextHandler(&logs, nil))
	importForty(t, st)
	// The River client is not started: the test works the chunk jobs.
	if _, shared, err := svc.startBatch(ctx, prog.Campaign("Acme", "Nurture"), t0.Add(time.Minute), vm.RunOptions{Workspace: "Acme"}); err != nil || !shared {
		t.Fatalf("start: shared %v, %v", shared, err)
	}
	db := st.DB()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	run := int64(count(`SELECT id FROM batch_runs`))
	w := &batchWorker{s: svc}
	work := func(chunk int) error {
		return w.Work(ctx, &river.Job[BatchArgs]{JobRow: &rivertype.JobRow{}, Args: BatchArgs{Run: run, Chunk: chunk}})
	}
	if err := work(0); err != nil {
		t.Fatal(err)
	}
	other := &Project{Sources: []lang.Source{{Name: "acme.camp", Text: strings.Replace(sharedBatch, `"Nurture"`, `"Other"`, 1)}}}
	if _, err := svc.Deploy(ctx, deployProg(t, other), other, "test"); err != nil {
		t.Fatal(err)
	}
	for k := 1; k < 4; k++ {
		if err := work(k); err != nil {
			t.Fatalf("chunk %d after the deploy: %v, want nothing to retry", k, err)
		}
		want := 0 // the last chunk finishes the run
		if k == 3 {
			want = 1
		}
		if done := count(`SELECT count(*) FROM batch_runs WHERE done <> 0`); done != want {
			t.Fatalf("after chunk %d: %d runs done, want %d", k, done, want)
		}
	}
	if n := count(`SELECT count(*) FROM activities WHERE type = 'Change Score'`); n != 10 {
		t.Errorf("%d people scored, want chunk 0's 10", n)
	}
	if n := strings.Count(logs.String(), "batch run stopped: its campaign is no longer deployed"); n != 1 || !strings.Contains(logs.String(), "campaign=Nurture") {
		t.Errorf("the stop is logged %d times, want once, naming the campaign:\n%s", n, logs.String())
	}
}
