package vm

import (
	"context"
	"errors"
	"slices"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm/storage"
)

// ParkedWebhook is the person's parked webhook call id, read in a
// transaction of its own, or nil when it is gone (resumed, or dropped by a
// deploy or Remove from Flow): what a host's job reads before it calls.
func (e *Engine) ParkedWebhook(ctx context.Context, person string, id int64) (*storage.Parked, error) {
	tx, err := e.store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return parkedCall(tx, person, id)
}

// parkedCall is the person's parked webhook call id as tx sees it, or nil.
func parkedCall(tx storage.Tx, person string, id int64) (*storage.Parked, error) {
	waits, err := tx.WaitsOf(person)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(waits, func(w *storage.Parked) bool { return w.ID == id && w.Webhook != nil })
	if i < 0 {
		return nil, nil
	}
	return waits[i], nil
}

// ResumeWebhook ends the person's parked webhook call id (parked with
// Options.DeferWebhooks) with the response the host got: in one
// transaction, at the clock's time, it deletes the parked row, logs the
// Call Webhook activity, applies the response mappings, and runs the rest
// of the flow and what it sets off, as the call made during the pass
// would have. The delete makes it once: a call whose row is gone (resumed
// by another process, dropped by a deploy or Remove from Flow) changes
// nothing, and resumed reports false. When the flow no longer has the
// step, the person leaves it with a Wait Dropped activity, as a wait
// whose step is gone does.
func (e *Engine) ResumeWebhook(ctx context.Context, person string, id int64, resp storage.WebhookResponse) (rep *Report, resumed bool, err error) {
	defer e.lock()()
	r := e.newRun(ctx)
	err = r.inTx(func() error {
		resumed = false
		p, err := r.load(person)
		if err != nil {
			return err
		}
		w, err := parkedCall(r.tx, person, id)
		if w == nil {
			return err
		}
		resumed = true
		ps, err := r.unparked(p, e.prog.Campaign(w.Workspace, w.Campaign), w, "webhook:")
		if ps == nil {
			return err
		}
		cur := ps.stack[len(ps.stack)-1]
		ps.webhookDone(cur.steps[cur.pc-1].(*ir.CallWebhook), cur, *w.Webhook, resp)
		if err := ps.finish(ps.exec()); err != nil {
			return err
		}
		return r.drain()
	})
	if errors.Is(err, storage.ErrTaken) {
		return r.report, false, nil // another process resumed it first
	}
	return r.report, resumed, err
}
