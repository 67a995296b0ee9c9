package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/campc/campc/lang"
	"github.com/campc/campc/project"
)

// stdinName names standard input in fmt's listings, diffs and diagnostics.
const stdinName = "<standard input>"

type fmtOptions struct {
	list, diff, write, check bool
}

func cmdFmt(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("fmt", "fmt [-l] [-d] [-w] [--check] [PATH ...]", stdout, stderr)
	var o fmtOptions
	fs.BoolVar(&o.list, "l", false, "list the files whose formatting differs from campc fmt's")
	fs.BoolVar(&o.diff, "d", false, "print the changes as unified diffs instead of the formatted text")
	fs.BoolVar(&o.write, "w", false, "write the formatted text back to the files")
	fs.BoolVar(&o.check, "check", false, "list the files that are not formatted and exit 1 if there are any")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(paths) == 0 {
		if o.write {
			return badUsage(fs, "cannot use -w with standard input")
		}
		src, err := io.ReadAll(io.LimitReader(stdin, lang.MaxFileSize+1))
		if err != nil {
			fmt.Fprintf(stderr, "campc fmt: reading standard input: %v\n", err)
			return exitUsage
		}
		return fmtOne(stdinName, src, o, stdout, stderr)
	}
	files, err := fmtFiles(paths)
	if err != nil {
		fmt.Fprintf(stderr, "campc: %s\n", lang.Escape(err.Error()))
		return exitUsage
	}
	code := exitOK
	for _, f := range files {
		src, err := project.ReadCamp(f)
		if err != nil {
			fmt.Fprintf(stderr, "campc: %s: %v\n", lang.Escape(f), pathErr(err))
			code = exitUsage
			continue
		}
		code = max(code, fmtOne(f, src, o, stdout, stderr))
	}
	return code
}

// fmtFiles lists the .camp files that paths name, as every command
// finds them (project.Files: .campignore honoured).
func fmtFiles(paths []string) ([]string, error) { return project.Files(paths) }

// fmtOne formats one file's text and does what the flags say with it.
func fmtOne(name string, src []byte, o fmtOptions, stdout, stderr io.Writer) int {
	shown := filepath.ToSlash(name)
	out, err := lang.Format(shown, src)
	if err != nil {
		var d *lang.Diagnostic
		if errors.As(err, &d) {
			lang.RenderText(stderr, []*lang.Diagnostic{d}, map[string]string{shown: string(src)})
			return exitError
		}
		fmt.Fprintf(stderr, "campc: %s: %v\n", lang.Escape(shown), err)
		return exitError
	}
	changed := !bytes.Equal(src, out)
	if (o.list || o.check) && changed {
		fmt.Fprintln(stdout, lang.Escape(shown))
	}
	if o.diff && changed {
		stdout.Write(diff.Diff(shown+".orig", src, shown, out))
	}
	if o.write && changed {
		if err := writeAtomic(name, out); err != nil {
			fmt.Fprintf(stderr, "campc: %v\n", err)
			return exitUsage
		}
	}
	if !o.list && !o.diff && !o.write && !o.check {
		stdout.Write(out)
	}
	if o.check && changed {
		return exitError
	}
	return exitOK
}

// writeAtomic replaces the file's contents: a temporary file beside it,
// with the same permissions, renamed over it, so that a reader sees the old
// text or the new, never a part. A symbolic link is followed.
func writeAtomic(name string, data []byte) error {
	if target, err := filepath.EvalSymlinks(name); err == nil {
		name = target
	}
	info, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("%s: %v", name, pathErr(err))
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".campc-fmt-*")
	if err != nil {
		return fmt.Errorf("%s: %v", name, pathErr(err))
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %v", name, pathErr(err))
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %v", name, pathErr(err))
	}
	return nil
}

// pathErr drops the operation and path an *fs.PathError repeats, since the
// message names the file already.
func pathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
