package bench

// BenchmarkScaleOut: campc serve on several processes sharing one
// PostgreSQL through River (serve.UseRiver). Each "process" is a service
// with its own store (its own connection pool), its own River client and
// its own HTTP server, in this test process: the machine's 2 cores are
// shared either way, and one binary keeps the CPU accounting whole.

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/campc/campc/lang"
	"github.com/campc/campc/serve"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/store"
)

// scaleOutBatch is a batch campaign the API schedules over everyone.
const scaleOutBatch = `
program "Batch" {
  batch campaign "Score" {
    smart list { filter Email is not empty }
    flow {
      change data value Stage to "Scored"
      interesting moment web "scored"
    }
  }
}
`

// scaleOutEvents is how many list additions the events half sends.
func scaleOutEvents() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_SCALEOUT_EVENTS")); err == nil && v > 0 {
		return v
	}
	if testing.Short() { // CI's run of every benchmark once
		return 1_000
	}
	return 10_000
}

func scaleOutPeople() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_SCALEOUT_PEOPLE")); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return 5_000
	}
	return 100_000
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgCPU is PostgreSQL's CPU time (all its processes, from /proc), 0 when
// it cannot be read.
func pgCPU() time.Duration {
	ents, _ := os.ReadDir("/proc")
	var ticks int64
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || !strings.HasPrefix(string(comm), "postgres") {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		// utime, stime and, for the backends that have exited, the
		// postmaster's cutime and cstime.
		if len(f) > 14 {
			for _, i := range []int{11, 12, 13, 14} {
				v, _ := strconv.ParseInt(f[i], 10, 64)
				ticks += v
			}
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ = 100
}

// scaleOutEnv starts procs services on one new PostgreSQL schema holding
// people people.
func scaleOutEnv(b *testing.B, procs, people int) []*serveEnv {
	b.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		b.Skipf("set %s=postgres://… to run", PostgresEnv)
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	pgSchemas++
	schema := fmt.Sprintf("benchscale%d_%d", os.Getpid(), pgSchemas)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn := base + sep + "search_path=" + schema
	prog := mustCompile(b, []lang.Source{{Name: "serve.camp", Text: serveProject + scaleOutBatch}})
	var envs []*serveEnv
	for i := range procs {
		st, err := store.OpenPostgres(ctx, dsn, true)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		st.SetLease(store.Lease{Owner: fmt.Sprintf("bench%d", i), Now: time.Now, Live: func(string, time.Time) bool { return true }})
		if i == 0 {
			for k := 0; k < people; k += 10_000 {
				if err := st.Import(ctx, servePeople(k, min(k+10_000, people)), nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		svc, err := serve.New(ctx, serve.Config{Program: prog, Store: st, Clock: wallClock{}, Poll: 100 * time.Millisecond,
			Users: []serve.User{{ID: "bench", Secret: "bench-secret", Workspace: "Acme"}}, RateLimit: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		if err := svc.UseRiver(4); err != nil {
			b.Fatal(err)
		}
		e := startService(b, st, svc)
		stop, ran := make(chan struct{}), make(chan struct{})
		go func() { svc.Run(ctx, stop); close(ran) }()
		b.Cleanup(func() { close(stop); <-ran })
		envs = append(envs, e)
	}
	return envs
}

// BenchmarkScaleOut measures, with 1, 2 and 3 services on one
// PostgreSQL: batch, the people per second of a batch run the API
// schedules (BENCH_SCALEOUT_PEOPLE, default 100,000), shared by the
// services in chunks (River jobs; procs_working is how many ran some);
// events, list
// additions per second sent to the services at once (each its share, in
// calls of 100). Both report the CPU per person and PostgreSQL's share of
// the CPU.
func BenchmarkScaleOut(b *testing.B) {
	for _, procs := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("batch/procs=%d", procs), func(b *testing.B) {
			people := scaleOutPeople()
			for range b.N {
				b.StopTimer()
				envs := scaleOutEnv(b, procs, people)
				id := envs[0].idOf(b, "campaigns", "Score")
				settle(b)
				cpu0, pg0 := cpuTime(), pgCPU()
				start := time.Now()
				b.StartTimer()
				envs[0].post(b, fmt.Sprintf("/rest/v1/campaigns/%d/schedule.json", id),
					[]byte(`{"input":{"runAt":"`+time.Now().Add(time.Second).UTC().Format(time.RFC3339)+`"}}`))
				var done int
				for done == 0 {
					time.Sleep(20 * time.Millisecond)
					if err := envs[0].st.DB().QueryRow(`SELECT count(*) FROM batch_runs WHERE campaign = 'Score' AND done <> 0`).Scan(&done); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				// The run starts at runAt, up to a second after the call.
				var started time.Time
				var startedUS int64
				envs[0].st.DB().QueryRow(`SELECT started FROM batch_runs WHERE campaign = 'Score'`).Scan(&startedUS)
				started = time.UnixMicro(startedUS)
				el := time.Since(start) - max(0, started.Sub(start))
				cpu, pg := cpuTime()-cpu0, pgCPU()-pg0
				b.ReportMetric(float64(people)/el.Seconds(), "people/s")
				b.ReportMetric(float64(cpu+pg)/float64(people)/1e3, "cpu_us/person")
				if cpu+pg > 0 {
					b.ReportMetric(100*float64(pg)/float64(cpu+pg), "pg_cpu_%")
				}
				if n := activities(b, envs[0].st, stdlib.ActInterestingMoment); n != people {
					b.Fatalf("%d Interesting Moment activities for %d people", n, people)
				}
				// The run is shared (River mode): how many of the
				// services ran its chunks.
				var workers int
				if err := envs[0].st.DB().QueryRow(`SELECT count(DISTINCT worker) FROM batch_chunks`).Scan(&workers); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(workers), "procs_working")
			}
		})
		b.Run(fmt.Sprintf("events/procs=%d", procs), func(b *testing.B) {
			n := scaleOutEvents()
			for range b.N {
				b.StopTimer()
				envs := scaleOutEnv(b, procs, n)
				path := fmt.Sprintf("/rest/v1/lists/%d/leads.json", envs[0].idOf(b, "lists", "Webinar Attendees"))
				bodies := make([][][]byte, procs)
				for i, k := 0, 0; i < n; i, k = i+100, k+1 {
					bodies[k%procs] = append(bodies[k%procs], leadsBody(i, min(i+100, n), false))
				}
				settle(b)
				cpu0, pg0 := cpuTime(), pgCPU()
				start := time.Now()
				b.StartTimer()
				var wg sync.WaitGroup
				for i, e := range envs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for _, body := range bodies[i] {
							e.post(b, path, body)
						}
					}()
				}
				wg.Wait()
				// The calls queue the trigger campaigns' runs as jobs
				// (campc_runs): the events are done once those ran.
				runsDone(b, envs[0].st.DB())
				b.StopTimer()
				el := time.Since(start)
				cpu, pg := cpuTime()-cpu0, pgCPU()-pg0
				b.ReportMetric(float64(n)/el.Seconds(), "events/s")
				b.ReportMetric(float64(cpu+pg)/float64(n)/1e3, "cpu_us/event")
				if cpu+pg > 0 {
					b.ReportMetric(100*float64(pg)/float64(cpu+pg), "pg_cpu_%")
				}
				if got := activities(b, envs[0].st, stdlib.ActInterestingMoment); got != n {
					b.Fatalf("%d Interesting Moment activities for %d list additions", got, n)
				}
			}
		})
	}
}

// runsDone waits until the flow runs the API calls queued have run: the
// queue is empty and no campc_runs job is left.
func runsDone(b *testing.B, db *sql.DB) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var left int
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM queue) + (SELECT count(*) FROM river_job
WHERE kind = 'campc_runs' AND state NOT IN ('completed', 'discarded', 'cancelled'))`).Scan(&left); err != nil {
			b.Fatal(err)
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("after 10 minutes %d queued runs or campc_runs jobs are left", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
