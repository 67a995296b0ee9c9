package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/campc/campc/internal/smtptest"
)

// mailCrashProject sends one email to each person the API requests it for.
const mailCrashProject = `workspace "W"
program "P" {
  email "Hello" {
    subject "Hello {{lead.FirstName}}"
    from "news@example.com"
    text file "hello.txt"
  }
  trigger campaign "Greet" {
    smart list {
      trigger campaign is requested from api
    }
    flow {
      send email "Hello"
    }
    active
  }
}
`

// apiCall makes one API call to a campc serve process and decodes the
// envelope; it fails the test unless the call succeeds.
func apiCall(t *testing.T, base, tok, method, path string, body any) []map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Success bool             `json:"success"`
		Result  []map[string]any `json:"result"`
		Errors  []map[string]any `json:"errors"`
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil || !env.Success {
		t.Fatalf("%s %s: %v %v", method, path, err, env.Errors)
	}
	return env.Result
}

// outboxStates reads the outbox of a stopped service's SQLite database.
func outboxStates(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT message_id, state, attempts FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, state string
		var n int
		if err := rows.Scan(&id, &state, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = fmt.Sprintf("%s/%d", state, n)
	}
	return out
}

// TestMailCrash kills campc serve with SIGKILL while it is in the middle
// of delivering an email (the relay holds the transaction at RCPT TO),
// starts it again on the same database, and checks at a real SMTP server
// that every committed email arrives exactly once: the killed attempt's
// claim runs out and the message is sent again, and none is lost.
func TestMailCrash(t *testing.T) {
	dir := t.TempDir()
	bin := buildCampc(t, dir)
	proj := filepath.Join(dir, "proj")
	if err := os.MkdirAll(proj, 0o777); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(proj, "mail.camp"), []byte(mailCrashProject), 0o666)
	os.WriteFile(filepath.Join(proj, "hello.txt"), []byte("Hi {{lead.FirstName}}.\n"), 0o666)
	relay := smtptest.Start(t)
	relay.User, relay.Password = "campc", "relay-secret"
	held := relay.Hold()

	db := filepath.Join(dir, "serve.db")
	addr := freeAddr(t)
	base := "http://" + addr
	env := []string{"CAMPC_CLIENT_ID=demo", "CAMPC_CLIENT_SECRET=s3cret", "CAMPC_SMTP_PASSWORD=relay-secret"}
	args := []string{"--db", db, "--smtp", "smtp://campc@" + relay.Addr, "--smtp-timeout", "2s", proj}
	p := startServe(t, bin, addr, env, args...)

	res, err := http.Get(base + "/identity/oauth/token?" + url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo"}, "client_secret": {"s3cret"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tk)
	res.Body.Close()
	var leads []map[string]int
	for _, name := range []string{"Ann", "Bob", "Cy"} {
		r := apiCall(t, base, tk.AccessToken, "POST", "/rest/v1/leads.json", map[string]any{"action": "createOnly",
			"input": []any{map[string]any{"email": strings.ToLower(name) + "@x.example", "firstName": name}}})
		leads = append(leads, map[string]int{"id": int(r[0]["id"].(float64))})
	}
	camps := apiCall(t, base, tk.AccessToken, "GET", "/rest/v1/campaigns.json?name=Greet", nil)
	id := int(camps[0]["id"].(float64))
	apiCall(t, base, tk.AccessToken, "POST", fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", id), map[string]any{"input": map[string]any{"leads": leads}})

	// The deliverer is in the middle of the first message: kill it there.
	select {
	case <-held:
	case <-time.After(60 * time.Second):
		t.Fatalf("no delivery reached the relay:\n%s", p.stderr)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	relay.Release()
	if n := len(relay.Messages()); n != 0 {
		t.Fatalf("the relay accepted %d messages before the kill", n)
	}
	before := outboxStates(t, db)
	if len(before) != 3 {
		t.Fatalf("the outbox holds %d messages after the kill, want the 3 committed: %v", len(before), before)
	}
	// The deliverer claims a chunk of messages at once (DeliverOutboxes):
	// the one at the relay is claimed, the others claimed or pending, none
	// sent.
	sending := 0
	for _, st := range before {
		switch st {
		case "sending/1":
			sending++
		case "pending/0":
		default:
			t.Fatalf("after the kill the outbox is %v, want each message claimed once (sending/1) or pending", before)
		}
	}
	if sending == 0 {
		t.Fatalf("after the kill the outbox is %v, want the message at the relay claimed (sending/1)", before)
	}

	p = startServe(t, bin, addr, env, args...)
	deadline := time.Now().Add(90 * time.Second)
	for len(relay.Messages()) < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	// Each row is marked sent after the relay accepts it: wait for the
	// marks, then stop, so that nothing can be sent after the count.
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(b), `campc_email_deliveries_total{result="delivered"} 3`) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop(t)

	got := relay.Messages()
	var ids, tos []string
	for _, m := range got {
		ids = append(ids, m.MessageID)
		tos = append(tos, m.To[0])
		if m.Text != "Hi "+m.Subject[len("Hello "):]+"." {
			t.Errorf("message to %s: subject %q, text %q", m.To[0], m.Subject, m.Text)
		}
	}
	slices.Sort(tos)
	if !slices.Equal(tos, []string{"ann@x.example", "bob@x.example", "cy@x.example"}) {
		t.Fatalf("the relay received %v, want each person once\n%s", tos, p.stderr)
	}
	after := outboxStates(t, db)
	for _, id := range ids {
		st, ok := after[id]
		if !ok {
			t.Errorf("received Message-ID %s is not the outbox's", id)
		}
		if !strings.HasPrefix(st, "sent/") {
			t.Errorf("message %s is %s", id, st)
		}
		if before[id] == "sending/1" && st != "sent/2" {
			t.Errorf("the killed message %s is %s, want sent on its second attempt", id, st)
		}
	}
	if strings.Contains(p.stderr.String(), "relay-secret") {
		t.Error("the log shows the relay's password")
	}
}
