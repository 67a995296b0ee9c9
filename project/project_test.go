package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func names(t *testing.T, p *Project, root string) []string {
	var out []string
	for _, s := range p.Sources {
		rel, err := filepath.Rel(root, filepath.FromSlash(s.Name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

func TestLoadHonoursCampignore(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		".campignore":            "# drafts and generated files\ndrafts/\n*.gen.camp\n/top-only.camp\n!keep.gen.camp\n",
		"a.camp":                 "workspace \"A\"\n",
		"top-only.camp":          "x",
		"keep.gen.camp":          "workspace \"K\"\n",
		"skip.gen.camp":          "x",
		"drafts/d.camp":          "x",
		"sub/top-only.camp":      "workspace \"S\"\n",
		"sub/x.gen.camp":         "x",
		"sub/drafts/deep.camp":   "x",
		"sub/.campignore":        "old/**\n[ab].camp\n",
		"sub/a.camp":             "x",
		"sub/c.camp":             "workspace \"C\"\n",
		"sub/old/very/deep.camp": "x",
		"other/a.camp":           "workspace \"O\"\n",
		"other/notes.txt":        "not camp",
		"sub/nested/drafts":      "a file named like the ignored directory",
		"sub/nested/ok.camp":     "workspace \"N\"\n",
		"sub/nested/.campignore": "\\#hash.camp\nspace.camp\\ \n",
		"sub/nested/#hash.camp":  "x",
		"sub/nested/space.camp ": "x",
		"sub/nested/space.camp":  "workspace \"Sp\"\n",
	})
	p, err := Load([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.camp", "keep.gen.camp", "other/a.camp", "sub/c.camp", "sub/nested/ok.camp", "sub/nested/space.camp", "sub/top-only.camp"}
	if diff := cmp.Diff(want, names(t, p, root)); diff != "" {
		t.Errorf("loaded files (-want +got):\n%s", diff)
	}
	for _, s := range p.Sources {
		if p.Texts[s.Name] != s.Text {
			t.Errorf("%s: Texts disagrees with Sources", s.Name)
		}
	}
}

func TestExplicitFileIsLoadedEvenIfIgnored(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{".campignore": "*.camp\n", "a.camp": "workspace \"A\"\n"})
	p, err := Load([]string{filepath.Join(root, "a.camp")})
	if err != nil || len(p.Sources) != 1 {
		t.Fatalf("got %v, %v", p, err)
	}
	if _, err := Load([]string{root}); err == nil || !strings.Contains(err.Error(), "no .camp files found") {
		t.Fatalf("a directory whose files are all ignored: got %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"a.txt": "x", ".campignore": "[abc\n", "b.camp": "x"})
	for _, c := range []struct {
		paths []string
		want  string
	}{
		{[]string{filepath.Join(root, "nope")}, "no such file or directory"},
		{[]string{filepath.Join(root, "a.txt")}, "not a .camp file"},
		{[]string{root}, ".campignore:1: unclosed [ in pattern"},
	} {
		_, err := Load(c.paths)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%v): got %v, want %q", c.paths, err, c.want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		dir, want     bool
	}{
		{"*.camp", "a.camp", false, true},
		{"*.camp", "x/y/a.camp", false, true},
		{"/a.camp", "x/a.camp", false, false},
		{"x/*.camp", "x/a.camp", false, true},
		{"x/*.camp", "x/y/a.camp", false, false},
		{"x/**/a.camp", "x/a.camp", false, true},
		{"x/**/a.camp", "x/p/q/a.camp", false, true},
		{"**/a.camp", "p/a.camp", false, true},
		{"x/**", "x/p/q.camp", false, true},
		{"build/", "build", false, false},
		{"build/", "build", true, true},
		{"?.camp", "ab.camp", false, false},
		{"[!a].camp", "b.camp", false, true},
		{"[!a].camp", "a.camp", false, false},
	} {
		rules, err := parseIgnore("t", "", c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := ignored(rules, c.path, c.dir); got != c.want {
			t.Errorf("%q on %q (dir %v): got %v, want %v", c.pattern, c.path, c.dir, got, c.want)
		}
	}
}
