package vm

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

const changeProject = `workspace "W"
field Status text
list "New"
program "P" {
  token "Name" text "default"
  trigger campaign "On Create" {
    smart list { trigger person is created }
    flow { add to list "New" }
    active
  }
  trigger campaign "On Status" {
    smart list { trigger data value changes Status to "MQL" }
    flow { interesting moment milestone "mql {{lead.FirstName}}" }
    active
    qualify every time
  }
  trigger campaign "On Score" {
    smart list { trigger score is changed LeadScore by at least 10 }
    flow { interesting moment milestone "score {{lead.LeadScore}}" }
    active
    qualify every time
  }
  batch campaign "B" {
    smart list { filter Email is not empty }
    flow { interesting moment milestone "b {{my.Name}}" }
    qualify every time
  }
}
`

func types(acts []*storage.Activity) string {
	var out []string
	for _, a := range acts {
		out = append(out, a.Type+":"+a.Primary)
	}
	return strings.Join(out, ", ")
}

// ChangePerson creates a person (New Person, "person is created") and
// changes fields as flow steps would: Change Data Value and Change Score
// with their events, nothing for a value the field has.
func TestChangePerson(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	clock := NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	eng, err := New(compileSrc(t, changeProject), Options{Store: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.ChangePerson(ctx, PersonChange{Person: "7", Workspace: "W", Create: true,
		Fields: []FieldText{{"Email", "a@x.example"}, {"FirstName", "Ada"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := types(rep.Activities), "New Person:7, Add to List:New"; got != want {
		t.Errorf("create: %s, want %s", got, want)
	}
	p, _ := st.LoadPerson(ctx, "7")
	if p == nil || p.Fields["FirstName"].Text != "Ada" || !p.Fields["CreatedAt"].Time.Equal(clock.Now()) || !p.Lists[ir.Key("W", "New")] {
		t.Fatalf("created person: %+v", p)
	}
	if _, err := eng.ChangePerson(ctx, PersonChange{Person: "7", Workspace: "W", Create: true}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("creating an existing person: %v", err)
	}
	rep, err = eng.ChangePerson(ctx, PersonChange{Person: "7", Workspace: "W",
		Fields: []FieldText{{"FirstName", "Ada"}, {"Status", "MQL"}, {"LeadScore", "12"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "Change Data Value:Status, Change Score:LeadScore, Interesting Moment:mql Ada, Interesting Moment:score 12"
	if got := types(rep.Activities); got != want {
		t.Errorf("change: %s, want %s", got, want)
	}
	// Bad input changes nothing.
	for _, ch := range []PersonChange{
		{Person: "7", Workspace: "W", Fields: []FieldText{{"Nope", "x"}}},
		{Person: "7", Workspace: "W", Fields: []FieldText{{"LeadScore", "many"}}},
		{Person: "7", Workspace: "W", Fields: []FieldText{{"Id", "8"}}},
		{Person: "8", Workspace: "W", Fields: []FieldText{{"Status", "x"}}},
		{Person: "9", Workspace: "W", Create: true, Partition: "Elsewhere"},
		{Person: "7", Workspace: "Nowhere"},
	} {
		if _, err := eng.ChangePerson(ctx, ch); err == nil {
			t.Errorf("%+v: no error", ch)
		}
	}
	all, _ := st.Activities(ctx, "")
	if len(all) != 6 {
		t.Errorf("the log has %d activities, want 6: %s", len(all), types(all))
	}
}

// RunBatchAt runs at the time given, with token overrides, once.
func TestRunBatchAt(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	st.PutPeople(&storage.Person{ID: "1", Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "a@x.example")}})
	eng, err := New(compileSrc(t, changeProject), Options{Store: st, Clock: NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := eng.Campaign("B")
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	rep, err := eng.RunBatchAt(ctx, c, at, RunOptions{Tokens: map[string]string{"Name": "api"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Activities) != 1 || rep.Activities[0].Primary != "b api" || !rep.Activities[0].Time.Equal(at) {
		t.Fatalf("run: %s", types(rep.Activities))
	}
	rep, err = eng.RunBatchAt(ctx, c, at, RunOptions{Tokens: map[string]string{"Name": "api"}})
	if err != nil || rep.Completed == nil {
		t.Errorf("the same run again: %v, completed %v", err, rep.Completed)
	}
	if _, err := eng.RunBatchAt(ctx, c, at, RunOptions{Tokens: map[string]string{"Nope": "x"}}); err == nil {
		t.Error("an unknown token: no error")
	}
	if c, _ := eng.Campaign("On Create"); c != nil {
		if _, err := eng.RunBatchAt(ctx, c, at, RunOptions{}); err == nil {
			t.Error("a trigger campaign: no error")
		}
	}
}
