package explain

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

const project = `workspace "W"

program "P" {
  trigger campaign "Hello" {
    smart list {
      trigger campaign is requested from api
      filter Email is not empty
    }
    flow {
      interesting moment milestone "hi {{lead.Email}}"
      wait 1 day
    }
    active
  }

  executable campaign "Child" {
    smart list {
      filter Email is not empty
    }
    flow {
      interesting moment milestone "child"
    }
  }
}
`

func compile(t *testing.T) *ir.Program {
	t.Helper()
	res := compiler.Compile([]lang.Source{{Name: "p.camp", Text: project}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	return prog
}

// Person explains a campaign for a copy of a person: the person given is
// not changed, and a second explanation says the same.
func TestPerson(t *testing.T) {
	prog := compile(t)
	c := prog.Campaign("W", "Hello")
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	who := &storage.Person{ID: "7", Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "a@example.com\x1b[2J")}}
	var first string
	for i := range 2 {
		var b strings.Builder
		if err := Person(context.Background(), prog, who, nil, c, nil, now, &b); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		for _, want := range []string{`person 7, campaign "Hello" (trigger)`, "filter 1: Email is not empty", "qualifies", "wait 1 day", "→ Interesting Moment"} {
			if !strings.Contains(got, want) {
				t.Errorf("the explanation lacks %q:\n%s", want, got)
			}
		}
		if strings.Contains(got, "\x1b") {
			t.Errorf("a control character reached the explanation:\n%q", got)
		}
		if i == 0 {
			first = got
		} else if got != first {
			t.Errorf("explaining again says something else:\n%s\n---\n%s", first, got)
		}
	}
	if len(who.Log) != 0 || len(who.Runs) != 0 {
		t.Errorf("the person given was changed: %+v", who)
	}
	// Waiting in the flow: it says so.
	waits := []*storage.Parked{{Person: "7", Workspace: "W", Campaign: "Hello", Step: c.Flow[1].Base().ID, Due: now.Add(time.Hour)}}
	var b strings.Builder
	if err := Person(context.Background(), prog, who, waits, c, nil, now, &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "is in its flow already (waiting in it until 2026-12-01T10:00:00Z)") {
		t.Errorf("a waiting person:\n%s", b.String())
	}
	// An executable runs only when executed.
	if err := Person(context.Background(), prog, who, nil, prog.Campaign("W", "Child"), nil, now, &b); err == nil || !strings.Contains(err.Error(), "executable") {
		t.Errorf("an executable: %v", err)
	}
}
