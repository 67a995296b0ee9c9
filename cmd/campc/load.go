package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/campc/campc/lang"
)

// loadProject reads the .camp files named by paths (files, or directories
// searched recursively) as one project. A path that does not exist, a file
// that is not .camp, or a project with no .camp file at all is an error.
func loadProject(paths []string) ([]lang.Source, map[string]string, error) {
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
			return nil, nil, fmt.Errorf("%s: no such file or directory", p)
		}
		if !info.IsDir() {
			if filepath.Ext(p) != ".camp" {
				return nil, nil, fmt.Errorf("%s: not a .camp file", p)
			}
			add(p)
			continue
		}
		n := len(files)
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("%s: %v", path, unwrapPathErr(err))
			}
			if !d.IsDir() && filepath.Ext(path) == ".camp" {
				add(path)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		if len(files) == n {
			return nil, nil, fmt.Errorf("%s: no .camp files found", p)
		}
	}
	slices.Sort(files)
	var srcs []lang.Source
	texts := map[string]string{}
	for _, f := range files {
		b, err := readCamp(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", f, unwrapPathErr(err))
		}
		name := filepath.ToSlash(f)
		srcs = append(srcs, lang.Source{Name: name, Text: string(b)})
		texts[name] = string(b)
	}
	return srcs, texts, nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// readCamp reads a .camp file, but no more of it than lang.Parse needs to
// see that it is over lang.MaxFileSize: a huge file costs no memory before
// it is refused.
func readCamp(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, lang.MaxFileSize+1))
}
