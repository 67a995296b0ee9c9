// Package memstore is the in-memory store, the engine's embedded default
// (vm.New with no Store). It keeps people packed (interned text, one
// small record a person), lends them to the engine without unpacking
// (storage.ViewLoader) and locks people per transaction as a database's
// row locks would, so transactions on different people run at once.
// Nothing is durable: a process keeps what it ran until it exits.
package memstore
