// Package textutil holds the text helpers that both the front end (lang,
// compiler) and the engine (vm) need: terminal escaping and "did you mean"
// suggestions. It sits below both so that the engine need not import the
// parser for them.
package textutil
