package lang

import (
	"strconv"

	"github.com/alecthomas/participle/v2/lexer"
)

// Every node that a diagnostic can point at carries Pos and EndPos, which
// participle fills in. EndPos is the position just after the node's last token.
//
// These types are also the reference grammar, copied into internal/refgrammar
// (see dispatch.go); after changing them, run
// go test ./lang -run TestRefGrammar -update-refgrammar.

// Ident is a bare identifier: a person field or a keyword-like word such as a
// field type or a duration unit (kept as an identifier so that a typo gets a
// "did you mean" from the compiler rather than a bare syntax error).
type Ident struct {
	Pos    lexer.Position
	Name   string `parser:"@Ident"`
	EndPos lexer.Position
}

// Str is a double-quoted string as written; Value gives its text.
type Str struct {
	Pos    lexer.Position
	Raw    string `parser:"@String"`
	EndPos lexer.Position
}

// Value is the string's text with escapes resolved. The lexer admits only
// escapes that strconv understands, so this cannot fail on parsed input.
func (s *Str) Value() string {
	if s == nil {
		return ""
	}
	v, err := strconv.Unquote(s.Raw)
	if err != nil {
		return s.Raw
	}
	return v
}

// Num is a number literal as written.
type Num struct {
	Pos    lexer.Position
	Raw    string `parser:"@Number"`
	EndPos lexer.Position
}

// TimeLit is an RFC 3339 date-time or a plain date.
type TimeLit struct {
	Pos    lexer.Position
	Raw    string `parser:"@(DateTime | Date)"`
	EndPos lexer.Position
}

// File is one .camp file.
type File struct {
	Pos       lexer.Position
	Workspace *Str    `parser:"'workspace' @@"`
	Decls     []*Decl `parser:"@@*"`
	EndPos    lexer.Position
}

// Decl is one declaration at file level or inside a folder or program.
type Decl struct {
	Pos       lexer.Position
	Field     *FieldDecl     `parser:"  @@"`
	Partition *PartitionDecl `parser:"| @@"`
	Folder    *FolderDecl    `parser:"| @@"`
	Program   *ProgramDecl   `parser:"| @@"`
	Statuses  *StatusesDecl  `parser:"| @@"`
	Token     *TokenDecl     `parser:"| @@"`
	List      *ListDecl      `parser:"| @@"`
	SmartList *SmartListDecl `parser:"| @@"`
	Email     *EmailDecl     `parser:"| @@"`
	Webhook   *WebhookDecl   `parser:"| @@"`
	Form      *FormDecl      `parser:"| @@"`
	Campaign  *CampaignDecl  `parser:"| @@"`
	WebPage   *WebPageDecl   `parser:"| @@"`
	Unknown   *UnknownDecl   `parser:"| @@"`
	EndPos    lexer.Position
}

// FieldDecl declares a custom person field, with an optional display name
// (the column heading a people file may use for it, as Marketo exports
// write "Sales Region" for a field whose name is Region).
type FieldDecl struct {
	Pos     lexer.Position
	Name    *Ident `parser:"'field' @@"`
	Type    *Ident `parser:"@@"`
	Display *Str   `parser:"@@?"`
	EndPos  lexer.Position
}

// PartitionDecl names a person partition that the workspace sees.
type PartitionDecl struct {
	Pos    lexer.Position
	Names  []*Str `parser:"'partition' @@ (',' @@)*"`
	EndPos lexer.Position
}

// FolderDecl is a folder; folders nest and hold programs, tokens and assets.
type FolderDecl struct {
	Pos    lexer.Position
	Name   *Str    `parser:"'folder' @@"`
	Decls  []*Decl `parser:"'{' @@* '}'"`
	EndPos lexer.Position
}

// ProgramDecl is a program with its statuses, tokens, assets and
// campaigns, or a clone of another program ("program "New" clone "Template"
// { token … }") whose braces hold the tokens it overrides.
type ProgramDecl struct {
	Pos       lexer.Position
	Name      *Str         `parser:"'program' @@"`
	Clone     *CampaignRef `parser:"( 'clone' @@"`
	Overrides []*Decl      `parser:"  ( '{' @@* '}' )?"`
	Decls     []*Decl      `parser:"| '{' @@* '}' )"`
	EndPos    lexer.Position
}

