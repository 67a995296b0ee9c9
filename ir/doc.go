// Package ir is the checked program: the closed intermediate
// representation that the compiler produces and the engine (vm), the
// stores, graph and the CLI consume.
//
// It lives at the top of the module, beside lang and compiler rather than
// under compiler, because it is the contract between the front end and
// everything that runs a program: it imports neither lang nor the parser,
// so the engine can be built, and read, without the front end. Positions
// (Position, Range), templates and token references (Template, TokenRef,
// with the family resolved to Family at compile time) are its own types;
// lang.Position is an alias of Position, so the parser's positions flow
// into the IR without conversion.
//
// A Program is never modified after the compiler returns it, so one
// Program may be shared by any number of goroutines. Everything the
// checker needs only while checking (declarations, callers, scratch
// state) stays in the checker.
package ir
