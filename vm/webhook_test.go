package vm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

const hookProject = `workspace "W"
field Tier text
field Visits number
field Vip boolean
webhook "CRM" {
  url "https://crm.example/leads/{{lead.FirstName}}?email={{lead.Email}}&tier={{lead.Tier:default=none}}"
  method PUT
  header "Authorization" "Bearer {{my.Key}}"
  header "X-Name" "{{lead.FirstName}}"
  payload json "{\"name\": \"{{lead.FirstName}}\", \"visits\": {{lead.Visits}}, \"vip\": {{lead.Vip}}, \"tier\": {{lead.Tier}}, \"n\": {{my.N}}}"
  map "$.data.tier" to Tier
  map "$.data.visits" to Visits
  map "$.data.vip" to Vip
  map "$.missing" to LastName
}
webhook "Form" {
  url "https://forms.example/post"
  payload form "name={{lead.FirstName}}&mail={{lead.Email}}"
}
program "P" {
  token "Key" text "s3cret"
  token "N" number "7"
  batch campaign "Sync" {
    smart list { filter Email is not empty }
    flow {
      call webhook "CRM"
      call webhook "Form"
    }
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

// hookHost answers webhook calls with a fixed response and keeps the
// requests.
type hookHost struct {
	Recorder
	mu   sync.Mutex
	reqs []storage.WebhookRequest
	resp map[string]storage.WebhookResponse // by webhook
}

func (h *hookHost) CallWebhook(ctx context.Context, req storage.WebhookRequest) (storage.WebhookResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reqs = append(h.reqs, req)
	if r, ok := h.resp[req.Webhook]; ok {
		return r, nil
	}
	return storage.WebhookResponse{Status: 200}, nil
}

func hookEngine(t *testing.T, host Effects, people ...*storage.Person) *Engine {
	t.Helper()
	return hookEngineOpts(t, Options{Effects: host}, people...)
}

// hookEngineOpts is hookEngine with more options (the store and clock
// are the test's).
func hookEngineOpts(t *testing.T, opts Options, people ...*storage.Person) *Engine {
	t.Helper()
	store := memstore.New()
	store.PutPeople(people...)
	opts.Store, opts.Clock = store, NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	eng, err := New(compileSrc(t, hookProject), opts)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func hookPerson(id, first, email string) *storage.Person {
	return &storage.Person{ID: id, Fields: map[string]ir.Value{
		"Email": ir.NewText(stdlib.Email, email), "FirstName": ir.NewText(stdlib.Text, first),
		"Visits": {Type: stdlib.Number, Num: 3}}}
}

// The request is rendered with each value escaped where it stands: a
// path segment, a query value, a header (one line), a JSON string (it
// cannot leave it), a JSON value of its field's type, a form value.
func TestWebhookRequestRendering(t *testing.T) {
	evil := `x"},"x":1,"y":{"a/b?c=d&e` + "\r\nX-Evil: 1"
	host := &hookHost{}
	eng := hookEngine(t, host, hookPerson("1", evil, "a+b@x.example"))
	if _, err := eng.RunBatch(context.Background(), "Sync", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(host.reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(host.reqs))
	}
	crm, form := host.reqs[0], host.reqs[1]
	u, err := url.Parse(crm.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != "crm.example" || u.Path != "/leads/"+evil || u.Query().Get("email") != "a+b@x.example" || u.Query().Get("tier") != "none" || len(u.Query()) != 2 {
		t.Errorf("URL %s: host %q path %q query %v", crm.URL, u.Host, u.Path, u.Query())
	}
	if crm.Method != "PUT" || crm.ContentType != "application/json" || crm.Webhook != "CRM" || crm.Campaign != "Sync" || crm.Person != "1" || crm.Workspace != "W" || crm.Step == "" {
		t.Errorf("request %+v", crm)
	}
	if len(crm.Headers) != 2 || crm.Headers[0] != (storage.Header{Name: "Authorization", Value: "Bearer s3cret"}) || strings.ContainsAny(crm.Headers[1].Value, "\r\n") {
		t.Errorf("headers %q", crm.Headers)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(crm.Body), &body); err != nil {
		t.Fatalf("body %s: %v", crm.Body, err)
	}
	want := map[string]any{"name": evil, "visits": 3.0, "vip": nil, "tier": nil, "n": 7.0}
	if len(body) != len(want) {
		t.Errorf("body %s, want the keys of %v", crm.Body, want)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body %s: %q is %#v, want %#v", crm.Body, k, body[k], v)
		}
	}
	q, err := url.ParseQuery(form.Body)
	if err != nil || q.Get("name") != evil || q.Get("mail") != "a+b@x.example" || len(q) != 2 || form.Method != "POST" || form.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("form %+v: %v %v", form, q, err)
	}
	if crm.IdempotencyKey == "" || crm.IdempotencyKey == form.IdempotencyKey {
		t.Errorf("keys %q and %q: want two different keys", crm.IdempotencyKey, form.IdempotencyKey)
	}
}

// The idempotency key is the same when the same pass is done again (the
// same run, in a fresh store), and differs by person.
func TestWebhookIdempotencyKey(t *testing.T) {
	keys := func() []string {
		host := &hookHost{}
		eng := hookEngine(t, host, hookPerson("1", "Ada", "a@x.example"), hookPerson("2", "Bob", "b@x.example"))
		if _, err := eng.RunBatch(context.Background(), "Sync", RunOptions{}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range host.reqs {
			out = append(out, r.Person+"/"+r.Webhook+"="+r.IdempotencyKey)
		}
		return out
	}
	a, b := keys(), keys()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("keys differ between identical runs:\n%v\n%v", a, b)
	}
	seen := map[string]bool{}
	for _, k := range a {
		key := k[strings.Index(k, "=")+1:]
		if len(key) != 32 || seen[key] {
			t.Errorf("key %q: want 32 hex digits, each once (%v)", k, a)
		}
		seen[key] = true
	}
}

// A 2xx JSON response writes the mapped fields as change data value
// would (activities with the reason, the data value change trigger); what
// cannot be mapped is logged in the Call Webhook activity.
func TestWebhookResponseMapping(t *testing.T) {
	host := &hookHost{resp: map[string]storage.WebhookResponse{
		"CRM": {Status: 200, Body: `{"data": {"tier": "Gold", "visits": "many", "vip": true}}`},
	}}
	eng := hookEngine(t, host, hookPerson("1", "Ada", "a@x.example"))
	rep, err := eng.RunBatch(context.Background(), "Sync", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rep.Activities {
		got = append(got, a.Type+" "+a.Primary)
	}
	want := []string{"Call Webhook CRM", "Change Data Value Tier", "Change Data Value Vip", "Call Webhook Form", "Interesting Moment tier is Gold"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("activities %q, want %q", got, want)
	}
	call := rep.Activities[0].Attributes.Map()
	if call["Status"] != 200.0 || call["Mapped Fields"] != "Tier, Vip" ||
		call["Mapping Errors"] != `$.data.visits: "many" is not a number for number field Visits; $.missing: not in the response` ||
		!strings.Contains(call["Response"].(string), `"Gold"`) {
		t.Errorf("Call Webhook attributes %v", call)
	}
	tier := rep.Activities[1].Attributes.Map()
	if tier["Old Value"] != nil || tier["New Value"] != "Gold" || tier["Reason"] != `webhook "CRM" response $.data.tier` {
		t.Errorf("Change Data Value attributes %v", tier)
	}
	p, err := eng.Store().(*memstore.Store).LoadPerson(context.Background(), "1")
	if err != nil || p.Field("Tier").Text != "Gold" || !p.Field("Vip").Bool || p.Field("Visits").Num != 3 {
		t.Errorf("person after the call: %v %v", p, err)
	}
}

// A response that is not 2xx, not JSON, or a call that did not complete
// maps nothing; the activity says what happened, and a long body is cut.
func TestWebhookResponseNotMapped(t *testing.T) {
	long := `{"data": {"tier": "` + strings.Repeat("é", 1000) + `"}}`
	cases := []struct {
		resp storage.WebhookResponse
		want map[string]any
	}{
		{storage.WebhookResponse{Status: 500, Body: `{"data": {"tier": "Gold"}}`}, map[string]any{"Status": 500.0, "Response": `{"data": {"tier": "Gold"}}`}},
		{storage.WebhookResponse{Status: 200, Body: `<html>`}, map[string]any{"Status": 200.0, "Response": `<html>`, "Mapping Errors": "the response is not JSON, so no field is mapped"}},
		{storage.WebhookResponse{Status: 200, Body: `{"data": {"tier": "Gold"}}}`}, map[string]any{"Status": 200.0, "Response": `{"data": {"tier": "Gold"}}}`, "Mapping Errors": "the response is not JSON, so no field is mapped"}},
		{storage.WebhookResponse{Error: "refused: 10.0.0.1 is a private address"}, map[string]any{"Status": 0.0, "Error": "refused: 10.0.0.1 is a private address"}},
		{storage.WebhookResponse{Status: 200, Body: `{"data": {"tier": {"a": 1}, "vip": 1}}`}, map[string]any{"Status": 200.0, "Response": `{"data": {"tier": {"a": 1}, "vip": 1}}`,
			"Mapping Errors": "$.data.tier: the value is an object for text field Tier; $.data.visits: not in the response; $.data.vip: 1 is a number for boolean field Vip; $.missing: not in the response"}},
	}
	for i, c := range cases {
		host := &hookHost{resp: map[string]storage.WebhookResponse{"CRM": c.resp}}
		eng := hookEngine(t, host, hookPerson("1", "Ada", "a@x.example"))
		rep, err := eng.RunBatch(context.Background(), "Sync", RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := rep.Activities[0].Attributes.Map()
		delete(got, "URL")
		if fmt.Sprint(got) != fmt.Sprint(c.want) || rep.Activities[1].Type != stdlib.ActCallWebhook {
			t.Errorf("case %d: attributes %v, want %v (then %v)", i, got, c.want, rep.Activities[1].Type)
		}
	}
	host := &hookHost{resp: map[string]storage.WebhookResponse{"CRM": {Status: 200, Body: long}}}
	eng := hookEngine(t, host, hookPerson("1", "Ada", "a@x.example"))
	rep, err := eng.RunBatch(context.Background(), "Sync", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Activities[0].Attributes.Map()["Response"].(string)
	if len(r) > storage.MaxLoggedResponse+len("…") || !strings.HasSuffix(r, "…") || !json.Valid([]byte(`"`+strings.TrimSuffix(r, "…")[len(`{"data": {"tier": "`):]+`"`)) {
		t.Errorf("response logged as %d bytes: %q", len(r), r[len(r)-10:])
	}
	if rep.Activities[1].Primary != "Tier" || len(rep.Activities[1].Attributes.Map()["New Value"].(string)) != 2000 {
		t.Errorf("the mapping reads the whole body, not the logged part: %v", rep.Activities[1])
	}
}

