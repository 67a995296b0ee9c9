package main

import (
	"fmt"
	"io"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/graph"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/project"
)

// drawnCodes are the errors that the graph itself shows (in red): a project
// whose only errors are these is drawn and exits 0.
var drawnCodes = map[lang.Code]bool{
	lang.CodeExecuteDepth:   true,
	lang.CodeExecuteCycle:   true,
	lang.CodeCrossWorkspace: true,
	lang.CodeNotExecutable:  true,
	lang.CodeNotRequestable: true,
}

func cmdGraph(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("graph", "graph [--format dot|mermaid] [PATH ...]", stdout, stderr)
	format := &choice{value: "dot", allowed: []string{"dot", "mermaid"}}
	fs.Var(format, "format", "output format: dot (Graphviz) or mermaid")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	srcs, texts, err := loadProject(paths)
	if err != nil {
		fmt.Fprintf(stderr, "campc: %s\n", lang.Escape(err.Error()))
		return exitUsage
	}
	res := compiler.Compile(srcs, compiler.Options{MaxErrors: -1, Zones: zones, ReadFile: project.ReadFile})
	code := exitOK
	for _, d := range res.Diagnostics {
		if d.Severity == lang.SeverityError && !drawnCodes[d.Code] {
			code = exitError
		}
	}
	if code != exitOK {
		// The graph is still drawn from what compiled; the diagnostics
		// say what is missing or wrong.
		var errs []*lang.Diagnostic
		for _, d := range res.Diagnostics {
			if d.Severity == lang.SeverityError && !drawnCodes[d.Code] {
				errs = append(errs, d)
			}
		}
		shown, cut := errs, 0
		if len(shown) > compiler.DefaultMaxErrors {
			shown, cut = shown[:compiler.DefaultMaxErrors], len(shown)-compiler.DefaultMaxErrors
		}
		lang.RenderText(stderr, shown, texts)
		if cut > 0 {
			fmt.Fprintf(stderr, "campc: %d more errors not shown (campc check --max-errors 0 shows all)\n", cut)
		}
		fmt.Fprintln(stderr, "campc graph: the project has errors; the graph shows what compiled")
	}
	if res.Program == nil {
		return exitError
	}
	g := graph.Build(res.Program)
	if format.value == "mermaid" {
		io.WriteString(stdout, g.Mermaid())
	} else {
		io.WriteString(stdout, g.DOT())
	}
	return code
}
