// Package vm runs checked campc programs over people.
//
// An Engine holds an immutable ir.Program (shared freely between
// engines and goroutines), a Store, a Clock and the host's Effects. Each
// operation (RunBatch, Request, Deliver, Advance) works person by person:
// a person's pass through a flow is computed on a private copy of the
// person and committed to the store as one unit, so a failed pass leaves
// nothing half-applied. Execute Campaign runs the child in series on an
// explicit stack of frames, each with its token context; a wait parks the
// stack in the store and Advance resumes it when the clock passes.
//
// The package does no I/O of its own: storage, time and delivery of email,
// alerts and webhooks come through interfaces the host supplies.
package vm