// failOnce fails its first webhook call (the host crashed, the pass is
// not committed) and answers the others; it keeps every key it was given.
type failOnce struct {
	Recorder
	mu    sync.Mutex
	keys  []string
	calls int
}

func (f *failOnce) CallWebhook(ctx context.Context, req storage.WebhookRequest) (storage.WebhookResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.keys = append(f.keys, req.Person+" "+req.IdempotencyKey)
	if f.calls == 1 {
		return storage.WebhookResponse{}, fmt.Errorf("the host stopped")
	}
	return storage.WebhookResponse{Status: 200}, nil
}

// A pass done again after it failed calls with the same key: a batch run
// resumed (the person whose pass failed), and a wait resumed again.
func TestWebhookKeyStableAcrossRetries(t *testing.T) {
	src := `workspace "W"
webhook "H" { url "https://h.example/x" }
program "P" {
  batch campaign "B" {
    smart list { filter Email is not empty }
    flow { call webhook "H" }
  }
  batch campaign "Later" {
    smart list { filter Email is not empty }
    flow {
      wait 1 day
      call webhook "H"
    }
  }
}
`
	for _, op := range []string{"batch", "wait"} {
		host := &failOnce{}
		store := memstore.New()
		store.PutPeople(hookPerson("1", "Ada", "a@x.example"))
		clock := NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		eng, err := New(compileSrc(t, src), Options{Store: store, Effects: host, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		switch op {
		case "batch":
			if _, err := eng.RunBatch(ctx, "B", RunOptions{}); err == nil {
				t.Fatal("the failed call did not fail the run")
			}
			clock.Set(clock.Now().Add(time.Hour)) // resumed later: the run keeps its clock
			if _, err := eng.RunBatch(ctx, "B", RunOptions{}); err != nil {
				t.Fatal(err)
			}
		case "wait":
			if _, err := eng.RunBatch(ctx, "Later", RunOptions{}); err != nil {
				t.Fatal(err)
			}
			clock.Set(clock.Now().Add(25 * time.Hour))
			if _, err := eng.Advance(ctx); err == nil {
				t.Fatal("the failed call did not fail the pass")
			}
			clock.Set(clock.Now().Add(time.Hour))
			if _, err := eng.Advance(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if len(host.keys) != 2 || host.keys[0] != host.keys[1] {
			t.Errorf("%s: keys %q, want the same key twice", op, host.keys)
		}
	}
}
