package ir

import (
	"time"

	"github.com/campc/campc/stdlib"
)

// Cond is a leaf condition: a smart-list filter or a condition of an if.
// Each kind is a type of its own: a comparison of a field (*FieldCond),
// a membership (*MemberList, *MemberSmartList, *MemberProgram), an
// activity filter (*ActivityCond) or a random sample (*Sample). The engine
// evaluates a condition by its type (vm's pass.condRaw) and explains it
// with what it saw (vm's pass.saw).
type Cond interface {
	// Op is the condition's kind in the stdlib tables.
	Op() stdlib.FilterOp
	// Base is what every condition has.
	Base() *CondBase
}

// CondBase is what every condition has. Negate inverts the result (is
// not, not in, is not empty, not member of, not contains, not starts with,
// not ends with, not in past, not in next, and "not" before an activity
// filter).
type CondBase struct {
	Negate   bool
	Text     string // the condition as written, for logs and explain
	Pos, End Position
}

// Base returns the condition's common part.
func (b *CondBase) Base() *CondBase { return b }

// FieldCond compares a field of the person: Cmp is one of the field
// comparisons (FilterIs to FilterInNext). Values are the literals
// compared with; Window is the span of in past and in next.
type FieldCond struct {
	CondBase
	Cmp    stdlib.FilterOp
	Field  *Field
	Values []Value
	Window time.Duration
}

// MemberList is "member of list "L"".
type MemberList struct {
	CondBase
	List *List
}

// MemberSmartList is "member of smart list "S"".
type MemberSmartList struct {
	CondBase
	SmartList *SmartListDef
}

// MemberProgram is "member of program "P" [status "S"]"; Status "" means
// any status.
type MemberProgram struct {
	CondBase
	Program *ProgramDef
	Status  string
}

// ActivityCond counts the person's activities of one type
// (stdlib.FilterActivity[Kind]) whose primary value is the filter's
// subject, within Window (0: ever), and holds when there are at least
// AtLeast. The subject is the one of Campaign, Email, Form, Field,
// WebPage and List that its kind names.
type ActivityCond struct {
	CondBase
	Kind     stdlib.FilterOp
	Campaign *Campaign
	Email    *Email
	Form     *Form
	Field    *Field
	WebPage  *WebPage
	List     *List
	Window   time.Duration
	AtLeast  int
}

// Sample is "random sample N percent". SampleKey seeds the draw: the
// owner's name and the sample's ordinal, so editing other text does not
// re-draw the sample.
type Sample struct {
	CondBase
	Percent   float64
	SampleKey string
}

// Op implementations.

func (c *FieldCond) Op() stdlib.FilterOp     { return c.Cmp }
func (*MemberList) Op() stdlib.FilterOp      { return stdlib.FilterMemberList }
func (*MemberSmartList) Op() stdlib.FilterOp { return stdlib.FilterMemberSmartList }
func (*MemberProgram) Op() stdlib.FilterOp   { return stdlib.FilterMemberProgram }
func (c *ActivityCond) Op() stdlib.FilterOp  { return c.Kind }
func (*Sample) Op() stdlib.FilterOp          { return stdlib.FilterSample }

// Subject is what an activity filter counts: the primary value of the
// activities (the campaign's, email's, form's, field's, web page's or
// list's name), the workspace they must be in (executions only, which
// also count only qualified runs), and ok false when the filter names
// nothing (an undefined name, in a program run leniently) and so holds
// for nobody.
func (c *ActivityCond) Subject() (primary, workspace string, ok bool) {
	switch c.Kind {
	case stdlib.FilterExecuted:
		if c.Campaign != nil {
			return c.Campaign.Name, c.Campaign.Workspace.Name, true
		}
	case stdlib.FilterSentEmail:
		if c.Email != nil {
			return c.Email.Name, "", true
		}
	case stdlib.FilterFilledForm:
		if c.Form != nil {
			return c.Form.Name, "", true
		}
	case stdlib.FilterDataChanged:
		if c.Field != nil {
			return c.Field.Name, "", true
		}
	case stdlib.FilterAddedToList:
		if c.List != nil {
			return c.List.Name, "", true
		}
	default: // the engagement filters name an email or a web page
		switch {
		case c.Email != nil:
			primary = c.Email.Name
		case c.WebPage != nil:
			primary = c.WebPage.Name
		}
		return primary, "", primary != ""
	}
	return "", "", false
}

// ReadsLog reports whether a condition reads the person's activity log
// (the activity filters).
func ReadsLog(c Cond) bool { return stdlib.FilterActivity[c.Op()] != "" }
