// Package people reads what a host feeds the engine from files: people
// files, CSV or JSONL, into storage.Person values for an import (the
// header or keys checked against a program's fields, lists, programs and
// partitions, Schema; each value checked at the door, storage.CheckText
// and friends), and events files into vm.TimedEvent values for campc run
// --events (ReadEvents). Every problem is a *Error naming the file, line
// and column, reported as a lang diagnostic (code people or events).
package people
