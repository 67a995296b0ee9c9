package vm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
	"github.com/google/go-cmp/cmp"
)

const hostProject = `workspace "W"
program "P" {
  token "Rep" text "jane@acme.example"
  batch campaign "Route" {
    smart list { filter Email is not empty }
    flow {
      change owner to "{{my.Rep}}"
      sync person to CRM
      create task "Call {{lead.FirstName}}"
      create task "Quote" for "bob@acme.example"
    }
  }
}
`

// The host-effect steps reach the host through Effects, rendered, in
// order, naming the person and the campaign.
func TestHostActionsReachEffects(t *testing.T) {
	prog := compileSrc(t, hostProject)
	store := memstore.New()
	store.PutPeople(&storage.Person{ID: "1", Fields: map[string]ir.Value{
		"Email": ir.NewText(stdlib.Email, "a@x.example"), "FirstName": ir.NewText(stdlib.Text, "Ada")}})
	rec := &Recorder{}
	eng, err := New(prog, Options{Store: store, Effects: rec})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.RunBatch(context.Background(), "Route", RunOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []Action{
		{Type: stdlib.ActChangeOwner, Person: "1", Campaign: "Route", Owner: "jane@acme.example"},
		{Type: stdlib.ActSyncToCRM, Person: "1", Campaign: "Route"},
		{Type: stdlib.ActCreateTask, Person: "1", Campaign: "Route", Subject: "Call Ada"},
		{Type: stdlib.ActCreateTask, Person: "1", Campaign: "Route", Owner: "bob@acme.example", Subject: "Quote"},
	}
	if diff := cmp.Diff(want, rec.Actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
}

type failingHost struct{ Recorder }

func (f *failingHost) HostAction(ctx context.Context, a Action) error {
	if a.Type == stdlib.ActSyncToCRM {
		return errors.New("CRM unreachable")
	}
	return f.Recorder.HostAction(ctx, a)
}

// A host that refuses an action fails the person's pass, naming the
// campaign, the person and the step, and nothing of the pass is logged.
func TestHostActionFailure(t *testing.T) {
	prog := compileSrc(t, hostProject)
	store := memstore.New()
	store.PutPeople(&storage.Person{ID: "1", Fields: map[string]ir.Value{"Email": ir.NewText(stdlib.Email, "a@x.example")}})
	eng, err := New(prog, Options{Store: store, Effects: &failingHost{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = eng.RunBatch(context.Background(), "Route", RunOptions{})
	if err == nil || !strings.Contains(err.Error(), `campaign "Route", person 1: Sync Lead to CRM: CRM unreachable`) {
		t.Fatalf("error = %v", err)
	}
	log, err := store.Activities(context.Background(), "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 0 {
		t.Errorf("logged %d activities of a failed pass", len(log))
	}
}