// StatusesDecl lists a program's statuses in progression order. A name
// followed by "(back)" may be entered from a later status.
type StatusesDecl struct {
	Pos    lexer.Position
	List   []*StatusName `parser:"'statuses' @@ (',' @@)*"`
	EndPos lexer.Position
}

// StatusName is one program status.
type StatusName struct {
	Pos    lexer.Position
	Name   *Str `parser:"@@"`
	Back   bool `parser:"@('(' 'back' ')')?"`
	EndPos lexer.Position
}

// TokenDecl is a My Token on a folder or program.
type TokenDecl struct {
	Pos    lexer.Position
	Name   *Str   `parser:"'token' @@"`
	Type   *Ident `parser:"@@"`
	Value  *Str   `parser:"@@"`
	EndPos lexer.Position
}

// ListDecl is a static list.
type ListDecl struct {
	Pos    lexer.Position
	Name   *Str `parser:"'list' @@"`
	EndPos lexer.Position
}

// SmartListDecl is a reusable smart-list asset.
type SmartListDecl struct {
	Pos    lexer.Position
	Name   *Str             `parser:"'smart' 'list' @@"`
	Items  []*SmartListItem `parser:"'{' @@* '}'"`
	EndPos lexer.Position
}

// EmailDecl is an email asset.
type EmailDecl struct {
	Pos    lexer.Position
	Name   *Str         `parser:"'email' @@"`
	Items  []*EmailItem `parser:"'{' @@* '}'"`
	EndPos lexer.Position
}

// EmailItem is one clause of an email: its subject, "operational" (the
// email is sent even to people who unsubscribed or are suspended from
// marketing), its sender, its text body or its HTML body. Each stands on
// a line of its own.
type EmailItem struct {
	Pos         lexer.Position
	Subject     *Str       `parser:"  'subject' @@"`
	Operational bool       `parser:"| @'operational'"`
	From        *Str       `parser:"| 'from' @@"`
	Text        *EmailBody `parser:"| 'text' @@"`
	HTML        *EmailBody `parser:"| 'html' @@"`
	EndPos      lexer.Position
}

// EmailBody is a text or HTML body: the template itself ("…"), or with
// "file", the name of a file beside the .camp file that holds it. The
// compiler does not read the file: the host passes its text in
// (compiler.Options.ReadFile).
type EmailBody struct {
	Pos    lexer.Position
	File   bool `parser:"@'file'?"`
	Str    *Str `parser:"@@"`
	EndPos lexer.Position
}

// Subject is the email's first subject clause, or nil.
func (d *EmailDecl) Subject() *Str {
	for _, it := range d.Items {
		if it.Subject != nil {
			return it.Subject
		}
	}
	return nil
}

// WebhookDecl is a webhook asset: where and how it is called, and what of
// its response is kept. Each clause stands on a line of its own.
type WebhookDecl struct {
	Pos    lexer.Position
	Name   *Str           `parser:"'webhook' @@"`
	Items  []*WebhookItem `parser:"'{' @@* '}'"`
	EndPos lexer.Position
}

// WebhookItem is one clause of a webhook: url "…", method GET|POST|…,
// header "Name" "value", payload [json|form] "…", map "$.path" to Field,
// or an unknown word for the compiler to report.
type WebhookItem struct {
	Pos     lexer.Position
	URL     *Str            `parser:"  'url' @@"`
	Method  *Ident          `parser:"| 'method' @@"`
	Header  *WebhookHeader  `parser:"| 'header' @@"`
	Payload *WebhookPayload `parser:"| 'payload' @@"`
	Map     *WebhookMap     `parser:"| 'map' @@"`
	Unknown *UnknownHook    `parser:"| @@"`
	EndPos  lexer.Position
}

// WebhookHeader is header "Name" "value": a request header; the value is
// a template.
type WebhookHeader struct {
	Pos    lexer.Position
	Name   *Str `parser:"@@"`
	Value  *Str `parser:"@@"`
	EndPos lexer.Position
}

// WebhookPayload is payload [json|form] "…": the request body, a template
// whose token values are escaped for the encoding (none: as they are).
type WebhookPayload struct {
	Pos      lexer.Position
	Encoding *Ident `parser:"@@?"`
	Text     *Str   `parser:"@@"`
	EndPos   lexer.Position
}

