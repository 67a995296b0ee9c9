package compiler

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
)

// Program is a checked project. It is never modified after Compile returns,
// so one Program may be shared by any number of goroutines.
type Program struct {
	Workspaces []*Workspace // in name order
	Campaigns  []*Campaign  // every campaign; Campaign.ID indexes this slice
}

// Workspace holds the assets of one workspace.
type Workspace struct {
	Name       string
	Partitions []string // person partitions it sees; "Default" when none declared
	Fields     []*Field // built-ins first, then declarations
	Lists      []*List
	SmartLists []*SmartListDef
	Programs   []*ProgramDef
	Folders    []*Folder
	Emails     []*Email
	Webhooks   []*Webhook
	Forms      []*Form
	Campaigns  []*Campaign
	WebPages   []*WebPage

	fields     map[string]*Field
	assets     *AssetScope // file-level lists, smart lists, emails, webhooks, forms
	programs   map[string]*ProgramDef
	campaigns  map[string]*Campaign
	partitions map[string]lang.Position
}

// Field is a person field; Slot is its index in Workspace.Fields.
type Field struct {
	Name    string
	Type    stdlib.FieldType
	Slot    int
	Builtin bool
	Pos     lang.Position
	Display string // the heading a people file may use instead of Name; "" if none
}

// List is a static list. Key names it uniquely (see Key: "W/P/List" for
// list "List" of program "P" of workspace "W"); people's memberships use
// the key.
type List struct {
	Name string
	Key  string
	ID   int
	Pos  lang.Position
}

// AssetScope holds the lists, smart lists, emails, webhooks and forms
// declared at one level: the workspace's files, a folder, or a program.
// Names resolve from the innermost scope outwards, so two programs may each
// have an email "Invitation".
type AssetScope struct {
	Parent     *AssetScope
	path       string      // "Folder/Program/" below the workspace
	program    *ProgramDef // the program whose scope this is, if one
	lists      map[string]*List
	smartLists map[string]*SmartListDef
	emails     map[string]*Email
	webhooks   map[string]*Webhook
	forms      map[string]*Form
	webPages   map[string]*WebPage
}

func newAssetScope(parent *AssetScope, path string) *AssetScope {
	return &AssetScope{Parent: parent, path: path, lists: map[string]*List{}, smartLists: map[string]*SmartListDef{},
		emails: map[string]*Email{}, webhooks: map[string]*Webhook{}, forms: map[string]*Form{}, webPages: map[string]*WebPage{}}
}

