package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
)

// Request Campaign with a token override: the override reaches the
// executable called with "use parent tokens" and only it; the wait fires
// when the (test) clock reaches it, and its change fires its trigger.
func TestTriggerTokensAndWaits(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		clock := vm.NewManualClock(t0)
		e := start(t, open(t), clock, nil, nil)
		tok := e.token("acme", "acme-secret")
		lead := e.createLead(tok, "ada@example.com", map[string]any{"FIRSTNAME": "Ada"})
		id := e.campaignID(tok, "API Welcome")
		r := e.ok(tok, "POST", fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", id), nil, trigger([]int64{lead}, map[string]string{"Event Name": "Launch Day"}))
		if got := r.rows()[0]["id"]; got != float64(id) {
			t.Errorf("trigger result id %v, want %d", got, id)
		}
		person := fmt.Sprint(lead)
		log := e.log(person)
		for _, want := range []string{"Request Campaign:API Welcome", "Interesting Moment:parent Launch Day",
			"Interesting Moment:child-parent Launch Day", "Interesting Moment:child-own Other Event", "Wait:1 day"} {
			if has(log, want) != 1 {
				t.Errorf("log lacks %q once:\n%s", want, strings.Join(log, "\n"))
			}
		}
		if has(log, "Change Data Value:Status") != 0 {
			t.Fatal("the flow went past its wait at once")
		}
		// Not yet due.
		clock.Set(t0.Add(23 * time.Hour))
		if err := e.svc.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if has(e.log(person), "Change Data Value:Status") != 0 {
			t.Fatal("the wait fired early")
		}
		clock.Set(t0.Add(24*time.Hour + time.Second))
		if err := e.svc.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		log = e.log(person)
		if has(log, "Change Data Value:Status") != 1 || has(log, "Interesting Moment:status now Waited") != 1 {
			t.Fatalf("after the wait:\n%s", strings.Join(log, "\n"))
		}
		// The lead reads back with the field (the first token expired).
		tok = e.token("acme", "acme-secret")
		r = e.ok(tok, "GET", fmt.Sprintf("/rest/v1/lead/%d.json", lead), url.Values{"fields": {"Status,firstName"}}, nil)
		if row := r.rows()[0]; row["status"] != "Waited" || row["firstName"] != "Ada" {
			t.Errorf("lead: %v", row)
		}
	})
}

// run every runs on time, once each; run now runs once, ever; a schedule
// missed while the service was down runs once at start; a batch run the
// API schedules runs at its time with its tokens, once.
func TestSchedules(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		clock := vm.NewManualClock(t0) // 09:30
		st := open(t)
		e := start(t, st, clock, nil, nil)
		tok := e.token("acme", "acme-secret")
		lead := e.createLead(tok, "bo@example.com", nil)
		person := fmt.Sprint(lead)
		// run now ran at start, before the lead existed: nobody.
		if n := has(e.log(""), "Interesting Moment:run now"); n != 0 {
			t.Fatalf("run now: %d", n)
		}
		manual := e.campaignID(tok, "Manual")
		e.ok(tok, "POST", fmt.Sprintf("/rest/v1/campaigns/%d/schedule.json", manual), nil,
			map[string]any{"input": map[string]any{"runAt": "2026-12-01T10:30:00Z", "tokens": []map[string]string{{"name": "{{my.Event Name}}", "value": "API Day"}}}})
		clock.Set(time.Date(2026, 12, 1, 11, 10, 0, 0, time.UTC))
		if err := e.svc.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Tick(context.Background()); err != nil { // nothing new
			t.Fatal(err)
		}
		log := e.log(person)
		if n := has(log, "Interesting Moment:hourly"); n != 2 {
			t.Errorf("hourly ran %d times by 11:10, want 2 (10:00, 11:00):\n%s", n, strings.Join(log, "\n"))
		}
		if n := has(log, "Interesting Moment:manual API Day"); n != 1 {
			t.Errorf("the API's scheduled run ran %d times, want 1:\n%s", n, strings.Join(log, "\n"))
		}
		// Down from 11:10 to 15:30: 12:00 … 15:00 missed; one run at start.
		e.srv.Close()
		clock.Set(time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC))
		e2 := start(t, st, clock, nil, nil)
		log = e2.log(person)
		if n := has(log, "Interesting Moment:hourly"); n != 3 {
			t.Errorf("after the restart hourly ran %d times in all, want 3:\n%s", n, strings.Join(log, "\n"))
		}
		if n := has(log, "Interesting Moment:run now"); n != 0 {
			t.Errorf("run now ran again at the restart")
		}
		if n := has(log, "Interesting Moment:manual API Day"); n != 1 {
			t.Errorf("the API's scheduled run ran %d times after the restart, want 1", n)
		}
		// A project deployed with a new run now campaign runs it once.
		prog := compileProject(t, func(s string) string {
			return strings.Replace(s, `batch campaign "Manual" {`, `batch campaign "Now Twice" {
    smart list {
      filter Email is not empty
    }
    flow {
      interesting moment milestone "new run now"
    }
    run now
    qualify every time
  }

  batch campaign "Manual" {`, 1)
		})
		e2.srv.Close()
		e3 := start(t, st, clock, prog, nil)
		e3.srv.Close()
		e4 := start(t, st, clock, prog, nil)
		if n := has(e4.log(person), "Interesting Moment:new run now"); n != 1 {
			t.Errorf("a new run now campaign ran %d times over two starts, want 1", n)
		}
		// Campaign ids survive the deploy: old ones unchanged, the new one new.
		tok = e4.token("acme", "acme-secret")
		if got := e4.campaignID(tok, "Manual"); got != manual {
			t.Errorf("Manual's id changed from %d to %d", manual, got)
		}
		if got := e4.campaignID(tok, "Now Twice"); got <= int64(len(prog.Campaigns))-1 {
			t.Errorf("the new campaign got id %d, which an older campaign may hold", got)
		}
	})
}

