// Package memstore is the in-memory store, the engine's embedded default
// (vm.New with no Store). It keeps people in columns (columns.go): a
// person is a row, each field a column of fixed-size cells, each list a
// bitset, text interned per column or written once into an arena. It
// lends rows to the engine without unpacking them (storage.ViewLoader)
// and locks people per transaction as a database's row locks would, so
// transactions on different people run at once. Nothing is durable: a
// process keeps what it ran until it exits.
package memstore
