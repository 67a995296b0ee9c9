package lang

import (
	"bytes"
	"strings"
	"testing"
)

const bom = "\uFEFF"

// A leading UTF-8 byte-order mark is accepted; columns on line 1 count
// from after it, and the formatter drops it.
func TestLeadingBOM(t *testing.T) {
	src := bom + "workspace \"W\"\nlist  \"A\"\n"
	f, ds := Parse("bom.camp", src)
	if len(ds) > 0 {
		t.Fatalf("a file with a leading BOM: %v", ds[0])
	}
	if f.Workspace.Value() != "W" {
		t.Errorf("workspace %q", f.Workspace.Value())
	}
	out, err := Format("bom.camp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := "workspace \"W\"\nlist \"A\"\n"; string(out) != want {
		t.Errorf("Format = %q, want %q (without the BOM)", out, want)
	}

	_, ds = Parse("bom.camp", bom+"workspace \"W\" }\n")
	if len(ds) != 1 || ds[0].Start.Line != 1 || ds[0].Start.Column != 15 {
		t.Fatalf("want one error at 1:15, got %v", ds)
	}
	var b bytes.Buffer
	RenderText(&b, ds, map[string]string{"bom.camp": bom + "workspace \"W\" }\n"})
	lines := strings.Split(b.String(), "\n")
	if len(lines) < 3 || lines[1] != `    workspace "W" }` || lines[2] != "                  ^" {
		t.Errorf("excerpt:\n%s", b.String())
	}
}

// A byte-order mark anywhere else is an error that names it.
func TestInnerBOM(t *testing.T) {
	_, ds := Parse("bom.camp", "workspace \"W\"\n"+bom+"list \"A\"\n")
	if len(ds) != 1 || ds[0].Start.Line != 2 || ds[0].Start.Column != 1 || !strings.Contains(ds[0].Message, "byte-order mark") {
		t.Fatalf("want one error at 2:1 naming the byte-order mark, got %v", ds)
	}
}
