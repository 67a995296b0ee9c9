package ir

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/campc/campc/stdlib"
)

// Program is a checked project. It is never modified after Compile returns,
// so one Program may be shared by any number of goroutines.
type Program struct {
	Workspaces []*Workspace // in name order
	Campaigns  []*Campaign  // every campaign; Campaign.ID indexes this slice

	callers   [][]Call // by callee ID, made by Index
	lay       *Layout
	exec      execGraph
	readsLogs bool
}

// Call is one Execute Campaign step: Caller's flow holds Step, which
// executes Step.Target.
type Call struct {
	Caller *Campaign
	Step   *Execute
}

// Callers lists the Execute Campaign steps that execute c, in program
// order: by the calling campaign's ID, then in flow order, branches
// included. The checker's token contexts and campc run and explain use
// this one list.
func (p *Program) Callers(c *Campaign) []Call {
	if c == nil || c.ID < 0 || c.ID >= len(p.callers) {
		return nil
	}
	return p.callers[c.ID]
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

	// Lookups by name, made by Index.
	fields    map[string]*Field
	programs  map[string]*ProgramDef
	campaigns map[string]*Campaign
}

// Field is a person field; Slot is its index in Workspace.Fields, Col its
// column in the program's person layout (Layout.Fields).
type Field struct {
	Name    string
	Type    stdlib.FieldType
	Slot    int
	Col     int
	Layout  *Layout
	Builtin bool
	Pos     Position
	Display string // the heading a people file may use instead of Name; "" if none
}

// Layout is the person layout of a program: every field name of every
// workspace and every list key, each with a column (Field.Col,
// List.Col). A person is shared by the workspaces, so a field of the
// same name is one column. A store that keeps people in columns maps the
// layout to its own once, and the engine then reaches a value by number
// (storage.Person.FieldOf, InListOf) instead of by name.
type Layout struct {
	Fields []string // in name order
	Lists  []string // keys, in order
}

// List is a static list. Key names it uniquely (see Key: "W/P/List" for
// list "List" of program "P" of workspace "W"); people's memberships use
// the key.
type List struct {
	Name   string
	Key    string
	ID     int
	Col    int     // column in Layout.Lists
	Layout *Layout // the program's
	Pos    Position
}

// Folder is a folder; folders nest.
type Folder struct {
	Name   string
	Parent *Folder
	Scope  *Scope
	Pos    Position
}

// ProgramDef is a program.
type ProgramDef struct {
	Name     string
	Key      string // Key(workspace, Name): people's statuses are kept under it
	ID       int
	Folder   *Folder
	Statuses []Status
	Scope    *Scope
	Pos      Position
	// CloneOf is the program this one was cloned from ("program "P" clone
	// "T""), nil for a program written out. A clone holds copies of its
	// template's statuses, tokens, assets and campaigns.
	CloneOf *ProgramDef
}

// Status is a program status; statuses move forward only, except into one
// marked Back.
type Status struct {
	Name string
	Back bool
	Pos  Position
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
	Pos   Position
}

// SmartListDef is a reusable smart-list asset.
type SmartListDef struct {
	Name string
	ID   int
	List *SmartList
	Pos  Position
}

// Email is an email asset; its subject, sender and bodies are rendered in
// the sender's frame (token values are HTML-escaped in the HTML body).
// An operational email goes even to people who unsubscribed or whose
// marketing is suspended (never to a missing or invalid address).
type Email struct {
	Name        string
	Subject     Template
	From        Template // the sender's address; empty: the host's default
	Text        Template // the plain-text body
	HTML        Template // the HTML body
	TextFile    string   // the file the text body came from ("" when inline)
	HTMLFile    string   // the file the HTML body came from ("" when inline)
	Operational bool
	Pos         Position
}

// Templates lists the email's templates in the order they are rendered:
// subject, from, text, HTML (the empty ones left out).
func (e *Email) Templates() []Template {
	ts := []Template{e.Subject}
	for _, t := range []Template{e.From, e.Text, e.HTML} {
		if len(t.Parts) > 0 {
			ts = append(ts, t)
		}
	}
	return ts
}

// Form is a form.
type Form struct {
	Name string
	Pos  Position
}

// WebPage is a web page: people visit it, click its links and fill out
// forms on it (the host delivers those events).
type WebPage struct {
	Name string
	Pos  Position
}

// MaxExecuteDepth is how many levels of executables may nest below the
// campaign that starts a chain: parent > child > grandchild > great-grandchild.
const MaxExecuteDepth = 3

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
	Flow        []Step
	Qualify     Qualify
	Run         *Schedule
	Active      bool
	CloneOf     *Campaign
	Pos, End    Position
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
	Pos      Position
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
	Pos   Position
}

// SmartList is a campaign's or an asset's smart list.
type SmartList struct {
	Triggers  []*TriggerDef
	Filters   []Cond
	Logic     *Expr  // over filter numbers (Expr.Filter); nil means all
	LogicText string // the logic as written ("1 and (2 or 3)"); "" for all
	Invalid   string // non-empty: why nobody qualifies
	Pos       Position
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
	Pos     Position
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
	Cond   Cond
	Filter int
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
	Steps []Step
	Pos   Position
}

