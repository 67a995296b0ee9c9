// Package project loads a campc project from disk: the .camp files that a
// list of files and directories names, in a stable order, skipping what
// .campignore files exclude. It is the one loader that every command (and
// any host that embeds campc) uses, so they all see the same project.
package project

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/campc/campc/lang"
)

// Project is the source of a project as loaded.
type Project struct {
	Sources []lang.Source     // sorted by name
	Texts   map[string]string // file name -> text, for diagnostics
}

// Load reads the .camp files named by paths (files, or directories
// searched recursively; none means ".") as one project. A path that does
// not exist, a named file that is not .camp, or a directory with no .camp
// file is an error. In directories, .campignore files (gitignore syntax)
// exclude files and directories below them; a file named explicitly is
// always loaded.
func Load(paths []string) (*Project, error) {
	files, err := files(paths, true)
	if err != nil {
		return nil, err
	}
	pr := &Project{Texts: map[string]string{}}
	for _, f := range files {
		b, err := ReadCamp(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f, unwrapPathErr(err))
		}
		name := filepath.ToSlash(f)
		pr.Sources = append(pr.Sources, lang.Source{Name: name, Text: string(b)})
		pr.Texts[name] = string(b)
	}
	return pr, nil
}

// Files lists, sorted, the .camp files that paths name, as Load finds
// them, without reading them; a directory without any is no error here.
func Files(paths []string) ([]string, error) { return files(paths, false) }

func files(paths []string, needSome bool) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: no such file or directory", p)
		}
		if !info.IsDir() {
			if filepath.Ext(p) != ".camp" {
				return nil, fmt.Errorf("%s: not a .camp file", p)
			}
			add(p)
			continue
		}
		n := len(files)
		if err := walk(p, add); err != nil {
			return nil, err
		}
		if needSome && len(files) == n {
			return nil, fmt.Errorf("%s: no .camp files found", p)
		}
	}
	slices.Sort(files)
	return files, nil
}

// walk adds the .camp files under root that no .campignore excludes.
func walk(root string, add func(string)) error {
	rules := map[string][]ignoreRule{} // directory (relative, slash) -> rules in force
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %v", p, unwrapPathErr(err))
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		parent := ""
		if i := strings.LastIndexByte(rel, '/'); i >= 0 {
			parent = rel[:i]
		}
		if rel == "." {
			rel, parent = "", ""
		}
		inherited := rules[parent]
		if rel != "" && ignored(inherited, rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			own := slices.Clip(inherited)
			b, err := os.ReadFile(filepath.Join(p, IgnoreFile))
			switch {
			case err == nil:
				more, perr := parseIgnore(filepath.ToSlash(filepath.Join(p, IgnoreFile)), rel, string(b))
				if perr != nil {
					return perr
				}
				own = append(own, more...)
			case !os.IsNotExist(err):
				return fmt.Errorf("%s: %v", filepath.Join(p, IgnoreFile), unwrapPathErr(err))
			}
			rules[rel] = own
			return nil
		}
		if filepath.Ext(p) == ".camp" {
			add(p)
		}
		return nil
	})
}

// ReadCamp reads a .camp file, but no more of it than lang.Parse needs to
// refuse it as too large (lang.MaxFileSize), so a huge file cannot exhaust
// memory before the limit diagnostic.
func ReadCamp(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, lang.MaxFileSize+1))
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// MaxBodyFile is the largest file a declaration may name (an email body):
// a body is sent to every person, so a huge one is a mistake.
const MaxBodyFile = 1 << 20

// ReadFile reads a file that a declaration names, for the compiler
// (compiler.Options.ReadFile); name is in slash form. It refuses a
// directory, a file over MaxBodyFile and text that is not UTF-8.
func ReadFile(name string) (string, error) {
	f, err := os.Open(filepath.FromSlash(name))
	if err != nil {
		return "", unwrapPathErr(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "", fmt.Errorf("is a directory")
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxBodyFile+1))
	if err != nil {
		return "", unwrapPathErr(err)
	}
	if len(b) > MaxBodyFile {
		return "", fmt.Errorf("larger than %d bytes", MaxBodyFile)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("not UTF-8 text")
	}
	return strings.TrimPrefix(string(b), lang.BOM), nil
}
