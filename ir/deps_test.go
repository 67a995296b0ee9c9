package ir_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestClosed checks that the IR and the engine build without the front
// end: neither depends, directly or through another package, on the
// parser (lang, participle) or the checker (compiler).
func TestClosed(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	forbidden := []string{
		"github.com/campc/campc/lang",
		"github.com/campc/campc/compiler",
		"github.com/alecthomas/participle",
	}
	for _, pkg := range []string{"github.com/campc/campc/ir", "github.com/campc/campc/vm"} {
		out, err := exec.Command(gobin, "list", "-deps", "-json=ImportPath,Dir,Module", pkg).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
			}
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(out)))
		n := 0
		for {
			var p struct {
				ImportPath, Dir string
				Module          *struct{ Main bool }
			}
			if err := dec.Decode(&p); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("go list -deps %s: %v", pkg, err)
			}
			n++
			if p.Module != nil && p.Module.Main {
				// The test cache does not see what go list reads: reading
				// the module's own packages here makes an edit to any of
				// them run the test again.
				entries, err := os.ReadDir(p.Dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					if _, err := os.ReadFile(filepath.Join(p.Dir, e.Name())); err != nil && !e.IsDir() {
						t.Fatal(err)
					}
				}
			}
			for _, f := range forbidden {
				if p.ImportPath == f || strings.HasPrefix(p.ImportPath, f+"/") {
					t.Errorf("%s depends on %s", pkg, p.ImportPath)
				}
			}
		}
		if n == 0 {
			t.Errorf("go list -deps %s listed nothing", pkg)
		}
	}
}