// WebhookMap is map "$.path" to Field: a response mapping, the value at a
// JSON path of the response written to a person field.
type WebhookMap struct {
	Pos    lexer.Position
	Path   *Str   `parser:"@@ 'to'"`
	Field  *Ident `parser:"@@"`
	EndPos lexer.Position
}

// URL is the webhook's first url clause, or nil.
func (d *WebhookDecl) URL() *Str {
	for _, it := range d.Items {
		if it.URL != nil {
			return it.URL
		}
	}
	return nil
}

// FormDecl is a form that people fill out.
type FormDecl struct {
	Pos    lexer.Position
	Name   *Str `parser:"'form' @@"`
	EndPos lexer.Position
}

// WebPageDecl is a web page that people visit and fill out forms on; the
// engagement triggers and filters name it (issue 11).
type WebPageDecl struct {
	Pos    lexer.Position
	Name   *Str `parser:"'web' 'page' @@"`
	EndPos lexer.Position
}

// CampaignDecl is a smart campaign, written out or cloned from another.
type CampaignDecl struct {
	Pos    lexer.Position
	Kind   *Ident        `parser:"(?! 'field' | 'partition' | 'folder' | 'program' | 'statuses' | 'token' | 'list' | 'smart' | 'email' | 'webhook' | 'form' | 'web') @@"`
	Name   *Str          `parser:"'campaign' @@"`
	Clone  *CampaignRef  `parser:"( 'clone' @@"`
	Body   *CampaignBody `parser:"| @@ )"`
	EndPos lexer.Position
}

// CampaignBody is the braced part of a campaign.
type CampaignBody struct {
	Pos    lexer.Position
	Items  []*CampaignItem `parser:"'{' @@* '}'"`
	EndPos lexer.Position
}

// CampaignItem is one clause of a campaign body.
type CampaignItem struct {
	Pos         lexer.Position
	SmartList   *SmartListBlock `parser:"  @@"`
	Flow        *Flow           `parser:"| @@"`
	Run         *Run            `parser:"| @@"`
	Activation  *Activation     `parser:"| @@"`
	Qualify     *Qualify        `parser:"| @@"`
	Description *Str            `parser:"| 'description' @@"`
	Unknown     *UnknownItem    `parser:"| @@"`
	EndPos      lexer.Position
}

// SmartListBlock is a campaign's own smart list.
type SmartListBlock struct {
	Pos    lexer.Position
	Items  []*SmartListItem `parser:"'smart' 'list' '{' @@* '}'"`
	EndPos lexer.Position
}

// SmartListItem is a trigger, a filter or the filter logic.
type SmartListItem struct {
	Pos     lexer.Position
	Trigger *Trigger      `parser:"  @@"`
	Filter  *Cond         `parser:"| 'filter' @@"`
	Logic   *Logic        `parser:"| 'logic' @@"`
	Unknown *UnknownSLine `parser:"| @@"`
	EndPos  lexer.Position
}

// Logic combines filters: all, any, or an expression over filter numbers.
type Logic struct {
	Pos    lexer.Position
	Word   string     `parser:"( @('all' | 'any')"`
	Expr   *LogicExpr `parser:"| @@ )"`
	EndPos lexer.Position
}

// LogicExpr is a flat chain of terms joined by one kind of operator; the
// compiler rejects a chain that mixes "and" and "or" without parentheses.
type LogicExpr struct {
	Pos    lexer.Position
	First  *LogicTerm   `parser:"@@"`
	Rest   []*LogicNext `parser:"@@*"`
	EndPos lexer.Position
}

// LogicNext is one "and TERM" or "or TERM".
type LogicNext struct {
	Pos    lexer.Position
	Op     string     `parser:"@('and' | 'or')"`
	Term   *LogicTerm `parser:"@@"`
	EndPos lexer.Position
}

// LogicTerm is a filter number, "not" a term, or a parenthesised expression.
type LogicTerm struct {
	Pos    lexer.Position
	Not    *LogicTerm `parser:"  'not' @@"`
	Ref    *Num       `parser:"| @@"`
	Group  *LogicExpr `parser:"| '(' @@ ')'"`
	EndPos lexer.Position
}

// Flow is a campaign's list of steps.
type Flow struct {
	Pos    lexer.Position
	Steps  []*Step `parser:"'flow' '{' @@* '}'"`
	EndPos lexer.Position
}

