package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// hookProject is the webhook tests' project; RECV is the receiver's URL.
const hookProject = `workspace "Acme"
field Tier text
webhook "Sync" {
  url "RECV/sync/{{lead.FirstName}}?email={{lead.Email}}"
  method PUT
  header "Authorization" "Bearer t0ps3cret"
  header "X-Lead" "{{lead.FirstName}}"
  payload json "{\"name\": \"{{lead.FirstName}}\", \"score\": {{lead.LeadScore}}}"
  map "$.data.tier" to Tier
}
webhook "Flaky" {
  url "RECV/flaky"
  payload form "id={{lead.Id}}&email={{lead.Email}}"
}
webhook "Bad" {
  url "RECV/bad"
  method POST
}
webhook "Hop" {
  url "RECV/redirect"
}
program "P" {
  trigger campaign "Call Sync" {
    smart list { trigger campaign is requested from api }
    flow { call webhook "Sync" }
    active
    qualify every time
  }
  trigger campaign "Call Flaky" {
    smart list { trigger campaign is requested from api }
    flow { call webhook "Flaky" }
    active
    qualify every time
  }
  trigger campaign "Call Bad" {
    smart list { trigger campaign is requested from api }
    flow { call webhook "Bad" }
    active
    qualify every time
  }
  trigger campaign "Call Hop" {
    smart list { trigger campaign is requested from api }
    flow { call webhook "Hop" }
    active
    qualify every time
  }
  trigger campaign "Tier Changed" {
    smart list { trigger data value changes Tier }
    flow { interesting moment milestone "tier is {{lead.Tier}}" }
    active
    qualify every time
  }
}
`

// received is one request the receiver got.
type received struct {
	Method, Path, Query, Body string
	Header                    http.Header
}

