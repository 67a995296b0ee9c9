package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/campc/campc/store"
)

// deployCamp is a one-campaign project: "Nurture", requested from the
// API, runs flow.
func deployCamp(flow string) string {
	return `workspace "Acme"

program "P" {
  email "A" { subject "A" }
  email "B" { subject "B" }
  email "C" { subject "C" }
  email "D" { subject "D" }

  trigger campaign "Nurture" {
    smart list {
      trigger campaign is requested from api
    }
    flow {
      ` + flow + `
    }
    active
  }
}
`
}

func writeCamp(t *testing.T, dir, text string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nurture.camp"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitLog waits until the process's log holds want, after skip bytes.
func (p *serveProcess) waitLog(t *testing.T, skip int, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s := p.stderr.String(); len(s) > skip && strings.Contains(s[skip:], want) {
			return s[skip:]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %q in campc serve's log:\n%s", want, p.stderr.String()[skip:])
	return ""
}

func campcBin(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
		if code < 0 {
			t.Fatalf("campc %v: %v", args, err)
		}
	}
	return out.String(), errb.String(), code
}

// TestDeployProcess is the issue's case end to end, over HTTP on
// 127.0.0.1, on SQLite and on PostgreSQL: people parked in the wait of
// A, wait, B, C through the REST API; campc deploy --dry-run (A deleted)
// plans and writes nothing; a broken project is refused by campc deploy
// and by SIGHUP, and the service keeps running; campc deploy and a SIGHUP
// (D inserted before the wait) are picked up; past the wait, B and C are
// sent once each and D never, as the activity log over HTTP shows.
func TestDeployProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGHUP")
	}
	dir := t.TempDir()
	bin := buildCampc(t, dir)
	t.Run("sqlite", func(t *testing.T) { deployProcess(t, bin, filepath.Join(t.TempDir(), "serve.db")) })
	t.Run("postgres", func(t *testing.T) {
		db := freshSchema(t, testPostgresURL(t))
		if _, errs, code := campcBin(t, bin, "migrate", "--db", db); code != 0 {
			t.Fatalf("migrate: %s", errs)
		}
		deployProcess(t, bin, db)
	})
}

