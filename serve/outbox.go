package serve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/mail"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
)

// Mailer sends one message to a relay: nil once the relay accepted it,
// a *mail.Error otherwise (Permanent for a 5xx refusal). *mail.Sender is
// the real one.
type Mailer interface {
	Send(ctx context.Context, m *vm.Message) error
}

// Defaults of the deliverer.
const (
	DefaultMaxAttempts = 8                // then the message is Send Email Failed
	DefaultRetryBase   = 30 * time.Second // the wait after the first failed attempt, doubled after each
	maxRetryWait       = time.Hour
	deliverBatch       = 100 // rows one DeliverDue looks at
)

// Results of a delivery attempt (the deliveries metric's label).
const (
	resultDelivered   = "delivered"
	resultBounced     = "bounced"
	resultRetry       = "retry"
	resultFailed      = "failed"
	resultUndelivered = "undelivered" // no relay (no --smtp)
)

// noRelay is the last error of a message the service could not send
// because it runs without a relay.
const noRelay = "not delivered: campc serve runs without --smtp"

// backoff is the wait before attempt n+1 after n failed attempts.
func (s *Service) backoff(n int) time.Duration {
	d := s.cfg.RetryBase
	for i := 1; i < n && d < maxRetryWait; i++ {
		d *= 2
	}
	return min(d, maxRetryWait)
}

// DeliverDue delivers the outbox messages due now, one at a time, oldest
// first, and returns how many it attempted. The scheduler calls it every
// Poll; tests call it after moving their clock.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	var ids []int64
	due := s.now()
	if s.river != nil {
		// Each commit's messages are a campc_deliver job: the loop is
		// the net for the attempts after a failure (their row's next
		// time) and messages no job covers, and leaves fresh ones to
		// their jobs rather than contend with them.
		due = due.Add(-riverDeliverLag)
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		var err error
		ids, err = tx.DueOutbox(due, deliverBatch)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		done, err := s.DeliverOutbox(ctx, id)
		if err != nil {
			s.log.Error("outbox", "message", id, "error", err.Error())
			continue
		}
		if done {
			n++
		}
	}
	s.outboxDepth(ctx)
	return n, nil
}

// riverDeliverLag is how long in River mode the deliverer leaves a due
// message to the job that covers it.
const riverDeliverLag = 30 * time.Second

// outboxDepth sets the depth gauge.
func (s *Service) outboxDepth(ctx context.Context) {
	_ = s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		n, err := tx.OutboxDepth()
		if err == nil {
			s.m.outboxDepth.Set(float64(n))
		}
		return err
	})
}

// DeliverOutbox makes one attempt at one outbox row: it claims the row
// (a transaction of its own: the claim is committed before the relay is
// contacted), sends the message with its stable Message-ID, and then, in
// one transaction, marks the row and logs the outcome: Email Delivered
// (which "email is delivered" triggers hear), Email Bounced (a 5xx), or,
// once the attempts run out, Send Email Failed; between attempts the row
// waits with exponential backoff. It reports false when the row was not
// due or is another deliverer's. A job queue can call it with a row id.
//
// A crash before the relay accepts leaves a claim that runs out (after
// three times the relay timeout), and the message is sent then. A crash after
// the relay accepted but before the mark sends it again, with the same
// Message-ID: the one window where a relay can get a message twice.
func (s *Service) DeliverOutbox(ctx context.Context, id int64) (bool, error) {
	var row *store.OutboxRow
	now := s.now()
	err := s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		var err error
		row, err = tx.ClaimOutbox(id, now, now.Add(s.cfg.ClaimTimeout))
		return err
	})
	if err != nil || row == nil {
		return false, err
	}
	m := &row.Message
	result, lastErr := resultDelivered, ""
	if s.cfg.Mailer == nil {
		result, lastErr = resultUndelivered, noRelay
	} else if err := s.cfg.Mailer.Send(ctx, m); err != nil {
		lastErr = err.Error()
		var me *mail.Error
		switch {
		case errors.As(err, &me) && me.Permanent:
			result = resultBounced
		case ctx.Err() != nil:
			// Stopping: the claim runs out and the next start tries
			// again; the attempt does not count as the relay's failure.
			return false, nil
		case row.Attempts >= s.cfg.MaxAttempts:
			result = resultFailed
		default:
			result = resultRetry
		}
	}
	at := s.now()
	var reps []*vm.Report
	err = s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		reps = nil
		var err error
		switch result {
		case resultDelivered:
			err = tx.FinishOutbox(id, store.OutboxSent, at, "")
		case resultBounced:
			err = tx.FinishOutbox(id, store.OutboxBounced, at, lastErr)
		case resultFailed, resultUndelivered:
			err = tx.FinishOutbox(id, store.OutboxFailed, at, lastErr)
		case resultRetry:
			err = tx.RetryOutbox(id, at.Add(s.backoff(row.Attempts)), lastErr)
		}
		if err != nil || m.Name == "" {
			return err // an alert logs no outcome: its activity is the person's, its mail the salesperson's
		}
		switch result {
		case resultDelivered, resultBounced:
			kind := ir.TrigEmailDelivered
			if result == resultBounced {
				kind = ir.TrigEmailBounces
			}
			rep, err := s.eng.Deliver(ctx, vm.Event{Kind: kind, Person: m.Person, Email: m.Name, Workspace: m.Workspace})
			if err == nil {
				reps = append(reps, rep)
				return nil
			}
			// The person may be gone since: the row is marked all the same.
			s.log.Warn("email outcome not logged", "message", m.ID, "person", m.Person, "error", err.Error())
			return nil
		case resultFailed:
			return tx.Apply(&vm.Commit{Activities: []*vm.Activity{{Time: at, Person: m.Person, Type: stdlib.ActSendEmailFailed,
				Campaign: m.Campaign, Workspace: m.Workspace, Primary: m.Name,
				Attributes: vm.Attrs{{Key: "Attempts", Value: vm.AttrNum(float64(row.Attempts))}, {Key: "Message Id", Value: vm.AttrStr(m.ID)},
					{Key: "Reason", Value: vm.AttrStr(lastErr)}}}}})
		}
		return nil
	})
	if errors.Is(err, store.ErrOutboxLost) {
		s.log.Warn("outbox message taken over by another deliverer after its claim ran out", "message", m.ID)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("message %s: %w", m.ID, err)
	}
	s.record(reps...)
	if result == resultFailed {
		s.m.activities.WithLabelValues(stdlib.ActSendEmailFailed).Inc()
	}
	s.m.deliveries.WithLabelValues(result).Inc()
	args := []any{"message", m.ID, "person", m.Person, "workspace", m.Workspace, "campaign", m.Campaign, "email", m.Name, "attempt", row.Attempts}
	switch result {
	case resultDelivered:
		s.log.Info("email delivered", args...)
	case resultUndelivered:
		s.log.Info("email not delivered: campc serve runs without --smtp", args...)
	case resultRetry:
		s.log.Warn("email delivery failed; trying again later", append(args, "error", lastErr)...)
	default:
		s.log.Warn("email not delivered", append(args, "result", result, "error", lastErr)...)
	}
	return true, nil
}
