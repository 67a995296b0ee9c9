package vm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/memstore"
)

const resumePersonProject = `workspace "W"
program "P" {
  trigger campaign "T" {
    smart list { trigger campaign is requested from api }
    flow {
      interesting moment web "before"
      wait 1 day
      interesting moment web "after one day"
      wait 1 day
      interesting moment web "after two days"
    }
    active
    qualify every time
  }
}
`

// ResumePerson resumes one person's due waits in due order and no one
// else's, and a second call resumes nothing again.
func TestResumePerson(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := NewManualClock(start)
	eng, err := New(compileSrc(t, resumePersonProject), Options{Store: st, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := eng.ChangePerson(ctx, PersonChange{Person: id, Workspace: "W", Create: true, Fields: []FieldText{{"Email", id + "@x.example"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eng.Request(ctx, "T", []string{"a", "b"}, RunOptions{Workspace: "W"}); err != nil {
		t.Fatal(err)
	}
	// Three days on: a's two waits resume, one after the other; b's stays.
	rep, err := eng.ResumePerson(ctx, "a", start.Add(72*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rep.Activities {
		if a.Person != "a" {
			t.Errorf("resumed %s's flow", a.Person)
		}
		if a.Type == stdlib.ActInterestingMoment {
			got = append(got, a.Primary)
		}
	}
	if len(got) != 2 || got[0] != "after one day" || got[1] != "after two days" {
		t.Errorf("a's resumed activities: %v", got)
	}
	waits := map[string]int{}
	all, _ := st.DueWaits(ctx, start.Add(365*24*time.Hour))
	for _, w := range all {
		waits[w.Person]++
	}
	if waits["b"] != 1 || waits["a"] != 0 {
		t.Errorf("waits left: %v, want b's one only", waits)
	}
	// Again: nothing left to resume.
	if rep, err := eng.ResumePerson(ctx, "a", start.Add(72*time.Hour)); err != nil || len(rep.Activities) != 0 {
		t.Errorf("second resume: %v, %d activities", err, len(rep.Activities))
	}
	// Not yet due: nothing.
	if rep, err := eng.ResumePerson(ctx, "b", start.Add(time.Hour)); err != nil || len(rep.Activities) != 0 {
		t.Errorf("b before its due time: %v, %d activities", err, len(rep.Activities))
	}
}

const resumePeopleProject = `workspace "W"
program "P" {
  trigger campaign "T" {
    smart list { trigger campaign is requested from api }
    flow {
      wait 1 day
      change score LeadScore by "+1"
      wait 1 day
      interesting moment web "after two days"
    }
    active
    qualify every time
  }
  trigger campaign "Loop" {
    smart list {
      trigger score is changed LeadScore
      filter Email contains "loop"
    }
    flow { change score LeadScore by "+1" }
    active
    qualify every time
  }
}
`

// ResumePeople resumes several people's due waits in one transaction,
// only the waits they had when it began (those their flows park have
// jobs of their own); one person's failing pass holds back no one else's:
// the others are resumed one by one and the error is returned.
func TestResumePeople(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	eng, err := New(compileSrc(t, resumePeopleProject), Options{Store: st, Clock: NewManualClock(start), CascadeBudget: 10})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"a", "b", "bad", "c"}
	for _, id := range ids {
		if _, err := eng.ChangePerson(ctx, PersonChange{Person: id, Workspace: "W", Create: true, Fields: []FieldText{{"Email", id + "@x.example"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eng.ChangePerson(ctx, PersonChange{Person: "bad", Workspace: "W", Fields: []FieldText{{"Email", "loop@x.example"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Request(ctx, "T", ids, RunOptions{Workspace: "W"}); err != nil {
		t.Fatal(err)
	}
	count := func(rep *Report, typ string) map[string]int {
		n := map[string]int{}
		for _, a := range rep.Activities {
			if a.Type == typ {
				n[a.Person]++
			}
		}
		return n
	}
	waitsOf := func() map[string]int {
		n := map[string]int{}
		all, _ := st.DueWaits(ctx, start.Add(365*24*time.Hour))
		for _, w := range all {
			n[w.Person]++
		}
		return n
	}
	late := start.Add(72 * time.Hour)
	// a and b: their first waits only, in one transaction.
	rep, err := eng.ResumePeople(ctx, []string{"b", "a", "b"}, late)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(rep, stdlib.ActChangeScore); got["a"] != 1 || got["b"] != 1 || len(got) != 2 {
		t.Errorf("score changes %v, want one each for a and b", got)
	}
	if got := count(rep, stdlib.ActInterestingMoment); len(got) != 0 {
		t.Errorf("the second waits resumed too: %v", got)
	}
	if w := waitsOf(); w["a"] != 1 || w["b"] != 1 || w["c"] != 1 || w["bad"] != 1 {
		t.Errorf("waits %v, want one each (a's and b's second, c's and bad's first)", w)
	}
	// With bad among them: bad's pass runs into the cascade budget, and
	// is rolled back alone.
	rep, err = eng.ResumePeople(ctx, []string{"a", "b", "bad", "c"}, late)
	var re *Error
	if !errors.Is(err, ErrCascadeBudget) || !errors.As(err, &re) || re.Person != "bad" {
		t.Fatalf("want bad's cascade budget error, got %v", err)
	}
	// The others one by one, as ResumePerson does: c's second wait, due
	// too, is resumed after its first.
	if got := count(rep, stdlib.ActInterestingMoment); got["a"] != 1 || got["b"] != 1 || got["c"] != 1 {
		t.Errorf("a's, b's and c's second waits: %v", got)
	}
	if got := count(rep, stdlib.ActChangeScore); got["c"] != 1 || got["bad"] != 0 {
		t.Errorf("score changes %v: want c's, none of bad's", got)
	}
	if w := waitsOf(); len(w) != 1 || w["bad"] != 1 {
		t.Errorf("waits %v, want bad's first only (rolled back)", w)
	}
	// Not due yet: nothing.
	if rep, err := eng.ResumePeople(ctx, []string{"c", "a"}, start.Add(time.Hour)); err != nil || len(rep.Activities) != 0 {
		t.Errorf("before the due time: %v, %d activities", err, len(rep.Activities))
	}
}