// receiver is a real HTTP webhook receiver: /sync answers 200 with a
// tier, /flaky 500 twice and then 200, /bad 400, /redirect 302 to
// redirectTo.
type receiver struct {
	mu         sync.Mutex
	got        []received
	flaky      int
	redirectTo string
	srv        *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, received{req.Method, req.URL.EscapedPath(), req.URL.RawQuery, string(b), req.Header.Clone()})
		switch {
		case strings.HasPrefix(req.URL.Path, "/sync/"):
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"data": {"tier": "Gold"}}`)
		case req.URL.Path == "/flaky":
			r.flaky++
			if r.flaky <= 2 {
				http.Error(w, "try later", http.StatusInternalServerError)
				return
			}
			fmt.Fprint(w, `{"ok": true}`)
		case req.URL.Path == "/bad":
			http.Error(w, `{"error": "no such lead"}`, http.StatusBadRequest)
		case req.URL.Path == "/redirect":
			http.Redirect(w, req, r.redirectTo, http.StatusFound)
		default:
			http.NotFound(w, req)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func compileHooks(t *testing.T, recv string) *ir.Program {
	t.Helper()
	res := compiler.Compile([]lang.Source{{Name: "hooks.camp", Text: strings.ReplaceAll(hookProject, "RECV", recv)}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	return prog
}

// startHooks starts the service on the hook project with webhooks
// allowed to reach allow, its log written to logs.
func startHooks(t *testing.T, open opener, recvURL string, allow []string, logs *bytes.Buffer) *env {
	t.Helper()
	return start(t, open(t), vm.NewManualClock(t0), compileHooks(t, recvURL), func(c *Config) {
		c.Users = []User{{ID: "acme", Secret: "acme-secret", Workspace: "Acme"}}
		c.Webhooks = WebhookOptions{Allow: allow, Backoff: time.Millisecond, Timeout: 5 * time.Second}
		if logs != nil {
			c.Logger = slog.New(slog.NewJSONHandler(&syncWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	})
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// callActivity is the person's last Call Webhook activity's attributes.
func (e *env) callActivity(person string) map[string]any {
	e.t.Helper()
	acts, err := e.st.Activities(context.Background(), person)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := len(acts) - 1; i >= 0; i-- {
		if acts[i].Type == "Call Webhook" {
			return acts[i].Attributes.Map()
		}
	}
	e.t.Fatalf("no Call Webhook activity for %s: %v", person, e.log(person))
	return nil
}

// A webhook call over real HTTP: the payload arrives with the method,
// headers and body the webhook says, a field value stays inside its JSON
// string and its URL segment, and the response mapping writes a field,
// which fires the data value change trigger. No secret reaches the log.
func TestWebhookEndToEnd(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		recv := newReceiver(t)
		var logs bytes.Buffer
		e := startHooks(t, open, recv.srv.URL, []string{"127.0.0.1"}, &logs)
		tok := e.token("acme", "acme-secret")
		evil := `"},"x":1,"y":{"/..?a=b`
		lead := e.createLead(tok, "ada+1@example.com", map[string]any{"firstName": evil, "leadScore": 12})
		e.request(tok, "Call Sync", lead)

		got := recv.requests()
		if len(got) != 1 {
			t.Fatalf("the receiver got %d requests, want 1", len(got))
		}
		r := got[0]
		if r.Method != "PUT" || r.Path != "/sync/"+url.PathEscape(evil) || r.Query != "email=ada%2B1%40example.com" {
			t.Errorf("request line %s %s?%s", r.Method, r.Path, r.Query)
		}
		if r.Header.Get("Authorization") != "Bearer t0ps3cret" || r.Header.Get("X-Lead") != evil ||
			r.Header.Get("Content-Type") != "application/json" || len(r.Header.Get("Idempotency-Key")) != 32 {
			t.Errorf("headers %v", r.Header)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
		if len(body) != 2 || body["name"] != evil || body["score"] != 12.0 {
			t.Errorf("body %s: the value left its string or the score is not a number", r.Body)
		}

		person := fmt.Sprint(lead)
		call := e.callActivity(person)
		if call["Status"] != 200.0 || call["Mapped Fields"] != "Tier" || call["Response"] != `{"data": {"tier": "Gold"}}` {
			t.Errorf("Call Webhook activity %v", call)
		}
		log := e.log(person)
		if has(log, "Change Data Value:Tier") != 1 || has(log, "Interesting Moment:tier is Gold") != 1 {
			t.Errorf("the mapping did not change Tier and fire its trigger:\n%s", strings.Join(log, "\n"))
		}
		lr := e.ok(tok, "GET", fmt.Sprintf("/rest/v1/lead/%d.json", lead), url.Values{"fields": {"tier"}}, nil)
		if lr.rows()[0]["tier"] != "Gold" {
			t.Errorf("lead after the call: %v", lr.rows())
		}
		if strings.Contains(logs.String(), "t0ps3cret") || !strings.Contains(logs.String(), "Authorization: [redacted]") {
			t.Errorf("the log shows the Authorization header or lacks the call:\n%s", logs.String())
		}
	})
}

// 5xx answers are tried again with the same Idempotency-Key until one
// succeeds; a 4xx answer is not tried again. Both are logged with their
// status and response; the metrics count them.
func TestWebhookRetries(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		recv := newReceiver(t)
		e := startHooks(t, open, recv.srv.URL, []string{"127.0.0.1"}, nil)
		tok := e.token("acme", "acme-secret")
		lead := e.createLead(tok, "bo@example.com", nil)
		person := fmt.Sprint(lead)

		e.request(tok, "Call Flaky", lead)
		got := recv.requests()
		if len(got) != 3 {
			t.Fatalf("the receiver got %d requests, want 3 (500, 500, 200)", len(got))
		}
		key := got[0].Header.Get("Idempotency-Key")
		for i, r := range got {
			if r.Header.Get("Idempotency-Key") != key || key == "" {
				t.Errorf("attempt %d has key %q, want %q", i+1, r.Header.Get("Idempotency-Key"), key)
			}
			if r.Method != "POST" || r.Body != "id="+person+"&email=bo%40example.com" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				t.Errorf("attempt %d: %s %q %v", i+1, r.Method, r.Body, r.Header)
			}
		}
		if call := e.callActivity(person); call["Status"] != 200.0 || call["Response"] != `{"ok": true}` {
			t.Errorf("Call Webhook activity %v", call)
		}

		e.request(tok, "Call Bad", lead)
		if n := len(recv.requests()) - 3; n != 1 {
			t.Errorf("a 400 was tried %d times, want once", n)
		}
		if call := e.callActivity(person); call["Status"] != 400.0 || !strings.Contains(call["Response"].(string), "no such lead") {
			t.Errorf("Call Webhook activity %v", call)
		}

		// A second call of the same step is another call: another key.
		e.request(tok, "Call Flaky", lead)
		if last := recv.requests()[4]; last.Header.Get("Idempotency-Key") == key {
			t.Error("a second request of the campaign reused the first call's key")
		}
		text := e.metrics()
		for _, want := range []string{`campc_webhook_calls_total{result="2xx"} 2`, `campc_webhook_calls_total{result="4xx"} 1`, `campc_webhook_duration_seconds_count{result="5xx"} 2`} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// A webhook cannot reach loopback addresses unless --webhook-allow names
// them; a redirect is checked as the first hop is.
func TestWebhookSSRF(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		recv := newReceiver(t)
		e := startHooks(t, open, recv.srv.URL, nil, nil)
		tok := e.token("acme", "acme-secret")
		lead := e.createLead(tok, "cy@example.com", nil)
		person := fmt.Sprint(lead)
		e.request(tok, "Call Sync", lead)
		if n := len(recv.requests()); n != 0 {
			t.Fatalf("the receiver on 127.0.0.1 got %d requests without --webhook-allow", n)
		}
		call := e.callActivity(person)
		if call["Status"] != 0.0 || !strings.Contains(fmt.Sprint(call["Error"]), "refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address") {
			t.Errorf("Call Webhook activity %v", call)
		}
		if has(e.log(person), "Change Data Value:Tier") != 0 {
			t.Error("a refused call mapped a field")
		}

		// Allowed by name, redirected to an address the list does not name.
		port := recv.srv.Listener.Addr().(*net.TCPAddr).Port
		recv.redirectTo = fmt.Sprintf("http://127.0.0.1:%d/sync/x", port)
		e2 := startHooks(t, open, fmt.Sprintf("http://localhost:%d", port), []string{"localhost"}, nil)
		tok = e2.token("acme", "acme-secret")
		e2.request(tok, "Call Hop", lead)
		got := recv.requests()
		if len(got) != 1 || got[0].Path != "/redirect" {
			t.Fatalf("requests %v, want only the first hop", got)
		}
		if call := e2.callActivity(person); !strings.Contains(fmt.Sprint(call["Error"]), "127.0.0.1 resolves to 127.0.0.1, a loopback address") {
			t.Errorf("Call Webhook activity after the redirect %v", call)
		}
	})
}

// The policy at dial time: private, loopback, link-local, unspecified and
// multicast addresses, IPv4 and IPv6 (IPv4-mapped too), are refused
// before any connection, unless the allowlist names the host or covers
// the address; names are checked on the addresses they resolve to.
func TestWebhookPolicy(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newWebhookMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	call := func(allow []string, target string) storage.WebhookResponse {
		t.Helper()
		w, err := newWebhookClient(WebhookOptions{Allow: allow, Timeout: 2 * time.Second, Attempts: 1}, slog.New(slog.DiscardHandler), m)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := w.CallWebhook(context.Background(), storage.WebhookRequest{Method: "GET", URL: target, Webhook: "W", IdempotencyKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, target := range []string{"http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/x", "http://[::ffff:127.0.0.1]:9/",
		"http://0.0.0.0:9/", "http://[::]:9/", "http://224.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/", "http://[fe80::1]/", "http://[fd00::1]/",
		"http://100.64.0.1/", "http://localhost:9/"} {
		resp := call(nil, target)
		if !strings.HasPrefix(resp.Error, "refused: ") || resp.Status != 0 {
			t.Errorf("%s: %+v, want refused", target, resp)
		}
	}
	if got := counted(t, reg, "campc_webhook_calls_total", "refused"); got != 13 {
		t.Errorf("refused calls counted %v, want 13", got)
	}
	recv := newReceiver(t)
	port := recv.srv.Listener.Addr().(*net.TCPAddr).Port
	for _, allow := range [][]string{{"127.0.0.1"}, {"localhost"}, {"127.0.0.0/8"}, {"*.nowhere.example", "LOCALHOST."}} {
		resp := call(allow, fmt.Sprintf("http://localhost:%d/sync/a", port))
		if resp.Status != 200 || resp.Error != "" {
			t.Errorf("allow %v: %+v, want 200", allow, resp)
		}
	}
	for _, allow := range [][]string{{"127.0.0.2"}, {"*.localhost"}, {"example.com"}} {
		if resp := call(allow, fmt.Sprintf("http://localhost:%d/sync/a", port)); !strings.HasPrefix(resp.Error, "refused: ") {
			t.Errorf("allow %v: %+v, want refused", allow, resp)
		}
	}
	for _, a := range []string{"8.8.8.8", "2001:4860:4860::8888", "93.184.216.34"} {
		if why := restricted(netip.MustParseAddr(a)); why != "" {
			t.Errorf("%s is %s, want public", a, why)
		}
	}
	for _, a := range []string{"::ffff:10.0.0.1", "64:ff9b::a00:1", "255.255.255.255", "ff02::1"} {
		if restricted(netip.MustParseAddr(a)) == "" {
			t.Errorf("%s counts as public", a)
		}
	}
	if _, err := ParseWebhookAllow("hooks.example.com, *.corp.internal,127.0.0.1,10.0.0.0/8,[::1]"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"http://x.example", "*", "a b", "x.*.example", "-"} {
		if _, err := ParseWebhookAllow(bad); err == nil || !strings.Contains(err.Error(), "is not a host pattern") {
			t.Errorf("ParseWebhookAllow(%q) = %v", bad, err)
		}
	}
}

// Secrets stay out of the log: secret-looking headers and query values
// are redacted.
func TestWebhookRedaction(t *testing.T) {
	hs := redactHeaders([]storage.Header{{Name: "Authorization", Value: "Bearer x"}, {Name: "X-Api-Key", Value: "k"}, {Name: "X-Auth-Token", Value: "t"}, {Name: "Cookie", Value: "c"}, {Name: "X-Lead", Value: "Ada"}})
	want := []string{"Authorization: [redacted]", "X-Api-Key: [redacted]", "X-Auth-Token: [redacted]", "Cookie: [redacted]", "X-Lead: Ada"}
	if fmt.Sprint(hs) != fmt.Sprint(want) {
		t.Errorf("redactHeaders = %q, want %q", hs, want)
	}
	if got := redactURL("https://u:p@crm.example/x?api_key=s3&email=a%40b&token=t"); strings.Contains(got, "s3") || strings.Contains(got, ":p@") || strings.Contains(got, "=t") || !strings.Contains(got, "email=a%40b") {
		t.Errorf("redactURL = %s", got)
	}
}

// counted is a counter's value for a result label in a registry.
func counted(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// An attempt that outlasts the timeout is abandoned and tried again; the
// call ends with "timed out" after the attempts.
func TestWebhookTimeout(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		io.Copy(io.Discard, r.Body) // then the server sees the client leave
		select {
		case <-r.Context().Done(): // answers only when the client gives up
		case <-time.After(time.Minute):
		}
	}))
	defer slow.Close()
	m, err := newWebhookMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWebhookClient(WebhookOptions{Allow: []string{"127.0.0.1"}, Timeout: 50 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond}, slog.New(slog.DiscardHandler), m)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := w.CallWebhook(context.Background(), storage.WebhookRequest{Method: "POST", URL: slow.URL + "/x", Body: "{}", ContentType: "application/json", IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if resp.Status != 0 || resp.Error != "timed out" || hits != 2 {
		t.Errorf("%+v after %d attempts, want timed out after 2", resp, hits)
	}
	// A stopping service stops the call: the pass is not committed.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.CallWebhook(ctx, storage.WebhookRequest{Method: "GET", URL: slow.URL, IdempotencyKey: "k"}); err == nil {
		t.Error("a call with its context cancelled succeeded")
	}
}
