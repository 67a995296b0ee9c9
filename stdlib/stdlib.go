// Package stdlib is the one table of what the language offers: built-in
// fields, field and token types, duration units, token families, and every
// filter, trigger and flow step with its activity and whether an executable
// campaign may contain it. The compiler, the VM and spec.md read it; nothing
// here runs.
package stdlib

import (
	"strings"
	"time"
)

// FieldType is the type of a person field.
type FieldType string

// Field types.
const (
	Text     FieldType = "text"
	Number   FieldType = "number"
	Score    FieldType = "score"
	Boolean  FieldType = "boolean"
	Date     FieldType = "date"
	DateTime FieldType = "datetime"
	Email    FieldType = "email"
)

// FieldTypes lists the field types in documentation order.
var FieldTypes = []FieldType{Text, Number, Score, Boolean, Date, DateTime, Email}

// IsNumeric reports whether a type compares as a number.
func (t FieldType) IsNumeric() bool { return t == Number || t == Score }

// IsTime reports whether a type compares as a point in time.
func (t FieldType) IsTime() bool { return t == Date || t == DateTime }

// IsText reports whether a type compares as text.
func (t FieldType) IsText() bool { return t == Text || t == Email }

// Field is a built-in person field.
type Field struct {
	Name string
	Type FieldType
}

// BuiltinFields exist in every workspace without a declaration.
var BuiltinFields = []Field{
	{"Id", Text},
	{"Email", Email},
	{"FirstName", Text},
	{"LastName", Text},
	{"Company", Text},
	{"Title", Text},
	{"Phone", Text},
	{"City", Text},
	{"State", Text},
	{"Country", Text},
	{"LeadSource", Text},
	{"Partition", Text},
	{"LeadScore", Score},
	{"Unsubscribed", Boolean},
	{"CreatedAt", DateTime},
	{"UpdatedAt", DateTime},

	// Unsubscription (issue 11): a person for whom any is true gets no
	// marketing email (see EmailBlock).
	{Name: "EmailInvalid", Type: Boolean},
	{Name: "MarketingSuspended", Type: Boolean},
}

// DisplayName is the heading Marketo writes for a built-in field in an
// export (Email is "Email Address"): a people file may use either.
type DisplayName struct {
	Field   string
	Display string
}

// FieldDisplayNames gives built-in fields their Marketo display names. It
// is a table of its own, beside BuiltinFields, so that a field added there
// needs no entry here; a field without one is matched by its name only.
var FieldDisplayNames = []DisplayName{
	{"Id", "Id"},
	{"Email", "Email Address"},
	{"FirstName", "First Name"},
	{"LastName", "Last Name"},
	{"Company", "Company Name"},
	{"Title", "Job Title"},
	{"Phone", "Phone Number"},
	{"City", "City"},
	{"State", "State"},
	{"Country", "Country"},
	{"LeadSource", "Person Source"},
	{"Partition", "Person Partition"},
	{"LeadScore", "Lead Score"},
	{"Unsubscribed", "Unsubscribed"},
	{"CreatedAt", "Created At"},
	{"UpdatedAt", "Updated At"},
	{"EmailInvalid", "Email Invalid"},
	{"MarketingSuspended", "Marketing Suspended"},
}

// FieldDisplayName is the display name of a built-in field, "" if it has
// none.
func FieldDisplayName(field string) string {
	for _, d := range FieldDisplayNames {
		if d.Field == field {
			return d.Display
		}
	}
	return ""
}

// ReadOnlyField reports whether a built-in field is kept by the engine
// and not writable by Change Data Value: the Id is the person's identity,
// the Partition decides which workspaces see the person (it moves only
// through Change Person Partition, which checks the target), and the
// timestamps record what happened.
func ReadOnlyField(name string) bool {
	switch name {
	case "Id", "Partition", "CreatedAt", "UpdatedAt":
		return true
	}
	return false
}

// EmailBlock is a reason a Send Email step does not send: a boolean field
// that is true of the person (or, for Field "Email", an address that is
// missing). The Send Email activity is written all the same, with
// "Sent": false and the Reason.
type EmailBlock struct {
	Field  string
	Reason string
	// Operational: the block holds for operational emails too. Nobody can
	// deliver to a missing or invalid address; unsubscription and
	// marketing suspension stop marketing email only.
	Operational bool
}

