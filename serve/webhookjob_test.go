package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
)

// jobHookProject: "Flaky" maps the response's tier and the flow goes on
// after it; "Down" never succeeds. RECV is the receiver's URL.
const jobHookProject = `workspace "Acme"
field Tier text
webhook "Flaky" {
  url "RECV/flaky/{{lead.Id}}"
  method POST
  header "Authorization" "Bearer t0ps3cret"
  payload json "{\"id\": {{lead.Id}}}"
  map "$.data.tier" to Tier
}
webhook "Down" {
  url "RECV/down/{{lead.Id}}"
}
webhook "Hang" {
  url "RECV/hang/{{lead.Id}}"
}
program "P" {
  trigger campaign "Call Flaky" {
    smart list { trigger campaign is requested from api }
    flow {
      call webhook "Flaky"
      interesting moment milestone "after flaky: {{lead.Tier}}"
    }
    active
    qualify every time
  }
  trigger campaign "Call Hang" {
    smart list { trigger campaign is requested from api }
    flow {
      call webhook "Hang"
      interesting moment milestone "after hang"
    }
    active
    qualify every time
  }
  trigger campaign "Call Down" {
    smart list { trigger campaign is requested from api }
    flow {
      call webhook "Down"
      interesting moment milestone "after down"
    }
    active
    qualify every time
  }
}
`

// jobReceiver answers /flaky/ID with 500 twice and then 200 with a tier,
// per ID, and /down/ID always with 503; it keeps every request.
type jobReceiver struct {
	mu      sync.Mutex
	got     map[string][]*http.Request // by path
	srv     *httptest.Server
	hold    chan struct{} // /hang/ID answers 200 once it is closed
	release func()
}

func newJobReceiver(t *testing.T) *jobReceiver {
	r := &jobReceiver{got: map[string][]*http.Request{}, hold: make(chan struct{})}
	r.release = sync.OnceFunc(func() { close(r.hold) })
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.got[req.URL.Path] = append(r.got[req.URL.Path], req)
		n := len(r.got[req.URL.Path])
		r.mu.Unlock()
		switch {
		case strings.HasPrefix(req.URL.Path, "/hang/"):
			<-r.hold
			fmt.Fprint(w, `{}`)
		case strings.HasPrefix(req.URL.Path, "/flaky/") && n > 2:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"data": {"tier": "Gold"}}`)
		case strings.HasPrefix(req.URL.Path, "/flaky/"):
			http.Error(w, "try later", http.StatusInternalServerError)
		default:
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(r.srv.Close)
	t.Cleanup(r.release) // before the server's Close, which waits for its handlers
	return r
}

func (r *jobReceiver) requests(path string) []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.got[path]...)
}

// jobHookServices starts n services on one PostgreSQL database whose
// webhook calls are River jobs, logging to logs.
func jobHookServices(t *testing.T, n int, recv *jobReceiver, logs *syncWriter) []*env {
	prog := compileText(t, strings.ReplaceAll(jobHookProject, "RECV", recv.srv.URL))
	return riverServices(t, riverDSN(t), prog, vm.NewManualClock(t0), n, func(c *Config) {
		c.Webhooks = WebhookOptions{Allow: []string{"127.0.0.1"}, Backoff: 20 * time.Millisecond, Timeout: 5 * time.Second, Attempts: 4}
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
}

// newLogs is one log buffer for all the services of a test.
func newLogs() *syncWriter { return &syncWriter{w: &bytes.Buffer{}} }

// String is what was logged so far.
func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.(*bytes.Buffer).String()
}

// settle waits until no webhook job is left to run and no call is
// parked.
func settle(t *testing.T, e *env) {
	t.Helper()
	settleRuns(t, e.st.DB())
	deadline := time.Now().Add(60 * time.Second)
	for {
		var jobs, parked int
		db := e.st.DB()
		if err := db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'campc_webhook' AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT count(*) FROM parked`).Scan(&parked); err != nil {
			t.Fatal(err)
		}
		if jobs == 0 && parked == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: %d webhook jobs left, %d calls parked", jobs, parked)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two services on one PostgreSQL; 20 people's calls answer 500 twice and
