package main

import (
	"fmt"
	"io"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/project"
)

// compileProject loads and compiles paths, printing diagnostics. It returns
// the result, or an exit code when the caller should stop.
func compileProject(paths []string, format string, strict bool, maxErrors int, stdout, stderr io.Writer) (*compiler.Result, int) {
	res, _, code := compileProjectTexts(paths, format, strict, maxErrors, stdout, stderr)
	return res, code
}

// compileProjectTexts is compileProject that also returns the project's
// files by name, as compiled.
func compileProjectTexts(paths []string, format string, strict bool, maxErrors int, stdout, stderr io.Writer) (*compiler.Result, map[string]string, int) {
	srcs, texts, err := loadProject(paths)
	if err != nil {
		fmt.Fprintf(stderr, "campc: %s\n", lang.Escape(err.Error()))
		return nil, nil, exitUsage
	}
	if maxErrors == 0 {
		maxErrors = -1
	}
	res := compiler.Compile(srcs, compiler.Options{MaxErrors: maxErrors, Zones: zones, ReadFile: project.ReadFile})
	failed := res.HasErrors()
	if strict {
		for _, d := range res.Diagnostics {
			if d.Severity == lang.SeverityWarning {
				d.Severity = lang.SeverityError
				failed = true
			}
		}
	}
	if len(res.Diagnostics) > 0 {
		if format == "json" {
			lang.RenderJSON(stdout, res.Diagnostics)
		} else {
			lang.RenderText(stdout, res.Diagnostics, texts)
		}
	}
	if res.Omitted > 0 {
		fmt.Fprintf(stderr, "campc: %d more diagnostics not shown (--max-errors 0 shows all)\n", res.Omitted)
	}
	if failed {
		return res, texts, exitError
	}
	return res, texts, exitOK
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check [--format text|json] [--strict] [--max-errors N] [PATH ...]", stdout, stderr)
	format := &choice{value: "text", allowed: []string{"text", "json"}}
	fs.Var(format, "format", "output format: text or json")
	strict := fs.Bool("strict", false, "treat warnings as errors")
	maxErrors := fs.Int("max-errors", compiler.DefaultMaxErrors, "show at most this many diagnostics (0: all)")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if *maxErrors < 0 {
		return badUsage(fs, "--max-errors must be 0 or more, not %d", *maxErrors)
	}
	_, code := compileProject(paths, format.value, *strict, *maxErrors, stdout, stderr)
	return code
}