// EmailBlocks lists the reasons in the order they are checked; the first
// that holds is the one logged.
var EmailBlocks = []EmailBlock{
	{Field: "Email", Reason: "no email address", Operational: true},
	{Field: "EmailInvalid", Reason: "email invalid", Operational: true},
	{Field: "Unsubscribed", Reason: "unsubscribed"},
	{Field: "MarketingSuspended", Reason: "marketing suspended"},
}

// TokenTypes are the types a My Token may have.
var TokenTypes = []string{"text", "richtext", "number", "score", "date"}

// Unit is a duration unit with its length in minutes. A month is 30 days.
type Unit struct {
	Name    string
	Minutes int64
}

// Units lists duration units, singular; the plural adds "s".
var Units = []Unit{
	{"minute", 1},
	{"hour", 60},
	{"day", 24 * 60},
	{"week", 7 * 24 * 60},
	{"month", 30 * 24 * 60},
}

// UnitByName finds a unit by its singular or plural name.
func UnitByName(name string) (Unit, bool) {
	for _, u := range Units {
		if name == u.Name || name == u.Name+"s" {
			return u, true
		}
	}
	return Unit{}, false
}

// UnitNames lists every accepted spelling of a unit, for suggestions.
func UnitNames() []string {
	var out []string
	for _, u := range Units {
		out = append(out, u.Name, u.Name+"s")
	}
	return out
}

// MomentTypes are the types of an Interesting Moment.
var MomentTypes = []string{"email", "web", "milestone"}

// RequestSources are the sources a "campaign is requested" trigger may name.
var RequestSources = []string{"flow", "api"}

// CampaignKinds are the kinds of campaign.
var CampaignKinds = []string{"batch", "trigger", "executable"}

// Family is a token family and the names it offers. A nil Names list means
// the names come from elsewhere (lead: the fields; my: My Tokens).
type Family struct {
	Name  string
	Names []string
	Doc   string
}

// Families lists the token families.
var Families = []Family{
	{Name: "lead", Doc: "the person's fields"},
	{Name: "my", Doc: "My Tokens of the program and its folders, through the frame chain"},
	{Name: "campaign", Names: []string{"Name", "Id", "Description"}, Doc: "the running campaign (the caller's, in parent token context)"},
	{Name: "program", Names: []string{"Name", "Id", "Description", "Channel"}, Doc: "the campaign's program (the caller's, in parent token context)"},
	{Name: "member", Names: []string{"Status"}, Doc: "the person's membership in the context program"},
	{Name: "trigger", Names: []string{"Name", "Trigger Name", "Campaign", "Source", "Old Value", "New Value", "Attribute", "Program", "Status", "List", "Form",
		// engagement events (issue 11)
		"Email", "Web Page", "Link"}, Doc: "the triggering event; only when the root campaign was started by a trigger"},
	{Name: "system", Names: []string{"date", "time", "dateTime"}, Doc: "the engine's clock"},
}