// then 200. Each call is a River job retried by whichever service is
// free: each receiver path sees 3 requests with one Idempotency-Key, and
// each person gets one Call Webhook activity (Status 200, the mapped
// field), the mapped field's change, and the rest of the flow, once. The
// request API call does not wait for the receiver, and no secret reaches
// the log or River's tables.
func TestWebhookJobsRetry(t *testing.T) {
	recv := newJobReceiver(t)
	logs := newLogs()
	envs := jobHookServices(t, 2, recv, logs)
	tok := envs[0].token("acme", "acme-secret")
	const people = 20
	var leads []int64
	for i := range people {
		leads = append(leads, envs[0].createLead(tok, fmt.Sprintf("p%d@example.com", i), nil))
	}
	envs[1].request(envs[1].token("acme", "acme-secret"), "Call Flaky", leads...)
	settle(t, envs[0])

	for _, lead := range leads {
		person := fmt.Sprint(lead)
		got := recv.requests("/flaky/" + person)
		if len(got) != 3 {
			t.Errorf("person %s: the receiver got %d requests, want 3 (500, 500, 200)", person, len(got))
			continue
		}
		key := got[0].Header.Get("Idempotency-Key")
		for i, r := range got {
			if k := r.Header.Get("Idempotency-Key"); k != key || len(k) != 32 || r.Header.Get("Authorization") != "Bearer t0ps3cret" || r.Method != "POST" {
				t.Errorf("person %s attempt %d: %s key %q (first %q) %v", person, i+1, r.Method, k, key, r.Header)
			}
		}
		log := envs[0].log(person)
		if has(log, "Call Webhook:Flaky") != 1 || has(log, "Change Data Value:Tier") != 1 || has(log, "Interesting Moment:after flaky: Gold") != 1 {
			t.Errorf("person %s: want one call, one Tier change and the rest of the flow once:\n%s", person, strings.Join(log, "\n"))
			continue
		}
		if call := envs[0].callActivity(person); call["Status"] != 200.0 || call["Mapped Fields"] != "Tier" || call["Response"] != `{"data": {"tier": "Gold"}}` ||
			call["URL"] != recv.srv.URL+"/flaky/"+person {
			t.Errorf("person %s: Call Webhook activity %v", person, call)
		}
	}
	// Both services made attempts: the retries went to whichever was free.
	var clients, completed, attempts int
	if err := envs[0].st.DB().QueryRow(`SELECT count(DISTINCT c), (SELECT count(*) FROM river_job WHERE kind = 'campc_webhook' AND state = 'completed' AND attempt = 3),
  (SELECT count(*) FROM river_job WHERE kind = 'campc_webhook')
FROM river_job, unnest(attempted_by) AS c WHERE kind = 'campc_webhook'`).Scan(&clients, &completed, &attempts); err != nil {
		t.Fatal(err)
	}
	if clients != 2 || completed != people || attempts != people {
		t.Errorf("%d webhook jobs, %d completed at their third attempt, run by %d services; want %d, %d, 2", attempts, completed, clients, people, people)
	}
	var leak int
	if err := envs[0].st.DB().QueryRow(`SELECT count(*) FROM river_job WHERE args::text LIKE '%t0ps3cret%' OR errors::text LIKE '%t0ps3cret%'`).Scan(&leak); err != nil {
		t.Fatal(err)
	}
	if leak != 0 || strings.Contains(logs.String(), "t0ps3cret") || !strings.Contains(logs.String(), "Authorization: [redacted]") {
		t.Errorf("a secret reached River's tables (%d jobs) or the log, or the log lacks the call:\n%s", leak, logs.String())
	}
}

// A receiver that always fails: after --webhook-attempts attempts the job
// resumes the person with the last status, the flow goes on (as a call
// that failed within the pass did), and the job is completed, not dead.
func TestWebhookJobsGiveUp(t *testing.T) {
	recv := newJobReceiver(t)
	logs := newLogs()
	envs := jobHookServices(t, 1, recv, logs)
	e := envs[0]
	tok := e.token("acme", "acme-secret")
	lead := e.createLead(tok, "down@example.com", nil)
	person := fmt.Sprint(lead)
	e.request(tok, "Call Down", lead)
	settle(t, e)
	if n := len(recv.requests("/down/" + person)); n != 4 {
		t.Errorf("the receiver got %d requests, want 4 (the attempts)", n)
	}
	log := e.log(person)
	if has(log, "Call Webhook:Down") != 1 || has(log, "Interesting Moment:after down") != 1 {
		t.Fatalf("want one call and the rest of the flow:\n%s", strings.Join(log, "\n"))
	}
	if call := e.callActivity(person); call["Status"] != 503.0 || !strings.Contains(fmt.Sprint(call["Response"]), "down for maintenance") {
		t.Errorf("Call Webhook activity %v", call)
	}
	var state string
	var attempt, errs int
	if err := e.st.DB().QueryRow(`SELECT state::text, attempt, coalesce(array_length(errors, 1), 0) FROM river_job WHERE kind = 'campc_webhook'`).Scan(&state, &attempt, &errs); err != nil {
		t.Fatal(err)
	}
	if state != "completed" || attempt != 4 || errs != 3 {
		t.Errorf("job %s at attempt %d with %d errors, want completed at 4 with 3", state, attempt, errs)
	}
	st, err := ReadStatus(context.Background(), e.st, time.Now())
	if err != nil || len(st.Dead) != 0 {
		t.Errorf("campc status: dead jobs %v (%v)", st, err)
	}
}

