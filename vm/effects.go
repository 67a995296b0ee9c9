package vm

import (
	"context"
	"sync"
	"time"

	"github.com/campc/campc/vm/storage"
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

// Effects delivers what flows decide to send. The engine decides whether
// and when; the host decides how.
type Effects interface {
	SendEmail(ctx context.Context, m storage.Message) error
	SendAlert(ctx context.Context, m storage.Message) error
	// CallWebhook makes a webhook's request and returns how it ended. A
	// call that did not complete (refused, timed out, …) is a response
	// with Error set, logged in the activity; an error fails the pass.
	CallWebhook(ctx context.Context, req storage.WebhookRequest) (storage.WebhookResponse, error)
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
	Emails   []storage.Message
	Alerts   []storage.Message
	Webhooks []storage.WebhookRequest
	Actions  []Action
}

// SendEmail implements Effects.
func (r *Recorder) SendEmail(ctx context.Context, m storage.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Emails = append(r.Emails, m)
	return nil
}

// SendAlert implements Effects.
func (r *Recorder) SendAlert(ctx context.Context, m storage.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Alerts = append(r.Alerts, m)
	return nil
}

// CallWebhook implements Effects; every call "succeeds" with 200 and an
// empty body, so that runs stay deterministic.
func (r *Recorder) CallWebhook(ctx context.Context, req storage.WebhookRequest) (storage.WebhookResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Webhooks = append(r.Webhooks, req)
	return storage.WebhookResponse{Status: 200}, nil
}

// HostAction implements Effects.
func (r *Recorder) HostAction(ctx context.Context, a Action) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Actions = append(r.Actions, a)
	return nil
}