// Run is a batch campaign's schedule.
type Run struct {
	Pos      lexer.Position
	Now      bool      `parser:"'run' ( @'now'"`
	At       *TimeLit  `parser:"| 'at' @@"`
	Every    *Duration `parser:"| 'every' @@"`
	Starting *TimeLit  `parser:"('starting' @@)? )"`
	EndPos   lexer.Position
}

// Activation is "active" or "inactive" on a trigger campaign.
type Activation struct {
	Pos    lexer.Position
	Word   string `parser:"@('active' | 'inactive')"`
	EndPos lexer.Position
}

// Qualify is the qualification rule.
type Qualify struct {
	Pos       lexer.Position
	EveryTime bool      `parser:"'qualify' ( @('every' 'time')"`
	Once      bool      `parser:"| @'once'"`
	Every     *Duration `parser:"('every' @@)? )"`
	EndPos    lexer.Position
}

// Duration is "N unit".
type Duration struct {
	Pos    lexer.Position
	N      *Num   `parser:"@@"`
	Unit   *Ident `parser:"@@"`
	EndPos lexer.Position
}

// CampaignRef names a campaign, optionally in another workspace.
type CampaignRef struct {
	Pos       lexer.Position
	Name      *Str `parser:"@@"`
	Workspace *Str `parser:"('in' 'workspace' @@)?"`
	EndPos    lexer.Position
}

// Trigger is one smart-list trigger.
type Trigger struct {
	Pos           lexer.Position
	Requested     bool     `parser:"'trigger' ( ( @('campaign' 'is' 'requested')"`
	Sources       []*Ident `parser:"    ('from' @@ (',' @@)*)? )"`
	StatusChanged bool     `parser:"| ( @('program' 'status' 'is' 'changed')"`
	InProgram     *Str     `parser:"    ('in' @@)?"`
	ToStatus      *Str     `parser:"    ('to' @@)? )"`
	DataChanges   *Ident   `parser:"| ( 'data' 'value' 'changes' @@"`
	DataFrom      *Value   `parser:"    ('from' @@)?"`
	DataTo        *Value   `parser:"    ('to' @@)? )"`
	ScoreChanged  *Ident   `parser:"| ( 'score' 'is' 'changed' @@"`
	ScoreAtLeast  *Value   `parser:"    ('by' 'at' 'least' @@)? )"`
	AddedToList   *Str     `parser:"| 'added' 'to' 'list' @@"`
	RemovedList   *Str     `parser:"| 'removed' 'from' 'list' @@"`
	FillsOutForm  *Str     `parser:"| ( 'fills' 'out' 'form' @@"`
	FormOnPage    *Str     `parser:"    ('on' 'web' 'page' @@)? )"`
	Created       bool     `parser:"| @('person' 'is' 'created')"`
	// Engagement triggers (issue 11): events the host delivers.
	OpensEmail     *Str `parser:"| 'opens' 'email' @@"`
	ClicksEmail    *Str `parser:"| 'clicks' 'link' ( 'in' 'email' @@"`
	ClicksPage     *Str `parser:"  | 'on' 'web' 'page' @@ )"`
	ClickLink      *Str `parser:"  ('link' @@)?"`
	VisitsPage     *Str `parser:"| 'visits' 'web' 'page' @@"`
	EmailDelivered *Str `parser:"| 'email' ( 'is' 'delivered' @@"`
	EmailBounces   *Str `parser:"  | 'bounces' @@ )"`
	Unsubscribes   *Str `parser:"| 'unsubscribes' 'from' 'email' @@ )"`
	EndPos         lexer.Position
}

// Value is a literal.
type Value struct {
	Pos    lexer.Position
	Str    *Str     `parser:"  @@"`
	Num    *Num     `parser:"| @@"`
	Time   *TimeLit `parser:"| @@"`
	Bool   string   `parser:"| @('true' | 'false')"`
	Null   bool     `parser:"| @'null'"`
	EndPos lexer.Position
}

// ValueList is "[v, …]".
type ValueList struct {
	Pos    lexer.Position
	Values []*Value `parser:"'[' (@@ (',' @@)*)? ']'"`
	EndPos lexer.Position
}

