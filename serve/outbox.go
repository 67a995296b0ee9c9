package serve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/mail"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// Mailer sends one message to a relay: nil once the relay accepted it,
// a *mail.Error otherwise (Permanent for a 5xx refusal). *mail.Sender is
// the real one.
type Mailer interface {
	Send(ctx context.Context, m *storage.Message) error
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
	n, err := s.DeliverOutboxes(ctx, ids)
	if err != nil {
		s.log.Error("outbox", "error", err.Error())
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
	n, err := s.DeliverOutboxes(ctx, []int64{id})
	return n > 0, err
}

// deliverChunk is how many messages DeliverOutboxes claims, and then
// marks, in one transaction.
const deliverChunk = 25

// DeliverOutboxes is DeliverOutbox for several rows, as one job delivers
// the messages of one commit: they are claimed in one transaction, sent
// one after another, and marked in one (each alone if that fails), by
// chunks of deliverChunk, so that a transaction's hundreds of messages
// cost a few transactions rather than two each. No message is sent once
// its claim could run out before the relay answers (the rest of the chunk
// is left to run out, and is sent later). It reports how many it
// attempted; the error is the first, after the others were tried.
func (s *Service) DeliverOutboxes(ctx context.Context, ids []int64) (int, error) {
	n := 0
	var first error
	for len(ids) > 0 {
		k := min(deliverChunk, len(ids))
		done, err := s.deliverChunk(ctx, ids[:k])
		n += done
		if err != nil && first == nil {
			first = err
		}
		ids = ids[k:]
		if ctx.Err() != nil {
			break
		}
	}
	return n, first
}

// attempt is one message's delivery attempt.
type attempt struct {
	row             *store.OutboxRow
	result, lastErr string
	at              time.Time
}

func (s *Service) deliverChunk(ctx context.Context, ids []int64) (int, error) {
	var rows []*store.OutboxRow
	now := s.now()
	until := now.Add(s.cfg.ClaimTimeout)
	err := s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		rows = rows[:0]
		for _, id := range ids {
			row, err := tx.ClaimOutbox(id, now, until)
			if err != nil {
				return err
			}
			if row != nil {
				rows = append(rows, row)
			}
		}
		return nil
	})
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	// A send may take the relay timeout (a third of the claim): none
	// starts that could end after the claim ran out, when another
	// deliverer may send the message too.
	relay := s.cfg.ClaimTimeout / 3
	var tried []*attempt
	for _, row := range rows {
		if ctx.Err() != nil || s.now().Add(relay).After(until) {
			break
		}
		a, ok := s.send(ctx, row)
		if !ok {
			break // stopping: the claims run out and the next start tries again
		}
		tried = append(tried, a)
	}
	if len(tried) == 0 {
		return 0, nil
	}
	// The marks, in one transaction, the people in Id order (as batch
	// groups lock them); if that fails, each in its own.
	sorted := slices.Clone(tried)
	slices.SortStableFunc(sorted, func(a, b *attempt) int { return strings.Compare(a.row.Message.Person, b.row.Message.Person) })
	var reps []*vm.Report
	err = s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		reps = reps[:0]
		for _, a := range sorted {
			rep, err := s.finish(ctx, tx, a)
			if err != nil {
				return err
			}
			reps = append(reps, rep)
		}
		return nil
	})
	if err == nil {
		s.record(reps...)
		for _, a := range tried {
			s.logAttempt(a)
		}
		return len(tried), nil
	}
	var first error
	n := 0
	for _, a := range tried {
		var rep *vm.Report
		err := s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
			var err error
			rep, err = s.finish(ctx, tx, a)
			return err
		})
		if errors.Is(err, store.ErrOutboxLost) {
			s.log.Warn("outbox message taken over by another deliverer after its claim ran out", "message", a.row.Message.ID)
			continue
		}
		if err != nil {
			if first == nil {
				first = fmt.Errorf("message %s: %w", a.row.Message.ID, err)
			}
			continue
		}
		s.record(rep)
		s.logAttempt(a)
		n++
	}
	return n, first
}

