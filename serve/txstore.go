package serve

import (
	"context"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm/storage"
)

// txStore is the engine's store. Outside an API call it is the database;
// inside one (the call's context carries its transaction), every
// transaction the engine begins is the call's, so that the engine's
// passes and the service's own writes commit together: the engine's
// commits only hand their changes on, and the call commits or rolls back
// the whole.
type txStore struct {
	*store.Store
}

type callTxKey struct{}

// withTx is ctx carrying the call's transaction.
func withTx(ctx context.Context, tx *store.ServeTx) context.Context {
	return context.WithValue(ctx, callTxKey{}, tx)
}

// Begin implements vm.Store.
func (s txStore) Begin(ctx context.Context) (storage.Tx, error) {
	if tx, ok := ctx.Value(callTxKey{}).(*store.ServeTx); ok {
		return nestedTx{tx}, nil
	}
	return s.Store.Begin(ctx)
}

// nestedTx is the engine's view of the call's transaction. Its Commit
// and Rollback do nothing: the engine returns its error, and the call
// rolls everything back.
type nestedTx struct{ tx *store.ServeTx }

func (n nestedTx) LoadPerson(id string) (*storage.Person, error)    { return n.tx.LoadPerson(id) }
func (n nestedTx) WaitsOf(person string) ([]*storage.Parked, error) { return n.tx.WaitsOf(person) }
func (n nestedTx) Apply(c *storage.Commit) error                    { return n.tx.Apply(c) }
func (n nestedTx) Commit() error                                    { return nil }
func (n nestedTx) Rollback() error                                  { return nil }

// LoadSlots implements storage.SlotLoader: a call's passes read people
// decoded into the program's layout, as the engine's own transactions do.
func (n nestedTx) LoadSlots(lay *ir.Layout, id string) (*storage.Person, error) {
	return n.tx.LoadSlots(lay, id)
}
