package serve

import (
	"context"
	"errors"
	"log/slog"

	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// logEffects is the service's effects for host actions. Email and alerts
// go to the outbox (the engine runs with Outbox set), so SendEmail and
// SendAlert are reached only by an engine built without it; they log and
// keep nothing in memory, unlike vm.Recorder.
type logEffects struct{ log *slog.Logger }

func (l logEffects) SendEmail(ctx context.Context, m storage.Message) error {
	l.log.Info("email not delivered: this engine has no outbox", "person", m.Person, "campaign", m.Campaign, "email", m.Name)
	return nil
}

func (l logEffects) SendAlert(ctx context.Context, m storage.Message) error {
	l.log.Info("alert not delivered: this engine has no outbox", "person", m.Person, "campaign", m.Campaign)
	return nil
}

// CallWebhook is not reached: hostEffects calls webhooks over HTTP.
func (l logEffects) CallWebhook(ctx context.Context, req storage.WebhookRequest) (storage.WebhookResponse, error) {
	return storage.WebhookResponse{}, errors.New("webhooks are called by hostEffects")
}

func (l logEffects) HostAction(ctx context.Context, a vm.Action) error {
	l.log.Info("host action logged", "type", a.Type, "person", a.Person, "campaign", a.Campaign)
	return nil
}
