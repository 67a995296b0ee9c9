package lang

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// RenderText writes diagnostics the way compilers do:
//
//	file:line:col: error[code]: message
//	    the source line
//	    ^~~~
//
// followed by one indented note per related position. sources maps file
// names to their text; a missing file just loses the source excerpt.
func RenderText(w io.Writer, ds []*Diagnostic, sources map[string]string) error {
	for _, d := range ds {
		if _, err := fmt.Fprintf(w, "%s: %s[%s]: %s\n", d.Start, d.Severity, d.Code, d.Message); err != nil {
			return err
		}
		if line, ok := sourceLine(sources[d.Start.Filename], d.Start.Line); ok {
			fmt.Fprintf(w, "    %s\n    %s\n", expandTabs(line), caret(line, d.Start, d.End))
		}
		for _, r := range d.Related {
			fmt.Fprintf(w, "    %s: note: %s\n", r.Start, r.Message)
		}
	}
	return nil
}

func sourceLine(src string, n int) (string, bool) {
	if src == "" || n < 1 {
		return "", false
	}
	src = src[bomLen(src):] // columns on line 1 count from after it
	for i := 1; i < n; i++ {
		j := strings.IndexByte(src, '\n')
		if j < 0 {
			return "", false
		}
		src = src[j+1:]
	}
	if j := strings.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return strings.TrimRight(src, "\r"), true
}

func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", " ") }

// caret underlines the span on the start line (to its end when the span
// runs on to later lines).
func caret(line string, start, end Position) string {
	width := runeCount(line)
	col := start.Column
	if col < 1 {
		col = 1
	}
	n := 1
	if end.Line == start.Line && end.Column > col {
		n = end.Column - col
	} else if end.Line > start.Line && width >= col {
		n = width - col + 1
	}
	return strings.Repeat(" ", col-1) + "^" + strings.Repeat("~", max(n-1, 0))
}

type jsonRelated struct {
	Message   string `json:"message"`
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
}

type jsonDiag struct {
	Severity   string        `json:"severity"`
	Code       Code          `json:"code"`
	Message    string        `json:"message"`
	File       string        `json:"file"`
	Line       int           `json:"line"`
	Column     int           `json:"column"`
	EndLine    int           `json:"end_line"`
	EndColumn  int           `json:"end_column"`
	Related    []jsonRelated `json:"related"`
	Suggestion string        `json:"suggestion,omitempty"`
}

// RenderJSON writes diagnostics as one JSON array.
func RenderJSON(w io.Writer, ds []*Diagnostic) error {
	out := make([]jsonDiag, 0, len(ds))
	for _, d := range ds {
		j := jsonDiag{
			Severity: d.Severity.String(), Code: d.Code, Message: d.Message,
			File: d.Start.Filename, Line: d.Start.Line, Column: d.Start.Column,
			EndLine: d.End.Line, EndColumn: d.End.Column,
			Related: []jsonRelated{}, Suggestion: d.Suggestion,
		}
		for _, r := range d.Related {
			j.Related = append(j.Related, jsonRelated{Message: r.Message, File: r.Start.Filename,
				Line: r.Start.Line, Column: r.Start.Column, EndLine: r.End.Line, EndColumn: r.End.Column})
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