// Identity: bad credentials are HTTP 401; a token expires (602), a new
// one works; a token unknown to the service is 601, none is 600.
func TestAuth(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		clock := vm.NewManualClock(t0)
		e := start(t, open(t), clock, nil, func(c *Config) { c.TokenTTL = time.Hour })
		res, err := http.Get(e.srv.URL + "/identity/oauth/token?grant_type=client_credentials&client_id=acme&client_secret=wrong")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 401 || !strings.Contains(string(body), `"error":"invalid_client"`) || strings.Contains(string(body), "wrong") {
			t.Errorf("bad secret: %d %s", res.StatusCode, body)
		}
		tok := e.token("acme", "acme-secret")
		e.ok(tok, "GET", "/rest/v1/campaigns.json", nil, nil)
		e.fail("600", "", "GET", "/rest/v1/campaigns.json", nil, nil)
		e.fail("601", "not-a-token", "GET", "/rest/v1/campaigns.json", nil, nil)
		clock.Set(t0.Add(time.Hour))
		e.fail("602", tok, "GET", "/rest/v1/campaigns.json", nil, nil)
		tok = e.token("acme", "acme-secret")
		e.ok(tok, "GET", "/rest/v1/campaigns.json", nil, nil)
		// A bearer header works as the parameter does.
		req, _ := http.NewRequest("GET", e.srv.URL+"/rest/v1/campaigns.json", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), `"success":true`) {
			t.Errorf("bearer: %s", body)
		}
	})
}

// Marketo's rate limit, configurable: the call over it is 606 and
// changes nothing; the window moves on.
func TestRateLimit(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		clock := vm.NewManualClock(t0)
		e := start(t, open(t), clock, nil, func(c *Config) { c.RateLimit, c.RateWindow = 3, 20*time.Second })
		tok := e.token("acme", "acme-secret")
		other := e.token("beta", "beta-secret")
		for i := 0; i < 3; i++ {
			e.ok(tok, "GET", "/rest/v1/campaigns.json", nil, nil)
		}
		r := e.fail("606", tok, "POST", "/rest/v1/leads.json", nil, map[string]any{"input": []any{map[string]any{"email": "x@example.com"}}})
		if !strings.Contains(r.Errors[0].Message, "'3'") {
			t.Errorf("606 message: %q", r.Errors[0].Message)
		}
		if len(e.log("")) != 0 {
			t.Errorf("a refused call wrote: %v", e.log(""))
		}
		e.ok(other, "GET", "/rest/v1/campaigns.json", nil, nil) // per user
		clock.Set(t0.Add(20*time.Second + time.Millisecond))
		e.ok(tok, "GET", "/rest/v1/campaigns.json", nil, nil)
	})
}

// A workspace sees only its own campaigns, lists and people, by every
// path.
func TestCrossWorkspace(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		crossWorkspace(t, start(t, open(t), vm.NewManualClock(t0), nil, nil), func() {})
	})
}

