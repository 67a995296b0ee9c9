package serve

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// issueFlow is the issue's flow: A, a wait, B, C.
const issueFlow = `send email "A"
      wait 1 day
      send email "B"
      send email "C"`

// deployProject is a two-workspace project (the test users' workspaces)
// whose campaign "Nurture", requested from the API, runs flow.
func deployProject(flow string) *Project {
	return &Project{Sources: []lang.Source{{Name: "acme.camp", Text: `workspace "Acme"

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
`}, {Name: "beta.camp", Text: `workspace "Beta"
`}}}
}

func deployProg(t *testing.T, p *Project) *ir.Program {
	t.Helper()
	prog, err := p.Program()
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// startDeploy starts a service on the issue's flow, recorded as deployed,
// with two people parked in its wait (they got A).
func startDeploy(t *testing.T, open opener) (*env, []int64) {
	t.Helper()
	p := deployProject(issueFlow)
	e := start(t, open(t), vm.NewManualClock(t0), deployProg(t, p), func(c *Config) { c.Project = p })
	if e.svc.Version() == 0 {
		t.Fatal("the start's project is not recorded as a deploy")
	}
	tok := e.token("acme", "acme-secret")
	x := e.createLead(tok, "x@acme.example", nil)
	y := e.createLead(tok, "y@acme.example", nil)
	e.request(tok, "Nurture", x, y)
	if w := e.waits(); len(w) != 2 {
		t.Fatalf("%d people waiting, want 2", len(w))
	}
	return e, []int64{x, y}
}

func (e *env) waits() []*storage.Parked {
	e.t.Helper()
	tx, err := e.st.BeginServe(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	defer tx.Rollback()
	w, err := tx.AllWaits()
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

func (e *env) deploys() []*store.Deploy {
	e.t.Helper()
	tx, err := e.st.BeginServe(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	defer tx.Rollback()
	d, err := tx.Deploys()
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// advance moves the clock and ticks.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.clock.Set(e.clock.Now().Add(d))
	if err := e.svc.Tick(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// sent counts each email's Send Email activities of everyone.
func (e *env) sent() map[string]int {
	out := map[string]int{}
	for _, l := range e.log("") {
		if name, ok := strings.CutPrefix(l, stdlib.ActSendEmail+":"); ok {
			out[name]++
		}
	}
	return out
}

func TestDeployStepDeleted(t *testing.T) {
	// The issue's case: A deleted while people wait: they get B and C.
	forStores(t, func(t *testing.T, open opener) {
		e, _ := startDeploy(t, open)
		v1 := e.svc.Version()
		proj := deployProject(issueFlow[len(`send email "A"`):])
		p, err := e.svc.Deploy(context.Background(), deployProg(t, proj), proj, "test")
		if err != nil {
			t.Fatal(err)
		}
		if p.Kept() != 2 || p.Dropped() != 0 {
			t.Fatalf("plan: %s", p.Summary())
		}
		if e.svc.Version() <= v1 {
			t.Fatalf("version %d after deploy, was %d", e.svc.Version(), v1)
		}
		e.advance(25 * time.Hour)
		if got := e.sent(); got["A"] != 2 || got["B"] != 2 || got["C"] != 2 {
			t.Fatalf("sent %v, want A, B and C twice each", got)
		}
		if w := e.waits(); len(w) != 0 {
			t.Fatalf("%d waits left", len(w))
		}
	})
}

func TestDeployStepInserted(t *testing.T) {
	// A step inserted before the wait: the wait resumes once, after
	// itself, and the new step is not run for those already past it.
	forStores(t, func(t *testing.T, open opener) {
		e, _ := startDeploy(t, open)
		proj := deployProject("send email \"A\"\n send email \"D\"\n " + issueFlow[len(`send email "A"`):])
		if _, err := e.svc.Deploy(context.Background(), deployProg(t, proj), proj, "test"); err != nil {
			t.Fatal(err)
		}
		e.advance(25 * time.Hour)
		e.advance(3 * 24 * time.Hour)
		if got := e.sent(); got["A"] != 2 || got["B"] != 2 || got["C"] != 2 || got["D"] != 0 {
			t.Fatalf("sent %v, want A, B and C twice each and no D", got)
		}
		if w := e.waits(); len(w) != 0 {
			t.Fatalf("%d waits left: the wait ran again", len(w))
		}
	})
}

func TestDeployWaitDeleted(t *testing.T) {
	// The wait itself deleted: the people leave the flow at once, with a
	// Wait Dropped activity that says why; nothing more is sent.
	forStores(t, func(t *testing.T, open opener) {
		e, _ := startDeploy(t, open)
		proj := deployProject(`send email "A"
      send email "B"
      send email "C"`)
		p, err := e.svc.Deploy(context.Background(), deployProg(t, proj), proj, "test")
		if err != nil {
			t.Fatal(err)
		}
		if p.Dropped() != 2 {
			t.Fatalf("plan: %s", p.Summary())
		}
		if w := e.waits(); len(w) != 0 {
			t.Fatalf("%d waits left after the deploy", len(w))
		}
		acts, err := e.st.Activities(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		dropped := 0
		for _, a := range acts {
			if a.Type != stdlib.ActWaitDropped {
				continue
			}
			dropped++
			r, _ := a.Attributes.Get("Reason")
			if a.Campaign != "Nurture" || !strings.Contains(r.String(), "is no longer in the flow of campaign") {
				t.Errorf("Wait Dropped: campaign %q, reason %s", a.Campaign, r)
			}
		}
		if dropped != 2 {
			t.Fatalf("%d Wait Dropped activities, want 2", dropped)
		}
		e.advance(25 * time.Hour)
		if got := e.sent(); got["A"] != 2 || got["B"] != 0 || got["C"] != 0 {
			t.Fatalf("sent %v, want only A", got)
		}
	})
}

func TestDeployRefused(t *testing.T) {
	// A project with errors, recorded by campc deploy, is refused whole on
	// the next tick: the old one keeps running, the waits keep their place.
	forStores(t, func(t *testing.T, open opener) {
		e, _ := startDeploy(t, open)
		v1 := e.svc.Version()
		broken := deployProject(`send email "Nope"`)
		if _, err := RecordDeploy(context.Background(), e.st, broken, "test", t0); err != nil {
			t.Fatal(err)
		}
		e.advance(time.Minute)
		if e.svc.Version() != v1 {
			t.Fatalf("version %d after a broken deploy, want %d", e.svc.Version(), v1)
		}
		ds := e.deploys()
		last := ds[len(ds)-1]
		if last.State != store.DeployRefused || !strings.Contains(last.Summary, "acme.camp:") {
			t.Fatalf("broken deploy: %s %q", last.State, last.Summary)
		}
		// A project without a workspace an API user works in is refused too.
		noBeta := &Project{Sources: deployProject(issueFlow).Sources[:1]}
		if _, err := e.svc.Deploy(context.Background(), deployProg(t, noBeta), noBeta, "test"); err == nil || !strings.Contains(err.Error(), `"Beta"`) {
			t.Fatalf("deploy without Beta: %v", err)
		}
		if e.svc.Version() != v1 || len(e.deploys()) != len(ds) {
			t.Fatal("a refused deploy changed the service")
		}
		e.advance(25 * time.Hour)
		if got := e.sent(); got["B"] != 2 || got["C"] != 2 {
			t.Fatalf("sent %v after the refused deploys, want B and C twice", got)
		}
	})
}

func TestDeployDryRun(t *testing.T) {
	// The plan lists who moves where and changes nothing.
	forStores(t, func(t *testing.T, open opener) {
		e, people := startDeploy(t, open)
		v1, before, logBefore := e.svc.Version(), e.waits(), e.log("")
		proj := deployProject(`wait 2 days
      send email "B"`)
		prog := deployProg(t, proj)
		p, err := e.svc.PlanDeploy(context.Background(), prog)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := PlanStored(context.Background(), e.st, prog)
		if err != nil {
			t.Fatal(err)
		}
		var a, b strings.Builder
		p.Write(&a)
		stored.Write(&b)
		if a.String() != b.String() {
			t.Fatalf("the service's plan:\n%s\nthe database's:\n%s", a.String(), b.String())
		}
		want := []string{
			`person ` + e.personID(people[0]) + ` in Acme/Nurture: "wait 1 day" at acme.camp:`,
			`person ` + e.personID(people[1]) + ` in Acme/Nurture: "wait 1 day" at acme.camp:`,
			`2 waits: 0 continue in the new flow, 2 dropped; campaigns: 0 added, 0 removed`,
		}
		lines := strings.Split(strings.TrimSpace(a.String()), "\n")
		if len(lines) != len(want) {
			t.Fatalf("plan:\n%s", a.String())
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("line %d: %q, want it to start %q", i+1, lines[i], w)
			}
		}
		if !strings.Contains(lines[0], "-> dropped: wait step ") {
			t.Errorf("line 1: %q does not say the wait is dropped and why", lines[0])
		}
		if e.svc.Version() != v1 || len(e.waits()) != len(before) || len(e.log("")) != len(logBefore) {
			t.Fatal("a plan changed the service or the database")
		}
		// Keeping the wait (B deleted): the people stay, at the wait's new place.
		keep := deployProject(`wait 1 day
      send email "C"`)
		p, err = e.svc.PlanDeploy(context.Background(), deployProg(t, keep))
		if err != nil {
			t.Fatal(err)
		}
		if p.Kept() != 2 || !strings.Contains(p.Moves[0].To, `"wait 1 day" at acme.camp:`) {
			t.Fatalf("plan %s: %+v", p.Summary(), p.Moves[0])
		}
	})
}

// personID is the person Id of a lead id (the API gives the lead ids).
func (e *env) personID(lead int64) string {
	e.t.Helper()
	tx, err := e.st.BeginServe(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	defer tx.Rollback()
	k, err := tx.KeysOf("lead", []int64{lead})
	if err != nil {
		e.t.Fatal(err)
	}
	return k[lead]
}

func TestDeployPendingOnce(t *testing.T) {
	// campc deploy records a pending deploy; two services on the database
	// pick it up on their ticks, and its wait moves are made once.
	forStores(t, func(t *testing.T, open opener) {
		e, _ := startDeploy(t, open)
		p := deployProject(issueFlow)
		other, err := New(context.Background(), Config{Program: deployProg(t, p), Project: p, Store: open(t), Clock: e.clock, Users: testUsers})
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if other.Version() != e.svc.Version() {
			t.Fatalf("the second service runs deploy %d, the first %d", other.Version(), e.svc.Version())
		}
		proj := deployProject(`send email "A"
      send email "C"`)
		d, err := RecordDeploy(context.Background(), e.st, proj, "campc deploy", t0)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Set(e.clock.Now().Add(time.Minute))
		for _, s := range []*Service{e.svc, other} {
			if err := s.Tick(context.Background()); err != nil {
				t.Fatal(err)
			}
			if s.Version() != d.ID {
				t.Fatalf("a service runs deploy %d after the tick, want %d", s.Version(), d.ID)
			}
			if c := s.Program().Campaign("Acme", "Nurture"); c == nil || len(c.Flow) != 2 {
				t.Fatal("the service does not run the deployed flow")
			}
		}
		if m := e.metrics(); !strings.Contains(m, fmt.Sprintf("campc_deploy_version %d\n", d.ID)) || !strings.Contains(m, `campc_deploys_total{result="applied"} 2`) {
			t.Errorf("metrics after the deploy:\n%s", m)
		}
		if n := has(e.log(""), stdlib.ActWaitDropped+":Nurture"); n != 2 {
			t.Fatalf("%d Wait Dropped, want 2 (one per person, once)", n)
		}
		ds := e.deploys()
		if last := ds[len(ds)-1]; last.ID != d.ID || last.State != store.DeployApplied || !strings.Contains(last.Summary, "2 dropped") {
			t.Fatalf("deploy row: %+v", last)
		}
	})
}

func TestDeployIDs(t *testing.T) {
	// Campaign ids survive deploys: a campaign kept keeps its id, a new one
	// gets the next, and a removed one's id stays reserved, given back to
	// it when it returns.
	forStores(t, func(t *testing.T, open opener) {
		e, _ := startDeploy(t, open)
		tok := e.token("acme", "acme-secret")
		nurture := e.campaignID(tok, "Nurture")
		extra := func(name string) *Project {
			p := deployProject(issueFlow)
			p.Sources = append(p.Sources, lang.Source{Name: "more.camp", Text: `workspace "Acme"
program "Q" {
  trigger campaign "` + name + `" {
    smart list {
      trigger campaign is requested from api
    }
    flow {
      interesting moment web "x"
    }
    active
  }
}
`})
			return p
		}
		deploy := func(p *Project) *Plan {
			t.Helper()
			plan, err := e.svc.Deploy(context.Background(), deployProg(t, p), p, "test")
			if err != nil {
				t.Fatal(err)
			}
			return plan
		}
		if p := deploy(extra("Extra")); len(p.Added) != 1 || p.Added[0] != "Acme/Extra" {
			t.Fatalf("added %v", p.Added)
		}
		id := e.campaignID(tok, "Extra")
		if e.campaignID(tok, "Nurture") != nurture || id <= nurture {
			t.Fatalf("ids after adding Extra: Nurture %d (was %d), Extra %d", e.campaignID(tok, "Nurture"), nurture, id)
		}
		if p := deploy(deployProject(issueFlow)); len(p.Removed) != 1 || p.Removed[0] != "Acme/Extra" {
			t.Fatalf("removed %v", p.Removed)
		}
		if r := e.call(tok, "GET", "/rest/v1/campaigns.json", map[string][]string{"name": {"Extra"}}, nil); len(r.rows()) != 0 {
			t.Fatalf("a removed campaign is listed: %v", r.rows())
		}
		deploy(extra("Other"))
		if other := e.campaignID(tok, "Other"); other == id {
			t.Fatalf("a new campaign got the removed one's id %d", id)
		}
		deploy(extra("Extra"))
		if again := e.campaignID(tok, "Extra"); again != id {
			t.Fatalf("Extra came back with id %d, had %d", again, id)
		}
	})
}

func TestDeployPathWait(t *testing.T) {
	// A wait an older campc stored by position is read against the program
	// it was parked under, not the new one (where its position now names
	// send email "B"), and is stored by its step's identity from then on.
	forStores(t, func(t *testing.T, open opener) {
		p := deployProject(issueFlow)
		e := start(t, open(t), vm.NewManualClock(t0), deployProg(t, p), func(c *Config) { c.Project = p })
		tok := e.token("acme", "acme-secret")
		person := e.personID(e.createLead(tok, "old@acme.example", nil))
		tx, err := e.st.Begin(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Apply(&storage.Commit{Park: []*storage.Parked{{Person: person, Workspace: "Acme", Campaign: "Nurture", Path: []int{2}, Due: t0.Add(24 * time.Hour)}}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		proj := deployProject(issueFlow[len(`send email "A"`):])
		plan, err := e.svc.Deploy(context.Background(), deployProg(t, proj), proj, "test")
		if err != nil {
			t.Fatal(err)
		}
		if plan.Kept() != 1 || !strings.HasPrefix(plan.Moves[0].From, `"wait 1 day" at acme.camp:15:`) {
			t.Fatalf("plan %s: %+v", plan.Summary(), plan.Moves)
		}
		w := e.waits()
		if len(w) != 1 || w[0].Step == "" || w[0].Path != nil {
			t.Fatalf("the wait after the deploy: %+v", w)
		}
		e.advance(25 * time.Hour)
		if got := e.sent(); got["B"] != 1 || got["C"] != 1 {
			t.Fatalf("sent %v, want B and C once", got)
		}
	})
}
