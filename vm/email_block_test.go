package vm_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/people"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
)

// TestEmailNotSentSkipsHost: an email that is not sent (no address, an
// invalid one, unsubscribed, suspended) never reaches the host's Effects;
// an operational email reaches it for the unsubscribed and the suspended.
func TestEmailNotSentSkipsHost(t *testing.T) {
	src := `workspace "W"
program "P" {
  email "News" { subject "News" }
  email "Receipt" {
    subject "Receipt"
    operational
  }
  batch campaign "Send" {
    smart list { filter Id is not empty }
    flow {
      send email "News"
      send email "Receipt"
    }
  }
}
`
	res := compiler.Compile([]lang.Source{{Name: "p.camp", Text: src}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	schema, err := people.NewSchema(prog)
	if err != nil {
		t.Fatal(err)
	}
	people, err := people.ParseJSONL("people.jsonl", []byte(`{"Id": "ok", "Email": "ok@x.example"}
{"Id": "noaddr"}
{"Id": "invalid", "Email": "i@x.example", "EmailInvalid": true}
{"Id": "unsub", "Email": "u@x.example", "Unsubscribed": true}
{"Id": "suspended", "Email": "s@x.example", "MarketingSuspended": true}
`), schema)
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	ctx := context.Background()
	if err := store.Import(ctx, people, nil); err != nil {
		t.Fatal(err)
	}
	rec := &vm.Recorder{}
	eng, err := vm.New(prog, vm.Options{Store: store, Effects: rec, Clock: vm.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.RunBatch(ctx, "Send", vm.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rec.Emails {
		got = append(got, m.Person+" "+m.Name)
	}
	slices.Sort(got)
	want := []string{"ok News", "ok Receipt", "suspended Receipt", "unsub Receipt"}
	if !slices.Equal(got, want) {
		t.Errorf("the host was asked to send %q, want %q", got, want)
	}
}