// The same on PostgreSQL through River, where the calls run at once and
// the campaigns they set off are campc_runs jobs: those jobs, too, touch
// only the caller's workspace.
func TestCrossWorkspaceRiver(t *testing.T) {
	dsn := riverDSN(t)
	e := riverServices(t, dsn, compileProject(t, nil), vm.NewManualClock(t0), 1, func(c *Config) { c.Users = testUsers })[0]
	crossWorkspace(t, e, func() { settleRuns(t, e.st.DB()) })
}

// crossWorkspace checks a service's isolation of workspaces; settle waits
// for the work the calls left to jobs.
func crossWorkspace(t *testing.T, e *env, settle func()) {
	{
		acme, beta := e.token("acme", "acme-secret"), e.token("beta", "beta-secret")
		lead := e.createLead(acme, "ada@example.com", nil)
		settle() // the trigger campaigns the new lead sets off
		welcome := e.campaignID(acme, "API Welcome")
		betaReq := e.campaignID(beta, "Beta Request")
		r := e.ok(beta, "GET", "/rest/v1/campaigns.json", nil, nil)
		for _, row := range r.rows() {
			if row["workspaceName"] != "Beta" {
				t.Errorf("beta sees %v", row)
			}
		}
		before := len(e.log(""))
		e.fail("603", beta, "GET", fmt.Sprintf("/rest/v1/campaigns/%d.json", welcome), nil, nil)
		e.fail("603", beta, "POST", fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", welcome), nil, trigger([]int64{lead}, nil))
		// Acme's lead is in the Default partition, which Beta does not see.
		e.fail("1004", beta, "POST", fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", betaReq), nil, trigger([]int64{lead}, nil))
		if r := e.ok(beta, "GET", fmt.Sprintf("/rest/v1/lead/%d.json", lead), nil, nil); len(r.Result) != 0 {
			t.Errorf("beta reads acme's lead: %s", r.Result)
		}
		if r := e.ok(beta, "GET", "/rest/v1/leads.json", url.Values{"filterType": {"email"}, "filterValues": {"ada@example.com"}}, nil); len(r.Result) != 0 {
			t.Errorf("beta finds acme's lead: %s", r.Result)
		}
		pt := e.ok(beta, "GET", "/rest/v1/activities/pagingtoken.json", url.Values{"sinceDatetime": {"2020-01-01"}}, nil).NextPageToken
		if r := e.ok(beta, "GET", "/rest/v1/activities.json", url.Values{"nextPageToken": {pt}}, nil); len(r.Result) != 0 {
			t.Errorf("beta reads acme's activities: %s", r.Result)
		}
		r = e.ok(beta, "GET", "/rest/v1/lists.json", nil, nil)
		if rows := r.rows(); len(rows) != 1 || rows[0]["name"] != "Beta List" {
			t.Errorf("beta's lists: %v", rows)
		}
		acmeList := e.ok(acme, "GET", "/rest/v1/lists.json", url.Values{"name": {"Hot"}}, nil).rows()[0]["id"]
		e.fail("603", beta, "POST", fmt.Sprintf("/rest/v1/lists/%v/leads.json", acmeList), nil, map[string]any{"input": []any{map[string]any{"id": lead}}})
		// A lead Beta creates lands in Beta's partition, which Acme does not see.
		bl := e.createLead(beta, "bea@example.com", nil)
		if r := e.ok(acme, "GET", fmt.Sprintf("/rest/v1/lead/%d.json", bl), nil, nil); len(r.Result) != 0 {
			t.Errorf("acme reads beta's lead: %s", r.Result)
		}
		e.ok(beta, "POST", fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", betaReq), nil, trigger([]int64{bl}, nil))
		settle()
		if got := len(e.log("")); got != before+3 { // New Person, Request Campaign, Interesting Moment
			t.Errorf("the log grew by %d, want 3: %v", got-before, e.log(""))
		}
	}
}

// Every error code, with a message, and nothing half-applied.
func TestErrorCodes(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		clock := vm.NewManualClock(t0)
		e := start(t, open(t), clock, nil, nil)
		tok := e.token("acme", "acme-secret")
		lead := e.createLead(tok, "ada@example.com", nil)
		welcome := e.campaignID(tok, "API Welcome")
		inactive := e.campaignID(tok, "Inactive Request")
		hot := e.campaignID(tok, "On Hot")
		path := func(id int64) string { return fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", id) }
		before := len(e.log(""))
		e.fail("609", tok, "POST", path(welcome), nil, `{"input": {"leads": [`)
		e.fail("609", tok, "POST", path(welcome), nil, `[1, 2]`)
		e.fail("610", tok, "GET", "/rest/v1/nothing.json", nil, nil)
		e.fail("610", tok, "DELETE", "/rest/v1/campaigns.json", nil, nil)
		e.fail("1001", tok, "GET", "/rest/v1/campaigns.json", url.Values{"batchSize": {"many"}}, nil)
		e.fail("1001", tok, "GET", "/rest/v1/campaigns.json", url.Values{"nextPageToken": {"garbage"}}, nil)
		e.fail("1003", tok, "POST", path(inactive), nil, trigger([]int64{lead}, nil))
		e.fail("1003", tok, "POST", path(hot), nil, trigger([]int64{lead}, nil))
		e.fail("1003", tok, "POST", path(welcome), nil, trigger([]int64{lead}, map[string]string{"No Such": "x"}))
		var many []int64
		for i := 0; i < 101; i++ {
			many = append(many, lead)
		}
		e.fail("1003", tok, "POST", path(welcome), nil, trigger(many, nil))
		// The second lead does not exist: nobody is run.
		e.fail("1004", tok, "POST", path(welcome), nil, trigger([]int64{lead, 999}, nil))
		e.fail("1006", tok, "GET", "/rest/v1/leads.json", url.Values{"filterType": {"shoeSize"}, "filterValues": {"9"}}, nil)
		e.fail("1006", tok, "GET", "/rest/v1/leads.json", url.Values{"filterType": {"email"}, "filterValues": {"a@b.c"}, "fields": {"shoeSize"}}, nil)
		e.fail("1013", tok, "POST", path(99999), nil, trigger([]int64{lead}, nil))
		e.fail("1013", tok, "GET", "/rest/v1/lists/99999.json", nil, nil)
		if got := e.log(""); len(got) != before {
			t.Errorf("refused calls wrote: %v", got[before:])
		}
		// Record-level reasons.
		r := e.ok(tok, "POST", "/rest/v1/leads.json", nil, map[string]any{"action": "createOnly", "input": []any{
			map[string]any{"email": "ada@example.com"},
			map[string]any{"email": "new@example.com", "shoeSize": 9},
			map[string]any{"email": "bad@example.com", "leadScore": "lots"},
			map[string]any{"email": "obj@example.com", "firstName": map[string]any{"x": 1}},
		}})
		rows := r.rows()
		want := []string{"1005", "1006", "1003", "1003"}
		for i, row := range rows {
			reasons, _ := row["reasons"].([]any)
			if row["status"] != "skipped" || len(reasons) != 1 || reasons[0].(map[string]any)["code"] != want[i] {
				t.Errorf("row %d: %v, want skipped %s", i, row, want[i])
			}
		}
		r = e.ok(tok, "POST", "/rest/v1/leads.json", nil, map[string]any{"action": "updateOnly", "input": []any{map[string]any{"email": "nobody@example.com"}}})
		if row := r.rows()[0]; row["status"] != "skipped" {
			t.Errorf("updateOnly of nobody: %v", row)
		}
		// Bodies over the limit are HTTP 413.
		big := `{"input": [` + strings.Repeat(`{"email": "x@example.com"},`, 50000) + `{}]}`
		req, _ := http.NewRequest("POST", e.srv.URL+"/rest/v1/leads.json?access_token="+tok, strings.NewReader(big))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("a big body: HTTP %d", res.StatusCode)
		}
	})
}

// Leads: create, update (events as flow steps raise them), find with
// _method=GET, case-insensitive names, delete, describe; lists, program
// status, form fills fire their triggers; activities page.
func TestLeadsListsActivities(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		clock := vm.NewManualClock(t0)
		e := start(t, open(t), clock, nil, nil)
		tok := e.token("acme", "acme-secret")
		r := e.ok(tok, "POST", "/rest/v1/leads.json", nil, map[string]any{"input": []any{
			map[string]any{"Email": "ada@example.com", "firstName": "Ada", "leadScore": 5},
			map[string]any{"email": "ADA@example.com", "status": "MQL", "LEADSCORE": 20},
		}})
		rows := r.rows()
		if rows[0]["status"] != "created" || rows[1]["status"] != "updated" || rows[0]["id"] != rows[1]["id"] {
			t.Fatalf("upsert: %v", rows)
		}
		lead := int64(rows[0]["id"].(float64))
		person := fmt.Sprint(lead)
		log := e.log(person)
		for _, want := range []string{"New Person:" + person, "Add to List:New People", "Change Data Value:Status",
			"Interesting Moment:status now MQL", "Change Score:LeadScore", "Interesting Moment:score now 20"} {
			if has(log, want) != 1 {
				t.Errorf("log lacks %q:\n%s", want, strings.Join(log, "\n"))
			}
		}
		// _method=GET, form-encoded and JSON.
		r = e.ok(tok, "POST", "/rest/v1/leads.json", url.Values{"_method": {"GET"}}, url.Values{"filterType": {"EMAIL"}, "filterValues": {"ada@example.com"}, "fields": {"leadScore,status"}})
		if rows := r.rows(); len(rows) != 1 || rows[0]["leadScore"] != float64(20) || rows[0]["status"] != "MQL" {
			t.Errorf("find (form): %v", rows)
		}
		r = e.ok(tok, "POST", "/rest/v1/leads.json", nil, map[string]any{"_method": "GET", "filterType": "id", "filterValues": []int64{lead}})
		if len(r.Result) != 1 {
			t.Errorf("find (JSON): %s", r.Result)
		}
		if r := e.ok(tok, "GET", "/rest/v1/leads/describe.json", nil, nil); len(r.Result) < 10 {
			t.Errorf("describe: %d fields", len(r.Result))
		}
		// Lists.
		hot := int64(e.ok(tok, "GET", "/rest/v1/lists.json", url.Values{"name": {"Hot"}}, nil).rows()[0]["id"].(float64))
		listPath := fmt.Sprintf("/rest/v1/lists/%d/leads.json", hot)
		r = e.ok(tok, "POST", listPath, nil, map[string]any{"input": []any{map[string]any{"id": lead}, map[string]any{"id": 999}}})
		if rows := r.rows(); rows[0]["status"] != "added" || rows[1]["status"] != "skipped" {
			t.Errorf("add to list: %v", rows)
		}
		if has(e.log(person), "Interesting Moment:hot") != 1 {
			t.Error("added to list did not fire")
		}
		r = e.ok(tok, "GET", fmt.Sprintf("/rest/v1/lists/%d/leads/ismember.json", hot), url.Values{"id": {fmt.Sprint(lead)}}, nil)
		if r.rows()[0]["status"] != "memberof" {
			t.Errorf("ismember: %v", r.rows())
		}
		if r := e.ok(tok, "GET", listPath, nil, nil); len(r.Result) != 1 {
			t.Errorf("members: %s", r.Result)
		}
		r = e.ok(tok, "DELETE", listPath, url.Values{"id": {fmt.Sprint(lead)}}, nil)
		if r.rows()[0]["status"] != "removed" {
			t.Errorf("remove: %v", r.rows())
		}
		// Program status.
		r = e.ok(tok, "GET", "/rest/v1/campaigns.json", url.Values{"name": {"On Registered"}}, nil)
		prog := int64(r.rows()[0]["programId"].(float64))
		e.fail("1003", tok, "POST", fmt.Sprintf("/rest/v1/leads/programs/%d/status.json", prog), nil, map[string]any{"status": "Gone", "input": []any{map[string]any{"id": lead}}})
		r = e.ok(tok, "POST", fmt.Sprintf("/rest/v1/leads/programs/%d/status.json", prog), nil, map[string]any{"status": "Registered", "input": []any{map[string]any{"id": lead}}})
		if r.rows()[0]["status"] != "updated" || has(e.log(person), "Interesting Moment:registered") != 1 {
			t.Errorf("status: %v", r.rows())
		}
		// A form fill creates its lead and fires "fills out form".
		r = e.ok(tok, "POST", "/rest/v1/leads/submitForm.json", nil, map[string]any{"formId": "Contact Us",
			"input": []any{map[string]any{"leadFormFields": map[string]any{"email": "cy@example.com", "firstName": "Cy"}}}})
		cy := fmt.Sprint(r.rows()[0]["id"])
		if r.rows()[0]["status"] != "created" || has(e.log(cy), "Fill Out Form:Contact Us") != 1 || has(e.log(cy), "Interesting Moment:form filled") != 1 {
			t.Errorf("form fill: %v %v", r.rows(), e.log(cy))
		}
		// Activities, paged, by type.
		pt := e.ok(tok, "GET", "/rest/v1/activities/pagingtoken.json", url.Values{"sinceDatetime": {"2026-12-01T00:00:00Z"}}, nil).NextPageToken
		var all []map[string]any
		for page := 0; page < 50; page++ {
			r = e.ok(tok, "GET", "/rest/v1/activities.json", url.Values{"nextPageToken": {pt}, "batchSize": {"2"}}, nil)
			all = append(all, r.rows()...)
			pt = r.NextPageToken
			if r.MoreResult == nil || !*r.MoreResult {
				break
			}
		}
		if want := len(e.log("")); len(all) != want {
			t.Errorf("paged %d activities, the log holds %d", len(all), want)
		}
		for i, a := range all {
			if i > 0 && a["id"].(float64) <= all[i-1]["id"].(float64) {
				t.Errorf("activities out of order at %d", i)
			}
		}
		pt = e.ok(tok, "GET", "/rest/v1/activities/pagingtoken.json", url.Values{"sinceDatetime": {"2026-12-01"}}, nil).NextPageToken
		r = e.ok(tok, "GET", "/rest/v1/activities.json", url.Values{"nextPageToken": {pt}, "activityTypeIds": {"12"}, "leadIds": {fmt.Sprint(lead)}}, nil)
		if rows := r.rows(); len(rows) != 1 || rows[0]["activityTypeId"] != float64(12) || rows[0]["leadId"] != float64(lead) {
			t.Errorf("New Lead activities of the lead: %v", rows)
		}
		// Delete: gone, and its id is not given again.
		r = e.ok(tok, "POST", "/rest/v1/leads/delete.json", nil, map[string]any{"input": []any{map[string]any{"id": lead}}})
		if r.rows()[0]["status"] != "deleted" {
			t.Errorf("delete: %v", r.rows())
		}
		if r := e.ok(tok, "GET", fmt.Sprintf("/rest/v1/lead/%d.json", lead), nil, nil); len(r.Result) != 0 {
			t.Errorf("a deleted lead reads back: %s", r.Result)
		}
		if again := e.createLead(tok, "ada@example.com", nil); again == lead {
			t.Errorf("a new lead got the deleted lead's id %d", lead)
		}
	})
}

