package vm_test

import (
	"context"
	"fmt"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

const project = `workspace "Acme"
folder "Operations" {
  token "Score Change" score "+0"
  program "Scoring" {
    executable campaign "Add Activity Score" {
      smart list { filter Email is not empty }
      flow { change score LeadScore by "{{my.Score Change}}" }
      qualify every time
    }
  }
}
program "Webinar" {
  token "Score Change" score "+10"
  batch campaign "Reward Attendees" {
    smart list { filter Country in ["DE", "AT"] }
    flow {
      execute campaign "Add Activity Score" use parent tokens
      if LeadScore >= 50 {
        interesting moment milestone "Hot at {{lead.LeadScore}}"
      }
    }
  }
}
`

func person(id, email, country string, score float64) *storage.Person {
	return &storage.Person{ID: id, Fields: map[string]ir.Value{
		"Email":     ir.NewText(stdlib.Email, email),
		"Country":   ir.NewText(stdlib.Text, country),
		"LeadScore": ir.NewNumber(stdlib.Score, score),
	}}
}

// Embedding: compile once, make an engine over a store, run a batch
// campaign with a My Token override, and read the activity log.
func Example() {
	res := compiler.Compile([]lang.Source{{Name: "acme.camp", Text: project}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		fmt.Println(res)
		return
	}
	store := memstore.New()
	store.PutPeople(person("1", "lena@example.com", "DE", 45), person("2", "sam@example.com", "US", 80))
	eng, _ := vm.New(prog, vm.Options{Store: store, Clock: vm.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))})

	// The override replaces the caller's "+10" for this run only; the child
	// sees it because it is executed with "use parent tokens".
	rep, err := eng.RunBatch(context.Background(), "Reward Attendees", vm.RunOptions{Tokens: map[string]string{"Score Change": "+7"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range rep.Activities {
		fmt.Println(a.Seq, a.Person, a.Campaign, a.Type, a.Primary, a.Attributes.Map())
	}
	// Output:
	// 1 1 Reward Attendees Executed Campaign Add Activity Score map[Qualified:true Use Parent Token Context:true]
	// 2 1 Add Activity Score Change Score LeadScore map[Change Value:7 New Value:52 Old Value:45]
	// 3 1 Reward Attendees Interesting Moment Hot at 52 map[Choice:1 Type:milestone]
}

// Delivering an event starts the active trigger campaigns that listen to it.
func ExampleEngine_Deliver() {
	src := `workspace "Acme"
list "Hot Leads"
program "Sales" {
  trigger campaign "Welcome Hot Lead" {
    smart list { trigger added to list "Hot Leads" }
    flow { change data value Title to "Hot: {{lead.Email}}" }
    active
    qualify every time
  }
}
`
	res := compiler.Compile([]lang.Source{{Name: "a.camp", Text: src}}, compiler.Options{})
	prog, _ := res.Runnable(false)
	store := memstore.New()
	store.PutPeople(person("7", "kim@example.com", "DE", 0))
	eng, _ := vm.New(prog, vm.Options{Store: store})
	rep, _ := eng.Deliver(context.Background(), storage.Event{Kind: ir.TrigAddedToList, Person: "7", List: "Hot Leads"})
	for _, a := range rep.Activities {
		v, _ := a.Attributes.Get("New Value")
		fmt.Println(a.Campaign, a.Type, a.Primary, v.Any())
	}
	// Output:
	//  Add to List Hot Leads <nil>
	// Welcome Hot Lead Change Data Value Title Hot: kim@example.com
}
