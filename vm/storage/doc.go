// Package storage is the contract between the engine (package vm) and
// the stores that keep its state, as database/sql/driver is to
// database/sql: Store and Tx, the Commit of one pass, and the records a
// store keeps (Person, Activity, Parked, Queued, BatchRun, Message).
//
// A store implements Store and Tx and may implement the optional
// interfaces (Prefetcher, ViewLoader, QueueReader,
// HistoryEnder, ChunkStore). The package also holds the single text form
// of each record that leaves a store (field values, the JSON log) and
// the checks every value passes at the door, so that every store accepts
// and refuses the same things. It does no I/O.
package storage
