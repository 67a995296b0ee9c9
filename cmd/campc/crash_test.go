package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/campc/campc/store" // registers the sqlite and pgx drivers
)

// The crash tests kill `campc run --db` with SIGKILL in the middle of a
// batch over crashPeople people, run the same command again, and check in
// the database that every person went through every step exactly once;
// then they kill a second run after it is marked done but before it exits,
// and check that the same command again runs nobody.
const (
	crashPeople = 20000
	crashGroup  = "20" // --batch-group: many small commits, so the run takes a while
	crashNow    = "2026-12-01T09:00:00Z"
)

// The campaign qualifies every time: only the run's cursor keeps a resumed
// run from processing a person again.
const crashProject = `workspace "W"
field Tier text
list "Seen"
program "P" {
  batch campaign "Everyone" {
    smart list { filter Email is not empty }
    flow {
      change score LeadScore by "+1"
      add to list "Seen"
      change data value Tier to "gold"
      interesting moment web "Touched by {{program.Name}}"
    }
    qualify every time
  }
}
`

// crashSteps is the number of activities one pass writes.
const crashSteps = 4

// buildCampc builds campc (without the race detector, which would make a
// 20,000-person run take minutes) once per test process, and returns its
// path (dir is the caller's directory, kept for the callers' sake). One
// build for every process test, not one each: linking campc takes seconds.
func buildCampc(t *testing.T, dir string) string {
	t.Helper()
	built.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if built.dir, built.err = os.MkdirTemp("", "campc-test-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "campc")
		if out, err := exec.Command(goTool, "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// built is the campc binary buildCampc made; TestMain removes its
// directory when the tests end.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

// writeCrashProject writes the campaign and its people into dir.
func writeCrashProject(t *testing.T, dir string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("Id,Email,FirstName,LeadScore\n")
	for i := range crashPeople {
		fmt.Fprintf(&b, "p%06d,p%d@example.com,Person %d,%d\n", i, i, i, i%50)
	}
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte(b.String()), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "crash.camp"), []byte(crashProject), 0o666); err != nil {
		t.Fatal(err)
	}
}

// campcCmd runs campc in dir and fails the test unless it exits 0.
func campcCmd(t *testing.T, bin, dir string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("campc %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

func TestCrashSQLite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "campc.db")
	crashTest(t, dir, path, func() (*sql.DB, error) {
		return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	})
}

func TestCrashPostgres(t *testing.T) {
	url := testPostgresURL(t)
	dir := t.TempDir()
	db := freshSchema(t, url)
	crashTest(t, dir, db, func() (*sql.DB, error) { return sql.Open("pgx", db) })
}

func crashTest(t *testing.T, dir, db string, openDB func() (*sql.DB, error)) {
	if testing.Short() {
		t.Skip("the crash test runs a 20,000-person batch twice; skipped with -short")
	}
	bin := buildCampc(t, dir)
	writeCrashProject(t, dir)
	campcCmd(t, bin, dir, "migrate", "--db", db)
	campcCmd(t, bin, dir, "import", "--db", db, "people.csv", "crash.camp")

	conn, err := openDB()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM people`); n != crashPeople {
		t.Fatalf("imported %d people, want %d", n, crashPeople)
	}

	args := []string{"run", "--db", db, "--batch-group", crashGroup, "--now", crashNow, "Everyone", "crash.camp"}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // stdout (the log of every activity) is discarded
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Kill the run once a good part of the people, but not all, are
	// committed. The database is only read here.
	want := crashPeople * crashSteps
	deadline := time.After(2 * time.Minute)
	var seen int
poll:
	for {
		select {
		case err := <-exited:
			t.Fatalf("the run ended (%v) before it could be killed, with %d of %d activities written: make it slower (a smaller --batch-group or more people)\n%s",
				err, seen, want, stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("the run wrote no more than %d of %d activities in 2 minutes", seen, want)
		case <-time.After(5 * time.Millisecond):
		}
		seen = count(`SELECT count(*) FROM activities`)
		if seen >= want/5 {
			break poll
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	err = <-exited
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the run was not killed by SIGKILL but ended with %v: the kill did not land mid-run\n%s", err, stderr.String())
	}

	// What the killed run committed: whole groups of whole passes, and the
	// run's cursor with them.
	acts := count(`SELECT count(*) FROM activities`)
	people := count(`SELECT count(DISTINCT person) FROM activities`)
	if people == 0 || people >= crashPeople {
		t.Fatalf("after the kill %d of %d people have activities: the kill did not land mid-run", people, crashPeople)
	}
	if acts != people*crashSteps {
		t.Fatalf("after the kill: %d activities for %d people, want %d each: a pass was split", acts, people, crashSteps)
	}
	if n := count(`SELECT count(*) FROM batch_runs WHERE done = 0`); n != 1 {
		t.Fatalf("after the kill: %d unfinished batch runs, want 1", n)
	}
	t.Logf("killed after %d of %d people", people, crashPeople)

	// The same command again finishes the run.
	_, errOut := campcCmd(t, bin, dir, args...)
	if !strings.Contains(errOut, `finished an earlier run of "Everyone"`) {
		t.Errorf("the rerun did not say it finished the earlier run; stderr:\n%s", errOut)
	}

	// Every person has exactly one activity per step.
	if n := count(`SELECT count(DISTINCT person) FROM activities`); n != crashPeople {
		t.Errorf("%d people have activities, want %d", n, crashPeople)
	}
	if n := count(`SELECT count(*) FROM activities`); n != want {
		t.Errorf("%d activities, want %d", n, want)
	}
	rows, err := conn.Query(`SELECT person, type, count(*) FROM activities GROUP BY person, type HAVING count(*) <> 1 ORDER BY person, type LIMIT 5`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var person, typ string
		var n int
		rows.Scan(&person, &typ, &n)
		t.Errorf("person %s has %d %q activities, want 1", person, n, typ)
	}
	rows.Close()
	if n := count(`SELECT count(*) FROM (SELECT person FROM activities GROUP BY person HAVING count(DISTINCT type) <> 4) x`); n != 0 {
		t.Errorf("%d people lack one of the %d steps", n, crashSteps)
	}
	if n := count(`SELECT count(*) FROM batch_runs`); n != 1 {
		t.Errorf("%d batch runs, want the one that was resumed", n)
	}
	if n := count(`SELECT count(*) FROM batch_runs WHERE done = 0`); n != 0 {
		t.Errorf("the batch run is not marked done")
	}
	// The people's state matches: every score went up by exactly one.
	for _, id := range []int{0, 1, crashPeople / 2, crashPeople - 1} {
		out, _ := campcCmd(t, bin, dir, "log", "--db", db, "--person", fmt.Sprintf("p%06d", id), "--format", "json")
		if want := fmt.Sprintf(`"New Value":%d,"Old Value":%d`, id%50+1, id%50); !strings.Contains(out, want) {
			t.Errorf("person p%06d's log does not show the score change %s:\n%s", id, want, out)
		}
	}

	crashAfterCommit(t, bin, dir, db, count)
}

// crashNext is the clock of the second run of the crash tests.
const crashNext = "2026-12-02T09:00:00Z"

// crashAfterCommit kills a run after it is marked done but before it
// exits: it cannot exit, because nobody reads the log it writes at the
// end. The same command again must find the run complete and run nobody.
func crashAfterCommit(t *testing.T, bin, dir, db string, count func(string) int) {
	args := []string{"run", "--db", db, "--batch-group", crashGroup, "--now", crashNext, "Everyone", "crash.camp"}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe() // never read: the run blocks writing its log
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	for count(`SELECT count(*) FROM batch_runs WHERE done = 1`) < 2 {
		select {
		case err := <-exited:
			t.Fatalf("the second run ended (%v) before it was marked done\n%s", err, stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("the second run was not marked done in 2 minutes")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	err = <-exited
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the second run was not killed but ended with %v\n%s", err, stderr.String())
	}
	// The second run changes nothing it need not (issue 11, bug 2): the
	// people are on the list already, and their Tier is "gold".
	const steps2 = crashSteps - 2
	want := (crashSteps + steps2) * crashPeople
	if n := count(`SELECT count(*) FROM activities`); n != want {
		t.Fatalf("after the second run: %d activities, want %d", n, want)
	}

	// The same command again: the run is complete, nobody runs again, and
	// its log and summary come from the database.
	stdout, errOut := campcCmd(t, bin, dir, args...)
	if !strings.Contains(errOut, `the run of "Everyone" at `+crashNext+` is complete; nothing ran`) {
		t.Errorf("the rerun did not say the run was complete; stderr:\n%s", errOut)
	}
	if !strings.Contains(stdout, fmt.Sprintf("summary: %d activities\n  campaign \"Everyone\": %d people entered the flow\n", crashPeople*steps2, crashPeople)) {
		t.Errorf("the rerun does not show the run's summary:\n%s", stdout[max(0, len(stdout)-1000):])
	}
	if n := strings.Count(stdout, " "+crashNext+"  person "); n != crashPeople*steps2 {
		t.Errorf("the rerun shows %d activities, want the run's %d", n, crashPeople*steps2)
	}
	if n := count(`SELECT count(*) FROM activities`); n != want {
		t.Errorf("after the rerun: %d activities, want %d: the completed run ran again", n, want)
	}
	if n := count(`SELECT count(*) FROM batch_runs`); n != 2 {
		t.Errorf("%d batch runs, want 2", n)
	}
	if n := count(`SELECT count(*) FROM (SELECT person, type FROM activities WHERE type NOT IN ('Add to List', 'Change Data Value') GROUP BY person, type HAVING count(*) <> 2) x`); n != 0 {
		t.Errorf("%d (person, step) pairs do not have exactly 2 activities (one per run)", n)
	}
}

// testPostgresURL returns the test server's URL, skipping the test when
// there is none (and failing it in CI, where there must be one).
func testPostgresURL(t testing.TB) string {
	url := os.Getenv("CAMPC_TEST_POSTGRES")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but CAMPC_TEST_POSTGRES is not: .ci/run must start PostgreSQL")
		}
		t.Skip("set CAMPC_TEST_POSTGRES=postgres://… to run the PostgreSQL tests (eval \"$(.ci/postgres.sh start)\" starts a private server)")
	}
	return url
}

var schemaCount atomic.Int64

// freshSchema makes a schema of its own on the test server, dropped when
// the test ends, and returns a URL whose search path is that schema.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	url, drop, err := newSchema(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return url
}