// Cond is one filter condition. In an if-condition it is a leaf of Expr.
type Cond struct {
	Pos      lexer.Position
	Member   *MemberCond   `parser:"  @@"`
	Activity *ActivityCond `parser:"| @@"`
	Sample   *Num          `parser:"| 'random' 'sample' @@ 'percent'"`
	Field    *FieldCond    `parser:"| @@"`
	EndPos   lexer.Position
}

// MemberCond is list, smart list or program membership.
type MemberCond struct {
	Pos       lexer.Position
	Not       bool `parser:"@'not'? 'member' 'of'"`
	List      *Str `parser:"( 'list' @@"`
	SmartList *Str `parser:"| 'smart' 'list' @@"`
	Program   *Str `parser:"| 'program' @@"`
	Status    *Str `parser:"  ('status' @@)? )"`
	EndPos    lexer.Position
}

// ActivityCond filters on the activity log. A leading "not" negates the
// whole filter, window and count included, whatever the activity.
type ActivityCond struct {
	Pos         lexer.Position
	Not         bool         `parser:"@'not'?"`
	Executed    *CampaignRef `parser:"( 'campaign' 'was' 'executed' @@"`
	SentEmail   *Str         `parser:"| 'was' 'sent' 'email' @@"`
	FilledForm  *Str         `parser:"| 'filled' 'out' 'form' @@"`
	DataChanged *Ident       `parser:"| 'data' 'value' 'changed' @@"`
	// Engagement filters (issue 11): the log of delivered events.
	OpenedEmail    *Str      `parser:"| 'opened' 'email' @@"`
	ClickedEmail   *Str      `parser:"| 'clicked' 'link' ( 'in' 'email' @@"`
	ClickedPage    *Str      `parser:"  | 'on' 'web' 'page' @@ )"`
	VisitedPage    *Str      `parser:"| 'visited' 'web' 'page' @@"`
	DeliveredEmail *Str      `parser:"| 'was' 'delivered' 'email' @@"`
	BouncedEmail   *Str      `parser:"| 'email' 'bounced' @@"`
	Unsubscribed   *Str      `parser:"| 'unsubscribed' 'from' 'email' @@"`
	AddedToList    *Str      `parser:"| 'was' 'added' 'to' 'list' @@ )"`
	InPast         *Duration `parser:"('in' 'past' @@)?"`
	AtLeast        *Num      `parser:"('at' 'least' @@ 'times')?"`
	EndPos         lexer.Position
}

// FieldCond compares a person field.
type FieldCond struct {
	Pos        lexer.Position
	Field      *Ident     `parser:"(?! 'not') @@"`
	Is         bool       `parser:"( @'is'"`
	IsNot      bool       `parser:"  @'not'?"`
	Empty      bool       `parser:"  ( @'empty'"`
	Value      *Value     `parser:"  | @@ )"`
	Not        bool       `parser:"| @'not'? ("`
	Contains   *Value     `parser:"    'contains' @@"`
	StartsWith *Value     `parser:"  | 'starts' 'with' @@"`
	EndsWith   *Value     `parser:"  | 'ends' 'with' @@"`
	InPast     *Duration  `parser:"  | 'in' ( 'past' @@"`
	InNext     *Duration  `parser:"    | 'next' @@"`
	In         *ValueList `parser:"    | @@ ) )"`
	Cmp        string     `parser:"| @('>=' | '<=' | '>' | '<')"`
	CmpValue   *Value     `parser:"  @@"`
	Between    *Value     `parser:"| 'between' @@"`
	BetweenAnd *Value     `parser:"  'and' @@"`
	Before     *Value     `parser:"| 'before' @@"`
	After      *Value     `parser:"| 'after' @@ )"`
	EndPos     lexer.Position
}

// Expr is an if-condition: "or" binds loosest, then "and", then "not".
type Expr struct {
	Pos    lexer.Position
	Left   *AndExpr   `parser:"@@"`
	Right  []*AndExpr `parser:"('or' @@)*"`
	EndPos lexer.Position
}

// AndExpr is a chain of "and".
type AndExpr struct {
	Pos    lexer.Position
	Left   *UnaryExpr   `parser:"@@"`
	Right  []*UnaryExpr `parser:"('and' @@)*"`
	EndPos lexer.Position
}

// UnaryExpr is "not" X, a parenthesised Expr, or a condition.
type UnaryExpr struct {
	Pos    lexer.Position
	Not    *UnaryExpr `parser:"  'not' @@"`
	Group  *Expr      `parser:"| '(' @@ ')'"`
	Cond   *Cond      `parser:"| @@"`
	EndPos lexer.Position
}