// find looks a name up from s outwards.
func find[V any](s *AssetScope, pick func(*AssetScope) map[string]V, name string) (V, bool) {
	for ; s != nil; s = s.Parent {
		if v, ok := pick(s)[name]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// visible lists the names seen from s, for suggestions.
func visible[V any](s *AssetScope, pick func(*AssetScope) map[string]V) []string {
	var out []string
	for ; s != nil; s = s.Parent {
		out = append(out, names(pick(s))...)
	}
	return out
}

func pickLists(s *AssetScope) map[string]*List              { return s.lists }
func pickSmartLists(s *AssetScope) map[string]*SmartListDef { return s.smartLists }
func pickEmails(s *AssetScope) map[string]*Email            { return s.emails }
func pickWebhooks(s *AssetScope) map[string]*Webhook        { return s.webhooks }
func pickForms(s *AssetScope) map[string]*Form              { return s.forms }
func pickWebPages(s *AssetScope) map[string]*WebPage        { return s.webPages }

// Folder is a folder; folders nest.
type Folder struct {
	Name   string
	Parent *Folder
	Scope  *Scope
	Assets *AssetScope
	Pos    lang.Position
}

// ProgramDef is a program.
type ProgramDef struct {
	Name     string
	Key      string // Key(workspace, Name): people's statuses are kept under it
	ID       int
	Folder   *Folder
	Statuses []Status
	Scope    *Scope
	Assets   *AssetScope
	Pos      lang.Position
	// CloneOf is the program this one was cloned from ("program "P" clone
	// "T""), nil for a program written out. A clone holds copies of its
	// template's statuses, tokens, assets and campaigns.
	CloneOf *ProgramDef

	decl       *lang.ProgramDecl
	body       []*lang.Decl         // the declarations it holds: its own, or its template's
	overrides  []*lang.TokenDecl    // a clone's token overrides, its template's included
	locals     map[string]*Campaign // a clone's campaigns, by their names in the template
	inner      declCtx              // where a clone's copies are declared
	cloneState int                  // 1 while a clone is expanded, 2 after
}

// local finds a campaign of a cloned program by the name it has in the
// template: in the clone's text (which is the template's), the template's
// campaign names mean the clone's copies.
func (p *ProgramDef) local(ref *lang.CampaignRef) *Campaign {
	if p == nil || p.locals == nil || ref.Workspace != nil {
		return nil
	}
	return p.locals[ref.Name.Value()]
}

// clonesFrom reports whether name is a program that p is cloned from,
// directly or through a chain: in the clone's text, the template's name
// means the clone.
func (p *ProgramDef) clonesFrom(name string) bool {
	if p == nil {
		return false
	}
	for t := p.CloneOf; t != nil; t = t.CloneOf {
		if t.Name == name {
			return true
		}
	}
	return false
}

// programOf is the program whose asset scope s is, or holds s.
func programOf(s *AssetScope) *ProgramDef {
	for ; s != nil; s = s.Parent {
		if s.program != nil {
			return s.program
		}
	}
	return nil
}

// Status is a program status; statuses move forward only, except into one
// marked Back.
type Status struct {
	Name string
	Back bool
	Pos  lang.Position
}

// StatusIndex finds a status by name, or -1.
func (p *ProgramDef) StatusIndex(name string) int {
	for i, s := range p.Statuses {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// Scope is a node of the My Token chain: a program's scope points at its
// folder's, and so on up. Lookup goes innermost first.
type Scope struct {
	Owner  string // "program \"P\"" or "folder \"F\"", for messages
	Tokens map[string]*Token
	Order  []*Token
	Parent *Scope
}

// Lookup finds a token in this scope or the scopes above it.
func (s *Scope) Lookup(name string) *Token {
	for ; s != nil; s = s.Parent {
		if t := s.Tokens[name]; t != nil {
			return t
		}
	}
	return nil
}

// Names lists every token name visible from s, for suggestions.
func (s *Scope) Names() []string {
	var out []string
	for ; s != nil; s = s.Parent {
		for _, t := range s.Order {
			out = append(out, t.Name)
		}
	}
	return out
}

// Token is a My Token.
type Token struct {
	Name  string
	Type  string
	Value string
	Pos   lang.Position
	decl  *lang.TokenDecl
}

// SmartListDef is a reusable smart-list asset.
type SmartListDef struct {
	Name  string
	ID    int
	List  *SmartList
	Pos   lang.Position
	decl  *lang.SmartListDecl
	ws    *Workspace
	scope *AssetScope
	state int         // resolution state, for self-reference detection
	clone *ProgramDef // the cloned program it was copied into, if so
}

// Email is an email asset; its subject is rendered in the sender's frame.
// An operational email goes even to people who unsubscribed or whose
// marketing is suspended (never to a missing or invalid address).
type Email struct {
	Name        string
	Subject     Template
	Operational bool
	Pos         lang.Position
	decl        *lang.EmailDecl
	clone       *ProgramDef // the cloned program it was copied into, if so
}

// Webhook is a webhook asset; its URL may hold tokens, rendered in the
// caller's frame.
type Webhook struct {
	Name  string
	URL   Template
	Pos   lang.Position
	decl  *lang.WebhookDecl
	clone *ProgramDef // the cloned program it was copied into, if so
}

// Form is a form.
type Form struct {
	Name string
	Pos  lang.Position
}

// WebPage is a web page: people visit it, click its links and fill out
// forms on it (the host delivers those events).
type WebPage struct {
	Name string
	Pos  lang.Position
}

// Kind of campaign.
type Kind int

// Campaign kinds.
const (
	Batch Kind = iota
	Trigger
	Executable
)

func (k Kind) String() string { return stdlib.CampaignKinds[k] }

// Campaign is a checked smart campaign.
type Campaign struct {
	ID          int
	Name        string
	Key         string // Key(workspace, Name): qualification history is kept under it
	Kind        Kind
	Workspace   *Workspace
	Program     *ProgramDef
	Description string
	SmartList   *SmartList
	Flow        []*Step
	Qualify     Qualify
	Run         *Schedule
	Active      bool
	CloneOf     *Campaign
	Pos, End    lang.Position

	decl     *lang.CampaignDecl
	body     *lang.CampaignBody // the body compiled: its own, or the clone source's
	callers  []*callSite        // Execute Campaign steps that target this campaign
	runAt    lang.Position      // where "run" is written, if it is
	samples  int                // random samples in the flow, for their keys
	activeAt lang.Position      // where "active"/"inactive" is written, if it is
}

// callSite is one Execute Campaign step and the campaign it stands in.
type callSite struct {
	caller *Campaign
	step   *Step
}

// Scope is the campaign's own My Token scope: its program's.
func (c *Campaign) Scope() *Scope {
	if c.Program == nil {
		return nil
	}
	return c.Program.Scope
}

// Requestable reports whether the campaign listens for requests from source
// ("flow" or "api").
func (c *Campaign) Requestable(source string) bool {
	if c.Kind != Trigger || c.SmartList == nil {
		return false
	}
	for _, t := range c.SmartList.Triggers {
		if t.Kind == TrigRequested && (len(t.Sources) == 0 || contains(t.Sources, source)) {
			return true
		}
	}
	return false
}

// Qualify is a qualification rule.
type Qualify struct {
	Rule     QualifyRule
	Every    time.Duration // for QualifyEvery
	Explicit bool          // written out, not the default
	Pos      lang.Position
}

// QualifyRule is once, every time, or once every N.
type QualifyRule int

// Qualification rules.
const (
	QualifyOnce QualifyRule = iota
	QualifyEveryTime
	QualifyEvery
)

// Schedule is a batch campaign's run time or recurrence.
type Schedule struct {
	At    time.Time
	Every time.Duration
	Pos   lang.Position
}

// SmartList is a campaign's or an asset's smart list.
type SmartList struct {
	Triggers  []*TriggerDef
	Filters   []*Cond
	Logic     *Expr  // over filter numbers (Expr.Filter); nil means all
	LogicText string // the logic as written ("1 and (2 or 3)"); "" for all
	Invalid   string // non-empty: why nobody qualifies
	Pos       lang.Position
}

// TriggerKind is the event a trigger listens to.
type TriggerKind int

// Trigger kinds, in the order of stdlib.Triggers.
const (
	TrigRequested TriggerKind = iota
	TrigStatusChanged
	TrigDataChanges
	TrigScoreChanged
	TrigAddedToList
	TrigRemovedFromList
	TrigFillsOutForm
	TrigCreated
	// Engagement triggers (issue 11).
	TrigOpensEmail
	TrigClicksEmail
	TrigVisitsPage
	TrigClicksPage
	TrigEmailDelivered
	TrigEmailBounces
	TrigUnsubscribes
)

// NumTriggerKinds is the number of trigger kinds.
const NumTriggerKinds = int(TrigUnsubscribes) + 1

// TriggerDef is one trigger of a smart list.
type TriggerDef struct {
	Kind    TriggerKind
	Sources []string    // TrigRequested: empty means any
	Program *ProgramDef // TrigStatusChanged: nil means any
	Status  string      // TrigStatusChanged: "" means any
	Field   *Field
	List    *List
	Form    *Form
	Pos     lang.Position
	// Constraints (issue 11); unset means any.
	Email      *Email   // the engagement triggers on an email
	WebPage    *WebPage // visits / clicks link on web page; fills out form on web page
	Link       string   // clicks link in email / on web page: the link, compared ignoring case
	From       *Value   // data value changes: the old value
	To         *Value   // data value changes: the new value
	AtLeast    float64  // score is changed by at least (when HasAtLeast)
	HasAtLeast bool
	Text       string // the trigger as written, for explanations
}

// CondKind is the kind of a leaf condition.
type CondKind int

// Condition kinds.
const (
	CondIs CondKind = iota
	CondContains
	CondStartsWith
	CondIn
	CondGt
	CondGe
	CondLt
	CondLe
	CondBetween
	CondEmpty
	CondInPast
	CondMemberList
	CondMemberSmartList
	CondMemberProgram
	CondExecuted
	CondSentEmail
	CondFilledForm
	CondDataChanged
	CondSample
	// Engagement filters (issue 11).
	CondOpenedEmail
	CondClickedEmail
	CondVisitedPage
	CondClickedPage
	CondDeliveredEmail
	CondBouncedEmail
	CondUnsubscribed

	// Issue 11, vocabulary b: negations are Negate on the kinds above.
	CondEndsWith
	CondInNext
	CondAddedToList
)

// Cond is a typed leaf condition. Negate inverts the result (is not, not
// in, is not empty, not member of, not contains, not starts with, not ends
// with, not in past, not in next, and "not" before an activity filter).
type Cond struct {
	Kind      CondKind
	Negate    bool
	Field     *Field
	Values    []Value
	List      *List
	SmartList *SmartListDef
	Program   *ProgramDef
	Status    string // "" means any status
	Campaign  *Campaign
	Email     *Email
	Form      *Form
	WebPage   *WebPage
	Window    time.Duration // activity and in-past conditions; 0 means ever
	AtLeast   int
	Percent   float64
	// SampleKey seeds a random sample: the owner's name and the sample's
	// ordinal, so editing other text does not re-draw the sample.
	SampleKey string
	Text      string // the condition as written, for logs and explain
	Pos, End  lang.Position
}

// Value is a typed literal. Text is kept as written and lowered in Fold
// for case-insensitive comparison.
type Value struct {
	Type stdlib.FieldType
	Null bool
	Text string
	Fold string
	Num  float64
	Time time.Time
	Bool bool
}

// ExprOp is the operator of an Expr node.
type ExprOp int

// Expression operators.
const (
	ExprLeaf ExprOp = iota
	ExprAnd
	ExprOr
	ExprNot
)

// Expr is a boolean expression: over conditions (if) or over filter numbers
// (smart-list logic, where Filter is the 0-based filter index).
type Expr struct {
	Op     ExprOp
	Kids   []*Expr
	Cond   *Cond
	Filter int
}

// StepOp is the kind of a flow step.
type StepOp int

// Step kinds.
const (
	StepChangeScore StepOp = iota
	StepChangeData
	StepChangeStatus
	StepChangePartition
	StepAddToList
	StepRemoveFromList
	StepSendEmail
	StepSendAlert
	StepMoment
	StepWait
	StepCallWebhook
	StepRequest
	StepExecute
	StepRemoveFromFlow
	StepDeletePerson
	StepIf

	// Host effects (issue 11): the engine logs them and asks the host.
	StepChangeOwner
	StepSyncToCRM
	StepCreateTask
)

// Step is a typed flow step with every reference resolved.
type Step struct {
	Op        StepOp
	Field     *Field
	Value     Value    // change data value (literal)
	Text      Template // data value text with tokens, alert text, moment text, score change
	To        Template // alert address
	Score     ScoreChange
	List      *List
	Email     *Email
	Webhook   *Webhook
	Program   *ProgramDef
	Status    string
	Partition string
	Moment    string
	Wait      time.Duration
	Until     time.Time
	Target    *Campaign
	Targets   []*Campaign
	This      bool
	Parent    bool // execute: use parent tokens
	Branches  []*Branch
	Else      []*Step
	HasElse   bool
	Pos, End  lang.Position
	Source    string // the step as written (empty for if steps), for explanations
	// ID is the step's identity: 16 hex digits that stay the same while
	// other steps are inserted, deleted or reordered, and that waits are
	// stored against (see stepIDs).
	ID string

	// Wait options (issue 11). A wait until a token keeps the token's
	// template in Text. A wait N unit ends at the first instant, at or after
	// the N units, that falls on one of Weekdays (none: any day) and, with
	// At, reads At on the clock in Zone; Zone is UTC unless "until" names one.
	Weekdays Weekdays
	At       *TimeOfDay
	Zone     *time.Location
	// The host-effect steps use To for Change Owner's new owner and Create
	// Task's assignee (empty: the person's owner), Text for the task's subject.

	src *lang.Step
}

// Weekdays is a set of days of the week, one bit per time.Weekday.
type Weekdays uint8

// Has reports whether d is in the set; the empty set has every day.
func (w Weekdays) Has(d time.Weekday) bool { return w == 0 || w&(1<<d) != 0 }

// String writes the set as ranges from Monday: "Mon-Fri", "Mon, Wed-Thu".
func (w Weekdays) String() string {
	if w == 0 {
		return ""
	}
	var parts []string
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	for i := 0; i < len(order); {
		if w&(1<<order[i]) == 0 {
			i++
			continue
		}
		j := i
		for j+1 < len(order) && w&(1<<order[j+1]) != 0 {
			j++
		}
		part := order[i].String()[:3]
		if j > i {
			part += "-" + order[j].String()[:3]
		}
		parts = append(parts, part)
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// TimeOfDay is a wall-clock time for "until HH:MM ZONE".
type TimeOfDay struct {
	Hour, Minute int
	ZoneName     string // as written
}

// String writes the time and its zone: "09:00 Europe/Berlin".
func (t TimeOfDay) String() string {
	return fmt.Sprintf("%02d:%02d %s", t.Hour, t.Minute, t.ZoneName)
}

// Branch is one choice of an if step.
type Branch struct {
	Cond  *Expr
	Text  string // the condition as written
	Steps []*Step
	Pos   lang.Position

	src *lang.Branch
}

// ScoreChange is "+n", "-n", "=n", or a score token resolved at run time.
type ScoreChange struct {
	Set   bool
	Delta float64
	Token *lang.TokenRef // when the change comes from a token
}

// Template is a string with token references.
type Template struct {
	Parts []lang.Part
}

// Static reports whether the template has no token references.
func (t Template) Static() bool {
	for _, p := range t.Parts {
		if p.Ref != nil {
			return false
		}
	}
	return true
}

// String is the template as literal text with references written back.
func (t Template) String() string {
	s := ""
	for _, p := range t.Parts {
		if p.Ref != nil {
			s += p.Ref.String()
		} else {
			s += p.Lit
		}
	}
	return s
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// WalkSteps calls fn for every step of a flow, branches included, in
// source order.
func WalkSteps(steps []*Step, fn func(*Step)) {
	for _, s := range steps {
		fn(s)
		for _, b := range s.Branches {
			WalkSteps(b.Steps, fn)
		}
		WalkSteps(s.Else, fn)
	}
}

// CampaignsNamed lists, in workspace order, the campaigns a name may
// mean: those named so, in any workspace, and, for a name written
// "Workspace/Campaign", campaign "Campaign" of workspace "Workspace", for
// every "/" of the name that splits it so. Names may contain "/", so more
// than one campaign can match; Campaign picks one without ambiguity.
func (p *Program) CampaignsNamed(name string) []*Campaign {
	var out []*Campaign
	for _, ws := range p.Workspaces {
		if c := ws.campaigns[name]; c != nil {
			out = append(out, c)
		}
		if rest, ok := strings.CutPrefix(name, ws.Name+"/"); ok {
			if c := ws.campaigns[rest]; c != nil && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// Campaign finds the campaign named name in the workspace named
// workspace, or nil.
func (p *Program) Campaign(workspace, name string) *Campaign {
	for _, ws := range p.Workspaces {
		if ws.Name == workspace {
			return ws.campaigns[name]
		}
	}
	return nil
}

// FieldTypes maps every field name of every workspace to its type, for
// reading people files. A name with two types in two workspaces is an error.
func (p *Program) FieldTypes() (map[string]stdlib.FieldType, error) {
	out := map[string]stdlib.FieldType{}
	for _, ws := range p.Workspaces {
		for _, f := range ws.Fields {
			if t, ok := out[f.Name]; ok && t != f.Type {
				return nil, fmt.Errorf("field %s is %s in one workspace and %s in workspace %q", f.Name, t, f.Type, ws.Name)
			}
			out[f.Name] = f.Type
		}
	}
	return out, nil
}

// Sees reports whether people of the partition are visible to the workspace.
func (ws *Workspace) Sees(partition string) bool {
	if partition == "" {
		partition = "Default"
	}
	return slices.Contains(ws.Partitions, partition)
}

// Field finds a field of the workspace.
func (ws *Workspace) Field(name string) *Field { return ws.fields[name] }

// ListsNamed lists the workspace's static lists with this name, wherever
// they are declared.
func (ws *Workspace) ListsNamed(name string) []*List {
	var out []*List
	for _, l := range ws.Lists {
		if l.Name == name {
			out = append(out, l)
		}
	}
	return out
}

// ProgramNamed finds a program of the workspace.
func (ws *Workspace) ProgramNamed(name string) *ProgramDef { return ws.programs[name] }

// Runnable returns the program if it may run: it has no errors, or, when
// lenient, its only errors are invalid smart lists (which then qualify
// nobody).
func (r *Result) Runnable(lenient bool) (*Program, error) {
	if r.Program == nil || (r.errors && !(lenient && r.OnlySmartListErrors())) {
		return nil, fmt.Errorf("the project has errors; run campc check")
	}
	return r.Program, nil
}

// Constructors for values that hosts put into people.

// NewText is a text value (t is stdlib.Text or stdlib.Email).
func NewText(t stdlib.FieldType, s string) Value {
	return Value{Type: t, Text: s, Fold: strings.ToLower(s)}
}

// NewNumber is a number value (t is stdlib.Number or stdlib.Score).
func NewNumber(t stdlib.FieldType, n float64) Value { return Value{Type: t, Num: n} }

// NewBool is a boolean value.
func NewBool(b bool) Value { return Value{Type: stdlib.Boolean, Bool: b} }

// NewTime is a date or datetime value.
func NewTime(t stdlib.FieldType, tm time.Time) Value { return Value{Type: t, Time: tm.UTC()} }
