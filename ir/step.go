package ir

import (
	"time"

	"github.com/campc/campc/stdlib"
)

// Step is one step of a flow. Each kind of step is a type of its own
// (*SendEmail, *Wait, *If, …) that says which row of stdlib.Steps it is
// (Op), where it stands and who it is (Base), and which templates it
// renders (Templates). The engine executes a step by its type (vm's
// pass.step); the checker and the engine's trace read Templates, so a new
// step names its templates once, here.
type Step interface {
	// Op is the step's row in stdlib.Steps.
	Op() stdlib.StepOp
	// Base is what every step has: its place in the source and its
	// identity.
	Base() *StepBase
	// Templates lists the templates the step renders, in the order it
	// renders them: the checker checks their token references, and the
	// engine renders and traces them. An email's subject and a webhook's
	// URL are rendered in the sending step's context.
	Templates() []Template
}

// StepBase is what every step has. Each step type embeds it.
type StepBase struct {
	Pos, End Position
	Source   string // the step as written (empty for if steps), for explanations
	// ID is the step's identity: 16 hex digits that stay the same while
	// other steps are inserted, deleted or reordered, and that waits are
	// stored against (the compiler's stepIDs makes it).
	ID string
}

// Base returns the step's common part.
func (b *StepBase) Base() *StepBase { return b }

// noTemplates is embedded by steps that render nothing.
type noTemplates struct{}

// Templates of a step that renders nothing.
func (noTemplates) Templates() []Template { return nil }

// ChangeScore is "change score F by "+n"|"-n"|"=n"|"{{my.Token}}"". Text
// holds the change as written; the checker compiles it into Score.
type ChangeScore struct {
	StepBase
	Field *Field
	Text  Template
	Score ScoreChange
}

// ChangeData is "change data value F to V|null": Value is the literal, or
// Text a template rendered and converted when the step runs.
type ChangeData struct {
	StepBase
	Field *Field
	Value Value
	Text  Template
}

// ChangeStatus is "change program status ["P"] to "S"".
type ChangeStatus struct {
	StepBase
	noTemplates
	Program *ProgramDef
	Status  string
}

// ChangePartition is "change person partition to "P"".
type ChangePartition struct {
	StepBase
	noTemplates
	Partition string
}

// AddToList is "add to list "L"".
type AddToList struct {
	StepBase
	noTemplates
	List *List
}

// RemoveFromList is "remove from list "L"".
type RemoveFromList struct {
	StepBase
	noTemplates
	List *List
}

// SendEmail is "send email "E"": the email's subject is rendered in the
// sending step's context.
type SendEmail struct {
	StepBase
	Email *Email
}

// SendAlert is "send alert "text" to "address"".
type SendAlert struct {
	StepBase
	Text, To Template
}

// Moment is "interesting moment TYPE "text"".
type Moment struct {
	StepBase
	Moment string // email, web or milestone
	Text   Template
}

// Wait is a wait step: for a duration (Wait), until a time (Until), or
// until a date token's value (Text). A wait N unit ends at the first
// instant, at or after the N units, that falls on one of Weekdays (none:
// any day) and, with At, reads At on the clock in Zone; Zone is UTC unless
// "until" names one.
type Wait struct {
	StepBase
	Wait     time.Duration
	Until    time.Time
	Text     Template
	Weekdays Weekdays
	At       *TimeOfDay
	Zone     *time.Location
}

// CallWebhook is "call webhook "W"": the webhook's URL, header values and
// payload are rendered in the calling step's context.
type CallWebhook struct {
	StepBase
	Webhook *Webhook
}

// Request is "request campaign "C"".
type Request struct {
	StepBase
	noTemplates
	Target *Campaign
}

// Execute is "execute campaign "C" [use parent tokens]".
type Execute struct {
	StepBase
	noTemplates
	Target *Campaign
	Parent bool // use parent tokens
}

// RemoveFromFlow is "remove from flow this campaign | "C"[, "C" …]".
type RemoveFromFlow struct {
	StepBase
	noTemplates
	Targets []*Campaign
	This    bool
}

// DeletePerson is "delete person".
type DeletePerson struct {
	StepBase
	noTemplates
}

// If is "if C { … } [else if C { … }]… [else { … }]": the first branch whose
// condition holds runs, else the Else steps when HasElse.
type If struct {
	StepBase
	noTemplates
	Branches []*Branch
	Else     []Step
	HasElse  bool
}

// ChangeOwner is "change owner [to] "user"" (a host effect).
type ChangeOwner struct {
	StepBase
	To Template
}

// SyncToCRM is "sync person to CRM" (a host effect).
type SyncToCRM struct {
	StepBase
	noTemplates
}

// CreateTask is "create task "subject" [for owner | for "user"]" (a host
// effect): Text is the subject, To the assignee (empty: the person's owner).
type CreateTask struct {
	StepBase
	Text, To Template
}

// Op implementations: each step's row in stdlib.Steps.

func (*ChangeScore) Op() stdlib.StepOp     { return stdlib.OpChangeScore }
func (*ChangeData) Op() stdlib.StepOp      { return stdlib.OpChangeData }
func (*ChangeStatus) Op() stdlib.StepOp    { return stdlib.OpChangeStatus }
func (*ChangePartition) Op() stdlib.StepOp { return stdlib.OpChangePartition }
func (*AddToList) Op() stdlib.StepOp       { return stdlib.OpAddToList }
func (*RemoveFromList) Op() stdlib.StepOp  { return stdlib.OpRemoveFromList }
func (*SendEmail) Op() stdlib.StepOp       { return stdlib.OpSendEmail }
func (*SendAlert) Op() stdlib.StepOp       { return stdlib.OpSendAlert }
func (*Moment) Op() stdlib.StepOp          { return stdlib.OpMoment }
func (*Wait) Op() stdlib.StepOp            { return stdlib.OpWait }
func (*CallWebhook) Op() stdlib.StepOp     { return stdlib.OpCallWebhook }
func (*Request) Op() stdlib.StepOp         { return stdlib.OpRequest }
func (*Execute) Op() stdlib.StepOp         { return stdlib.OpExecute }
func (*RemoveFromFlow) Op() stdlib.StepOp  { return stdlib.OpRemoveFromFlow }
func (*DeletePerson) Op() stdlib.StepOp    { return stdlib.OpDeletePerson }
func (*If) Op() stdlib.StepOp              { return stdlib.OpIf }
func (*ChangeOwner) Op() stdlib.StepOp     { return stdlib.OpChangeOwner }
func (*SyncToCRM) Op() stdlib.StepOp       { return stdlib.OpSyncToCRM }
func (*CreateTask) Op() stdlib.StepOp      { return stdlib.OpCreateTask }

// Templates implementations, for the steps that render any.

func (s *ChangeScore) Templates() []Template { return []Template{s.Text} }
func (s *ChangeData) Templates() []Template  { return []Template{s.Text} }
func (s *Moment) Templates() []Template      { return []Template{s.Text} }
func (s *Wait) Templates() []Template        { return []Template{s.Text} }
func (s *SendAlert) Templates() []Template   { return []Template{s.Text, s.To} }
func (s *CreateTask) Templates() []Template  { return []Template{s.Text, s.To} }
func (s *ChangeOwner) Templates() []Template { return []Template{s.To} }

func (s *SendEmail) Templates() []Template {
	if s.Email == nil {
		return nil
	}
	return s.Email.Templates()
}

func (s *CallWebhook) Templates() []Template {
	if s.Webhook == nil {
		return nil
	}
	return s.Webhook.Templates()
}
