// Package compiler loads a whole campc project (many files, many
// workspaces), declares and resolves every name, runs the checks as small
// separate passes, and produces an immutable, checked Program for the VM.
//
// Stages: parse (lang) → declare (symbols per workspace and scope) →
// resolve (references become pointers, conditions and steps become typed IR)
// → checks (one file each: execute graph, workspaces, smart lists,
// executable restrictions, tokens, types, clones, style). All diagnostics of
// a run are returned, sorted, de-duplicated and capped.
package compiler