// /healthz is 503 until the service has started, /metrics counts.
func TestOperations(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		clock := vm.NewManualClock(t0)
		svc, err := New(context.Background(), Config{Program: compileProject(t, nil), Store: open(t), Clock: clock, Users: testUsers})
		if err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, svc: svc, clock: clock}
		e.srv = newServer(t, svc)
		get := func(p string) (int, string) {
			res, err := http.Get(e.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		if code, _ := get("/healthz"); code != 503 {
			t.Errorf("healthz before start: %d", code)
		}
		if err := svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if code, _ := get("/healthz"); code != 200 {
			t.Errorf("healthz after start: %d", code)
		}
		tok := e.token("acme", "acme-secret")
		e.call(tok, "GET", "/rest/v1/campaigns.json", nil, nil)
		e.call("bad", "GET", "/rest/v1/campaigns.json", nil, nil)
		_, m := get("/metrics")
		for _, want := range []string{`campc_api_requests_total{code="0",endpoint="campaigns"} 1`, `campc_api_requests_total{code="601",endpoint="unknown"} 1`,
			"campc_waits_due", "campc_batch_runs_total 1"} {
			if !strings.Contains(m, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		// No user: no service.
		if _, err := New(context.Background(), Config{Program: compileProject(t, nil), Store: e.svc.st, Clock: clock}); err == nil || !strings.Contains(err.Error(), "CAMPC_CLIENT_ID") {
			t.Errorf("no users: %v", err)
		}
		if _, err := New(context.Background(), Config{Program: compileProject(t, nil), Store: e.svc.st, Clock: clock,
			Users: []User{{ID: "x", Secret: "y", Workspace: "Nowhere"}}}); err == nil {
			t.Error("a user of no workspace: no error")
		}
	})
}

// The scheduler's loop runs Tick on its own: a wait fires once the clock
// passes it, without anyone calling Tick; closing stop ends the loop.
func TestRunLoop(t *testing.T) {
	path := t.TempDir() + "/loop.db"
	st, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := vm.NewManualClock(t0)
	e := start(t, st, clock, nil, func(c *Config) { c.Poll = 5 * time.Millisecond })
	tok := e.token("acme", "acme-secret")
	lead := e.createLead(tok, "ada@example.com", nil)
	e.ok(tok, "POST", fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", e.campaignID(tok, "API Welcome")), nil, trigger([]int64{lead}, nil))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { e.svc.Run(context.Background(), stop); close(done) }()
	clock.Set(t0.Add(25 * time.Hour))
	deadline := time.Now().Add(10 * time.Second)
	for has(e.log(fmt.Sprint(lead)), "Change Data Value:Status") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the loop did not resume the wait")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after stop")
	}
}
