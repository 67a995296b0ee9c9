package bench

// The benchmarks. One op is one person (Batch*, Predicate, Memory), one
// event (Events) or one whole project (Check, whose b.SetBytes makes MB/s
// the comparable figure). Setup (generating and loading people, importing
// them into a database, compiling) is outside the timer. bench/run.sh runs
// them and writes BENCHMARKS.md; .ci/run runs each once.

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/campc/campc/bench/gen"
	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// PostgresEnv points the PostgreSQL benchmark at a server, as in the store
// tests: postgres://user@host:port/db?sslmode=disable.
const PostgresEnv = "CAMPC_TEST_POSTGRES"

func mustCompile(b testing.TB, srcs []lang.Source) *ir.Program {
	b.Helper()
	prog, err := Compile(srcs)
	if err != nil {
		b.Fatal(err)
	}
	return prog
}

func canonical(b testing.TB) (*ir.Program, *ir.Campaign) {
	prog := mustCompile(b, gen.CanonicalSources())
	return prog, prog.CampaignsNamed(gen.Batch)[0]
}

// settle collects the setup's garbage and returns the free memory to the
// operating system before the timer starts, so that every benchmark starts
// from the same state whatever ran before it in the process (otherwise the
// second of a pair reuses pages the first faulted in, which on this
// machine is worth a factor of two). With BENCH_WARM set it instead leaves
// about 1 GB of pages faulted in and free, to show what page faults cost:
// an experiment, not how run.sh measures.
func settle(b *testing.B) {
	if os.Getenv("BENCH_WARM") != "" {
		var keep [][]byte
		for range 250_000 {
			keep = append(keep, make([]byte, 4096))
		}
		keep = nil
		runtime.GC()
	} else {
		debug.FreeOSMemory()
	}
	b.ReportAllocs()
	b.ResetTimer()
}

func perPerson(b *testing.B, acts, people int) {
	b.ReportMetric(float64(acts)/float64(people), "acts/person")
	b.ReportMetric(float64(people)/b.Elapsed().Seconds(), "people/s")
}

// BenchmarkBatch runs the canonical batch campaign over b.N people: held
// in a MemStore, through the engine and by hand on the same store
// (Handwritten); and by hand over columns (Limit), the physical limit.
func BenchmarkBatch(b *testing.B) {
	prog, _ := canonical(b)
	ctx := context.Background()
	b.Run("campc", func(b *testing.B) {
		eng, err := NewEngine(prog, LoadMem(0, b.N), 1)
		if err != nil {
			b.Fatal(err)
		}
		settle(b)
		rep, err := eng.RunBatch(ctx, gen.Batch, vm.RunOptions{})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		perPerson(b, len(rep.Activities), b.N)
	})
	b.Run("handwritten", func(b *testing.B) {
		s := LoadMem(0, b.N)
		h := NewHandwritten()
		settle(b)
		acts, err := h.Run(ctx, s)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		perPerson(b, len(acts), b.N)
	})
	b.Run("limit", func(b *testing.B) {
		c := LoadColumns(0, b.N)
		settle(b)
		acts, err := Limit{}.Run(c)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		perPerson(b, len(acts), b.N)
	})
}

// BenchmarkBatchParallel runs the canonical batch over b.N people in one
// MemStore using every core: the engine's own parallel batch run
// (vm.Options.Workers = GOMAXPROCS), in which workers run groups of 500
// people each in a transaction of its own and commit them in order, so the
// log is the same as a single worker's.
func BenchmarkBatchParallel(b *testing.B) {
	prog, _ := canonical(b)
	ctx := context.Background()
	b.Run("campc", func(b *testing.B) {
		workers := runtime.GOMAXPROCS(0)
		eng, err := NewEngine(prog, LoadMem(0, b.N), workers)
		if err != nil {
			b.Fatal(err)
		}
		settle(b)
		rep, err := eng.RunBatch(ctx, gen.Batch, vm.RunOptions{})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		perPerson(b, len(rep.Activities), b.N)
		b.ReportMetric(float64(workers), "workers")
	})
}