// A webhook job River discarded (here: as if its process died in the last
// attempt) shows in campc status with its error, and leaves the person
// parked at the step; campc retry runs it again: one more attempt, whose
// answer ends the call, and the flow goes on.
func TestWebhookJobsDeadRetry(t *testing.T) {
	ctx := context.Background()
	recv := newJobReceiver(t)
	dsn := riverDSN(t)
	prog := compileText(t, strings.ReplaceAll(jobHookProject, "RECV", recv.srv.URL))
	clock := vm.NewManualClock(t0)
	tune := func(c *Config) {
		c.Webhooks = WebhookOptions{Allow: []string{"127.0.0.1"}, Backoff: 20 * time.Millisecond, Timeout: 5 * time.Second, Attempts: 4}
	}
	// A service that takes calls but works no jobs (its River client is
	// not started), so that the job stays queued.
	st, err := store.OpenPostgres(ctx, dsn, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := Config{Program: prog, Store: st, Clock: clock, Users: []User{{ID: "acme", Secret: "acme-secret", Workspace: "Acme"}}, RateLimit: 1 << 30}
	tune(&cfg)
	svc, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.UseRiver(1); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, svc: svc, srv: newServer(t, svc), clock: clock, st: st}
	tok := e.token("acme", "acme-secret")
	lead := e.createLead(tok, "dead@example.com", nil)
	person := fmt.Sprint(lead)
	e.request(tok, "Call Flaky", lead)
	// The requested run is a campc_runs job, which this service does not
	// work: run it as that job does; the call is parked then.
	if _, err := svc.Engine().RunQueued(ctx, []string{person}); err != nil {
		t.Fatal(err)
	}
	if n := len(recv.requests("/flaky/" + person)); n != 0 {
		t.Fatalf("the request called the receiver %d times within the API call", n)
	}
	res, err := st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'discarded', attempt = max_attempts, attempted_at = now(), finalized_at = now(),
  errors = ARRAY['{"at": "2026-12-01T09:30:00Z", "attempt": 4, "error": "the process was killed", "trace": ""}'::jsonb]
WHERE kind = 'campc_webhook' AND args->>'person' = $1`, person)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("discard the job: %d rows, %v", n, err)
	}
	status, err := ReadStatus(ctx, st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(status.Dead) != 1 || status.Dead[0].Kind != "campc_webhook" || status.Dead[0].Error != "the process was killed" {
		t.Fatalf("dead jobs %+v, want the webhook job with its error", status.Dead)
	}
	if n, err := RetryJobs(ctx, st, nil); err != nil || n != 1 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	riverServices(t, dsn, prog, clock, 1, tune)
	settle(t, e)
	if n := len(recv.requests("/flaky/" + person)); n != 1 {
		t.Errorf("after campc retry the receiver got %d requests, want 1 (one more attempt)", n)
	}
	log := e.log(person)
	if has(log, "Call Webhook:Flaky") != 1 || has(log, "Interesting Moment:after flaky: ") != 1 {
		t.Fatalf("want one call and the rest of the flow:\n%s", strings.Join(log, "\n"))
	}
	if call := e.callActivity(person); call["Status"] != 500.0 {
		t.Errorf("Call Webhook activity %v, want the retried attempt's 500", call)
	}
}

// A deploy that removes the webhook step while its call is in flight
// drops the parked call as it drops a wait whose step is gone (Wait
// Dropped); the call's answer then changes nothing: no Call Webhook
// activity, and the rest of the old flow does not run.
func TestWebhookJobsDeployDrops(t *testing.T) {
	ctx := context.Background()
	recv := newJobReceiver(t)
	logs := newLogs()
	e := jobHookServices(t, 1, recv, logs)[0]
	tok := e.token("acme", "acme-secret")
	lead := e.createLead(tok, "hang@example.com", nil)
	person := fmt.Sprint(lead)
	e.request(tok, "Call Hang", lead)
	deadline := time.Now().Add(30 * time.Second)
	for len(recv.requests("/hang/"+person)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the webhook job did not call within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	src := strings.Replace(strings.ReplaceAll(jobHookProject, "RECV", recv.srv.URL), "      call webhook \"Hang\"\n", "", 1)
	plan, err := e.svc.Deploy(ctx, compileText(t, src), nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	if plan.Dropped() != 1 {
		t.Fatalf("plan: %s", plan.Summary())
	}
	recv.release()
	settle(t, e)
	log := e.log(person)
	if has(log, "Call Webhook:Hang") != 0 || has(log, "Interesting Moment:after hang") != 0 || has(log, "Wait Dropped:Call Hang") != 1 {
		t.Fatalf("want the call dropped and nothing after it:\n%s", strings.Join(log, "\n"))
	}
	acts, err := e.st.Activities(ctx, person)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		if r, ok := a.Attributes.Get("Reason"); ok && a.Type == "Wait Dropped" && !strings.Contains(r.String(), "call webhook step") {
			t.Errorf("Wait Dropped reason %s", r)
		}
	}
	if n := len(recv.requests("/hang/" + person)); n != 1 {
		t.Errorf("the receiver got %d requests, want 1", n)
	}
}