// send makes the attempt of a claimed row; false when the service is
// stopping (the attempt does not count as the relay's failure).
func (s *Service) send(ctx context.Context, row *store.OutboxRow) (*attempt, bool) {
	m := &row.Message
	a := &attempt{row: row, result: resultDelivered}
	if s.cfg.Mailer == nil {
		a.result, a.lastErr = resultUndelivered, noRelay
	} else if err := s.cfg.Mailer.Send(ctx, m); err != nil {
		a.lastErr = err.Error()
		var me *mail.Error
		switch {
		case errors.As(err, &me) && me.Permanent:
			a.result = resultBounced
		case ctx.Err() != nil:
			return nil, false
		case row.Attempts >= s.cfg.MaxAttempts:
			a.result = resultFailed
		default:
			a.result = resultRetry
		}
	}
	a.at = s.now()
	return a, true
}

// finish marks an attempt's row and logs its outcome in tx.
func (s *Service) finish(ctx context.Context, tx *store.ServeTx, a *attempt) (*vm.Report, error) {
	m, id, at := &a.row.Message, a.row.ID, a.at
	var err error
	switch a.result {
	case resultDelivered:
		err = tx.FinishOutbox(id, store.OutboxSent, at, "")
	case resultBounced:
		err = tx.FinishOutbox(id, store.OutboxBounced, at, a.lastErr)
	case resultFailed, resultUndelivered:
		err = tx.FinishOutbox(id, store.OutboxFailed, at, a.lastErr)
	case resultRetry:
		err = tx.RetryOutbox(id, at.Add(s.backoff(a.row.Attempts)), a.lastErr)
	}
	if err != nil || m.Name == "" {
		return nil, err // an alert logs no outcome: its activity is the person's, its mail the salesperson's
	}
	switch a.result {
	case resultDelivered, resultBounced:
		kind := ir.TrigEmailDelivered
		if a.result == resultBounced {
			kind = ir.TrigEmailBounces
		}
		rep, err := s.eng.Deliver(ctx, storage.Event{Kind: kind, Person: m.Person, Email: m.Name, Workspace: m.Workspace})
		if err != nil {
			// The person may be gone since: the row is marked all the same.
			s.log.Warn("email outcome not logged", "message", m.ID, "person", m.Person, "error", err.Error())
			return nil, nil
		}
		return rep, nil
	case resultFailed:
		return nil, tx.Apply(&storage.Commit{Activities: []*storage.Activity{{Time: at, Person: m.Person, Type: stdlib.ActSendEmailFailed,
			Campaign: m.Campaign, Workspace: m.Workspace, Primary: m.Name,
			Attributes: storage.Attrs{{Key: "Attempts", Value: storage.AttrNum(float64(a.row.Attempts))}, {Key: "Message Id", Value: storage.AttrStr(m.ID)},
				{Key: "Reason", Value: storage.AttrStr(a.lastErr)}}}}})
	}
	return nil, nil
}

// logAttempt counts and logs a committed attempt.
func (s *Service) logAttempt(a *attempt) {
	m := &a.row.Message
	if a.result == resultFailed {
		s.m.activities.WithLabelValues(stdlib.ActSendEmailFailed).Inc()
	}
	s.m.deliveries.WithLabelValues(a.result).Inc()
	args := []any{"message", m.ID, "person", m.Person, "workspace", m.Workspace, "campaign", m.Campaign, "email", m.Name, "attempt", a.row.Attempts}
	switch a.result {
	case resultDelivered:
		s.log.Info("email delivered", args...)
	case resultUndelivered:
		s.log.Info("email not delivered: campc serve runs without --smtp", args...)
	case resultRetry:
		s.log.Warn("email delivery failed; trying again later", append(args, "error", a.lastErr)...)
	default:
		s.log.Warn("email not delivered", append(args, "result", a.result, "error", a.lastErr)...)
	}
}
