package serve

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
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

// Three services on one PostgreSQL, sharing their work through River: a
// "run every 1 minute" batch runs once per period, never twice, however
// many processes tick.
func TestRiverScheduledOnce(t *testing.T) {
	dsn := riverDSN(t)
	ctx := context.Background()
	res := compiler.Compile([]lang.Source{{Name: "p.camp", Text: everyMinute}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	clock := vm.NewManualClock(t0)
	users := []User{{ID: "acme", Secret: "acme-secret", Workspace: "Acme"}}
	var envs []*env
	for i := range 3 {
		st, err := store.OpenPostgres(ctx, dsn, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		st.SetLease(store.Lease{Owner: fmt.Sprintf("p%d", i), Now: time.Now, Live: func(string, time.Time) bool { return true }})
		svc, err := New(ctx, Config{Program: prog, Store: st, Clock: clock, Users: users, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.UseRiver(2); err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, svc: svc, srv: newServer(t, svc), clock: clock, st: st}
		envs = append(envs, e)
		stop := make(chan struct{})
		ran := make(chan struct{})
		go func() { svc.Run(ctx, stop); close(ran) }()
		t.Cleanup(func() { close(stop); <-ran })
	}
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
