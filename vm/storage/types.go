package storage

import (
	"maps"
	"slices"
	"time"

	"github.com/campc/campc/ir"
)

// Person is one person (lead) as the engine sees it. Lists, program
// memberships and qualification history are keyed by the keys the
// compiler gives lists, programs and campaigns (ir.Key): names are
// per workspace and may contain "/", so a key is never built by joining
// names here.
type Person struct {
	ID        string
	Partition string               // "" means "Default"
	Fields    map[string]ir.Value  // by field name
	Lists     map[string]bool      // ir.List.Key
	Programs  map[string]string    // ir.ProgramDef.Key -> status
	Runs      map[string]time.Time // ir.Campaign.Key -> when the person last qualified
	Log       []*Activity          // the person's activities, oldest first
	Deleted   bool

	// View is set on a person the in-memory store lends the engine without
	// unpacking it: its maps are then nil, the stored form is read in
	// place and what the pass changes is kept beside it, until the store
	// packs the two together at commit (see mempack.go). Only the engine
	// sees such a person, and reads and writes it through the methods
	// below; a person a host makes or loads has none. (Exported, but
	// opaque, so that tests may compare people with go-cmp.)
	View PersonView
}

// PersonView is a person kept in a store's own form and lent to the
// engine (Person.View): the in-memory store lends its packed people so.
// Reads see the view's writes; the store folds the writes into its form
// when the person is committed.
type PersonView interface {
	Field(id, name string) (ir.Value, bool)
	SetField(name string, v ir.Value, gone bool)
	InList(key string) bool
	SetList(key string, in bool)
	Program(key string) (string, bool)
	SetProgram(key, status string)
	Run(key string) (time.Time, bool)
	SetRun(key string, at time.Time)
	// FieldOf and InListOf read a declared field or list through its
	// column of the program's layout (ir.Layout).
	FieldOf(f *ir.Field) (ir.Value, bool)
	InListOf(l *ir.List) bool
	// SetFieldOf is SetField of a declared field, through its column.
	SetFieldOf(f *ir.Field, v ir.Value, gone bool)
	// Clone is a copy whose writes do not touch this view.
	Clone() PersonView
}

// The engine reads and writes a person only through these methods, so that
// a person may be kept in the map form above or in the store's own form.

// Field is the value of a field (the zero Value when it has none).
func (p *Person) Field(name string) ir.Value {
	v, _ := p.LookupField(name)
	return v
}

// LookupField is the value of a field and whether the person has it.
func (p *Person) LookupField(name string) (ir.Value, bool) {
	if p.View != nil {
		return p.View.Field(p.ID, name)
	}
	v, ok := p.Fields[name]
	return v, ok
}

// FieldOf is the value of a declared field and whether the person has
// it: LookupField(f.Name), which a person lent in a store's own form
// reads through the field's column (f.Col).
func (p *Person) FieldOf(f *ir.Field) (ir.Value, bool) {
	if p.View != nil {
		return p.View.FieldOf(f)
	}
	v, ok := p.Fields[f.Name]
	return v, ok
}

// SetFieldOf sets a declared field's value: SetField(f.Name, v), through
// the field's column for a lent person.
func (p *Person) SetFieldOf(f *ir.Field, v ir.Value) {
	if p.View != nil {
		p.View.SetFieldOf(f, v, false)
		return
	}
	made(&p.Fields)[f.Name] = v
}

// DeleteFieldOf removes a declared field's value: DeleteField(f.Name).
func (p *Person) DeleteFieldOf(f *ir.Field) {
	if p.View != nil {
		p.View.SetFieldOf(f, ir.Value{}, true)
		return
	}
	delete(p.Fields, f.Name)
}

// InListOf reports whether the person is a member of a declared list:
// InList(l.Key), through the list's column (l.Col) for a lent person.
func (p *Person) InListOf(l *ir.List) bool {
	if p.View != nil {
		return p.View.InListOf(l)
	}
	return p.Lists[l.Key]
}

// SetField sets a field's value.
func (p *Person) SetField(name string, v ir.Value) {
	if p.View != nil {
		p.View.SetField(name, v, false)
		return
	}
	made(&p.Fields)[name] = v
}

// DeleteField removes a field's value.
func (p *Person) DeleteField(name string) {
	if p.View != nil {
		p.View.SetField(name, ir.Value{}, true)
		return
	}
	delete(p.Fields, name)
}

// InList reports whether the person is a member of a list (by ir.List.Key).
func (p *Person) InList(key string) bool {
	if p.View != nil {
		return p.View.InList(key)
	}
	return p.Lists[key]
}

// SetInList adds the person to a list or removes it.
func (p *Person) SetInList(key string, in bool) {
	if p.View != nil {
		p.View.SetList(key, in)
		return
	}
	if in {
		made(&p.Lists)[key] = true
	} else {
		delete(p.Lists, key)
	}
}

// ProgramStatus is the person's status in a program (by ir.ProgramDef.Key)
// and whether it is a member.
func (p *Person) ProgramStatus(key string) (string, bool) {
	if p.View != nil {
		return p.View.Program(key)
	}
	st, ok := p.Programs[key]
	return st, ok
}

// SetProgramStatus sets the person's status in a program.
func (p *Person) SetProgramStatus(key, status string) {
	if p.View != nil {
		p.View.SetProgram(key, status)
		return
	}
	made(&p.Programs)[key] = status
}

