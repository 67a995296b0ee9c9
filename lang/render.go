package lang

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
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
		if _, err := fmt.Fprintf(w, "%s: %s[%s]: %s\n", d.Start, d.Severity, d.Code, Escape(d.Message)); err != nil {
			return err
		}
		if line, ok := sourceLine(sources[d.Start.Filename], d.Start.Line); ok {
			text, mark := excerpt(line, d.Start, d.End)
			fmt.Fprintf(w, "    %s\n    %s\n", text, mark)
		}
		for _, r := range d.Related {
			fmt.Fprintf(w, "    %s: note: %s\n", r.Start, Escape(r.Message))
		}
	}
	return nil
}

// maxExcerpt is the most of a source line a diagnostic shows, in
// characters as printed; a longer line is cut around the caret.
const maxExcerpt = 160

// excerpt is the source line as a diagnostic shows it, with the caret line
// under it. Tabs become spaces and the line is escaped (an ESC in a
// comment must not reach the terminal); the caret counts the escapes, so
// it stays under the span.
func excerpt(line string, start, end Position) (string, string) {
	rs := []rune(line)
	col := min(max(start.Column, 1), len(rs)+1)
	n := 1
	if end.Line == start.Line && end.Column > col {
		n = end.Column - col
	} else if end.Line > start.Line && len(rs) >= col {
		n = len(rs) - col + 1
	}
	n = min(n, max(len(rs)-col+1, 1))
	show := func(rs []rune) []rune { return []rune(Escape(expandTabs(string(rs)))) }
	before := show(rs[:col-1])
	span := show(rs[col-1 : min(col-1+n, len(rs))])
	after := show(rs[min(col-1+n, len(rs)):])
	text := append(append(append([]rune{}, before...), span...), after...)
	at, width := len(before), max(len(span), 1)
	// Cut a long line so that the caret and the start of the span show.
	from := 0
	if at > maxExcerpt/2 && len(text) > maxExcerpt {
		from = min(at-maxExcerpt/4, len(text)-maxExcerpt)
	}
	to := min(len(text), from+maxExcerpt)
	out := string(text[from:to])
	at -= from
	if from > 0 {
		out = "…" + out
		at++
	}
	if to < len(text) {
		out += "…"
	}
	width = min(width, max(utf8.RuneCountInString(out)-at, 1))
	return out, strings.Repeat(" ", at) + "^" + strings.Repeat("~", width-1)
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
