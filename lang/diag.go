package lang

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/campc/campc/ir"
)

// Severity of a diagnostic.
type Severity int

// Severities, in increasing order of gravity.
const (
	SeverityWarning Severity = iota
	SeverityError
)

func (s Severity) String() string {
	if s == SeverityError {
		return "error"
	}
	return "warning"
}

// Code is a stable diagnostic code. Codes are coarse and append-only: a
// code, once shipped, keeps its meaning. spec.md documents each.
type Code string

// The contract's codes, then campc's own additions.
const (
	CodeSyntax             Code = "syntax"
	CodeUndefined          Code = "undefined"
	CodeDuplicate          Code = "duplicate"
	CodeExecuteDepth       Code = "execute_depth"
	CodeExecuteCycle       Code = "execute_cycle"
	CodeCrossWorkspace     Code = "cross_workspace"
	CodeNotExecutable      Code = "not_executable"
	CodeNotRequestable     Code = "not_requestable"
	CodeExecutableStep     Code = "executable_step"
	CodeExecutableTrigger  Code = "executable_trigger"
	CodeExecutableSchedule Code = "executable_schedule"
	CodeInvalidSmartList   Code = "invalid_smart_list"
	CodeCloneTrigger       Code = "clone_trigger"
	CodeBadToken           Code = "bad_token"
	CodeTypeMismatch       Code = "type_mismatch"
	CodeQualifyDefault     Code = "qualify_default"
	CodeEmptySmartList     Code = "empty_smart_list"

	// Additions. kind_mismatch and read_only_field are errors; the rest
	// are warnings about things people get wrong (semantics §5).
	CodeKindMismatch      Code = "kind_mismatch"
	CodeReadOnlyField     Code = "read_only_field"
	CodeUnreachableChoice Code = "unreachable_choice"
	CodeNeverRuns         Code = "never_runs"
	CodeTokenContext      Code = "token_context"
	CodeAmbiguousWait     Code = "ambiguous_wait"
	CodeTriggerLoop       Code = "trigger_loop"

	// CodeInvalidWebhook: a webhook clause campc cannot send or read: an
	// unknown method or payload encoding, a URL whose host is not written
	// out, a header campc sets itself, a JSON payload that is not JSON, a
	// malformed response path.
	CodeInvalidWebhook Code = "invalid_webhook"

	// CodeLimit: a file past one of the limits of spec §2.11 (size,
	// declarations, repetitions), refused before it can exhaust memory.
	CodeLimit Code = "limit"
	// Program templates (issue 11): a program cloned from itself, directly
	// or through a chain of clones.
	CodeCloneCycle Code = "clone_cycle"
	// CodePeople: a problem in a people file (campc import, --people),
	// at its line and column; not a .camp diagnostic.
	CodePeople Code = "people"
	// CodeEvents: a problem in an events file (campc run --events).
	CodeEvents Code = "events"
)

// Position is a point in a source file (see ir.Position). The IR owns the
// type so that a checked program carries positions without importing the
// parser; lang's positions are the same type, so none is converted.
type Position = ir.Position

// Pos converts a participle position.
func Pos(p lexer.Position) Position {
	return Position{Filename: p.Filename, Offset: p.Offset, Line: p.Line, Column: p.Column}
}

// Related points at another place that explains a diagnostic: a first
// declaration, or one hop of an Execute Campaign chain.
type Related struct {
	Message string
	Start   Position
	End     Position
}

// Diagnostic is the single kind of report: every stage uses it.
type Diagnostic struct {
	Severity   Severity
	Code       Code
	Message    string
	Start      Position
	End        Position
	Related    []Related
	Suggestion string // a replacement name, when there is a likely one
}

func newDiag(sev Severity, code Code, start, end Position, msg string) *Diagnostic {
	return &Diagnostic{Severity: sev, Code: code, Message: msg, Start: start, End: end}
}

// Errorf makes an error diagnostic.
func Errorf(code Code, start, end Position, format string, args ...any) *Diagnostic {
	return newDiag(SeverityError, code, start, end, fmt.Sprintf(format, args...))
}

// Warnf makes a warning diagnostic.
func Warnf(code Code, start, end Position, format string, args ...any) *Diagnostic {
	return newDiag(SeverityWarning, code, start, end, fmt.Sprintf(format, args...))
}

func (d *Diagnostic) Error() string {
	return fmt.Sprintf("%s: %s[%s]: %s", d.Start, d.Severity, d.Code, Escape(d.Message))
}

// Diagnostics is a list of diagnostics, as every stage returns them.
type Diagnostics []*Diagnostic

// Sort orders the diagnostics by file, position, code and message, drops
// exact repeats, and keeps at most max of them (max <= 0 keeps all). It
// reports how many were cut. It reorders ds in place.
func (ds Diagnostics) Sort(max int) (Diagnostics, int) {
	slices.SortStableFunc(ds, func(a, b *Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Start.Filename, b.Start.Filename),
			cmp.Compare(a.Start.Line, b.Start.Line),
			cmp.Compare(a.Start.Column, b.Start.Column),
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Message, b.Message),
		)
	})
	out := ds[:0]
	for i, d := range ds {
		if i > 0 {
			p := ds[i-1]
			if p.Start == d.Start && p.Code == d.Code && p.Message == d.Message {
				continue
			}
		}
		out = append(out, d)
	}
	cut := 0
	if max > 0 && len(out) > max {
		cut = len(out) - max
		out = out[:max]
	}
	return out, cut
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Err is nil when no diagnostic is an error; otherwise an error whose
// message has one line per error diagnostic (warnings are left out), in
// the list's order. errors.As finds each *Diagnostic in it.
func (ds Diagnostics) Err() error {
	var errs []error
	for _, d := range ds {
		if d.Severity == SeverityError {
			errs = append(errs, d)
		}
	}
	return errors.Join(errs...)
}

func runeCount(s string) int { return utf8.RuneCountInString(s) }

// CheckBounds says whether the diagnostic's positions, related ones
// included, lie inside src and each span ends no earlier than it starts.
// Tests and fuzzers use it; a renderer may too, before it prints an excerpt.
func (d *Diagnostic) CheckBounds(src string) error {
	lines := strings.Count(src, "\n") + 1
	spans := [][2]Position{{d.Start, d.End}}
	for _, r := range d.Related {
		if r.Start.Filename == d.Start.Filename {
			spans = append(spans, [2]Position{r.Start, r.End})
		}
	}
	for _, sp := range spans {
		for _, p := range sp {
			if p.Line < 1 || p.Line > lines || p.Column < 1 {
				return fmt.Errorf("%v: position %d:%d is outside the file (%d lines)", d, p.Line, p.Column, lines)
			}
		}
		if sp[1].Line < sp[0].Line || (sp[1].Line == sp[0].Line && sp[1].Column < sp[0].Column) {
			return fmt.Errorf("%v: span ends before it starts", d)
		}
	}
	return nil
}
