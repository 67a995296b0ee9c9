// Package lang is the front end of campc: the lexer, the participle grammar,
// the AST of .camp files, token templates inside strings, and the one
// diagnostic type that every later stage reports with. It does no I/O.
package lang
