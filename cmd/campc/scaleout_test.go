package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/campc/campc/internal/smtptest"
)

// scaleOutPeople is the size of TestScaleOutKillPostgres's batch; the
// issue's 100,000 takes several minutes on a 2-core machine, so the test
// suite runs 3,000 and .ci/run runs it again with
// CAMPC_SCALEOUT_PEOPLE=100000.
func scaleOutPeople(t *testing.T) int {
	if v := os.Getenv("CAMPC_SCALEOUT_PEOPLE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("CAMPC_SCALEOUT_PEOPLE=%q is not a positive number", v)
		}
		return n
	}
	return 3000
}

// scaleOutProject is a batch that runs once, at at, over everyone: a
// score change, a one-minute wait, an email, an interesting moment.
func scaleOutProject(at time.Time) string {
	return `workspace "W"
program "P" {
  email "Hello" {
    subject "Hello"
    from "news@example.com"
    text "Hi."
  }
  batch campaign "Nurture" {
    smart list { filter Email is not empty }
    flow {
      change score LeadScore by "+1"
      wait 1 minute
      send email "Hello"
      interesting moment web "done"
    }
    run at ` + at.UTC().Format(time.RFC3339) + `
  }
}
`
}

// TestScaleOutKillPostgres runs three campc serve processes on one
// PostgreSQL database over a batch with a wait and an email, kills one
// with SIGKILL while the batch runs, and starts it again later. At the end
// every person has exactly one activity per step, one email at the SMTP
// server, and no wait left: nothing lost, nothing doubled.
func TestScaleOutKillPostgres(t *testing.T) {
	base := testPostgresURL(t)
	n := scaleOutPeople(t)
	dir := t.TempDir()
	bin := buildCampc(t, dir)
	db := freshSchema(t, base)
	proj := filepath.Join(dir, "proj")
	os.MkdirAll(proj, 0o777)
	var b strings.Builder
	b.WriteString("Id,Email,LeadScore\n")
	for i := range n {
		fmt.Fprintf(&b, "p%06d,p%d@example.com,0\n", i, i)
	}
	people := filepath.Join(dir, "people.csv")
	os.WriteFile(people, []byte(b.String()), 0o666)
	at := time.Now().Add(time.Hour)
	os.WriteFile(filepath.Join(proj, "p.camp"), []byte(scaleOutProject(at)), 0o666)
	if out, errOut, code := campcBin(t, bin, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %s%s", out, errOut)
	}
	began := time.Now()
	if out, errOut, code := campcBin(t, bin, "import", "--db", db, people, proj); code != 0 {
		t.Fatalf("import: %s%s", out, errOut)
	}
	t.Logf("imported %d people in %v", n, time.Since(began).Round(time.Millisecond))
	// The batch's time is set once the people are in (an import of 100,000
	// takes a while), far enough ahead for three starts on a loaded
	// machine (about 2.3 s here at 100,000 people): a first start runs no
	// schedule from before it.
	at = time.Now().Add(15*time.Second + time.Duration(n)*100*time.Microsecond).Add(time.Second).Truncate(time.Second)
	os.WriteFile(filepath.Join(proj, "p.camp"), []byte(scaleOutProject(at)), 0o666)
	relay := smtptest.Start(t)
	env := []string{"CAMPC_CLIENT_ID=demo", "CAMPC_CLIENT_SECRET=s3cret"}
	args := []string{"--db", db, "--smtp", "smtp://" + relay.Addr, "--smtp-timeout", "5s", proj}
	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	procs := make([]*serveProcess, 3)
	began = time.Now()
	for i, a := range addrs {
		procs[i] = startServe(t, bin, a, env, args...)
	}
	t.Logf("three services ready in %v, %v before the batch's time", time.Since(began).Round(time.Millisecond), time.Until(at).Round(time.Millisecond))
	if time.Now().After(at) {
		t.Fatalf("the services were ready only after the batch's time %s: a first start runs no schedule from before it", at.Format(time.RFC3339))
	}
	conn, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	count := func(q string) int {
		t.Helper()
		var c int
		if err := conn.QueryRow(q).Scan(&c); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return c
	}
	// Kill a process that runs a chunk of the batch (the run is shared:
	// its chunks are River jobs), in the middle of the run: once a tenth
	// of the people are scored.
	deadline := at.Add(60*time.Second + time.Duration(n)*time.Millisecond)
	victim := -1
	for victim < 0 && time.Now().Before(deadline) {
		var owner string
		err := conn.QueryRow(`SELECT c.worker FROM batch_chunks c JOIN batch_runs r ON r.id = c.run_id
WHERE r.done = 0 AND c.done = 0 AND c.cursor <> ''
AND (SELECT count(*) FROM activities WHERE type = 'Change Score') >= $1
ORDER BY c.run_id, c.chunk LIMIT 1`, n/10).Scan(&owner)
		if err == nil {
			for i, p := range procs {
				if strings.Contains(owner, fmt.Sprintf(":%d:", p.cmd.Process.Pid)) {
					victim = i
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if victim < 0 {
		var logs strings.Builder
		for i, p := range procs {
			fmt.Fprintf(&logs, "process %d:\n%s", i, p.stderr)
		}
		t.Fatalf("saw no batch run in progress by %s (batch time %s): %d runs, %d done, %d chunks, %d done, %d people scored:\n%s",
			deadline.Format(time.RFC3339), at.Format(time.RFC3339), count(`SELECT count(*) FROM batch_runs`), count(`SELECT count(*) FROM batch_runs WHERE done <> 0`),
			count(`SELECT count(*) FROM batch_chunks`), count(`SELECT count(*) FROM batch_chunks WHERE done <> 0`),
			count(`SELECT count(*) FROM activities WHERE type = 'Change Score'`), logs.String())
	}
	if err := procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[victim].done
	killedAt := count(`SELECT count(*) FROM activities WHERE type = 'Change Score'`)
	t.Logf("killed process %d with %d of %d people scored, %v after the batch's time", victim, killedAt, n, time.Since(at).Round(time.Second))
	time.Sleep(3 * time.Second)
	// Its start may finish the batch run first (a schedule missed while it
	// was down runs once): it is ready after that.
	procs[victim] = startServeWithin(t, 30*time.Second+time.Duration(n)*2*time.Millisecond, bin, addrs[victim], env, args...)
	t.Logf("restarted it, %v after the batch's time", time.Since(at).Round(time.Second))

	// Everyone's wait resumes a minute after their pass, and their email goes.
	deadline = time.Now().Add(150*time.Second + time.Duration(n)*5*time.Millisecond)
	var scored, resumed, mailed bool // each phase's end, logged once
	for time.Now().Before(deadline) {
		if !scored && count(`SELECT count(*) FROM batch_runs WHERE done <> 0`) > 0 {
			scored = true
			t.Logf("the batch run finished %v after its time", time.Since(at).Round(time.Second))
		}
		if !resumed && count(`SELECT count(*) FROM activities WHERE type = 'Interesting Moment'`) >= n {
			resumed = true
			t.Logf("every wait resumed %v after the batch's time", time.Since(at).Round(time.Second))
		}
		if !mailed && len(relay.Messages()) >= n {
			mailed = true
			t.Logf("the SMTP server had every email %v after the batch's time", time.Since(at).Round(time.Second))
		}
		if resumed && mailed && count(`SELECT count(*) FROM outbox WHERE state <> 'sent'`) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	statusOut, statusErr, code := campcBin(t, bin, "status", "--db", db, "--format", "json")
	if code != 0 {
		t.Fatalf("campc status: %s", statusErr)
	}
	for _, p := range procs {
		p.stop(t)
	}
	var st struct {
		Processes []any `json:"processes"`
		Dead      []any `json:"dead"`
	}
	if err := json.Unmarshal([]byte(statusOut), &st); err != nil {
		t.Fatalf("campc status --format json: %v\n%s", err, statusOut)
	}
	if len(st.Processes) < 3 {
		t.Errorf("campc status shows %d processes alive, want at least 3:\n%s", len(st.Processes), statusOut)
	}
	if len(st.Dead) != 0 {
		t.Errorf("dead jobs: %s", statusOut)
	}
	for _, typ := range []string{"Change Score", "Send Email", "Interesting Moment"} {
		if c := count(`SELECT count(*) FROM activities WHERE type = '` + typ + `'`); c != n {
			t.Errorf("%d %s activities, want %d", c, typ, n)
		}
	}
	if c := count(`SELECT count(*) FROM (SELECT person, type FROM activities GROUP BY person, type HAVING count(*) > 1) x`); c != 0 {
		t.Errorf("%d (person, step) pairs have more than one activity", c)
	}
	if c := count(`SELECT count(*) FROM parked`); c != 0 {
		t.Errorf("%d waits left parked", c)
	}
	msgs := relay.Messages()
	seen := map[string]int{}
	for _, m := range msgs {
		for _, to := range m.To {
			seen[to]++
		}
	}
	if len(msgs) != n || len(seen) != n {
		t.Errorf("the SMTP server got %d messages for %d people, want %d each once", len(msgs), len(seen), n)
	}
	for to, k := range seen {
		if k > 1 {
			t.Errorf("%s got %d emails", to, k)
			break
		}
	}
	// The log as campc log gives it agrees.
	out, errOut, code := campcBin(t, bin, "log", "--db", db, "--format", "json")
	if code != 0 {
		t.Fatalf("campc log: %s", errOut)
	}
	if c := strings.Count(out, `"Send Email"`); c != n {
		t.Errorf("campc log shows %d Send Email activities, want %d", c, n)
	}
}
