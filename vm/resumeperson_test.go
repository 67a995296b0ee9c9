package vm

import (
	"context"
	"testing"
	"time"

	"github.com/campc/campc/stdlib"
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
	st := NewMemStore()
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
