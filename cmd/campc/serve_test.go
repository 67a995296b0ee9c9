package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freeAddr is an address on 127.0.0.1 that nothing listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProcess is campc serve running as a process.
type serveProcess struct {
	cmd    *exec.Cmd
	stderr *syncBuffer // read while the process writes it (deploy_test.go)
	done   chan error
}

func startServe(t *testing.T, bin, addr string, env []string, args ...string) *serveProcess {
	t.Helper()
	return startServeWithin(t, 30*time.Second, bin, addr, env, args...)
}

// startServeWithin is startServe, waiting up to ready for /healthz (a
// start that finishes a large batch run first takes longer).
func startServeWithin(t *testing.T, ready time.Duration, bin, addr string, env []string, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	p := &serveProcess{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(ready)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("campc serve exited: %v\n%s", err, p.stderr)
		default:
		}
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("campc serve did not become ready:\n%s", p.stderr)
	return nil
}

// stop sends SIGTERM and waits for the exit.
func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("campc serve after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("campc serve did not stop on SIGTERM:\n%s", p.stderr)
	}
}

// readmeSession is the README's curl session.
func readmeSession(t *testing.T) string {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- serve-session -->\n```sh\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no serve-session block")
	}
	return string(m[1])
}

// campc serve as a process: the README's curl session is true; SIGTERM
// stops it cleanly; a restart on the same database goes on with the same
// ids; logs are JSON and hold no secret.
func TestServeProcess(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	bin := buildCampc(t, dir)
	addr := freeAddr(t)
	db := filepath.Join(dir, "serve.db")
	env := []string{"CAMPC_CLIENT_ID=demo", "CAMPC_CLIENT_SECRET=s3cret"}
	p := startServe(t, bin, addr, env, "--db", db, "../../examples/webinar-timeline")
	script := strings.ReplaceAll(readmeSession(t), "127.0.0.1:8080", addr)
	out, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("the README session: %v\n%s", err, out)
	}
	for _, want := range []string{`"result":[{"id":1,"status":"created"}]`, `"primaryAttributeValue":"Registered through Acme Events"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the README session's output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), `"success":false`) {
		t.Errorf("a call of the README session failed:\n%s", out)
	}
	p.stop(t)
	logs := p.stderr.String()
	if strings.Contains(logs, "s3cret") {
		t.Error("the log holds the secret")
	}
	sc := bufio.NewScanner(strings.NewReader(logs))
	sawStop := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue // the checker's diagnostics
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("a log line is not JSON: %s", line)
		}
		sawStop = sawStop || m["msg"] == "stopped"
	}
	if !sawStop {
		t.Errorf("no \"stopped\" in the log:\n%s", logs)
	}
	// Restarted: lead 1 and the campaign's id are still there.
	p = startServe(t, bin, addr, env, "--db", db, "../../examples/webinar-timeline")
	defer p.stop(t)
	tok := getToken(t, addr, "demo", "s3cret")
	body := getJSON(t, fmt.Sprintf("http://%s/rest/v1/lead/1.json?fields=firstName&access_token=%s", addr, tok))
	if !strings.Contains(body, `"firstName":"Dana"`) {
		t.Errorf("lead 1 after the restart: %s", body)
	}
}

func getToken(t *testing.T, addr, id, secret string) string {
	body := getJSON(t, fmt.Sprintf("http://%s/identity/oauth/token?grant_type=client_credentials&client_id=%s&client_secret=%s", addr, id, secret))
	var m map[string]any
	json.Unmarshal([]byte(body), &m)
	tok, _ := m["access_token"].(string)
	if tok == "" {
		t.Fatalf("no token: %s", body)
	}
	return tok
}

