package serve

import (
	"context"
	"log/slog"

	"github.com/campc/campc/vm"
)

// logEffects is the service's effects until email and webhooks are
// delivered for real: each is logged (the activity log has them too)
// and nothing is kept in memory, unlike vm.Recorder.
type logEffects struct{ log *slog.Logger }

func (l logEffects) SendEmail(ctx context.Context, m vm.Message) error {
	l.log.Info("email not delivered: campc serve does not send email yet", "person", m.Person, "campaign", m.Campaign, "email", m.Name)
	return nil
}

func (l logEffects) SendAlert(ctx context.Context, m vm.Message) error {
	l.log.Info("alert not delivered: campc serve does not send email yet", "person", m.Person, "campaign", m.Campaign)
	return nil
}

func (l logEffects) CallWebhook(ctx context.Context, req vm.WebhookRequest) (vm.WebhookResponse, error) {
	l.log.Info("webhook not called: campc serve does not call webhooks yet", "person", req.Person, "campaign", req.Campaign, "webhook", req.Webhook)
	return vm.WebhookResponse{Status: 200}, nil
}

func (l logEffects) HostAction(ctx context.Context, a vm.Action) error {
	l.log.Info("host action logged", "type", a.Type, "person", a.Person, "campaign", a.Campaign)
	return nil
}
