// Package lsp is campc's language server: `campc lsp` speaks the Language
// Server Protocol (3.16) over standard input and output, so an editor shows
// a project's diagnostics as the author types, and offers hover, go to
// definition, find references, completion, rename, formatting, document and
// workspace symbols, quick fixes and semantic tokens.
//
// The server knows nothing of the language that the checker does not: it
// loads a project as campc check does (package project), with the open
// documents' text in place of the files', compiles it (package compiler,
// with the references table that Options.References asks for) and reads
// the checked program's own analyses (callers, Execute Campaign depths,
// token scopes, templates) for hover and completion.
//
// Each file's parse is cached by its text, so an edit reparses one file;
// while a file does not parse, its last good parse stands in for it, so the
// other files keep their diagnostics and hover, definition and completion
// keep working. The base protocol (rpc.go) is our own small JSON-RPC 2.0
// framing, which bounds a message before reading it, answers malformed
// messages with JSON-RPC errors and recovers a handler's panic; the
// protocol's types and method dispatch are github.com/tliron/glsp's.
package lsp