// RunAt is when the person last qualified for a campaign (by
// ir.Campaign.Key), and whether it ever did.
func (p *Person) RunAt(key string) (time.Time, bool) {
	if p.View != nil {
		return p.View.Run(key)
	}
	t, ok := p.Runs[key]
	return t, ok
}

// SetRunAt records when the person qualified for a campaign.
func (p *Person) SetRunAt(key string, t time.Time) {
	if p.View != nil {
		p.View.SetRun(key, t)
		return
	}
	made(&p.Runs)[key] = t
}

// made makes a map on first write (a loaded person may have nil maps where
// it has nothing).
func made[K comparable, V any](m *map[K]V) map[K]V {
	if *m == nil {
		*m = map[K]V{}
	}
	return *m
}

// Clone returns a copy that may be changed without touching p. The log is
// shared but capped, so appends to the copy never write into p's.
func (p *Person) Clone() *Person {
	if p.View != nil {
		q := *p
		q.View = p.View.Clone()
		q.Log = slices.Clip(p.Log)
		return &q
	}
	q := *p
	q.Fields = maps.Clone(p.Fields)
	q.Lists = maps.Clone(p.Lists)
	q.Programs = maps.Clone(p.Programs)
	q.Runs = maps.Clone(p.Runs)
	if q.Runs == nil {
		q.Runs = map[string]time.Time{}
	}
	q.Log = slices.Clip(p.Log)
	if q.Fields == nil {
		q.Fields = map[string]ir.Value{}
	}
	if q.Lists == nil {
		q.Lists = map[string]bool{}
	}
	if q.Programs == nil {
		q.Programs = map[string]string{}
	}
	return &q
}

// Activity is one entry of the activity log.
type Activity struct {
	Seq        int64
	Time       time.Time
	Person     string
	Type       string
	Campaign   string // the campaign whose step wrote it
	Workspace  string
	Primary    string
	Attributes Attrs // JSON-encoded as an object with sorted keys

	step *ir.StepBase // the step that wrote it, for run summaries (a pointer, not the interface: activities stay 144 bytes)
}

// Event is something that happened to a person, matched against the
// triggers of active trigger campaigns.
type Event struct {
	Kind     ir.TriggerKind
	Person   string
	Field    string // data value changes, score is changed
	List     string // added to / removed from list: the list's name
	ListKey  string // the list's key (ir.List.Key); found from List when empty
	Program  string // program status is changed
	Status   string // the new status
	Form     string // fills out form
	Campaign string // campaign is requested: the requested campaign
	Source   string // campaign is requested: "flow" or "api"
	Old, New string // data and score changes, status changes
	// Workspace limits the event to one workspace ("" means every
	// workspace that sees the person).
	Workspace string
	// Engagement events (issue 11).
	Email   string // opens, clicks link in, is delivered, bounces, unsubscribes from: the email
	WebPage string // visits, clicks link on: the web page; fills out form: where (optional)
	Link    string // clicks link in email / on web page: the link (optional)
}

// Parked is a person waiting in a flow. The place in the flow is the wait
// step's identity (ir.Step.ID), which survives edits to the other
// steps of the program; the flow goes on after that step. Only the root
// campaign's flow can wait (an executable holds no wait), so one identity
// is the whole stack. Waits stored before identities carry a Path instead:
// step index, then for each if: branch number (1-based, 0 = else) and step
// index, valid only while the program is unchanged.
type Parked struct {
	ID        int64
	Person    string
	Workspace string
	Campaign  string // the campaign whose flow waits
	Step      string // the wait step's identity; new waits are stored so
	Path      []int  // the place of a wait stored by path (older stores)
	Due       time.Time
	Tokens    map[string]string // API My Token overrides of the run
	Trigger   *Event            // the event that started the run, for trigger tokens
	// Webhook, when set, marks a person parked at a call webhook step
	// (Step) with Options.DeferWebhooks: the request the step rendered,
	// Idempotency-Key included, which the host makes after the commit
	// and answers with Engine.ResumeWebhook. Such a row is not a wait:
	// nothing resumes it at its due time (Due is when it was parked).
	Webhook *WebhookRequest
}

// Commit is one change within a transaction: a person's new state, the
// activities of one pass, waits parked and resumed, runs queued and taken
// from the queue, and a batch run's progress.
type Commit struct {
	Person     *Person // the new state (Deleted set to delete); nil: unchanged
	Activities []*Activity
	Park       []*Parked
	Unpark     []int64
	Enqueue    []*Queued
	Dequeue    []int64
	Run        *BatchRun
	// Outbox holds the email and alerts of the pass when the engine runs
	// with Options.Outbox: the store keeps them in the same transaction as
	// the activities, and the host delivers them after the commit. A store
	// without an outbox (memstore.Store) records them.
	Outbox []*Message
	// Entered is the campaign whose flow the pass entered (nil when it
	// resumed a wait): a host may count entries per campaign with it.
	Entered *ir.Campaign
	// EnteredAt is when the pass entered it (the operation's clock).
	EnteredAt time.Time
}

// Step is the place and identity of the flow step that wrote the activity
// (nil for activities that no step wrote, such as a delivered event).
func (a *Activity) Step() *ir.StepBase { return a.step }

// SetStep records the step that wrote the activity (the engine does).
func (a *Activity) SetStep(s *ir.StepBase) { a.step = s }

// PartitionName is the person's partition, "Default" when none is set.
func (p *Person) PartitionName() string {
	if p.Partition == "" {
		return "Default"
	}
	return p.Partition
}