// BenchmarkPredicate evaluates the canonical three-filter smart list for
// one person: the engine's evaluation of the compiled smart list
// (vm.Matcher), and the same predicate compiled by expr over the same
// *storage.Person.
func BenchmarkPredicate(b *testing.B) {
	prog, c := canonical(b)
	people := gen.People(gen.Seed, 0, gen.Small)
	b.Run("campc", func(b *testing.B) {
		eng, err := NewEngine(prog, nil, 1)
		if err != nil {
			b.Fatal(err)
		}
		m, err := eng.Matcher(c.Name)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		settle(b)
		for i := range b.N {
			if m.Match(people[i%len(people)], Now) {
				n++
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(n)/float64(b.N), "matched")
	})
	b.Run("expr", func(b *testing.B) {
		pred, err := NewExprPredicate()
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		settle(b)
		for i := range b.N {
			ok, err := pred.Match(people[i%len(people)])
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				n++
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(n)/float64(b.N), "matched")
	})
}

// CheckCampaigns is the size of the project BenchmarkCheck checks.
const CheckCampaigns = 10_000

// BenchmarkCheck parses and checks a generated 10,000-campaign project,
// against go/parser parsing generated Go source of the same size. One op
// is the whole input; compare MB/s.
func BenchmarkCheck(b *testing.B) {
	srcs := gen.Project(CheckCampaigns)
	size := gen.Size(srcs)
	b.Run("campc", func(b *testing.B) {
		b.SetBytes(int64(size))
		settle(b)
		for range b.N {
			res := compiler.Compile(srcs, compiler.Options{})
			if res.HasErrors() {
				b.Fatal(res)
			}
		}
	})
	b.Run("goparser", func(b *testing.B) {
		src := gen.GoSource(size)
		b.SetBytes(int64(len(src)))
		settle(b)
		for range b.N {
			if _, err := parser.ParseFile(token.NewFileSet(), "generated.go", src, parser.ParseComments); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Events is how many active trigger campaigns BenchmarkEvents has; five
// listen to each event key.
const Events = 1_000

// BenchmarkEvents delivers b.N events (form fills, list additions, data
// value changes; gen.Event) to 10,000 people with 1,000 active trigger
// campaigns, five listening to each event key, through Engine.Deliver.
func BenchmarkEvents(b *testing.B) {
	prog := mustCompile(b, gen.EventsProject(Events))
	ctx := context.Background()
	b.Run("campc", func(b *testing.B) {
		eng, err := NewEngine(prog, LoadMem(0, gen.Small), 1)
		if err != nil {
			b.Fatal(err)
		}
		evs := make([]storage.Event, b.N)
		for i := range evs {
			evs[i] = gen.Event(i, gen.Small, Events)
		}
		acts, runs := 0, 0
		settle(b)
		for _, ev := range evs {
			rep, err := eng.Deliver(ctx, ev)
			if err != nil {
				b.Fatal(err)
			}
			acts += len(rep.Activities)
			runs += len(rep.Entered)
		}
		b.StopTimer()
		b.ReportMetric(float64(acts)/float64(b.N), "acts/event")
		b.ReportMetric(float64(runs)/float64(b.N), "runs/event")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// batchOnStore imports b.N people into a durable store (untimed) and runs
// the canonical batch over them (timed).
func batchOnStore(b *testing.B, s *store.Store) {
	prog, _ := canonical(b)
	ctx := context.Background()
	for i := 0; i < b.N; i += 10_000 {
		if err := s.Import(ctx, gen.People(gen.Seed, i, min(i+10_000, b.N)), nil); err != nil {
			b.Fatal(err)
		}
	}
	eng, err := NewEngine(prog, s, 1)
	if err != nil {
		b.Fatal(err)
	}
	settle(b)
	rep, err := eng.RunBatch(ctx, gen.Batch, vm.RunOptions{})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	perPerson(b, len(rep.Activities), b.N)
}

// BenchmarkBatchSQLite runs the canonical batch on a SQLite file.
func BenchmarkBatchSQLite(b *testing.B) {
	b.Run("campc", func(b *testing.B) {
		s, err := store.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		batchOnStore(b, s)
	})
}

var pgSchemas int

// BenchmarkBatchPostgres runs the canonical batch on PostgreSQL, in a
// schema of its own, when CAMPC_TEST_POSTGRES names a server.
func BenchmarkBatchPostgres(b *testing.B) {
	b.Run("campc", func(b *testing.B) {
		base := os.Getenv(PostgresEnv)
		if base == "" {
			b.Skipf("set %s=postgres://… to run (.ci/postgres.sh start starts a private server)", PostgresEnv)
		}
		ctx := context.Background()
		admin, err := sql.Open("pgx", base)
		if err != nil {
			b.Fatal(err)
		}
		defer admin.Close()
		pgSchemas++
		schema := fmt.Sprintf("bench%d_%d", os.Getpid(), pgSchemas)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			b.Fatal(err)
		}
		defer admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		s, err := store.OpenPostgres(ctx, base+sep+"search_path="+schema, true)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		batchOnStore(b, s)
	})
}

// BenchmarkMemory holds a million generated people in a MemStore and
// reports the process's peak resident set (VmHWM, reset first so that
// earlier benchmarks do not count), the live heap with the store loaded,
// and the heap per person. One op loads the million people (with -short,
// as in CI, 10,000: the figures then mean little). bench/run.sh runs it
// in a process of its own.
func BenchmarkMemory(b *testing.B) {
	b.Run("campc", func(b *testing.B) {
		people := gen.Large
		if testing.Short() {
			people = gen.Small
		}
		var s *memstore.Store
		b.StopTimer()
		for range b.N {
			s = nil
			runtime.GC()
			debug.FreeOSMemory()
			resetPeakRSS()
			b.StartTimer()
			s = LoadMem(0, people)
			b.StopTimer()
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
		b.ReportMetric(float64(ms.HeapAlloc)/float64(people), "heap-B/person")
		b.ReportMetric(float64(people), "people")
		runtime.KeepAlive(s)
	})
}

// resetPeakRSS sets VmHWM to the current resident set (Linux 4.0 and later).
func resetPeakRSS() {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads VmHWM from /proc/self/status, in bytes (0 where there is
// no /proc).
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkImport runs the campc binary's import of a generated CSV people
// file (1,000,000 rows; with -short, as in CI, 10,000) into a new SQLite
// database, and reports the child process's peak resident set from its
// rusage: import streams the file, so the figure must stay bounded
// whatever the file's size (target: under 300 MB for the million). One op
// is one whole import; building the binary and writing the file are
// outside the timer.
func BenchmarkImport(b *testing.B) {
	b.Run("campc", func(b *testing.B) {
		people := gen.Large
		if testing.Short() {
			people = gen.Small
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			b.Skip("no go command to build campc with")
		}
		dir := b.TempDir()
		bin := filepath.Join(dir, "campc")
		// Built in the main module, with its go.mod and go.sum: campc's own
		// dependencies (the service's included) are not the bench module's.
		build := exec.Command(goTool, "build", "-o", bin, "./cmd/campc")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("build campc: %v\n%s", err, out)
		}
		camp := filepath.Join(dir, "bench.camp")
		if err := os.WriteFile(camp, []byte(gen.Canonical), 0o644); err != nil {
			b.Fatal(err)
		}
		csvPath := filepath.Join(dir, "people.csv")
		f, err := os.Create(csvPath)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		if err := gen.PeopleCSV(w, 1, 0, people); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		fi, _ := os.Stat(csvPath)
		var peak int64
		b.ResetTimer()
		for i := range b.N {
			db := filepath.Join(dir, fmt.Sprintf("state%d.db", i))
			cmd := exec.Command(bin, "import", "--db", db, csvPath, camp)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("campc import: %v\n%s", err, out)
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				peak = max(peak, ru.Maxrss<<10) // kilobytes on Linux
			}
			b.StopTimer()
			os.Remove(db)
			b.StartTimer()
		}
		b.StopTimer()
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(people)*float64(b.N)/b.Elapsed().Seconds(), "people/s")
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
		b.ReportMetric(float64(people), "people")
	})
}

// BenchmarkSimulate runs 30 days of virtual time (Simulate) over 100,000
// generated people in a MemStore (with -short, as in CI, 1,000): trigger
// campaigns on SimEventsPerPerson events a person a day, their waits
// resumed every hour, and the recurring batch run at each of its daily
// times. One op is the whole simulation; people-days/s is the figure
// (the target, 30 days for 1,000,000 people in under 60 s, is
// 500,000 people-days/s). BENCH_SIM_PEOPLE=N sets another population.
func BenchmarkSimulate(b *testing.B) {
	prog := mustCompile(b, gen.SimulationSources())
	people := gen.Medium
	if testing.Short() {
		people = 1_000
	}
	if n, err := strconv.Atoi(os.Getenv("BENCH_SIM_PEOPLE")); err == nil && n > 0 {
		people = n // to measure how the figure scales
	}
	ctx := context.Background()
	b.Run("campc", func(b *testing.B) {
		var res SimResult
		b.ReportAllocs()
		b.StopTimer()
		b.ResetTimer()
		for range b.N {
			eng, clock, err := NewSimulation(prog, LoadMem(0, people))
			if err != nil {
				b.Fatal(err)
			}
			debug.FreeOSMemory() // as settle does, without resetting the timer
			b.StartTimer()
			res, err = Simulate(ctx, eng, clock, people, SimDays)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
		}
		secs := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(float64(people*SimDays)/secs, "people-days/s")
		b.ReportMetric(float64(res.Events)/float64(SimDays), "events/day")
		b.ReportMetric(float64(res.Activities)/float64(people*SimDays), "acts/person-day")
		b.ReportMetric(float64(people), "people")
	})
}
