package main

import (
	"fmt"
	"io"

	"github.com/campc/campc/store"
)

// runFailed reports a run or a store operation that failed. A damaged
// database is bad input, as a --db that cannot be opened is: it exits 2
// with a message that names --db. Anything else exits 1.
func runFailed(stderr io.Writer, cmd, db string, err error) int {
	if store.IsCorrupt(err) {
		return dbError(stderr, cmd, db, err)
	}
	fmt.Fprintf(stderr, "campc %s: %v%s\n", cmd, err, takenHint(err))
	return exitError
}
