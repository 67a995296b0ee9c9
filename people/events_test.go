package people_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/people"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

const eventsProject = `workspace "W"
field Stage text
list "VIP"
form "Signup"
web page "Pricing"
program "P" {
  statuses "Invited", "Registered"
  token "Code" text "none"
  email "E" { subject "E" }
  trigger campaign "Ping" {
    smart list { trigger campaign is requested from api }
    flow { interesting moment web "ping {{my.Code}}" }
    active
  }
}
`

// TestReadEventsKinds reads one event of every kind and applies it: each
// is logged under its activity type, in the file's order.
func TestReadEventsKinds(t *testing.T) {
	res := compiler.Compile([]lang.Source{{Name: "e.camp", Text: eventsProject}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatal(res)
	}
	file := `{"time": "2026-12-01", "person": "1", "event": "fills out form", "form": "Signup", "web page": "Pricing"}
{"time": "2026-12-01T01:00:00Z", "person": "1", "event": "data value changes", "field": "Stage", "value": "MQL"}
{"time": "2026-12-01T02:00:00Z", "person": "1", "event": "score is changed", "field": "LeadScore", "value": "12"}
{"time": "2026-12-01T03:00:00Z", "person": "1", "event": "program status is changed", "program": "P", "status": "Invited"}
{"time": "2026-12-01T04:00:00Z", "person": "1", "event": "added to list", "list": "VIP"}
{"time": "2026-12-01T05:00:00Z", "person": "1", "event": "removed from list", "list": "VIP"}
{"time": "2026-12-01T06:00:00Z", "person": "1", "event": "campaign is requested", "campaign": "Ping", "tokens": {"my.Code": "X"}}
{"time": "2026-12-01T07:00:00Z", "person": "1", "event": "opens email", "email": "E"}
{"time": "2026-12-01T07:00:00Z", "person": "1", "event": "clicks link in email", "email": "E", "link": "L"}
{"time": "2026-12-01T08:00:00Z", "person": "1", "event": "visits web page", "web page": "Pricing"}
{"time": "2026-12-01T08:00:00Z", "person": "1", "event": "clicks link on web page", "web page": "Pricing"}
{"time": "2026-12-01T09:00:00Z", "person": "1", "event": "email is delivered", "email": "E"}
{"time": "2026-12-01T09:00:00Z", "person": "1", "event": "email bounces", "email": "E"}
{"time": "2026-12-01T10:00:00Z", "person": "1", "event": "unsubscribes from email", "email": "E"}
`
	evs, err := people.ReadEvents("e.jsonl", strings.NewReader(file), prog)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(people.EventKindNames()) {
		t.Fatalf("read %d events, want one of each of the %d kinds", len(evs), len(people.EventKindNames()))
	}
	store := memstore.New()
	store.PutPeople(&storage.Person{ID: "1", Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "a@example.com")}})
	clock := vm.NewManualClock(time.Time{})
	eng, err := vm.New(prog, vm.Options{Store: store, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, te := range evs {
		clock.Set(te.Time)
		rep, err := eng.Apply(context.Background(), te)
		if err != nil {
			t.Fatalf("%s: %v", te.Pos(), err)
		}
		for _, a := range rep.Activities {
			got = append(got, a.Time.Format("15")+" "+a.Type+" "+a.Primary)
		}
	}
	want := `00 Fill Out Form Signup
01 Change Data Value Stage
02 Change Data Value LeadScore
03 Change Program Status P
04 Add to List VIP
05 Remove from List VIP
06 Request Campaign Ping
06 Interesting Moment ping X
07 Open Email E
07 Click Email E
08 Visit Webpage Pricing
08 Click Link Pricing
09 Email Delivered E
09 Email Bounced E
10 Unsubscribe Email E
10 Change Data Value Unsubscribed`
	if g := strings.Join(got, "\n"); g != want {
		t.Errorf("got\n%s\nwant\n%s", g, want)
	}
}

// TestSpecEventKinds keeps spec §15.8's table of event kinds equal to the
// reader's.
func TestSpecEventKinds(t *testing.T) {
	spec, err := os.ReadFile("../spec.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, _ := strings.Cut(string(spec), "### 15.8 ")
	sec, _, _ = strings.Cut(sec, "\n## ")
	sec, _, _ = strings.Cut(sec, "\n### ") // §15.9 and §15.10 follow
	var got []string
	for _, line := range strings.Split(sec, "\n") {
		if name, ok := strings.CutPrefix(line, "| `"); ok && !strings.HasPrefix(line, "| `event`") {
			name, _, _ = strings.Cut(name, "`")
			got = append(got, name)
		}
	}
	if g, w := strings.Join(got, ", "), strings.Join(people.EventKindNames(), ", "); g != w {
		t.Errorf("spec §15.8 lists %s\nthe reader takes %s", g, w)
	}
}

// FuzzEvents: any events file reads as events or as one error that names
// its file, line and column; never a panic.
func FuzzEvents(f *testing.F) {
	res := compiler.Compile([]lang.Source{{Name: "e.camp", Text: eventsProject}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		f.Fatal(res)
	}
	f.Add([]byte(`{"time": "2026-12-01", "person": "1", "event": "fills out form", "form": "Signup"}` + "\n"))
	f.Add([]byte(`{"time": "2026-12-01T06:00:00Z", "person": "1", "event": "campaign is requested", "campaign": "Ping", "tokens": {"my.Code": "X"}}`))
	f.Add([]byte(`{"time": "2026-12-01", "person": "1", "event": "added to list", "list": "VIP"}` + "\n\n[1]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := people.ReadEvents("e.jsonl", strings.NewReader(string(data)), prog)
		if err == nil {
			return
		}
		var pe *people.Error
		if !errors.As(err, &pe) || pe.File != "e.jsonl" || pe.Line < 1 || pe.Column < 1 {
			t.Fatalf("an error without its place: %v", err)
		}
	})
}