// ScoreChange is "+n", "-n", "=n", or a score token resolved at run time.
type ScoreChange struct {
	Set   bool
	Delta float64
	Token *TokenRef // when the change comes from a token
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
func WalkSteps(steps []Step, fn func(Step)) {
	for _, s := range steps {
		fn(s)
		if s, ok := s.(*If); ok {
			for _, b := range s.Branches {
				WalkSteps(b.Steps, fn)
			}
			WalkSteps(s.Else, fn)
		}
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

// Index makes the lookups by name of every workspace (Field, ProgramNamed,
// Campaign, CampaignsNamed) find what the workspace's slices hold, and
// computes the analyses published on the Program (Callers,
// ReadsActivityLogs, and the Execute Campaign graph: ExecDepth,
// DeepChains, ExecCycles and the rest). The compiler
// keeps names unique; of two of the same name the first is found. The
// compiler calls Index once every reference is resolved, before the
// Program is shared: nothing is written afterwards.
func (p *Program) Index() {
	p.callers = make([][]Call, len(p.Campaigns))
	for _, c := range p.Campaigns {
		WalkSteps(c.Flow, func(st Step) {
			if s, ok := st.(*Execute); ok && s.Target != nil && s.Target.ID >= 0 && s.Target.ID < len(p.callers) {
				p.callers[s.Target.ID] = append(p.callers[s.Target.ID], Call{Caller: c, Step: s})
			}
		})
	}
	p.analyzeExec()
	p.readsLogs = readsLogs(p)
	p.layout()
	for _, ws := range p.Workspaces {
		ws.fields = make(map[string]*Field, len(ws.Fields))
		for _, f := range ws.Fields {
			if _, ok := ws.fields[f.Name]; !ok {
				ws.fields[f.Name] = f
			}
		}
		ws.programs = make(map[string]*ProgramDef, len(ws.Programs))
		for _, pd := range ws.Programs {
			if _, ok := ws.programs[pd.Name]; !ok {
				ws.programs[pd.Name] = pd
			}
		}
		ws.campaigns = make(map[string]*Campaign, len(ws.Campaigns))
		for _, c := range ws.Campaigns {
			if _, ok := ws.campaigns[c.Name]; !ok {
				ws.campaigns[c.Name] = c
			}
		}
	}
}

// layout gives every field and list its column of the person layout.
func (p *Program) layout() {
	lay := &Layout{}
	fields, lists := map[string]int{}, map[string]int{}
	for _, ws := range p.Workspaces {
		for _, f := range ws.Fields {
			fields[f.Name] = 0
		}
		for _, l := range ws.Lists {
			lists[l.Key] = 0
		}
	}
	lay.Fields = slices.Sorted(maps.Keys(fields))
	lay.Lists = slices.Sorted(maps.Keys(lists))
	for i, n := range lay.Fields {
		fields[n] = i
	}
	for i, k := range lay.Lists {
		lists[k] = i
	}
	for _, ws := range p.Workspaces {
		for _, f := range ws.Fields {
			f.Col, f.Layout = fields[f.Name], lay
		}
		for _, l := range ws.Lists {
			l.Col, l.Layout = lists[l.Key], lay
		}
	}
	p.lay = lay
}

// Layout is the program's person layout.
func (p *Program) Layout() *Layout { return p.lay }

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

// ReadsActivityLogs reports whether any condition of the program, wherever
// it stands, reads people's activity logs: a store need not load them for
// a program that does not.
func (p *Program) ReadsActivityLogs() bool { return p.readsLogs }

// TokenScopes lists the My Token scopes, in lookup order, that c resolves
// its references in when it runs: its own program's (and up its folders)
// when it starts a run or is executed without parent tokens; with "use
// parent tokens", the caller's scopes (callers) first and c's own as the
// fallback. The checker enumerates the contexts an executable can run in
// with it, and the engine resolves references with it.
func TokenScopes(c *Campaign, callers []*Scope, parent bool) []*Scope {
	if !parent {
		return []*Scope{c.Scope()}
	}
	return append(append(make([]*Scope, 0, len(callers)+1), callers...), c.Scope())
}

// readsLogs reports whether any condition of the program reads people's
// activity logs (the activity filters), wherever it stands.
func readsLogs(prog *Program) bool {
	var inExpr func(e *Expr) bool
	isLog := ReadsLog
	inExpr = func(e *Expr) bool {
		if e == nil {
			return false
		}
		if e.Cond != nil && isLog(e.Cond) {
			return true
		}
		for _, k := range e.Kids {
			if inExpr(k) {
				return true
			}
		}
		return false
	}
	inList := func(sl *SmartList) bool {
		if sl == nil {
			return false
		}
		for _, f := range sl.Filters {
			if isLog(f) {
				return true
			}
		}
		return false
	}
	for _, ws := range prog.Workspaces {
		for _, sl := range ws.SmartLists {
			if inList(sl.List) {
				return true
			}
		}
	}
	found := false
	for _, c := range prog.Campaigns {
		if inList(c.SmartList) {
			return true
		}
		WalkSteps(c.Flow, func(st Step) {
			if s, ok := st.(*If); ok {
				for _, b := range s.Branches {
					found = found || inExpr(b.Cond)
				}
			}
		})
	}
	return found
}
