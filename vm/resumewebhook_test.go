package vm

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// With DeferWebhooks a call webhook step parks the person with the
// rendered request instead of calling: the host calls after the commit
// and ResumeWebhook logs the call, maps the response and runs the rest of
// the flow, once. The request and its Idempotency-Key are the ones the
// call made during the pass would have had.
func TestDeferredWebhook(t *testing.T) {
	ctx := context.Background()
	direct := &hookHost{}
	if _, err := hookEngine(t, direct, hookPerson("1", "Ada", "a@x.example")).RunBatch(ctx, "Sync", RunOptions{}); err != nil {
		t.Fatal(err)
	}

	host := &hookHost{}
	eng := hookEngineOpts(t, Options{Effects: host, DeferWebhooks: true}, hookPerson("1", "Ada", "a@x.example"))
	rep, err := eng.RunBatch(ctx, "Sync", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(host.reqs) != 0 || len(rep.Activities) != 0 {
		t.Fatalf("the pass called (%d requests) or logged %v: it should only park", len(host.reqs), rep.Activities)
	}
	parked := func() *storage.Parked {
		t.Helper()
		ms := eng.Store().(*memstore.Store)
		tx, _ := ms.Begin(ctx)
		defer tx.Rollback()
		ws, _ := tx.WaitsOf("1")
		if len(ws) != 1 || ws[0].Webhook == nil {
			t.Fatalf("parked %v, want one webhook call", ws)
		}
		return ws[0]
	}
	w := parked()
	if fmt.Sprintf("%+v", *w.Webhook) != fmt.Sprintf("%+v", direct.reqs[0]) {
		t.Errorf("parked request %+v\nwant the direct call's %+v", *w.Webhook, direct.reqs[0])
	}
	// A parked call is not a wait: the clock's waits leave it alone.
	eng.clock.(*ManualClock).Set(eng.now().Add(time.Hour))
	if rep, err := eng.Advance(ctx); err != nil || len(rep.Activities) != 0 {
		t.Fatalf("Advance resumed the webhook call: %v %v", rep.Activities, err)
	}
	if rep, err := eng.ResumePerson(ctx, "1", eng.now()); err != nil || len(rep.Activities) != 0 {
		t.Fatalf("ResumePerson resumed the webhook call: %v %v", rep.Activities, err)
	}
	if rep, err := eng.ResumePeople(ctx, []string{"1", "2"}, eng.now()); err != nil || len(rep.Activities) != 0 {
		t.Fatalf("ResumePeople resumed the webhook call: %v %v", rep.Activities, err)
	}
	got, err := eng.ParkedWebhook(ctx, "1", w.ID)
	if err != nil || got == nil || got.Webhook.IdempotencyKey != direct.reqs[0].IdempotencyKey {
		t.Fatalf("ParkedWebhook: %v %v", got, err)
	}

	rep, ok, err := eng.ResumeWebhook(ctx, "1", w.ID, storage.WebhookResponse{Status: 200, Body: `{"data": {"tier": "Gold", "vip": true}}`})
	if err != nil || !ok {
		t.Fatalf("ResumeWebhook: %v %v", ok, err)
	}
	var acts []string
	for _, a := range rep.Activities {
		acts = append(acts, a.Type+" "+a.Primary)
	}
	want := []string{"Call Webhook CRM", "Change Data Value Tier", "Change Data Value Vip", "Interesting Moment tier is Gold"}
	if fmt.Sprint(acts) != fmt.Sprint(want) {
		t.Errorf("activities %q, want %q", acts, want)
	}
	if call := rep.Activities[0].Attributes.Map(); call["Status"] != 200.0 || call["Mapped Fields"] != "Tier, Vip" || call["URL"] != direct.reqs[0].URL {
		t.Errorf("Call Webhook attributes %v", call)
	}
	// The flow went on to the second webhook, which parks in turn.
	form := parked()
	if form.Webhook.Webhook != "Form" || form.ID == w.ID {
		t.Fatalf("after the first call: %+v", form.Webhook)
	}
	// The same call ended twice (a job run again) does nothing.
	if rep, ok, err := eng.ResumeWebhook(ctx, "1", w.ID, storage.WebhookResponse{Status: 200}); err != nil || ok || len(rep.Activities) != 0 {
		t.Errorf("second ResumeWebhook: %v %v %v", ok, rep.Activities, err)
	}
	rep, ok, err = eng.ResumeWebhook(ctx, "1", form.ID, storage.WebhookResponse{Error: "timed out"})
	if err != nil || !ok || len(rep.Activities) != 1 || rep.Activities[0].Attributes.Map()["Error"] != "timed out" {
		t.Fatalf("Form: %v %v %v", ok, rep.Activities, err)
	}
	if len(host.reqs) != 0 {
		t.Errorf("the engine called the host %d times", len(host.reqs))
	}
}

// A parked call whose step a new program no longer has is dropped by the
// deploy plan, like a wait whose step is gone; one whose step is still
// there stays.
func TestDeferredWebhookPlan(t *testing.T) {
	old := compileSrc(t, hookProject)
	w := &storage.Parked{ID: 1, Person: "1", Workspace: "W", Campaign: "Sync", Webhook: &storage.WebhookRequest{}}
	w.Step = old.Campaign("W", "Sync").Flow[0].Base().ID
	if m := PlanWaits(old, old, []*storage.Parked{w}); m[0].Dropped {
		t.Errorf("kept step: %+v", m[0])
	}
	wait := &storage.Parked{ID: 2, Person: "1", Workspace: "W", Campaign: "Sync", Step: w.Step}
	if m := PlanWaits(old, old, []*storage.Parked{wait}); !m[0].Dropped {
		t.Errorf("a wait parked at a webhook step is kept: %+v", m[0])
	}
	other := compileSrc(t, strings.Replace(hookProject, `      call webhook "CRM"
`, "", 1))
	m := PlanWaits(old, other, []*storage.Parked{w})
	if !m[0].Dropped || !strings.Contains(m[0].Reason, "call webhook step") {
		t.Errorf("gone step: %+v", m[0])
	}
}

// While a call is parked the person is in the campaign's flow: running the
// campaign again does not start it for them.
func TestDeferredWebhookInFlow(t *testing.T) {
	ctx := context.Background()
	host := &hookHost{}
	eng := hookEngineOpts(t, Options{Effects: host, DeferWebhooks: true}, hookPerson("1", "Ada", "a@x.example"))
	for range 2 {
		if _, err := eng.RunBatch(ctx, "Sync", RunOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tx, _ := eng.Store().Begin(ctx)
	ws, _ := tx.WaitsOf("1")
	tx.Rollback()
	if len(ws) != 1 {
		t.Errorf("%d parked calls after two runs, want 1: the second run entered the flow again", len(ws))
	}

}
