package vm

import (
	"context"
	"fmt"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm/storage"
)

// TimedEvent is one line of an events file: something that happens to a
// person at a time, delivered as the host would deliver it (Deliver), or
// an API request of a campaign (Request).
type TimedEvent struct {
	Time time.Time
	File string
	Line int
	// TimeColumn and PersonColumn place the event's time and person, for
	// messages about them.
	TimeColumn, PersonColumn int
	Event                    storage.Event // Kind TrigRequested: a request of Event.Campaign
	// Tokens are a request's My Token overrides, by name without "my.".
	Tokens map[string]string
}

// Pos is where the event is written, "file:line:col" (its time's column).
func (te *TimedEvent) Pos() string { return fmt.Sprintf("%s:%d:%d", te.File, te.Line, te.TimeColumn) }

// PersonPos is where the event's person is written, "file:line:col".
func (te *TimedEvent) PersonPos() string {
	return fmt.Sprintf("%s:%d:%d", te.File, te.Line, te.PersonColumn)
}

// Apply applies one timed event at its time: an API request requests its
// campaign (Request), any other event is delivered (Deliver). The host's
// clock should stand at the event's time; the engine reads it.
func (e *Engine) Apply(ctx context.Context, te *TimedEvent) (*Report, error) {
	if te.Event.Kind == ir.TrigRequested {
		return e.Request(ctx, te.Event.Campaign, []string{te.Event.Person}, RunOptions{Workspace: te.Event.Workspace, Tokens: te.Tokens})
	}
	return e.Deliver(ctx, te.Event)
}
