package lang

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// corpus is every .camp file of the repository, those inside txtar
// archives (the format and run tests) included, by name.
func corpus(t testing.TB) map[string]string {
	out := map[string]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") && path != ".." {
			return filepath.SkipDir
		}
		switch {
		case strings.HasSuffix(path, ".camp"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[path] = string(b)
		case strings.HasSuffix(path, ".txtar"):
			ar, err := txtar.ParseFile(path)
			if err != nil {
				return err
			}
			for _, f := range ar.Files {
				if strings.HasSuffix(f.Name, ".camp") || strings.Contains(path, "testdata/format") {
					out[path+"/"+f.Name] = string(f.Data)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameAsReference parses src with the dispatching parser and with the
// reference grammar and reports how they differ: one failing and not the
// other, or different trees.
func sameAsReference(t *testing.T, name, src string) {
	t.Helper()
	f, err := parser.ParseString(name, src)
	rf, rerr := refParser.ParseString(name, src)
	switch {
	case err == nil && rerr != nil:
		t.Errorf("%s: the dispatching parser accepts what the reference refuses: %v", name, rerr)
	case err != nil && rerr == nil:
		t.Errorf("%s: the dispatching parser refuses what the reference accepts: %v", name, err)
	case err == nil && !reflect.DeepEqual(f, fromRef(rf)):
		t.Errorf("%s: the dispatching parser and the reference build different trees", name)
	}
}

// TestDispatchMatchesReference: on every file of the repository, the
// dispatching parser accepts what the reference grammar accepts and builds
// the same tree.
func TestDispatchMatchesReference(t *testing.T) {
	files := corpus(t)
	if len(files) < 100 {
		t.Fatalf("only %d files in the corpus", len(files))
	}
	parsed := 0
	for name, src := range files {
		sameAsReference(t, name, src)
		if _, err := refParser.ParseString(name, src); err == nil {
			parsed++
		}
	}
	t.Logf("%d files, %d parse", len(files), parsed)
	if parsed < len(files)/2 {
		t.Errorf("only %d of %d files parse", parsed, len(files))
	}
}

// FuzzDispatch looks for a file on which the dispatching parser and the
// reference grammar disagree.
func FuzzDispatch(f *testing.F) {
	addSeeds(f)
	for _, src := range corpus(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if checkText("f.camp", src) != nil {
			return // refused before either parser runs
		}
		sameAsReference(t, "f.camp", src)
	})
}