// Step is one flow step.
type Step struct {
	Pos            lexer.Position
	ChangeScore    *ChangeScore    `parser:"  @@"`
	ChangeData     *ChangeData     `parser:"| @@"`
	ChangeStatus   *ChangeStatus   `parser:"| @@"`
	ChangePart     *Str            `parser:"| 'change' 'person' 'partition' 'to' @@"`
	AddToList      *Str            `parser:"| 'add' 'to' 'list' @@"`
	RemoveFromList *Str            `parser:"| 'remove' 'from' 'list' @@"`
	SendEmail      *Str            `parser:"| 'send' 'email' @@"`
	SendAlert      *SendAlert      `parser:"| @@"`
	Moment         *Moment         `parser:"| @@"`
	Wait           *Wait           `parser:"| @@"`
	CallWebhook    *Str            `parser:"| 'call' 'webhook' @@"`
	Request        *CampaignRef    `parser:"| 'request' 'campaign' @@"`
	Execute        *Execute        `parser:"| @@"`
	RemoveFromFlow *RemoveFromFlow `parser:"| @@"`
	DeletePerson   bool            `parser:"| @('delete' 'person')"`
	If             *If             `parser:"| @@"`
	// Host-effect steps (issue 11), and the engagement-program step that
	// campc refuses with a message of its own.
	ChangeOwner *ChangeOwner `parser:"| @@"`
	SyncToCRM   bool         `parser:"| @('sync' 'person' 'to' 'CRM')"`
	CreateTask  *CreateTask  `parser:"| @@"`
	// "add interesting moment TYPE "text"": Interesting Moment spelled
	// as Marketo's "Add Interesting Moment" (issue 10's example step).
	AddMoment  *Moment            `parser:"| 'add' @@"`
	Engagement *EngagementProgram `parser:"| @@"`
	Unknown    *UnknownStep       `parser:"| @@"`
	EndPos     lexer.Position
}

// ChangeOwner is "change owner [to] "user"": the host's user, by email
// address or name.
type ChangeOwner struct {
	Pos    lexer.Position
	To     *Str `parser:"'change' 'owner' 'to'? @@"`
	EndPos lexer.Position
}

// CreateTask is "create task "subject" [for owner | for "user"]".
type CreateTask struct {
	Pos      lexer.Position
	Subject  *Str `parser:"'create' 'task' @@"`
	ForOwner bool `parser:"( 'for' ( @'owner'"`
	For      *Str `parser:"| @@ ) )?"`
	EndPos   lexer.Position
}

// EngagementProgram is "add to engagement program …", parsed only so that
// the compiler can say it is out of scope rather than fail on "engagement".
type EngagementProgram struct {
	Pos    lexer.Position
	Rest   []*StepTok `parser:"'add' 'to' 'engagement' 'program' @@*"`
	EndPos lexer.Position
}

// ChangeScore is "change score F by V".
type ChangeScore struct {
	Pos    lexer.Position
	Field  *Ident `parser:"'change' 'score' @@"`
	By     *Str   `parser:"'by' @@"`
	EndPos lexer.Position
}

// ChangeData is "change data value F to V".
type ChangeData struct {
	Pos    lexer.Position
	Field  *Ident `parser:"'change' 'data' 'value' @@"`
	To     *Value `parser:"'to' @@"`
	EndPos lexer.Position
}

// ChangeStatus is "change program status ["P"] to "S"".
type ChangeStatus struct {
	Pos     lexer.Position
	Program *Str `parser:"'change' 'program' 'status' @@?"`
	To      *Str `parser:"'to' @@"`
	EndPos  lexer.Position
}

// SendAlert is "send alert "text" to "address"".
type SendAlert struct {
	Pos    lexer.Position
	Text   *Str `parser:"'send' 'alert' @@"`
	To     *Str `parser:"'to' @@"`
	EndPos lexer.Position
}

// Moment is "interesting moment TYPE "text"".
type Moment struct {
	Pos    lexer.Position
	Type   *Ident `parser:"'interesting' 'moment' @@"`
	Text   *Str   `parser:"@@"`
	EndPos lexer.Position
}