func deployProcess(t *testing.T, bin, db string) {
	dir := t.TempDir()
	proj, v2, broken := filepath.Join(dir, "proj"), filepath.Join(dir, "v2"), filepath.Join(dir, "broken")
	issue := "send email \"A\"\n      wait 1 day\n      send email \"B\"\n      send email \"C\""
	writeCamp(t, proj, deployCamp(issue))
	writeCamp(t, v2, deployCamp("wait 1 day\n      send email \"B\"\n      send email \"C\""))
	writeCamp(t, broken, deployCamp("send email \"Nope\"\n      wait 1 day"))
	addr := freeAddr(t)
	env := []string{"CAMPC_CLIENT_ID=demo", "CAMPC_CLIENT_SECRET=s3cret"}
	p := startServe(t, bin, addr, env, "--db", db, proj)

	tok := getToken(t, addr, "demo", "s3cret")
	api := func(method, path string, q url.Values, body string) map[string]any {
		t.Helper()
		if q == nil {
			q = url.Values{}
		}
		q.Set("access_token", tok)
		req, _ := http.NewRequest(method, "http://"+addr+path+"?"+q.Encode(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil || m["success"] != true {
			t.Fatalf("%s %s: %v %v", method, path, err, m)
		}
		return m
	}
	created := api("POST", "/rest/v1/leads.json", nil, `{"action":"createOnly","input":[{"email":"x@acme.example"},{"email":"y@acme.example"}]}`)
	var leads []string
	for _, r := range created["result"].([]any) {
		leads = append(leads, fmt.Sprint(r.(map[string]any)["id"]))
	}
	camps := api("GET", "/rest/v1/campaigns.json", url.Values{"name": {"Nurture"}}, "")
	cid := fmt.Sprint(camps["result"].([]any)[0].(map[string]any)["id"])
	api("POST", "/rest/v1/campaigns/"+cid+"/trigger.json", nil, fmt.Sprintf(`{"input":{"leads":[{"id":%s},{"id":%s}]}}`, leads[0], leads[1]))

	deploys := func() []*store.Deploy {
		t.Helper()
		st, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		tx, err := st.BeginServe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		d, err := tx.Deploys()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := deploys(); len(d) != 1 || d[0].State != store.DeployApplied || d[0].Who != "campc serve start" {
		t.Fatalf("the start is not recorded as a deploy: %+v", d)
	}

	// The dry run: both people stay in the wait, now the first step. In
	// River mode the requested runs are jobs that may still be running
	// when trigger.json answers: ask again until both people wait.
	var out, errs string
	var code int
	var lines []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, errs, code = campcBin(t, bin, "deploy", "--db", db, "--dry-run", v2)
		if code != 0 {
			t.Fatalf("deploy --dry-run: exit %d\n%s", code, errs)
		}
		lines = strings.Split(strings.TrimSpace(out), "\n")
		if strings.Contains(out, "2 waits:") || time.Now().After(deadline) {
			break
		}
	}
	if len(lines) != 4 || !strings.HasSuffix(lines[3], "nothing deployed") ||
		!strings.Contains(lines[0], `in Acme/Nurture: "wait 1 day" at `+filepath.Join(proj, "nurture.camp")+`:15:7 -> "wait 1 day" at `+filepath.Join(v2, "nurture.camp")+`:14:7`) {
		t.Fatalf("deploy --dry-run:\n%s", out)
	}
	if d := deploys(); len(d) != 1 {
		t.Fatalf("the dry run wrote a deploy: %+v", d)
	}

	// A project with errors: refused, nothing written.
	_, errs, code = campcBin(t, bin, "deploy", "--db", db, broken)
	if code != 1 || !strings.Contains(errs, filepath.Join(broken, "nurture.camp")+":14:") || !strings.Contains(errs, "nothing deployed") {
		t.Fatalf("deploy of a broken project: exit %d\n%s", code, errs)
	}
	if d := deploys(); len(d) != 1 {
		t.Fatalf("a refused deploy wrote a row: %+v", d)
	}

	// campc deploy: the running service applies it on its next tick.
	mark := len(p.stderr.String())
	out, errs, code = campcBin(t, bin, "deploy", "--db", db, v2)
	if code != 0 || !strings.Contains(out, "recorded (pending") {
		t.Fatalf("deploy: exit %d\n%s%s", code, out, errs)
	}
	p.waitLog(t, mark, `"msg":"deploy applied"`)
	if d := deploys(); len(d) != 2 || d[1].State != store.DeployApplied || !strings.Contains(d[1].Summary, "2 continue") {
		t.Fatalf("deploys after campc deploy: %+v", d)
	}

	// SIGHUP with a broken project: logged with file:line:col, refused.
	writeCamp(t, proj, deployCamp("send email \"Nope\"\n      wait 1 day"))
	mark = len(p.stderr.String())
	p.cmd.Process.Signal(syscall.SIGHUP)
	logged := p.waitLog(t, mark, "SIGHUP: the project has errors")
	if !strings.Contains(logged, "nurture.camp:14:") {
		t.Errorf("the refusal does not say where:\n%s", logged)
	}
	if d := deploys(); len(d) != 2 {
		t.Fatalf("a refused SIGHUP wrote a deploy: %+v", d)
	}
	api("GET", "/rest/v1/campaigns.json", nil, "") // still serving

	// SIGHUP with a good one: D inserted before the wait.
	writeCamp(t, proj, deployCamp("send email \"D\"\n      wait 1 day\n      send email \"B\"\n      send email \"C\""))
	mark = len(p.stderr.String())
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, mark, "SIGHUP: deployed")
	if d := deploys(); len(d) != 3 || d[2].Who != "SIGHUP" {
		t.Fatalf("deploys after SIGHUP: %+v", d)
	}
	p.stop(t)

	// Past the wait, then the log over HTTP.
	if _, errs, code := campcBin(t, bin, "advance", "--db", db, "--until", "49h", proj); code != 0 {
		t.Fatalf("advance: exit %d\n%s", code, errs)
	}
	p = startServe(t, bin, addr, env, "--db", db, proj)
	defer p.stop(t)
	if d := deploys(); len(d) != 3 {
		t.Fatalf("a restart with the deployed project recorded another deploy: %+v", d)
	}
	tok = getToken(t, addr, "demo", "s3cret")
	pt := api("GET", "/rest/v1/activities/pagingtoken.json", url.Values{"sinceDatetime": {"2020-01-01"}}, "")["nextPageToken"].(string)
	acts := api("GET", "/rest/v1/activities.json", url.Values{"nextPageToken": {pt}, "activityTypeIds": {"6,100007"}}, "")
	var got []string
	for _, r := range acts["result"].([]any) {
		m := r.(map[string]any)
		got = append(got, fmt.Sprintf("%v %v", m["leadId"], m["primaryAttributeValue"]))
	}
	sort.Strings(got)
	want := []string{leads[0] + " A", leads[0] + " B", leads[0] + " C", leads[1] + " A", leads[1] + " B", leads[1] + " C"}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("activities over HTTP:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// campc deploy refuses, saying why and writing nothing: a project with
// errors (exit 1, file:line:col, no database made), a database that does
// not exist (exit 2), a bad flag (exit 2).
func TestDeployRefuses(t *testing.T) {
	dir := t.TempDir()
	good, broken := filepath.Join(dir, "good"), filepath.Join(dir, "broken")
	writeCamp(t, good, deployCamp("wait 1 day"))
	writeCamp(t, broken, deployCamp("send email \"Nope\""))
	db := filepath.Join(dir, "none.db")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--db", db, broken}, exitError, filepath.Join(broken, "nurture.camp") + ":14:"},
		{[]string{"--db", db, "--dry-run", broken}, exitError, "nothing deployed"},
		{[]string{"--db", db, good}, exitUsage, "--db " + db + ": no such file"},
		{[]string{"--db", "", good}, exitUsage, "--db needs a value"},
		{[]string{"--dry-run=maybe", good}, exitUsage, "--dry-run"},
		{[]string{"--db", db, filepath.Join(dir, "missing")}, exitUsage, "missing"},
	} {
		code, _, stderr := campc(append([]string{"deploy"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("deploy %v: exit %d, want %d; stderr %q, want %q", tc.args, code, tc.code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused deploy made a database")
	}
	code, out, _ := campc("help", "deploy")
	if code != 0 || !strings.Contains(out, "--dry-run") || !strings.Contains(out, "Exit 0") {
		t.Errorf("help deploy: %d\n%s", code, out)
	}
}
