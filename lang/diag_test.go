package lang

import (
	"errors"
	"strings"
	"testing"
)

func TestDiagnosticsList(t *testing.T) {
	at := func(file string, line, col int) Position { return Position{Filename: file, Line: line, Column: col} }
	warn := Warnf("qualify_default", at("b.camp", 1, 1), at("b.camp", 1, 2), "a warning")
	e2 := Errorf("unknown_name", at("b.camp", 3, 4), at("b.camp", 3, 9), "second")
	e1 := Errorf("unknown_name", at("a.camp", 9, 1), at("a.camp", 9, 2), "first")
	dup := Errorf("unknown_name", at("a.camp", 9, 1), at("a.camp", 9, 2), "first")
	ds := Diagnostics{warn, e2, e1, dup}

	if !ds.HasErrors() {
		t.Fatal("HasErrors: false with two errors")
	}
	if (Diagnostics{warn}).HasErrors() {
		t.Fatal("HasErrors: true with only a warning")
	}
	if err := (Diagnostics{warn}).Err(); err != nil {
		t.Fatalf("Err with only a warning = %v, want nil", err)
	}

	sorted, cut := ds.Sort(0)
	if cut != 0 || len(sorted) != 3 || sorted[0] != e1 && sorted[0] != dup || sorted[1] != warn || sorted[2] != e2 {
		t.Fatalf("Sort(0) = %v (cut %d), want first, the warning, second, with the repeat dropped", sorted, cut)
	}
	capped, cut := sorted.Sort(2)
	if cut != 1 || len(capped) != 2 {
		t.Fatalf("Sort(2) kept %d, cut %d; want 2 and 1", len(capped), cut)
	}

	err := sorted.Err()
	want := "a.camp:9:1: error[unknown_name]: first\nb.camp:3:4: error[unknown_name]: second"
	if err == nil || err.Error() != want {
		t.Fatalf("Err() = %v, want %q", err, want)
	}
	var d *Diagnostic
	if !errors.As(err, &d) || d.Message != "first" {
		t.Fatalf("errors.As did not find the first diagnostic in %v", err)
	}
	if strings.Contains(err.Error(), "warning") {
		t.Fatal("Err includes a warning")
	}
}