// Wait is "wait until TIME", "wait until "{{token}}"" or "wait N unit"
// with Marketo's options: on allowed weekdays only, until a time of day.
type Wait struct {
	Pos        lexer.Position
	Until      *TimeLit   `parser:"'wait' ( 'until' ( @@"`
	UntilToken *Str       `parser:"  | @@ )"`
	For        *Duration  `parser:"| @@"`
	Weekdays   []*DaySpan `parser:"  ( 'on' 'weekdays' @@ (',' @@)* )?"`
	At         *TimeOfDay `parser:"  ( 'until' @@ )? )"`
	EndPos     lexer.Position
}

// DaySpan is a weekday ("Mon") or a range of them ("Mon-Fri").
type DaySpan struct {
	Pos    lexer.Position
	From   *Ident `parser:"@@"`
	To     *Ident `parser:"('-' @@)?"`
	EndPos lexer.Position
}

// TimeOfDay is "HH:MM ZONE": a wall-clock time in a time zone, named as
// the IANA database does ("Europe/Berlin", quoted) or a bare word (UTC).
type TimeOfDay struct {
	Pos      lexer.Position
	Clock    string `parser:"@TimeOfDay"`
	Zone     *Str   `parser:"( @@"`
	ZoneWord *Ident `parser:"| @@ )"`
	EndPos   lexer.Position
}

// Execute is "execute campaign "C" [use parent tokens]".
type Execute struct {
	Pos          lexer.Position
	Target       *CampaignRef `parser:"'execute' 'campaign' @@"`
	ParentTokens bool         `parser:"@('use' 'parent' 'tokens')?"`
	EndPos       lexer.Position
}

// RemoveFromFlow is "remove from flow this campaign | "C", …".
type RemoveFromFlow struct {
	Pos     lexer.Position
	This    bool           `parser:"'remove' 'from' 'flow' ( @('this' 'campaign')"`
	Targets []*CampaignRef `parser:"| @@ (',' @@)* )"`
	EndPos  lexer.Position
}

// If is a step with choices.
type If struct {
	Pos    lexer.Position
	First  *Branch   `parser:"'if' @@"`
	ElseIf []*Branch `parser:"('else' 'if' @@)*"`
	Else   *Block    `parser:"('else' @@)?"`
	EndPos lexer.Position
}

// Branch is a condition and its steps.
type Branch struct {
	Pos    lexer.Position
	Cond   *Expr  `parser:"@@"`
	Body   *Block `parser:"@@"`
	EndPos lexer.Position
}

// Block is a braced list of steps.
type Block struct {
	Pos    lexer.Position
	Steps  []*Step `parser:"'{' @@* '}'"`
	EndPos lexer.Position
}

// The Unknown* nodes catch a line that starts with a word that is no keyword
// of its place, so that the compiler can report every such typo with a
// suggestion instead of the parser stopping at the first.

// UnknownDecl is an unrecognised declaration.
type UnknownDecl struct {
	Pos    lexer.Position
	Head   *Ident       `parser:"(?! 'field' | 'partition' | 'folder' | 'program' | 'statuses' | 'token' | 'list' | 'smart' | 'email' | 'webhook' | 'form' | 'batch' | 'trigger' | 'executable' | 'workspace' | 'web') @@"`
	Rest   []*DeclTok   `parser:"@@*"`
	Block  *UnknownBody `parser:"@@?"`
	EndPos lexer.Position
}

// UnknownItem is an unrecognised campaign clause.
type UnknownItem struct {
	Pos    lexer.Position
	Head   *Ident       `parser:"(?! 'smart' | 'flow' | 'run' | 'active' | 'inactive' | 'qualify' | 'description') @@"`
	Rest   []*ItemTok   `parser:"@@*"`
	Block  *UnknownBody `parser:"@@?"`
	EndPos lexer.Position
}

// UnknownSLine is an unrecognised smart-list line.
type UnknownSLine struct {
	Pos    lexer.Position
	Head   *Ident      `parser:"(?! 'trigger' | 'filter' | 'logic') @@"`
	Rest   []*SLineTok `parser:"@@*"`
	EndPos lexer.Position
}

