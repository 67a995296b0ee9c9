package lsp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/project"
)

// Analyzer keeps one project's analysis up to date as its files change.
// A project is a folder, loaded as campc check loads it (its .camp files,
// recursively, less what .campignore excludes), with the text of the
// documents open in the editor in place of what is on disk.
//
// Each file's parse is cached by its name and text, so after an edit only
// the edited file is parsed again; the checks then run over the whole
// project, as a change in one file can move diagnostics into another.
//
// An Analyzer is not safe for concurrent use; the server serializes.
type Analyzer struct {
	Root string // absolute folder
	// Zones is passed to the compiler (compiler.Options.Zones).
	Zones func(string) (*time.Location, error)

	overlays map[string]string // open documents: file -> text
	parses   map[string]*parse // file -> its latest parse
	good     map[string]*parse // file -> its latest parse that succeeded
	disk     map[string]diskText
	last     *Analysis
}

type parse struct {
	text  string
	file  *lang.File
	diags []*lang.Diagnostic
}

type diskText struct {
	mod  time.Time
	size int64
	text string
}

// NewAnalyzer returns an analyzer for the project in folder root.
func NewAnalyzer(root string, zones func(string) (*time.Location, error)) *Analyzer {
	return &Analyzer{Root: filepath.Clean(root), Zones: zones, overlays: map[string]string{}, parses: map[string]*parse{}, good: map[string]*parse{}, disk: map[string]diskText{}}
}

// SetOverlay puts an open document's text in place of the file's.
func (a *Analyzer) SetOverlay(file, text string) { a.overlays[file] = text; a.last = nil }

// DropOverlay goes back to what is on disk for file.
func (a *Analyzer) DropOverlay(file string) { delete(a.overlays, file); a.last = nil }

// Invalidate forgets the last analysis, so the next Analyze reads the disk
// again (a file was saved, created or deleted).
func (a *Analyzer) Invalidate() { a.last = nil }

// Contains reports whether file lies in the project's folder.
func (a *Analyzer) Contains(file string) bool {
	rel, err := filepath.Rel(a.Root, file)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// Analysis is one analysis of the project: its files as read, the checked
// program, the diagnostics by file and the index of names.
type Analysis struct {
	Root   string
	Result *compiler.Result
	// Texts holds, per file, the text the program's positions refer to:
	// the file's current text, or, while it does not parse, the text of
	// its last parse that did (see Stale).
	Texts map[string]string
	// Current holds each file's current text.
	Current map[string]string
	ASTs    map[string]*lang.File
	// Stale lists the files that do not parse now and are analyzed as
	// they last parsed; their only diagnostics are their syntax errors.
	Stale map[string]bool
	// Diags holds the diagnostics to publish, by file, every project file
	// included (with none for a clean file).
	Diags map[string][]*lang.Diagnostic
	// LoadErr is why the folder could not be listed, if so.
	LoadErr error

	index     *index
	curLines  map[string]*lines
	lineCache map[string]*lines
}

// Analyze returns the project's analysis, computing it if anything
// changed since the last.
func (a *Analyzer) Analyze() *Analysis {
	if a.last != nil {
		return a.last
	}
	an := &Analysis{Root: a.Root, Texts: map[string]string{}, Current: map[string]string{}, ASTs: map[string]*lang.File{}, Stale: map[string]bool{}, Diags: map[string][]*lang.Diagnostic{}}
	files, err := project.Files([]string{a.Root})
	if err != nil {
		an.LoadErr = err
		files = nil
	}
	onDisk := map[string]bool{}
	var names []string
	for _, f := range files {
		f, _ = filepath.Abs(f)
		onDisk[f] = true
		names = append(names, f)
	}
	for f := range a.overlays {
		if !onDisk[f] && a.Contains(f) && filepath.Ext(f) == ".camp" {
			if _, err := os.Stat(f); err != nil { // a new file, not yet saved (an ignored one stays out)
				names = append(names, f)
			}
		}
	}
	slices.Sort(names)
	srcs := make([]lang.Source, 0, len(names))
	for _, f := range names {
		text, ok := a.overlays[f]
		if !ok {
			text, ok = a.readDisk(f)
			if !ok {
				continue
			}
		}
		an.Current[f] = text
		srcs = append(srcs, lang.Source{Name: f, Text: text})
	}
	for f := range a.parses {
		if _, ok := an.Current[f]; !ok {
			delete(a.parses, f)
			delete(a.good, f)
		}
	}
	parseOne := func(s lang.Source) (*lang.File, []*lang.Diagnostic) {
		p := a.parses[s.Name]
		if p == nil || p.text != s.Text {
			p = &parse{text: s.Text}
			p.file, p.diags = lang.Parse(s.Name, s.Text)
			a.parses[s.Name] = p
			if p.file != nil {
				a.good[s.Name] = p
			}
		}
		an.Texts[s.Name] = s.Text
		if p.file == nil {
			if g := a.good[s.Name]; g != nil {
				// Analyzed as it last parsed: the other files keep their
				// view of it, and hover and completion keep working.
				an.Stale[s.Name] = true
				an.Texts[s.Name] = g.text
				an.ASTs[s.Name] = g.file
				return g.file, p.diags
			}
		}
		an.ASTs[s.Name] = p.file
		return p.file, p.diags
	}
	an.Result = compiler.Compile(srcs, compiler.Options{MaxErrors: -1, Zones: a.Zones, References: true, Parse: parseOne, ReadFile: project.ReadFile})
	for _, f := range names {
		if _, ok := an.Current[f]; ok {
			an.Diags[f] = nil
		}
	}
	for _, d := range an.Result.Diagnostics {
		f := d.Start.Filename
		if an.Stale[f] && d.Code != lang.CodeSyntax && d.Code != lang.CodeLimit {
			continue // positions of the old text
		}
		an.Diags[f] = append(an.Diags[f], d)
	}
	a.last = an
	return an
}

// readDisk reads a project file, again only when its size or time changed.
func (a *Analyzer) readDisk(f string) (string, bool) {
	st, err := os.Stat(f)
	if err != nil {
		delete(a.disk, f)
		return "", false
	}
	if d, ok := a.disk[f]; ok && d.mod.Equal(st.ModTime()) && d.size == st.Size() {
		return d.text, true
	}
	b, err := project.ReadCamp(f)
	if err != nil {
		return "", false
	}
	a.disk[f] = diskText{mod: st.ModTime(), size: st.Size(), text: string(b)}
	return string(b), true
}

// textFor is the text that positions in file refer to.
func (an *Analysis) textFor(file string) string { return an.Texts[file] }

// diagText is the text a diagnostic of file is placed in: the current one
// (a stale file's only diagnostics are its syntax errors, of the current
// text).
func (an *Analysis) diagText(file string) string {
	if t, ok := an.Current[file]; ok {
		return t
	}
	return an.Texts[file]
}

// program is the checked program (never nil after Analyze).
func (an *Analysis) program() *ir.Program {
	if an.Result == nil || an.Result.Program == nil {
		return &ir.Program{}
	}
	return an.Result.Program
}