func getJSON(t *testing.T, url string) string {
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// campc serve refuses to start, saying why: no users, a project with
// errors, bad flags (named), a users file without a secret.
func TestServeRefuses(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.json")
	os.WriteFile(users, []byte(`[{"client_id": "a", "workspace": "Hooli"}]`), 0o600)
	bad := filepath.Join(dir, "bad.camp")
	os.WriteFile(bad, []byte("workspace \"W\"\nprogram \"P\" {\n  nonsense\n}\n"), 0o600)
	t.Setenv("CAMPC_CLIENT_ID", "")
	t.Setenv("CAMPC_CLIENT_SECRET", "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--db", filepath.Join(dir, "a.db"), "../../examples/webinar-timeline"}, exitUsage, "no API users"},
		{[]string{"--db", filepath.Join(dir, "a.db"), "--users", users, "../../examples/webinar-timeline"}, exitUsage, `user "a" has no client_secret`},
		{[]string{"--db", filepath.Join(dir, "a.db"), bad}, exitError, "not starting"},
		{[]string{"--token-ttl", "0s"}, exitUsage, "--token-ttl must be positive"},
		{[]string{"--rate-limit", "0"}, exitUsage, "--rate-limit must be positive"},
		{[]string{"--addr", "nowhere"}, exitUsage, "--addr nowhere: want HOST:PORT"},
		{[]string{"--token-ttl", "soon"}, exitUsage, "--token-ttl"},
		{[]string{"--webhook-timeout", "0s"}, exitUsage, "--webhook-timeout must be positive"},
		{[]string{"--webhook-attempts", "0"}, exitUsage, "--webhook-attempts must be positive, not 0"},
		{[]string{"--webhook-allow", "hooks.example.com,http://x/"}, exitUsage, `--webhook-allow: "http://x/" is not a host pattern`},
	} {
		var stdout, stderr strings.Builder
		code := run(append([]string{"serve"}, tc.args...), strings.NewReader(""), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("serve %v: exit %d, want %d; stderr %q, want %q", tc.args, code, tc.code, stderr.String(), tc.want)
		}
	}
}

// On PostgreSQL the schema is campc migrate's to create: campc serve on
// an empty database says so, and starts once it is migrated.
func TestServePostgresNeedsMigrate(t *testing.T) {
	db := freshSchema(t, testPostgresURL(t))
	t.Setenv("CAMPC_CLIENT_ID", "demo")
	t.Setenv("CAMPC_CLIENT_SECRET", "s3cret")
	var stdout, stderr strings.Builder
	code := run([]string{"serve", "--db", db, "--addr", freeAddr(t), "../../examples/webinar-timeline"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "campc migrate") {
		t.Fatalf("serve on an empty PostgreSQL database: exit %d, %s", code, stderr.String())
	}
	if code := run([]string{"migrate", "--db", db}, strings.NewReader(""), &stdout, &stderr); code != exitOK {
		t.Fatalf("migrate: %d %s", code, stderr.String())
	}
	dir := t.TempDir()
	bin := buildCampc(t, dir)
	addr := freeAddr(t)
	p := startServe(t, bin, addr, []string{"CAMPC_CLIENT_ID=demo", "CAMPC_CLIENT_SECRET=s3cret"}, "--db", db, "../../examples/webinar-timeline")
	tok := getToken(t, addr, "demo", "s3cret")
	if body := getJSON(t, fmt.Sprintf("http://%s/rest/v1/campaigns.json?access_token=%s", addr, tok)); !strings.Contains(body, `"name":"Partner Registration"`) {
		t.Errorf("campaigns: %s", body)
	}
	p.stop(t)
	if strings.Contains(p.stderr.String(), "s3cret") {
		t.Error("the log holds the secret")
	}
}

// campc serve mounts the web console at /console, with the admin password
// from CAMPC_CONSOLE_PASSWORD, beside the API; --no-console leaves it out.
func TestServeConsole(t *testing.T) {
	dir := t.TempDir()
	bin := buildCampc(t, dir)
	env := []string{"CAMPC_CLIENT_ID=demo", "CAMPC_CLIENT_SECRET=s3cret", "CAMPC_CONSOLE_PASSWORD=console-pw"}
	status := func(url string) int {
		t.Helper()
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	addr := freeAddr(t)
	p := startServe(t, bin, addr, env, "--db", filepath.Join(dir, "a.db"), "../../examples/webinar-timeline")
	if code := status("http://" + addr + "/console/login"); code != 200 {
		t.Errorf("/console/login: %d", code)
	}
	if code := status("http://" + addr + "/console/"); code != http.StatusSeeOther {
		t.Errorf("/console/ without a session: %d, want a redirect to sign in", code)
	}
	if code := status("http://" + addr + "/healthz"); code != 200 {
		t.Errorf("/healthz beside the console: %d", code)
	}
	p.stop(t)
	if strings.Contains(p.stderr.String(), "console-pw") {
		t.Error("the log holds the console password")
	}
	addr = freeAddr(t)
	p = startServe(t, bin, addr, env, "--no-console", "--db", filepath.Join(dir, "b.db"), "../../examples/webinar-timeline")
	if code := status("http://" + addr + "/console/login"); code != http.StatusNotFound {
		t.Errorf("--no-console: /console/login %d", code)
	}
	p.stop(t)
}