// FamilyByName finds a token family, ignoring case: Marketo authors write
// {{Campaign.Name}} as often as {{campaign.Name}}.
func FamilyByName(name string) (Family, bool) {
	for _, f := range Families {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Family{}, false
}

// Canonical is the family's own spelling of a built-in token name, found
// ignoring case; ok is false when the family offers no such name (and for
// the lead and my families, whose names are fields and My Tokens).
func (f Family) Canonical(name string) (string, bool) {
	for _, n := range f.Names {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// Activity types. Each flow step writes the one its Steps entry names; the
// rest are written by the engine itself.
const (
	ActChangeScore         = "Change Score"
	ActChangeDataValue     = "Change Data Value"
	ActChangeProgramStatus = "Change Program Status"
	ActChangePartition     = "Change Person Partition"
	ActAddToList           = "Add to List"
	ActRemoveFromList      = "Remove from List"
	ActSendEmail           = "Send Email"
	ActSendAlert           = "Send Alert"
	ActInterestingMoment   = "Interesting Moment"
	ActWait                = "Wait"
	ActCallWebhook         = "Call Webhook"
	ActRequestCampaign     = "Request Campaign"
	ActExecutedCampaign    = "Executed Campaign"
	ActRemoveFromFlow      = "Remove from Flow"
	ActDeletePerson        = "Delete Person"

	// Host effects (issue 11), named as Marketo names them.
	ActChangeOwner = "Change Owner"
	ActSyncToCRM   = "Sync Lead to CRM"
	ActCreateTask  = "Create Task"

	ActFillOutForm      = "Fill Out Form"      // a delivered form fill
	ActNewPerson        = "New Person"         // a delivered "person is created"
	ActSmartListInvalid = "Smart List Invalid" // a campaign whose smart list is invalid qualified nobody
	ActWaitDropped      = "Wait Dropped"       // a parked wait whose flow no longer exists
	ActSendEmailFailed  = "Send Email Failed"  // campc serve: every attempt to deliver an email failed

	// Engagement activities, written when the host delivers the event;
	// the names are Marketo's.
	ActOpenEmail      = "Open Email"        // a delivered email open
	ActClickEmail     = "Click Email"       // a delivered click on a link in an email
	ActVisitWebpage   = "Visit Webpage"     // a delivered web page visit
	ActClickLink      = "Click Link"        // a delivered click on a link on a web page
	ActEmailDelivered = "Email Delivered"   // a delivered email delivery
	ActEmailBounced   = "Email Bounced"     // a delivered email bounce
	ActUnsubscribe    = "Unsubscribe Email" // a delivered unsubscription from an email
)

// EngineActivities are the activity types that no step writes: the engine
// writes them for delivered events and for its own decisions, and the
// service for the outcome of its deliveries.
var EngineActivities = []string{ActFillOutForm, ActNewPerson, ActSmartListInvalid, ActWaitDropped, ActSendEmailFailed,
	// engagement events (issue 11)
	ActOpenEmail, ActClickEmail, ActVisitWebpage, ActClickLink, ActEmailDelivered, ActEmailBounced, ActUnsubscribe}

// StepOp names a kind of flow step. It indexes Steps, and every step type
// of the IR (package ir) reports its op, so the table row of a step is
// Steps[op] wherever the step is.
type StepOp uint8

// Step ops, in the order of the appendix of spec.md. OpIf is last: it
// writes no activity of its own, and the appendix leaves it out.
const (
	OpChangeScore StepOp = iota
	OpChangeData
	OpChangeStatus
	OpChangePartition
	OpAddToList
	OpRemoveFromList
	OpSendEmail
	OpSendAlert
	OpMoment
	OpWait
	OpCallWebhook
	OpRequest
	OpExecute
	OpRemoveFromFlow
	OpDeletePerson
	OpChangeOwner
	OpSyncToCRM
	OpCreateTask
	OpIf

	// NumStepOps is the number of step ops: the length of Steps.
	NumStepOps
)

// Step describes one flow step.
type Step struct {
	Name             string // the activity type it writes; "" for if
	Syntax           string
	InExecutable     bool
	EmitsEvent       string // the trigger event it emits, if any
	Example          string
	PrimaryAttribute string
	Attributes       []string
	// Aliases are other spellings the grammar accepts for the step, each
	// an alternative of its own in lang.Step.
	Aliases []string
}

// Steps lists every flow step once, indexed by its op.
var Steps = [NumStepOps]Step{
	OpChangeScore:     {Name: ActChangeScore, Syntax: `change score F by "+n"|"-n"|"=n"|"{{my.Token}}"`, InExecutable: true, EmitsEvent: "score is changed", Example: `change score LeadScore by "+10"`, PrimaryAttribute: "the score field", Attributes: []string{"Change Value", "Old Value", "New Value"}},
	OpChangeData:      {Name: ActChangeDataValue, Syntax: `change data value F to V|null`, InExecutable: true, EmitsEvent: "data value changes", Example: `change data value Status to "Nurture"`, PrimaryAttribute: "the field", Attributes: []string{"Old Value", "New Value"}},
	OpChangeStatus:    {Name: ActChangeProgramStatus, Syntax: `change program status ["P"] to "S"`, InExecutable: true, EmitsEvent: "program status is changed", Example: `change program status to "Invited"`, PrimaryAttribute: "the program", Attributes: []string{"Old Status", "New Status"}},
	OpChangePartition: {Name: ActChangePartition, Syntax: `change person partition to "P"`, InExecutable: true, Example: `change person partition to "EMEA"`, PrimaryAttribute: "the new partition", Attributes: []string{"Old Partition"}},
	OpAddToList:       {Name: ActAddToList, Syntax: `add to list "L"`, InExecutable: true, EmitsEvent: "added to list", Example: `add to list "Hot Leads"`, PrimaryAttribute: "the list"},
	OpRemoveFromList:  {Name: ActRemoveFromList, Syntax: `remove from list "L"`, InExecutable: true, EmitsEvent: "removed from list", Example: `remove from list "Hot Leads"`, PrimaryAttribute: "the list"},
	OpSendEmail:       {Name: ActSendEmail, Syntax: `send email "E"`, InExecutable: true, Example: `send email "Invitation"`, PrimaryAttribute: "the email", Attributes: []string{"Subject", "Sent (false when not sent)", "Reason (when not sent)"}},
	OpSendAlert:       {Name: ActSendAlert, Syntax: `send alert "text" to "address"`, InExecutable: true, Example: `send alert "New MQL: {{lead.Email}}" to "sales@acme.example"`, PrimaryAttribute: "the alert text", Attributes: []string{"To"}},
	OpMoment:          {Name: ActInterestingMoment, Syntax: `interesting moment email|web|milestone "text"`, InExecutable: true, Example: `interesting moment milestone "Attended"`, PrimaryAttribute: "the description", Attributes: []string{"Type"}, Aliases: []string{`add interesting moment email|web|milestone "text"`}},
	OpWait:            {Name: ActWait, Syntax: `wait N unit [on weekdays D-D, …] [until HH:MM ZONE] | wait until TIME | wait until "{{token}}"`, InExecutable: false, Example: `wait 1 day on weekdays Mon-Fri until 09:00 "Europe/Berlin"`, PrimaryAttribute: "the wait as written (a date: until the date)", Attributes: []string{"Until"}},
	OpCallWebhook:     {Name: ActCallWebhook, Syntax: `call webhook "W"`, InExecutable: false, Example: `call webhook "CRM Sync"`, PrimaryAttribute: "the webhook", Attributes: []string{"Status", "URL", "Error", "Response", "Mapped Fields", "Mapping Errors"}},
	OpRequest:         {Name: ActRequestCampaign, Syntax: `request campaign "C"`, InExecutable: true, Example: `request campaign "Notify Sales"`, PrimaryAttribute: "the requested campaign", Attributes: []string{"Source"}},
	OpExecute:         {Name: ActExecutedCampaign, Syntax: `execute campaign "C" [use parent tokens]`, InExecutable: true, Example: `execute campaign "Add Activity Score" use parent tokens`, PrimaryAttribute: "the executed campaign", Attributes: []string{"Qualified", "Use Parent Token Context", "Reason (when not qualified)"}},
	OpRemoveFromFlow:  {Name: ActRemoveFromFlow, Syntax: `remove from flow this campaign | "C"[, "C" …]`, InExecutable: true, Example: `remove from flow this campaign`, PrimaryAttribute: "the campaign(s) named"},
	OpDeletePerson:    {Name: ActDeletePerson, Syntax: `delete person`, InExecutable: true, Example: `delete person`, PrimaryAttribute: "the person's Id"},

	// Host effects: the engine logs them and hands them to the host
	// (Effects). Marketo allows all three in executable campaigns.
	OpChangeOwner: {Name: ActChangeOwner, Syntax: `change owner [to] "user"`, InExecutable: true, Example: `change owner to "jane@acme.example"`, PrimaryAttribute: "the new owner"},
	OpSyncToCRM:   {Name: ActSyncToCRM, Syntax: `sync person to CRM`, InExecutable: true, Example: `sync person to CRM`, PrimaryAttribute: "the person's Id"},
	OpCreateTask:  {Name: ActCreateTask, Syntax: `create task "subject" [for owner | for "user"]`, InExecutable: true, Example: `create task "Call {{lead.FirstName}}" for owner`, PrimaryAttribute: "the subject", Attributes: []string{"Assigned To"}},

	// Control flow: no activity of its own (the steps of the branch taken
	// record their Choice).
	OpIf: {Syntax: `if COND { steps } [else if COND { steps }]… [else { steps }]`, InExecutable: true, Example: `if Country is "DE" { send email "Einladung" } else { send email "Invitation" }`},
}

// StepKeywords are the words a flow step may start with, for suggestions:
// the first words of the steps' syntax (TestStepKeywords), which a test of
// package lang keeps equal to the grammar's step alternatives.
var StepKeywords = []string{"change", "add", "remove", "send", "interesting", "wait", "call", "request", "execute", "delete", "if", "sync", "create"}

// DeclKeywords are the words a declaration may start with.
var DeclKeywords = []string{"field", "partition", "folder", "program", "statuses", "token", "list", "smart", "email", "webhook", "form", "batch", "trigger", "executable",
	"web"} // web page (issue 11)

// CampaignKeywords are the words a campaign clause may start with.
var CampaignKeywords = []string{"smart", "flow", "run", "active", "inactive", "qualify", "description"}

// WebhookKeywords are the words a webhook clause may start with.
var WebhookKeywords = []string{"url", "method", "header", "payload", "map"}

// SmartListKeywords are the words a smart-list line may start with.
var SmartListKeywords = []string{"trigger", "filter", "logic"}

// Trigger describes one trigger: the event it listens to and the trigger
// tokens that event fills.
type Trigger struct {
	Event   string
	Syntax  string
	Example string
}

// Triggers lists every trigger once.
var Triggers = []Trigger{
	{"campaign is requested", `trigger campaign is requested [from flow|api[, …]]`, `trigger campaign is requested from flow, api`},
	{"program status is changed", `trigger program status is changed [in "P"] [to "S"]`, `trigger program status is changed to "Attended"`},
	{"data value changes", `trigger data value changes F [from V] [to V]`, `trigger data value changes Status from "Lead" to "MQL"`},
	{"score is changed", `trigger score is changed F [by at least n]`, `trigger score is changed LeadScore by at least 10`},
	{"added to list", `trigger added to list "L"`, `trigger added to list "Hot Leads"`},
	{"removed from list", `trigger removed from list "L"`, `trigger removed from list "Hot Leads"`},
	{"fills out form", `trigger fills out form "Form" [on web page "P"]`, `trigger fills out form "Contact Us" on web page "Pricing"`},
	{"person is created", `trigger person is created`, `trigger person is created`},
	// Engagement triggers (issue 11): events the host delivers.
	{"opens email", `trigger opens email "E"`, `trigger opens email "Invitation"`},
	{"clicks link in email", `trigger clicks link in email "E" [link "L"]`, `trigger clicks link in email "Invitation" link "Register"`},
	{"visits web page", `trigger visits web page "P"`, `trigger visits web page "Pricing"`},
	{"clicks link on web page", `trigger clicks link on web page "P" [link "L"]`, `trigger clicks link on web page "Pricing" link "Contact Sales"`},
	{"email is delivered", `trigger email is delivered "E"`, `trigger email is delivered "Invitation"`},
	{"email bounces", `trigger email bounces "E"`, `trigger email bounces "Invitation"`},
	{"unsubscribes from email", `trigger unsubscribes from email "E"`, `trigger unsubscribes from email "Newsletter"`},
}

// Filter describes one smart-list filter form.
type Filter struct {
	Syntax  string
	Example string
}

// Filters lists every filter form once.
var Filters = []Filter{
	{`F is V`, `filter Country is "DE"`},
	{`F is not V`, `filter Country is not "DE"`},
	{`F contains "s"`, `filter Email contains "@rival.example"`},
	{`F starts with "s"`, `filter Title starts with "VP"`},
	{`F in [V, …]`, `filter Country in ["DE", "AT", "CH"]`},
	{`F not in [V, …]`, `filter Country not in ["US"]`},
	{`F > n`, `filter LeadScore > 50`},
	{`F >= n`, `filter LeadScore >= 50`},
	{`F < n`, `filter LeadScore < 10`},
	{`F <= n`, `filter LeadScore <= 10`},
	{`F between n and m`, `filter LeadScore between 10 and 50`},
	{`F is empty`, `filter Phone is empty`},
	{`F is not empty`, `filter Email is not empty`},
	{`F in past N days`, `filter CreatedAt in past 30 days`},
	{`[not] member of list "L"`, `filter member of list "Webinar Invitees"`},
	{`[not] member of smart list "S"`, `filter not member of smart list "Competitors"`},
	{`[not] member of program "P" [status "S"]`, `filter member of program "Webinar 2026" status "Attended"`},
	{`campaign was executed "C" [in past N days] [at least N times]`, `filter campaign was executed "Add Activity Score" in past 7 days`},
	{`was sent email "E" [in past N days] [at least N times]`, `filter was sent email "Invitation" at least 2 times`},
	{`filled out form "Form" [in past N days] [at least N times]`, `filter filled out form "Contact Us" in past 30 days`},
	{`data value changed F [in past N days] [at least N times]`, `filter data value changed Country in past 7 days`},
	{`random sample N percent`, `filter random sample 10 percent`},
	// Engagement filters (issue 11): the log of delivered events.
	{`opened email "E" [in past N days] [at least N times]`, `filter opened email "Invitation" in past 7 days`},
	{`clicked link in email "E" [in past N days] [at least N times]`, `filter clicked link in email "Invitation"`},
	{`visited web page "P" [in past N days] [at least N times]`, `filter visited web page "Pricing" at least 3 times`},
	{`clicked link on web page "P" [in past N days] [at least N times]`, `filter clicked link on web page "Pricing" in past 30 days`},
	{`was delivered email "E" [in past N days] [at least N times]`, `filter was delivered email "Invitation"`},
	{`email bounced "E" [in past N days] [at least N times]`, `filter email bounced "Invitation"`},
	{`unsubscribed from email "E" [in past N days] [at least N times]`, `filter unsubscribed from email "Newsletter"`},

	// Issue 11, vocabulary b: text negations and ends with, date windows
	// and bounds, negated activity filters, list history.
	{`F ends with "s"`, `filter Email ends with "@acme.example"`},
	{`F not contains "s"`, `filter Email not contains "@rival.example"`},
	{`F not starts with "s"`, `filter Title not starts with "VP"`},
	{`F not ends with "s"`, `filter Email not ends with ".edu"`},
	{`F not in past N days`, `filter UpdatedAt not in past 90 days`},
	{`F [not] in next N days`, `filter Renewal in next 30 days`},
	{`F before D`, `filter CreatedAt before 2026-01-01`},
	{`F after D`, `filter Renewal after 2026-12-31`},
	{`F between D and D`, `filter CreatedAt between 2026-11-01 and 2026-11-30`},
	{`not ACTIVITY FILTER`, `filter not was sent email "Invitation" in past 7 days`},
	{`was added to list "L" [in past N days] [at least N times]`, `filter was added to list "Hot Leads" in past 7 days`},
}

// FilterOp names a kind of leaf condition (a smart-list filter, or a
// condition of an if). The IR's condition types report theirs, and
// FilterActivity is keyed by it.
type FilterOp uint8

// Filter ops. The comparisons of a field come first, then memberships,
// the activity filters, and the random sample.
const (
	FilterIs FilterOp = iota
	FilterContains
	FilterStartsWith
	FilterEndsWith
	FilterIn
	FilterGt
	FilterGe
	FilterLt
	FilterLe
	FilterBetween
	FilterEmpty
	FilterInPast
	FilterInNext
	FilterMemberList
	FilterMemberSmartList
	FilterMemberProgram
	FilterExecuted
	FilterSentEmail
	FilterFilledForm
	FilterDataChanged
	FilterAddedToList
	FilterOpenedEmail
	FilterClickedEmail
	FilterVisitedPage
	FilterClickedPage
	FilterDeliveredEmail
	FilterBouncedEmail
	FilterUnsubscribed
	FilterSample

	// NumFilterOps is the number of filter ops.
	NumFilterOps
)

// FilterActivity is the activity type an activity filter counts in the
// person's log, by op; "" for the filters that read no log.
var FilterActivity = [NumFilterOps]string{
	FilterExecuted:       ActExecutedCampaign,
	FilterSentEmail:      ActSendEmail,
	FilterFilledForm:     ActFillOutForm,
	FilterDataChanged:    ActChangeDataValue,
	FilterAddedToList:    ActAddToList,
	FilterOpenedEmail:    ActOpenEmail,
	FilterClickedEmail:   ActClickEmail,
	FilterVisitedPage:    ActVisitWebpage,
	FilterClickedPage:    ActClickLink,
	FilterDeliveredEmail: ActEmailDelivered,
	FilterBouncedEmail:   ActEmailBounced,
	FilterUnsubscribed:   ActUnsubscribe,
}

// The time range campc keeps: every clock time and every due time lies in
// the years MinYear to MaxYear inclusive (UTC). Stores can then hold times
// as fixed-size numbers, and every time prints as a four-digit year.
const (
	MinYear = 1970
	MaxYear = 9999
)

// MaxDurationDays bounds a duration (a wait, an "in past" window, a
// qualification rule, a schedule's period): about 100 years, far below
// where minutes overflow, and enough for any campaign.
const MaxDurationDays = 36500

// MaxDurationMinutes is MaxDurationDays in minutes.
const MaxDurationMinutes = MaxDurationDays * 24 * 60

// InTimeRange reports whether t lies in the years MinYear to MaxYear.
func InTimeRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= MinYear && y <= MaxYear
}

// TimeRange describes the range for messages.
const TimeRange = "the years 1970 to 9999 (UTC)"
