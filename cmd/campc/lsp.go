package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/campc/campc/lsp"
)

// cmdLSP serves the language server (package lsp) on standard input and
// output until the editor says exit.
func cmdLSP(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("lsp", "lsp [--debounce DURATION]", stdout, stderr)
	debounce := fs.Duration("debounce", lsp.DefaultDebounce, "how long after the last change to wait before publishing diagnostics (a Go duration: 200ms, 1s)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 {
		return badUsage(fs, "lsp takes no arguments, not %q", rest[0])
	}
	if *debounce < 0 {
		return badUsage(fs, "--debounce must be 0 or more, not %s", *debounce)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(lsp.GCPercent) // a long-lived process with a small heap: see lsp.GCPercent
	}
	err = lsp.Serve(context.Background(), stdin, stdout, lsp.Options{Zones: zones, Debounce: *debounce, Log: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "campc lsp: %v\n", err)
		return exitError
	}
	return exitOK
}
