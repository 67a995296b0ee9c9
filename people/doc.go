// Package people reads people files, CSV or JSONL, into storage.Person
// values for an import: the header (or keys) checked against a program's
// fields, lists, programs and partitions (Schema), each value checked at
// the door (storage.CheckText and friends). Every problem is a *Error
// naming the file, line and column.
package people