// UnknownStep is an unrecognised flow step.
type UnknownStep struct {
	Pos    lexer.Position
	Head   *Ident       `parser:"(?! 'change' | 'add' | 'remove' | 'send' | 'interesting' | 'wait' | 'call' | 'request' | 'execute' | 'delete' | 'if' | 'else' | 'sync' | 'create') @@"`
	Rest   []*StepTok   `parser:"@@*"`
	Block  *UnknownBody `parser:"@@?"`
	EndPos lexer.Position
}

// UnknownHook is an unrecognised webhook clause.
type UnknownHook struct {
	Pos    lexer.Position
	Head   *Ident     `parser:"(?! 'url' | 'method' | 'header' | 'payload' | 'map') @@"`
	Rest   []*HookTok `parser:"@@*"`
	EndPos lexer.Position
}

// UnknownBody swallows a braced block after an unknown word.
type UnknownBody struct {
	Pos    lexer.Position
	Items  []*UnknownTok `parser:"'{' @@* '}'"`
	EndPos lexer.Position
}

// UnknownTok is a token or nested block inside UnknownBody.
type UnknownTok struct {
	Tok   string       `parser:"  @~('{' | '}')"`
	Block *UnknownBody `parser:"| @@"`
}

// DeclTok is one token of an UnknownDecl's tail. (A struct per token, because
// participle keeps only the last match of a repeated capture into a slice
// of tokens.)
type DeclTok struct {
	Pos   lexer.Position
	Value string `parser:"@~('{' | '}' | 'field' | 'partition' | 'folder' | 'program' | 'statuses' | 'token' | 'list' | 'smart' | 'email' | 'webhook' | 'form' | 'batch' | 'trigger' | 'executable' | 'workspace' | 'web')"`
}

// ItemTok is one token of an UnknownItem's tail. (A struct per token, because
// participle keeps only the last match of a repeated capture into a slice
// of tokens.)
type ItemTok struct {
	Pos   lexer.Position
	Value string `parser:"@~('{' | '}' | 'smart' | 'flow' | 'run' | 'active' | 'inactive' | 'qualify' | 'description')"`
}

// SLineTok is one token of an UnknownSLine's tail. (A struct per token, because
// participle keeps only the last match of a repeated capture into a slice
// of tokens.)
type SLineTok struct {
	Pos   lexer.Position
	Value string `parser:"@~('{' | '}' | 'trigger' | 'filter' | 'logic')"`
}

// StepTok is one token of an UnknownStep's tail. (A struct per token, because
// participle keeps only the last match of a repeated capture into a slice
// of tokens.)
type StepTok struct {
	Pos   lexer.Position
	Value string `parser:"@~('{' | '}' | 'change' | 'add' | 'remove' | 'send' | 'interesting' | 'wait' | 'call' | 'request' | 'execute' | 'delete' | 'if' | 'else' | 'sync' | 'create')"`
}

// HookTok is one token of an UnknownHook's tail. (A struct per token, because
// participle keeps only the last match of a repeated capture into a slice
// of tokens.)
type HookTok struct {
	Pos   lexer.Position
	Value string `parser:"@~('{' | '}' | 'url' | 'method' | 'header' | 'payload' | 'map')"`
}

// Word is a token of an unknown line's tail, whatever its kind.
type Word struct {
	Pos   lexer.Position
	Value string
}

// Tail returns the tokens after the unknown word.
func (u *UnknownDecl) Tail() []Word { return words(u.Rest) }

// Tail returns the tokens after the unknown word.
func (u *UnknownItem) Tail() []Word { return words(u.Rest) }

// Tail returns the tokens after the unknown word.
func (u *UnknownSLine) Tail() []Word { return words(u.Rest) }

// Tail returns the tokens after the unknown word.
func (u *UnknownStep) Tail() []Word { return words(u.Rest) }

// Tail returns the tokens after the unknown word.
func (u *UnknownHook) Tail() []Word { return words(u.Rest) }

type anyTok interface{ word() Word }

func (t *DeclTok) word() Word  { return Word{t.Pos, t.Value} }
func (t *ItemTok) word() Word  { return Word{t.Pos, t.Value} }
func (t *SLineTok) word() Word { return Word{t.Pos, t.Value} }
func (t *StepTok) word() Word  { return Word{t.Pos, t.Value} }
func (t *HookTok) word() Word  { return Word{t.Pos, t.Value} }

func words[T anyTok](ts []T) []Word {
	out := make([]Word, len(ts))
	for i, t := range ts {
		out[i] = t.word()
	}
	return out
}
