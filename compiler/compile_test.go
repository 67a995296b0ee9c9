package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/campc/campc/lang"
)

// loadDir reads every .camp file under dir as one project.
func loadDir(t testing.TB, dir string) []lang.Source {
	t.Helper()
	var srcs []lang.Source
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".camp" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		srcs = append(srcs, lang.Source{Name: filepath.ToSlash(p), Text: string(b)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

// TestExamplesCheckClean keeps every bundled example free of diagnostics.
func TestExamplesCheckClean(t *testing.T) {
	dirs, err := os.ReadDir("../examples")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		n++
		t.Run(d.Name(), func(t *testing.T) {
			res := Compile(loadDir(t, filepath.Join("../examples", d.Name())), Options{MaxErrors: -1})
			for _, dg := range res.Diagnostics {
				t.Errorf("%s", dg)
			}
			if res.Program == nil || len(res.Program.Campaigns) == 0 {
				t.Errorf("no campaigns compiled")
			}
		})
	}
	if n < 5 {
		t.Errorf("want the canonical example and at least four projects, found %d", n)
	}
}
