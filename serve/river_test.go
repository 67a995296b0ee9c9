package serve

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// riverDSN makes a schema of the test's own and returns its URL.
func riverDSN(t *testing.T) string {
	base := os.Getenv(postgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is not", postgresEnv)
		}
		t.Skipf("set %s=postgres://… to run on PostgreSQL", postgresEnv)
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("river%d_%d", os.Getpid(), schemaSeq.Add(1))
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a, err := sql.Open("pgx", base); err == nil {
			a.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
			a.Close()
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

const everyMinute = `workspace "Acme"
program "P" {
  batch campaign "Tick" {
    smart list { filter Email is not empty }
    flow { interesting moment web "tick" }
    run every 1 minute starting 2026-12-01T09:31:00Z
    qualify every time
  }
  trigger campaign "Hello" {
    smart list { trigger campaign is requested from api }
    flow { interesting moment web "hello" }
    active
  }
}
`

// riverServices starts n services on one PostgreSQL database, each with
// its own store and River client, running until the test ends.
func riverServices(t *testing.T, dsn string, prog *ir.Program, clock vm.Clock, n int, tune func(*Config)) []*env {
	t.Helper()
	ctx := context.Background()
	users := []User{{ID: "acme", Secret: "acme-secret", Workspace: "Acme"}}
	var envs []*env
	for i := range n {
		st, err := store.OpenPostgres(ctx, dsn, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		st.SetLease(store.Lease{Owner: fmt.Sprintf("p%d", i), Now: time.Now, Live: func(string, time.Time) bool { return true }})
		cfg := Config{Program: prog, Store: st, Clock: clock, Users: users, Poll: 50 * time.Millisecond, RateLimit: 1 << 30}
		if tune != nil {
			tune(&cfg)
		}
		svc, err := New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.UseRiver(2); err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		mc, _ := clock.(*vm.ManualClock)
		e := &env{t: t, svc: svc, srv: newServer(t, svc), clock: mc, st: st}
		envs = append(envs, e)
		stop := make(chan struct{})
		ran := make(chan struct{})
		go func() { svc.Run(ctx, stop); close(ran) }()
		t.Cleanup(func() { close(stop); <-ran })
	}
	return envs
}

func compileText(t *testing.T, text string) *ir.Program {
	t.Helper()
	res := compiler.Compile([]lang.Source{{Name: "p.camp", Text: text}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	return prog
}

// Three services on one PostgreSQL, sharing their work through River: a
// "run every 1 minute" batch runs once per period, never twice, however
// many processes tick.
func TestRiverScheduledOnce(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	prog := compileText(t, everyMinute)
	clock := vm.NewManualClock(t0)
	envs := riverServices(t, dsn, prog, clock, 3, nil)
	for i, e := range envs {
		e.createLead(e.token("acme", "acme-secret"), fmt.Sprintf("p%d@example.com", i), nil)
	}
	count := func(q string) int {
		var n int
		if err := envs[0].st.DB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const periods = 4
	for p := 1; p <= periods; p++ {
		clock.Set(t0.Add(time.Duration(p) * time.Minute)) // 09:31, 09:32, …
		deadline := time.Now().Add(30 * time.Second)
		for count(`SELECT count(*) FROM batch_runs WHERE done <> 0`) < p && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Let every process tick a few more times at the last period.
	time.Sleep(500 * time.Millisecond)
	if n := count(`SELECT count(*) FROM batch_runs`); n != periods {
		t.Errorf("%d batch runs for %d periods", n, periods)
	}
	if n := count(`SELECT count(*) FROM (SELECT started FROM batch_runs GROUP BY started HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d periods started more than once", n)
	}
	if n := count(`SELECT count(*) FROM activities WHERE primary_value = 'tick'`); n != 3*periods {
		t.Errorf("%d tick activities, want %d (3 people × %d periods)", n, 3*periods, periods)
	}
	st, err := ReadStatus(ctx, envs[0].st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Processes) != 3 {
		t.Errorf("status: %d processes alive, want 3", len(st.Processes))
	}
	// /metrics has the same numbers.
	res, err := http.Get(envs[2].srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"campc_processes_alive 3", "campc_waits_due_next_hour 0", "campc_oldest_job_age_seconds"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
	ticks := 0
	for _, j := range st.Jobs {
		if j.Kind == kindTick {
			ticks += j.Count
		}
	}
	if ticks > 1 {
		t.Errorf("status: %d tick jobs queued or running, want at most one (unique): %+v", ticks, st.Jobs)
	}
}

const perPerson = `workspace "Acme"
list "L"
form "F"
program "P" {
  trigger campaign "On Form" {
    smart list { trigger fills out form "F" }
    flow { change score LeadScore by "+1" }
    active
    qualify every time
  }
  trigger campaign "On List" {
    smart list { trigger added to list "L" }
    flow { change score LeadScore by "+10" }
    active
    qualify every time
  }
}
`

// Form fills and list additions for the same 1,000 people go to different
// services at once. Each person's passes run one at a time (the store
// locks the person's row for the pass's transaction): every score change
// starts from the value the one before it left, in the order of the log,
// and none is lost.
func TestRiverConcurrentPerPerson(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	envs := riverServices(t, dsn, compileText(t, perPerson), vm.NewManualClock(t0), 3, nil)
	const people = 1000
	toks := make([]string, len(envs))
	for i, e := range envs {
		toks[i] = e.token("acme", "acme-secret")
	}
	var ids []int64
	for from := 0; from < people; from += 250 {
		var in []any
		for i := from; i < from+250; i++ {
			in = append(in, map[string]any{"email": fmt.Sprintf("p%d@example.com", i)})
		}
		for _, row := range envs[0].ok(toks[0], "POST", "/rest/v1/leads.json", nil, map[string]any{"action": "createOnly", "input": in}).rows() {
			ids = append(ids, int64(row["id"].(float64)))
		}
	}
	list := envs[0].ok(toks[0], "GET", "/rest/v1/lists.json", url.Values{"name": {"L"}}, nil).rows()[0]["id"]
	errs := make(chan error, 3)
	fill := func(e *env, tok string) {
		for from := 0; from < people; from += 100 {
			var in []any
			for i := from; i < from+100; i++ {
				in = append(in, map[string]any{"leadFormFields": map[string]any{"email": fmt.Sprintf("p%d@example.com", i)}})
			}
			if r := e.call(tok, "POST", "/rest/v1/leads/submitForm.json", nil, map[string]any{"formId": "F", "input": in}); !r.Success {
				errs <- fmt.Errorf("submitForm: %v", r.Errors)
				return
			}
		}
		errs <- nil
	}
	go fill(envs[0], toks[0])
	go fill(envs[1], toks[1])
	go func() {
		for from := 0; from < people; from += 100 {
			var in []any
			for _, id := range ids[from : from+100] {
				in = append(in, map[string]any{"id": id})
			}
			if r := envs[2].call(toks[2], "POST", fmt.Sprintf("/rest/v1/lists/%v/leads.json", list), nil, map[string]any{"input": in}); !r.Success {
				errs <- fmt.Errorf("add to list: %v", r.Errors)
				return
			}
		}
		errs <- nil
	}()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	settleRuns(t, envs[0].st.DB()) // the trigger campaigns run as jobs
	acts, err := envs[0].st.Activities(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]float64{}
	changes := map[string]int{}
	bad := 0
	for _, a := range acts { // in log order
		if a.Type != stdlib.ActChangeScore {
			continue
		}
		oldV, _ := a.Attributes.Get("Old Value")
		newV, _ := a.Attributes.Get("New Value")
		o, n := attrNum(oldV), attrNum(newV)
		if o != last[a.Person] && bad < 5 {
			bad++
			t.Errorf("person %s: a score change from %v after one that left %v (out of order, or an update lost)", a.Person, o, last[a.Person])
		}
		last[a.Person] = n
		changes[a.Person]++
	}
	if len(last) != people {
		t.Fatalf("%d people have score changes, want %d", len(last), people)
	}
	for p, v := range last {
		if v != 12 || changes[p] != 3 {
			t.Fatalf("person %s: score %v after %d changes, want 12 after 3 (two form fills, one list addition)", p, v, changes[p])
		}
	}
}

func attrNum(v storage.AttrValue) float64 {
	f, _ := v.Any().(float64)
	return f
}

// A deploy while three services take requests: every service ends on the
// deploy's version, and the waiting people move as the deploy rules say
// (A deleted: those who got A before the deploy go on with B and C after
// their wait; those requested after it get no A).
func TestRiverDeployDuringRun(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	p1 := deployProject(issueFlow)
	clock := vm.NewManualClock(t0)
	envs := riverServices(t, dsn, deployProg(t, p1), clock, 3, func(c *Config) { c.Project = p1 })
	toks := make([]string, len(envs))
	for i, e := range envs {
		toks[i] = e.token("acme", "acme-secret")
	}
	const people = 300
	var in []any
	for i := range people {
		in = append(in, map[string]any{"email": fmt.Sprintf("p%d@acme.example", i)})
	}
	var ids []int64
	for _, row := range envs[0].ok(toks[0], "POST", "/rest/v1/leads.json", nil, map[string]any{"action": "createOnly", "input": in}).rows() {
		ids = append(ids, int64(row["id"].(float64)))
	}
	// Requests in calls of 10 on the three services, while service 1
	// deploys the flow without A.
	errs := make(chan error, len(envs)+1)
	for k, e := range envs {
		go func() {
			for from := k * 10; from < people; from += 10 * len(envs) {
				r := e.call(toks[k], "POST", fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", e.campaignID(toks[k], "Nurture")), nil, trigger(ids[from:from+10], nil))
				if !r.Success {
					errs <- fmt.Errorf("trigger: %v", r.Errors)
					return
				}
			}
			errs <- nil
		}()
	}
	p2 := deployProject(issueFlow[len(`send email "A"`):])
	go func() {
		_, err := envs[1].svc.Deploy(ctx, deployProg(t, p2), p2, "test")
		errs <- err
	}()
	for range len(envs) + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	settleRuns(t, envs[0].st.DB()) // the requested runs, before the clock moves
	want := envs[1].svc.Version()
	// Past the waits: the ticks (one process at a time) resume them.
	clock.Set(t0.Add(25 * time.Hour))
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		same := true
		for _, e := range envs {
			same = same && e.svc.Version() == want
		}
		if same && len(envs[0].waits()) == 0 && envs[0].sent()["C"] == people {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, e := range envs {
		if v := e.svc.Version(); v != want {
			t.Errorf("service %d runs version %d, want %d (the deploy's)", i, v, want)
		}
	}
	if w := envs[0].waits(); len(w) != 0 {
		t.Errorf("%d people still waiting", len(w))
	}
	sent := envs[0].sent()
	if sent["B"] != people || sent["C"] != people || sent["A"] > people {
		t.Errorf("sent %v, want B and C %d times each, A at most %d", sent, people, people)
	}
	// Each person: at most one A, exactly one B and one C.
	for _, id := range ids {
		got := map[string]int{}
		for _, l := range envs[0].log(envs[0].personID(id)) {
			if name, ok := strings.CutPrefix(l, stdlib.ActSendEmail+":"); ok {
				got[name]++
			}
		}
		if got["A"] > 1 || got["B"] != 1 || got["C"] != 1 {
			t.Fatalf("lead %d got %v", id, got)
		}
	}
}

// In River mode one service runs its calls at once. Form fills for the
// same 100 people, each call listing them in another order, sent by eight
// clients at once to one service: calls that lock the same people in
// different orders can deadlock, and PostgreSQL rolls one back; the
// service does such a call again, so every call succeeds and every fill
// counts once.
func TestRiverConcurrentCallsOneService(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	envs := riverServices(t, dsn, compileText(t, perPerson), vm.NewManualClock(t0), 1, nil)
	e := envs[0]
	tok := e.token("acme", "acme-secret")
	const people, clients, calls = 100, 8, 4
	var in []any
	for i := range people {
		in = append(in, map[string]any{"email": fmt.Sprintf("p%d@example.com", i)})
	}
	e.ok(tok, "POST", "/rest/v1/leads.json", nil, map[string]any{"action": "createOnly", "input": in})
	errs := make(chan error, clients)
	for k := range clients {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(k), 7))
			for range calls {
				var in []any
				for _, i := range rng.Perm(people) {
					in = append(in, map[string]any{"leadFormFields": map[string]any{"email": fmt.Sprintf("p%d@example.com", i)}})
				}
				if r := e.call(tok, "POST", "/rest/v1/leads/submitForm.json", nil, map[string]any{"formId": "F", "input": in}); !r.Success {
					errs <- fmt.Errorf("submitForm: %v", r.Errors)
					return
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	settleRuns(t, e.st.DB())
	var bad, total int
	if err := e.st.DB().QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE n <> $1), count(*) FROM
(SELECT person, count(*) AS n FROM activities WHERE type = 'Change Score' GROUP BY person) x`, clients*calls).Scan(&bad, &total); err != nil {
		t.Fatal(err)
	}
	if bad != 0 || total != people {
		t.Errorf("%d of %d people do not have %d score changes (want %d people)", bad, total, clients*calls, people)
	}
}

// Jobs queued before a job named several people or messages still run:
// their one person or message is read.
func TestRiverOldJobArgs(t *testing.T) {
	var w WaitArgs
	if err := json.Unmarshal([]byte(`{"id":7,"person":"p1","due":"2026-12-01T09:00:00Z"}`), &w); err != nil {
		t.Fatal(err)
	}
	if got := w.people(); len(got) != 1 || got[0] != "p1" {
		t.Errorf("old wait job: people %v, want [p1]", got)
	}
	var d DeliverArgs
	if err := json.Unmarshal([]byte(`{"message_id":"<m1@campc>"}`), &d); err != nil {
		t.Fatal(err)
	}
	if got := d.messages(); len(got) != 1 || got[0] != "<m1@campc>" {
		t.Errorf("old delivery job: messages %v, want [<m1@campc>]", got)
	}
	if got := (WaitArgs{People: []string{"a", "b"}, Person: "x"}).people(); len(got) != 2 {
		t.Errorf("new wait job: people %v, want [a b]", got)
	}
}

// settleRuns waits until the flow runs that API calls queued have run
// (vm.Options.DeferRuns: campc_runs jobs) and the queue is empty.
func settleRuns(t *testing.T, db *sql.DB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var jobs, queued int
		if err := db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'campc_runs' AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM queue`).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if jobs == 0 && queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: %d campc_runs jobs left, %d runs queued", jobs, queued)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
