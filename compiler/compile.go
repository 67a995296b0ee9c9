package compiler

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// DefaultMaxErrors caps the diagnostics of one run unless Options says so.
const DefaultMaxErrors = 50

// Options tune a compilation.
type Options struct {
	// MaxErrors caps the diagnostics returned; 0 means DefaultMaxErrors and
	// a negative number means no cap.
	MaxErrors int
	// Zones finds a time zone by its IANA name, for waits "until HH:MM
	// ZONE". The compiler does no I/O, so the host passes the database in
	// (campc passes time.LoadLocation, with Go's embedded copy as the
	// fallback). Without it only UTC is known.
	Zones func(name string) (*time.Location, error)
	// References asks for the references table (Result.Refs), for
	// editors; campc check does not need it.
	References bool
	// Parse, when set, parses one source in place of lang.Parse: a host
	// that compiles the same files again and again (campc lsp) passes a
	// cache keyed by the source's name and text. It must return what
	// lang.Parse would; the checker does not modify the AST it returns.
	Parse func(src lang.Source) (*lang.File, []*lang.Diagnostic)
	// ReadFile returns the text of a file that a declaration names (an
	// email's `text file "…"` or `html file "…"`), by its name joined to
	// the directory of the .camp file that names it, in slash form. The
	// compiler does no I/O, so the host reads the file (campc passes
	// project.ReadFile). Without it such a declaration is an error.
	ReadFile func(name string) (string, error)
}

// Result is what Compile returns: the program (nil when the sources did
// not parse) and every diagnostic, sorted.
type Result struct {
	Program     *ir.Program
	Diagnostics lang.Diagnostics
	Omitted     int // diagnostics cut by the cap
	// Refs is the references table (see Ref), in the order the checker met
	// the names; nil unless Options.References is set.
	Refs []Ref

	errors, otherErrors bool
}

// HasErrors reports whether any diagnostic (kept or cut) is an error.
func (r *Result) HasErrors() bool { return r.errors }

// OnlySmartListErrors reports whether every error is invalid_smart_list, so
// a lenient host may run the program: such smart lists qualify nobody.
func (r *Result) OnlySmartListErrors() bool { return r.errors && !r.otherErrors }

// Compile compiles a whole project: every source, loaded as one.
func Compile(sources []lang.Source, opts Options) *Result {
	srcs := slices.Clone(sources)
	slices.SortStableFunc(srcs, func(a, b lang.Source) int { return strings.Compare(a.Name, b.Name) })
	c := &checker{side: newSide(), prog: &ir.Program{}, workspaces: map[string]*ir.Workspace{}, sources: map[string]string{}, zones: opts.Zones, readFile: opts.ReadFile, wantRefs: opts.References}
	var files []*lang.File
	parsed := parseAll(srcs, opts.Parse)
	for i, s := range srcs {
		c.sources[s.Name] = s.Text
		c.diags = append(c.diags, parsed[i].diags...)
		if parsed[i].file != nil {
			files = append(files, parsed[i].file)
		}
	}
	for _, f := range files {
		c.declareFile(f)
	}
	c.expandClones()
	c.finishDeclarations()
	c.resolveAll()
	// The checks read the published analyses; they change none of what
	// Index reads (flows, targets, conditions).
	c.prog.Index()
	for _, pass := range passes {
		pass(c)
	}
	c.dropCloneEchoes()

	res := &Result{Program: c.prog, Refs: c.refs}
	for _, d := range c.diags {
		if d.Severity == lang.SeverityError {
			res.errors = true
			if d.Code != lang.CodeInvalidSmartList {
				res.otherErrors = true
			}
		}
	}
	max := opts.MaxErrors
	if max == 0 {
		max = DefaultMaxErrors
	}
	res.Diagnostics, res.Omitted = lang.Diagnostics(c.diags).Sort(max)
	return res
}

// passes are the checks, each in a file of its own, run after resolution.
var passes = []func(*checker){
	checkExecuteGraph,
	checkWorkspaces,
	checkRequests,
	checkSmartLists,
	checkExecutables,
	checkKinds,
	checkTokens,
	checkTypes,
	checkClones,
	checkTriggerLoops,
	checkStyle,
}

// checker holds the state of one compilation.
type checker struct {
	side
	prog       *ir.Program
	workspaces map[string]*ir.Workspace
	diags      []*lang.Diagnostic
	echoes     map[*lang.Diagnostic]diagKey // clone diagnostic -> key of the original
	originals  map[diagKey]bool             // keys of diagnostics reported outside clones
	folders    map[folderKey]*ir.Folder
	smartLists []*ir.SmartListDef
	sources    map[string]string // file name -> text, for the source text of conditions and steps
	nextList   int
	zones      func(string) (*time.Location, error)
	readFile   func(string) (string, error)
	clones     []*ir.ProgramDef // programs declared as clones, in source order
	cloning    *ir.ProgramDef   // the cloned program whose copies are being declared or compiled
	wantRefs   bool             // Options.References
	noRefs     bool             // while a template's text is declared again for a clone
	refs       []Ref            // the references table, when wanted
}

type folderKey struct {
	parent *ir.Folder
	ws     *ir.Workspace
	name   string
}

