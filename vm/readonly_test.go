package vm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// The checker refuses change data value of the fields the engine keeps
// (read_only_field). A program that reaches the engine without that check
// still must not move a person into another partition or change its Id.
func TestChangeDataValueReadOnlyAtRunTime(t *testing.T) {
	when := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for field, v := range map[string]ir.Value{
		"Partition": ir.NewText(stdlib.Text, "PB"),
		"Id":        ir.NewText(stdlib.Text, "b1"),
		"CreatedAt": ir.NewTime(stdlib.DateTime, when),
		"UpdatedAt": ir.NewTime(stdlib.DateTime, when),
	} {
		t.Run(field, func(t *testing.T) {
			res := compiler.Compile([]lang.Source{{Name: "t.camp", Text: `workspace "W"
partition "PA"
program "P" {
  batch campaign "C" {
    smart list { filter Email is not empty }
    flow { change data value Country to "PB" }
  }
}
`}}, compiler.Options{})
			prog, err := res.Runnable(false)
			if err != nil {
				t.Fatalf("%v\n%s", err, res)
			}
			// Point the step at the read-only field, as a program built
			// without the checker could.
			ws := prog.Workspaces[0]
			ir.WalkSteps(prog.Campaigns[0].Flow, func(s ir.Step) {
				if s, ok := s.(*ir.ChangeData); ok {
					s.Field = ws.Field(field)
					s.Value = v
				}
			})
			store := memstore.New()
			store.PutPeople(&storage.Person{ID: "a1", Partition: "PA", Fields: map[string]ir.Value{
				"Id":        ir.NewText(stdlib.Text, "a1"),
				"Partition": ir.NewText(stdlib.Text, "PA"),
				"Email":     ir.NewText(stdlib.Email, "a@x.example")}})
			eng, err := vm.New(prog, vm.Options{Store: store})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, err = eng.RunBatch(ctx, "C", vm.RunOptions{})
			if err == nil || !strings.Contains(err.Error(), "cannot change "+field) {
				t.Fatalf("run: %v, want an error saying %s cannot be changed", err, field)
			}
			p, err := store.LoadPerson(ctx, "a1")
			if err != nil || p == nil {
				t.Fatalf("person a1: %v %v", p, err)
			}
			_, timeSet := p.Fields[field]
			if p.Partition != "PA" || p.Fields["Partition"].Text != "PA" || p.Fields["Id"].Text != "a1" || v.Type.IsTime() && timeSet {
				t.Errorf("person changed: partition %q, fields %v", p.Partition, p.Fields)
			}
		})
	}
}
