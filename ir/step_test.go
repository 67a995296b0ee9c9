package ir

import (
	"testing"

	"github.com/campc/campc/stdlib"
)

// allSteps has one value of every step type.
var allSteps = []Step{
	&ChangeScore{}, &ChangeData{}, &ChangeStatus{}, &ChangePartition{}, &AddToList{}, &RemoveFromList{},
	&SendEmail{}, &SendAlert{}, &Moment{}, &Wait{}, &CallWebhook{}, &Request{}, &Execute{},
	&RemoveFromFlow{}, &DeletePerson{}, &If{}, &ChangeOwner{}, &SyncToCRM{}, &CreateTask{},
}

// TestStepTypesMatchTable keeps the step types and stdlib.Steps one to
// one: every row has exactly one type, and no two types share a row.
func TestStepTypesMatchTable(t *testing.T) {
	seen := map[stdlib.StepOp]Step{}
	for _, s := range allSteps {
		op := s.Op()
		if op >= stdlib.NumStepOps {
			t.Errorf("%T has op %d, past the table", s, op)
			continue
		}
		if prev, dup := seen[op]; dup {
			t.Errorf("%T and %T share the row of %q", prev, s, stdlib.Steps[op].Syntax)
		}
		seen[op] = s
	}
	for op := range stdlib.NumStepOps {
		if seen[op] == nil {
			t.Errorf("stdlib step %q has no step type in ir (or allSteps lacks it)", stdlib.Steps[op].Syntax)
		}
	}
}

// TestStepTemplates: the steps that render text say so, with their
// templates in rendering order; the others render nothing.
func TestStepTemplates(t *testing.T) {
	a, b := Template{Parts: []Part{{Lit: "a"}}}, Template{Parts: []Part{{Lit: "b"}}}
	cases := []struct {
		step Step
		want []Template
	}{
		{&SendAlert{Text: a, To: b}, []Template{a, b}},
		{&CreateTask{Text: a, To: b}, []Template{a, b}},
		{&ChangeOwner{To: a}, []Template{a}},
		{&Moment{Text: a}, []Template{a}},
		{&SendEmail{Email: &Email{Subject: a}}, []Template{a}},
		{&SendEmail{}, nil},
		{&CallWebhook{Webhook: &Webhook{URL: b}}, []Template{b, {}}},
		{&CallWebhook{Webhook: &Webhook{URL: b, Headers: []Header{{Name: "X", Value: a}}, Payload: a}}, []Template{b, a, a}},
		{&AddToList{}, nil},
		{&If{}, nil},
	}
	for _, c := range cases {
		got := c.step.Templates()
		if len(got) != len(c.want) {
			t.Errorf("%T: %d templates, want %d", c.step, len(got), len(c.want))
			continue
		}
		for i := range got {
			if got[i].String() != c.want[i].String() {
				t.Errorf("%T: template %d is %q, want %q", c.step, i, got[i].String(), c.want[i].String())
			}
		}
	}
}