func (r *Result) String() string {
	var b strings.Builder
	for _, d := range r.Diagnostics {
		fmt.Fprintln(&b, d.Error())
	}
	return b.String()
}

// diagKey tells diagnostics apart: a struct, since file names and
// messages may contain any character.
type diagKey struct {
	start lang.Position
	code  lang.Code
	msg   string
}

// report adds a diagnostic raised while compiling campaign cp (nil when not
// in a campaign). A clone borrows its source's body, so a problem found in
// that body is re-anchored on the clone's declaration; dropCloneEchoes
// later removes those that the source itself already has.
func (c *checker) report(cp *ir.Campaign, d *lang.Diagnostic) *lang.Diagnostic {
	key := diagKey{d.Start, d.Code, d.Message}
	clone := c.cloning
	if cp != nil && cp.Program != nil && cp.Program.CloneOf != nil {
		clone = cp.Program
	}
	if clone != nil && !inside(d.Start, lang.Pos(c.prg(clone).decl.Pos), lang.Pos(c.prg(clone).decl.EndPos)) {
		// A cloned program's text is its template's: a problem found in
		// it is shown on the clone, and dropped when the template has a
		// problem of the same kind at the same place (the message may
		// differ by the campaign's qualified name).
		orig := *d
		d.Related = append([]lang.Related{{Message: "the cloned text", Start: orig.Start, End: orig.End}}, d.Related...)
		d.Start, d.End = lang.Pos(c.prg(clone).decl.Name.Pos), lang.Pos(c.prg(clone).decl.Name.EndPos)
		d.Message = fmt.Sprintf("in program %q, a clone of %q: %s", clone.Name, clone.CloneOf.Name, d.Message)
		if c.echoes == nil {
			c.echoes = map[*lang.Diagnostic]diagKey{}
		}
		c.echoes[d] = diagKey{start: key.start, code: key.code}
	} else if cp != nil && cp.CloneOf != nil && c.cmp(cp) != nil && c.cmp(cp).decl != nil && !inside(d.Start, cp.Pos, cp.End) {
		orig := *d
		d.Related = append([]lang.Related{{Message: "the cloned text", Start: orig.Start, End: orig.End}}, d.Related...)
		d.Start, d.End = lang.Pos(c.cmp(cp).decl.Name.Pos), lang.Pos(c.cmp(cp).decl.Name.EndPos)
		d.Message = fmt.Sprintf("in clone %q of %q: %s", cp.Name, cp.CloneOf.Name, d.Message)
		if c.echoes == nil {
			c.echoes = map[*lang.Diagnostic]diagKey{}
		}
		c.echoes[d] = key
	} else {
		if c.originals == nil {
			c.originals = map[diagKey]bool{}
		}
		c.originals[key] = true
		c.originals[diagKey{start: key.start, code: key.code}] = true
	}
	c.diags = append(c.diags, d)
	return d
}

func inside(p, start, end lang.Position) bool {
	return p.Filename == start.Filename && p.Offset >= start.Offset && p.Offset <= end.Offset
}

func (c *checker) dropCloneEchoes() {
	if len(c.echoes) == 0 {
		return
	}
	out := c.diags[:0]
	for _, d := range c.diags {
		if key, ok := c.echoes[d]; ok && c.originals[key] {
			continue
		}
		out = append(out, d)
	}
	c.diags = out
}

func (c *checker) errorf(cp *ir.Campaign, code lang.Code, start, end lang.Position, format string, args ...any) *lang.Diagnostic {
	return c.report(cp, lang.Errorf(code, start, end, format, args...))
}

func (c *checker) warnf(cp *ir.Campaign, code lang.Code, start, end lang.Position, format string, args ...any) *lang.Diagnostic {
	return c.report(cp, lang.Warnf(code, start, end, format, args...))
}

// rng converts a node's participle start and end positions.
func rng(start, end lexer.Position) (lang.Position, lang.Position) {
	return lang.Pos(start), lang.Pos(end)
}

// text is the source between two positions, whitespace folded: how a
// condition or step reads in explanations.
func (c *checker) text(start, end lexer.Position) string {
	src := c.sources[start.Filename]
	if start.Offset < 0 || end.Offset > len(src) || start.Offset >= end.Offset {
		return ""
	}
	return strings.Join(strings.Fields(src[start.Offset:end.Offset]), " ")
}

type parsedFile struct {
	file  *lang.File
	diags []*lang.Diagnostic
}

// parseAll parses the sources, several at a time: files are independent,
// and the parser, not the checks, is most of a compilation. The results
// keep the sources' order.
func parseAll(srcs []lang.Source, parse func(lang.Source) (*lang.File, []*lang.Diagnostic)) []parsedFile {
	out := make([]parsedFile, len(srcs))
	if parse != nil {
		// The host's parser (a cache) decides what to reparse.
		for i, s := range srcs {
			out[i].file, out[i].diags = parse(s)
		}
		return out
	}
	workers := min(runtime.GOMAXPROCS(0), len(srcs))
	if workers <= 1 {
		for i, s := range srcs {
			out[i].file, out[i].diags = lang.Parse(s.Name, s.Text)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(srcs) {
					return
				}
				out[i].file, out[i].diags = lang.Parse(srcs[i].Name, srcs[i].Text)
			}
		}()
	}
	wg.Wait()
	return out
}
