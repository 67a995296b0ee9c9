package serve

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/campc/campc/vm/storage"
	"github.com/riverqueue/river"
)

// kindWebhook is a parked webhook call (see WebhookArgs).
const kindWebhook = "campc_webhook"

// WebhookArgs is a webhook call a pass parked (vm.Options.DeferWebhooks):
// its parked row's id and person. The request itself, headers included,
// stays in the parked row, so that River's tables (and campc status) hold
// no secret.
type WebhookArgs struct {
	ID     int64  `json:"id"`
	Person string `json:"person"`
}

func (WebhookArgs) Kind() string { return kindWebhook }

// deferWebhooks reports whether the engine parks webhook calls for River
// jobs to make: on River, with the service's own webhook client (a host
// that gives its own Effects keeps calling during the pass).
func (s *Service) deferWebhooks() bool { return s.river != nil && s.hooks != nil }

// webhookWorker makes a parked webhook call: one attempt per run of the
// job, holding no transaction and no lock. A 5xx answer or a network
// error fails the job, so that River runs it again (on whichever process
// is free) after the service's backoff, until the job's MaxAttempts
// (WebhookOptions.Attempts); any other end, or the last attempt, resumes
// the person with the response (vm.Engine.ResumeWebhook), in one
// transaction that deletes the parked row: a job run again after that
// finds the row gone and calls no more. Every attempt sends the
// Idempotency-Key the pass rendered.
type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	s *Service
}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	s := w.s
	if s.hooks == nil {
		return fmt.Errorf("webhook job %d: this process was given its own effects and makes no webhook calls", job.ID)
	}
	s.progMu.RLock()
	eng := s.eng
	s.progMu.RUnlock()
	p, err := eng.ParkedWebhook(ctx, job.Args.Person, job.Args.ID)
	if err != nil || p == nil {
		return err // nil: resumed already, or dropped (deploy, Remove from Flow)
	}
	start := time.Now()
	resp, again := s.hooks.attempt(ctx, *p.Webhook, job.Attempt)
	if ctx.Err() != nil {
		// The process is stopping: the attempt was cut, so it does not
		// count; the job runs again at once elsewhere, or at the next start.
		return river.JobSnooze(0)
	}
	if again && job.Attempt < job.MaxAttempts {
		return fmt.Errorf("webhook %q for person %s, attempt %d of %d: %s", p.Webhook.Webhook, p.Person, job.Attempt, job.MaxAttempts, failure(resp))
	}
	s.hooks.ended(ctx, *p.Webhook, resp, job.Attempt, time.Since(start))
	defer s.work()()
	rep, _, err := s.eng.ResumeWebhook(ctx, job.Args.Person, job.Args.ID, resp)
	s.record(rep)
	if err != nil {
		return fmt.Errorf("resume person %s after webhook %q: %w", p.Person, p.Webhook.Webhook, err)
	}
	return nil
}

// NextRetry is when a failed attempt is tried again: the service's
// webhook backoff (WebhookOptions.Backoff, doubling, at most 30s), the
// pauses of a call retried within the pass, not River's default (which
// grows as the attempt's fourth power, in seconds).
func (w *webhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	if w.s.hooks == nil {
		return time.Time{} // River's default
	}
	return time.Now().Add(w.s.hooks.backoff(job.Attempt))
}

// failure says how an attempt failed, without the URL (which may carry a
// secret in its query) or any header.
func failure(r storage.WebhookResponse) string {
	if r.Error != "" {
		return r.Error
	}
	return "status " + strconv.Itoa(r.Status)
}
