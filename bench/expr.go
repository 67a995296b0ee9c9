package bench

import (
	"fmt"
	"strings"

	"github.com/campc/campc/bench/gen"
	"github.com/campc/campc/vm/storage"
	"github.com/expr-lang/expr"
	exprvm "github.com/expr-lang/expr/vm"
)

// ExprSource is the canonical smart list written for expr, over the same
// person data the engine reads (a *storage.Person is the environment): the
// case-folded country among the filter's (Fold, or Text lowered for a value
// a host built without Fold, as the engine does), a lead score of at least
// 10, and membership of the list. A field with no value reads as the zero
// Value (empty text, Num 0), which matches neither filter, as in campc; a
// null value matches neither either.
func ExprSource() string {
	var cs []string
	for _, c := range gen.FilterCountries {
		cs = append(cs, fmt.Sprintf("%q", strings.ToLower(c)))
	}
	return fmt.Sprintf(`let c = Fields["Country"]; let s = Fields["LeadScore"];`+
		` !c.Null && (c.Fold != "" ? c.Fold : lower(c.Text)) in [%s]`+
		` && !s.Null && s.Num >= %v`+
		` && Lists[%q] == true`,
		strings.Join(cs, ", "), gen.FilterMinScore, gen.SubscribersKey)
}

// ExprPredicate is the canonical smart list compiled by expr, with the
// environment's type declared (so expr resolves fields at compile time)
// and a reusable expr VM (so a run allocates no VM).
type ExprPredicate struct {
	prog    *exprvm.Program
	machine exprvm.VM
}

// NewExprPredicate compiles ExprSource.
func NewExprPredicate() (*ExprPredicate, error) {
	prog, err := expr.Compile(ExprSource(), expr.Env(&storage.Person{}), expr.AsBool())
	if err != nil {
		return nil, err
	}
	return &ExprPredicate{prog: prog}, nil
}

// Match evaluates the predicate for p. It is not safe for concurrent use.
func (e *ExprPredicate) Match(p *storage.Person) (bool, error) {
	out, err := e.machine.Run(e.prog, p)
	if err != nil {
		return false, err
	}
	return out.(bool), nil
}
