package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a campc process started in the background.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan error
}

// syncBuffer is a buffer a test may read while the process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}

func startCampc(t *testing.T, bin, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	return p
}

// waitAll waits for the processes to end, killing them all and failing
// the test when they take longer than limit (a deadlock).
func waitAll(t *testing.T, limit time.Duration, ps ...*proc) {
	t.Helper()
	timeout := time.After(limit)
	for i, p := range ps {
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("process %d: %v\n%s", i+1, err, p.stderr.String())
			}
		case <-timeout:
			for _, q := range ps {
				q.cmd.Process.Kill()
			}
			t.Fatalf("the processes did not all finish in %v: they hang (process %d stderr: %s)", limit, i+1, p.stderr.String())
		}
	}
}

// concurrentProject writes n people and a project with two batch
// campaigns over all of them into dir.
func concurrentProject(t *testing.T, dir string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("Id,Email,LeadScore\n")
	for i := range n {
		fmt.Fprintf(&b, "p%06d,p%d@example.com,%d\n", i, i, i%50)
	}
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte(b.String()), 0o666); err != nil {
		t.Fatal(err)
	}
	const project = `workspace "W"
program "P" {
  batch campaign "A" {
    smart list { filter Email is not empty }
    flow {
      change score LeadScore by "+1"
      interesting moment web "a"
    }
    qualify every time
  }
  batch campaign "B" {
    smart list { filter Email is not empty }
    flow {
      change score LeadScore by "+100"
      interesting moment web "b"
    }
    qualify every time
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "p.camp"), []byte(project), 0o666); err != nil {
		t.Fatal(err)
	}
}

// checkOnce checks that every person went through each campaign's two
// steps exactly once.
func checkOnce(t *testing.T, conn *sql.DB, people int, campaigns ...string) {
	t.Helper()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n, want := count(`SELECT count(*) FROM activities`), people*2*len(campaigns); n != want {
		t.Errorf("%d activities, want %d", n, want)
	}
	if n := count(`SELECT count(*) FROM (SELECT person, campaign, type FROM activities GROUP BY person, campaign, type HAVING count(*) <> 1) x`); n != 0 {
		t.Errorf("%d (person, campaign, step) have more than one activity", n)
	}
	if n, want := count(`SELECT count(*) FROM batch_runs WHERE done = 1`), len(campaigns); n != want {
		t.Errorf("%d batch runs done, want %d", n, want)
	}
}

// Issue #9 item 1: two and three processes run the same campaign on one
// PostgreSQL database with --workers 2, started a moment apart. All
// finish; one runs the batch, the others wait for it and show its log
// from the database; everyone is processed exactly once.
func TestConcurrentRunsPostgres(t *testing.T) {
	url := testPostgresURL(t)
	if testing.Short() {
		t.Skip("runs several batches at once; skipped with -short")
	}
	dir := t.TempDir()
	bin := buildCampc(t, dir)
	const people = 4000
	concurrentProject(t, dir, people)
	for _, k := range []int{2, 3} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			db := freshSchema(t, url)
			campcCmd(t, bin, dir, "migrate", "--db", db)
			campcCmd(t, bin, dir, "import", "--db", db, "people.csv", "p.camp")
			args := []string{"run", "--db", db, "--workers", "2", "--batch-group", "20", "--now", crashNow, "A", "p.camp"}
			var ps []*proc
			for range k {
				ps = append(ps, startCampc(t, bin, dir, args...))
				time.Sleep(300 * time.Millisecond)
			}
			waitAll(t, 3*time.Minute, ps...)
			ran := 0
			for i, p := range ps {
				if p.stdout.String() != ps[0].stdout.String() {
					t.Errorf("process %d printed another log than process 1", i+1)
				}
				if strings.Contains(p.stderr.String(), "is complete; nothing ran") {
					continue
				}
				ran++
				if p.stderr.Len() > 0 {
					t.Errorf("process %d: %s", i+1, p.stderr.String())
				}
			}
			if ran != 1 {
				t.Errorf("%d processes ran the batch, want 1", ran)
			}
			if !strings.Contains(ps[0].stdout.String(), fmt.Sprintf(`campaign "A": %d people entered the flow`, people)) {
				t.Errorf("no summary in the log")
			}
			conn, err := sql.Open("pgx", db)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			checkOnce(t, conn, people, "A")
		})
	}
}

// Issue #9 item 1: batch runs of two campaigns over the same people at
// once, with groups of different sizes (so one's groups straddle the
// other's) and two workers each, both finish: a worker waiting for its
// turn to commit never holds locks another process waits for while its
// own earlier group waits for that process.
func TestConcurrentCampaignsPostgres(t *testing.T) {
	url := testPostgresURL(t)
	if testing.Short() {
		t.Skip("runs several batches at once; skipped with -short")
	}
	dir := t.TempDir()
	bin := buildCampc(t, dir)
	const people = 4000
	concurrentProject(t, dir, people)
	// A deadlock does not come every time: before the fix, about one
	// trial in three hung.
	for trial := range 5 {
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			db := freshSchema(t, url)
			campcCmd(t, bin, dir, "migrate", "--db", db)
			campcCmd(t, bin, dir, "import", "--db", db, "people.csv", "p.camp")
			a := startCampc(t, bin, dir, "run", "--db", db, "--workers", "2", "--batch-group", "17", "--now", crashNow, "A", "p.camp")
			b := startCampc(t, bin, dir, "run", "--db", db, "--workers", "2", "--batch-group", "25", "--now", crashNow, "B", "p.camp")
			waitAll(t, 2*time.Minute, a, b)
			conn, err := sql.Open("pgx", db)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			checkOnce(t, conn, people, "A", "B")
		})
	}
}

// Issue #9 item 13.4: a second process on a SQLite file, started while a
// run is going, says the run is in progress (not that it stopped part way),
// waits for it, and then shows its log; everyone is processed once.
func TestRunInProgressSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 20,000-person batch; skipped with -short")
	}
	r := startSQLiteRun(t)
	conn, count, first, want := r.conn, r.count, r.first, crashPeople*crashSteps
	bin, dir, args := r.bin, r.dir, r.args
	// The first run is stopped (SIGSTOP) while the second starts, so that
	// however loaded the machine, the second finds it in progress; its
	// lease stays live, as it is younger than the 15 s a lease holds.
	stopOutsideTx(t, first, conn)
	if count(`SELECT count(*) FROM batch_runs WHERE done = 1`) != 0 {
		t.Fatal("the first run ended before the second started")
	}
	second := startCampc(t, bin, dir, args...)
	waitFor(t, second, "waiting for it to finish")
	if err := first.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitAll(t, 3*time.Minute, first, second)
	errOut := second.stderr.String()
	if !strings.Contains(errOut, `the batch run of "Everyone" started at `+crashNow+` is in progress in another process (`) ||
		!strings.Contains(errOut, "waiting for it to finish") {
		t.Errorf("the second process did not say the run is in progress; stderr:\n%s", errOut)
	}
	if strings.Contains(errOut, "stopped part way") {
		t.Errorf("the second process took a run in progress for a stopped one; stderr:\n%s", errOut)
	}
	if !strings.Contains(errOut, "is complete; nothing ran") {
		t.Errorf("the second process did not show the completed run; stderr:\n%s", errOut)
	}
	if first.stdout.String() != second.stdout.String() {
		t.Errorf("the second process printed another log than the first")
	}
	if n := count(`SELECT count(*) FROM activities`); n != want {
		t.Errorf("%d activities, want %d", n, want)
	}
	if n := count(`SELECT count(*) FROM (SELECT person, type FROM activities GROUP BY person, type HAVING count(*) <> 1) x`); n != 0 {
		t.Errorf("%d (person, step) pairs do not have exactly one activity", n)
	}
}

// Issue #9 item 13.4: a process waiting for a run in progress takes it over
// once the process running it is gone (killed), finishes it, and says so;
// everyone is processed once.
func TestRunTakenOverSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 20,000-person batch; skipped with -short")
	}
	r := startSQLiteRun(t)
	conn, count, first, want := r.conn, r.count, r.first, crashPeople*crashSteps
	bin, dir, args := r.bin, r.dir, r.args
	// Stopped, so that it is still running, however loaded the machine,
	// when the second process starts and waits for it.
	stopOutsideTx(t, first, conn)
	second := startCampc(t, bin, dir, args...)
	waitFor(t, second, "waiting for it to finish")
	first.cmd.Process.Kill()
	<-first.done
	waitAll(t, 3*time.Minute, second)
	if errOut := second.stderr.String(); !strings.Contains(errOut, `finished an earlier run of "Everyone" that had stopped part way`) {
		t.Errorf("the second process did not say it finished the stopped run; stderr:\n%s", errOut)
	}
	if n := count(`SELECT count(*) FROM activities`); n != want {
		t.Errorf("%d activities, want %d", n, want)
	}
	if n := count(`SELECT count(*) FROM (SELECT person, type FROM activities GROUP BY person, type HAVING count(*) <> 1) x`); n != 0 {
		t.Errorf("%d (person, step) pairs do not have exactly one activity", n)
	}
	if n := count(`SELECT count(*) FROM batch_runs WHERE done = 1`); n != 1 {
		t.Errorf("%d batch runs done, want 1", n)
	}
}

// waitFor waits until p has written want to its standard error, failing
// the test if p ends first or a minute passes.
func waitFor(t *testing.T, p *proc, want string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for !strings.Contains(p.stderr.String(), want) {
		select {
		case err := <-p.done:
			t.Fatalf("the process ended (%v) before it said %q: %s", err, want, p.stderr.String())
		case <-deadline:
			t.Fatalf("the process did not say %q in a minute: %s", want, p.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stopOutsideTx stops p (SIGSTOP) at a moment when it holds no SQLite
// write transaction, so that other processes can still write: stopped
// inside one, it is let go on again and stopped once more a little later.
func stopOutsideTx(t *testing.T, p *proc, db *sql.DB) {
	t.Helper()
	ctx := context.Background()
	for try := 0; try < 500; try++ {
		if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		// The signal is delivered asynchronously: probe the lock only once
		// the process is seen stopped, or it could begin a write after.
		waitStopped(t, p.cmd.Process.Pid)
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c.ExecContext(ctx, "PRAGMA busy_timeout = 20")
		_, err = c.ExecContext(ctx, "BEGIN IMMEDIATE")
		if err == nil {
			c.ExecContext(ctx, "ROLLBACK")
		}
		c.ExecContext(ctx, "PRAGMA busy_timeout = 10000")
		c.Close()
		if err == nil {
			return
		}
		if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(1+try%7) * time.Millisecond)
	}
	t.Fatal("could not stop the process outside a write transaction")
}

// sqliteRun is a crash-test batch run on a SQLite file, well under way.
type sqliteRun struct {
	dir, bin string
	args     []string // the run's command line
	conn     *sql.DB
	count    func(query string) int
	first    *proc // the process running it
}

// startSQLiteRun imports the crash test's people into a new SQLite file
// and starts the batch over them, returning once a tenth of it is written.
func startSQLiteRun(t *testing.T) *sqliteRun {
	t.Helper()
	r := &sqliteRun{dir: t.TempDir()}
	r.bin = buildCampc(t, r.dir)
	writeCrashProject(t, r.dir)
	path := filepath.Join(r.dir, "campc.db")
	campcCmd(t, r.bin, r.dir, "import", "--db", path, "people.csv", "crash.camp")
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r.conn = conn
	r.count = func(q string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	r.args = []string{"run", "--db", path, "--batch-group", crashGroup, "--now", crashNow, "Everyone", "crash.camp"}
	r.first = startCampc(t, r.bin, r.dir, r.args...)
	deadline := time.After(2 * time.Minute)
	for r.count(`SELECT count(*) FROM activities`) < crashPeople*crashSteps/10 {
		select {
		case <-deadline:
			r.first.cmd.Process.Kill()
			t.Fatal("the first run wrote too little in 2 minutes")
		case <-time.After(5 * time.Millisecond):
		}
	}
	return r
}

// waitStopped waits until the kernel reports process pid stopped ("T" in
// /proc/PID/stat).
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatalf("read the state of process %d: %v", pid, err)
		}
		// The state follows the command name, which is in parentheses.
		if j := strings.LastIndexByte(string(b), ')'); j >= 0 && j+2 < len(b) && (b[j+2] == 'T' || b[j+2] == 't') {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("process %d did not stop", pid)
}
