package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/campc/campc/lang"
)

// FuzzCheck compiles arbitrary text: it must never panic, and every
// diagnostic (and related position) must point inside the file (or the
// body file, which the fuzzer gives the same text).
func FuzzCheck(f *testing.F) {
	for _, pat := range []string{"../examples/*/*.camp", "testdata/diag/*.camp"} {
		files, _ := filepath.Glob(pat)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		// A body file (text file "…") reads as the same text, so that its
		// diagnostics, too, must point inside src.
		read := func(string) (string, error) { return src, nil }
		res := Compile([]lang.Source{{Name: "f.camp", Text: src}}, Options{MaxErrors: -1, ReadFile: read})
		for _, d := range res.Diagnostics {
			if err := d.CheckBounds(src); err != nil {
				t.Fatal(err)
			}
		}
	})
}
