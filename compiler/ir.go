package compiler

import (
	"github.com/campc/campc/ir"
)

// The checked program's types are package ir's; these names keep the
// checker's code short. Users outside the compiler use ir directly.

type (
	Program      = ir.Program
	Workspace    = ir.Workspace
	Field        = ir.Field
	List         = ir.List
	Folder       = ir.Folder
	ProgramDef   = ir.ProgramDef
	Status       = ir.Status
	Scope        = ir.Scope
	Token        = ir.Token
	SmartListDef = ir.SmartListDef
	Email        = ir.Email
	Webhook      = ir.Webhook
	Form         = ir.Form
	WebPage      = ir.WebPage
	Kind         = ir.Kind
	Campaign     = ir.Campaign
	Qualify      = ir.Qualify
	QualifyRule  = ir.QualifyRule
	Schedule     = ir.Schedule
	SmartList    = ir.SmartList
	TriggerKind  = ir.TriggerKind
	TriggerDef   = ir.TriggerDef
	CondKind     = ir.CondKind
	Cond         = ir.Cond
	Value        = ir.Value
	ExprOp       = ir.ExprOp
	Expr         = ir.Expr
	StepOp       = ir.StepOp
	Step         = ir.Step
	Weekdays     = ir.Weekdays
	TimeOfDay    = ir.TimeOfDay
	Branch       = ir.Branch
	ScoreChange  = ir.ScoreChange
	Template     = ir.Template
	TokenRef     = ir.TokenRef
	Part         = ir.Part
	Position     = ir.Position
	Family       = ir.Family
)

const (
	Batch               = ir.Batch
	Trigger             = ir.Trigger
	Executable          = ir.Executable
	QualifyOnce         = ir.QualifyOnce
	QualifyEveryTime    = ir.QualifyEveryTime
	QualifyEvery        = ir.QualifyEvery
	TrigRequested       = ir.TrigRequested
	TrigStatusChanged   = ir.TrigStatusChanged
	TrigDataChanges     = ir.TrigDataChanges
	TrigScoreChanged    = ir.TrigScoreChanged
	TrigAddedToList     = ir.TrigAddedToList
	TrigRemovedFromList = ir.TrigRemovedFromList
	TrigFillsOutForm    = ir.TrigFillsOutForm
	TrigCreated         = ir.TrigCreated
	TrigOpensEmail      = ir.TrigOpensEmail
	TrigClicksEmail     = ir.TrigClicksEmail
	TrigVisitsPage      = ir.TrigVisitsPage
	TrigClicksPage      = ir.TrigClicksPage
	TrigEmailDelivered  = ir.TrigEmailDelivered
	TrigEmailBounces    = ir.TrigEmailBounces
	TrigUnsubscribes    = ir.TrigUnsubscribes
	CondIs              = ir.CondIs
	CondContains        = ir.CondContains
	CondStartsWith      = ir.CondStartsWith
	CondIn              = ir.CondIn
	CondGt              = ir.CondGt
	CondGe              = ir.CondGe
	CondLt              = ir.CondLt
	CondLe              = ir.CondLe
	CondBetween         = ir.CondBetween
	CondEmpty           = ir.CondEmpty
	CondInPast          = ir.CondInPast
	CondMemberList      = ir.CondMemberList
	CondMemberSmartList = ir.CondMemberSmartList
	CondMemberProgram   = ir.CondMemberProgram
	CondExecuted        = ir.CondExecuted
	CondSentEmail       = ir.CondSentEmail
	CondFilledForm      = ir.CondFilledForm
	CondDataChanged     = ir.CondDataChanged
	CondSample          = ir.CondSample
	CondOpenedEmail     = ir.CondOpenedEmail
	CondClickedEmail    = ir.CondClickedEmail
	CondVisitedPage     = ir.CondVisitedPage
	CondClickedPage     = ir.CondClickedPage
	CondDeliveredEmail  = ir.CondDeliveredEmail
	CondBouncedEmail    = ir.CondBouncedEmail
	CondUnsubscribed    = ir.CondUnsubscribed
	CondEndsWith        = ir.CondEndsWith
	CondInNext          = ir.CondInNext
	CondAddedToList     = ir.CondAddedToList
	ExprLeaf            = ir.ExprLeaf
	ExprAnd             = ir.ExprAnd
	ExprOr              = ir.ExprOr
	ExprNot             = ir.ExprNot
	StepChangeScore     = ir.StepChangeScore
	StepChangeData      = ir.StepChangeData
	StepChangeStatus    = ir.StepChangeStatus
	StepChangePartition = ir.StepChangePartition
	StepAddToList       = ir.StepAddToList
	StepRemoveFromList  = ir.StepRemoveFromList
	StepSendEmail       = ir.StepSendEmail
	StepSendAlert       = ir.StepSendAlert
	StepMoment          = ir.StepMoment
	StepWait            = ir.StepWait
	StepCallWebhook     = ir.StepCallWebhook
	StepRequest         = ir.StepRequest
	StepExecute         = ir.StepExecute
	StepRemoveFromFlow  = ir.StepRemoveFromFlow
	StepDeletePerson    = ir.StepDeletePerson
	StepIf              = ir.StepIf
	StepChangeOwner     = ir.StepChangeOwner
	StepSyncToCRM       = ir.StepSyncToCRM
	StepCreateTask      = ir.StepCreateTask
	NumTriggerKinds     = ir.NumTriggerKinds
	MaxExecuteDepth     = ir.MaxExecuteDepth
)

// Key joins names into one key; see ir.Key.
func Key(names ...string) string { return ir.Key(names...) }

func keyPart(name string) string { return ir.KeyPart(name) }

// WalkSteps calls fn for every step of a flow; see ir.WalkSteps.
func WalkSteps(steps []*Step, fn func(*Step)) { ir.WalkSteps(steps, fn) }
