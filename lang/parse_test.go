package lang

import (
	"os"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	src, err := os.ReadFile("../examples/acme/acme.camp")
	if err != nil {
		t.Skip(err)
	}
	f, ds := Parse("acme.camp", string(src))
	if len(ds) > 0 {
		t.Fatal(ds[0])
	}
	if f.Workspace.Value() != "Acme" {
		t.Fatalf("workspace %q", f.Workspace.Value())
	}
}
