package vm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Clock tells the engine the time. The engine never reads the wall clock.
// It counts whole microseconds (it drops finer fractions), so that every
// store keeps the times it is given exactly.
type Clock interface {
	Now() time.Time
}

// ManualClock is a Clock that only moves when told to.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock starts a clock at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now implements Clock.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Message is an email or alert the engine decided to send, rendered
// whole: the host only delivers it.
type Message struct {
	Person    string
	Workspace string // the workspace of the campaign that sent it
	Campaign  string
	Step      string // the sending step's identity (ir.StepBase.ID)
	Name      string // the email's name; "" for an alert
	From      string // rendered; "" means the host's default sender
	To        string
	Subject   string // rendered
	Text      string // the text body, rendered
	HTML      string // the HTML body, rendered with token values HTML-escaped
	Body      string // the alert text, rendered
	// Operational is set for an operational email and for alerts: they go
	// even to people who unsubscribed.
	Operational bool
	// ID is the message's stable Message-ID (without angle brackets),
	// given by the store when it keeps the message in its outbox
	// (Commit.Outbox) and never changed afterwards: a resend after a crash
	// carries the same one. Effects called directly get "".
	ID string
	// Activity is the Send Email or Send Alert activity the message goes
	// with; the store numbers it at commit, and the ID is made from its
	// number, which is never given twice.
	Activity *Activity
}

// MessageID is the stable Message-ID a store gives a message it keeps in
// its outbox, once its activity is numbered: the activity's number (never
// given twice by a store), the sending step's identity and a digest of the
// person's id (not the id itself, which may be an address), at the
// sender's domain. The store keeps it with the message, so a message sent
// again after a crash carries the same one.
func MessageID(m *Message) string {
	var seq int64
	if m.Activity != nil {
		seq = m.Activity.Seq
	}
	h := sha256.Sum256([]byte(m.Workspace + "\x00" + m.Person))
	domain := "localhost"
	if at := strings.LastIndexByte(m.From, '@'); at >= 0 {
		d := strings.TrimRight(m.From[at+1:], ">")
		if d != "" && !strings.ContainsAny(d, " <>()[]\\,;:\"\r\n\t") {
			domain = d
		}
	}
	step := m.Step
	if step == "" {
		step = "0"
	}
	return fmt.Sprintf("campc.%d.%s.%s@%s", seq, step, hex.EncodeToString(h[:6]), domain)
}

// Effects delivers what flows decide to send. The engine decides whether
// and when; the host decides how.
type Effects interface {
	SendEmail(ctx context.Context, m Message) error
	SendAlert(ctx context.Context, m Message) error
	// CallWebhook makes a webhook's request and returns how it ended. A
	// call that did not complete (refused, timed out, …) is a response
	// with Error set, logged in the activity; an error fails the pass.
	CallWebhook(ctx context.Context, req WebhookRequest) (WebhookResponse, error)
	// HostAction asks the host to change something campc does not keep:
	// the person's owner, a CRM sync, a sales task (a.Type says which).
	HostAction(ctx context.Context, a Action) error
}

// Action is a change a flow asks the host to make in the systems around
// campc. Type is the activity type the engine logs for it.
type Action struct {
	Type     string // stdlib.ActChangeOwner, ActSyncToCRM or ActCreateTask
	Person   string
	Campaign string
	Owner    string // Change Owner: the new owner; Create Task: the assignee ("" = the person's owner)
	Subject  string // Create Task: the task's subject, rendered
}

// Recorder is the default Effects: it delivers nothing and remembers what
// it was asked to deliver.
type Recorder struct {
	mu       sync.Mutex
	Emails   []Message
	Alerts   []Message
	Webhooks []WebhookRequest
	Actions  []Action
}

// SendEmail implements Effects.
func (r *Recorder) SendEmail(ctx context.Context, m Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Emails = append(r.Emails, m)
	return nil
}

// SendAlert implements Effects.
func (r *Recorder) SendAlert(ctx context.Context, m Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Alerts = append(r.Alerts, m)
	return nil
}

// CallWebhook implements Effects; every call "succeeds" with 200 and an
// empty body, so that runs stay deterministic.
func (r *Recorder) CallWebhook(ctx context.Context, req WebhookRequest) (WebhookResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Webhooks = append(r.Webhooks, req)
	return WebhookResponse{Status: 200}, nil
}

// HostAction implements Effects.
func (r *Recorder) HostAction(ctx context.Context, a Action) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Actions = append(r.Actions, a)
	return nil
}
