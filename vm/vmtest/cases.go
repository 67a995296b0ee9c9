// Package vmtest holds the engine's shared test suites: the data-driven run
// cases (testdata/run in package vm) and the store conformance suite. The
// in-memory store and the durable stores all pass the same suites.
package vmtest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/people"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

// The cases in testdata/run are txtar archives: .camp files (one project),
// an optional people.jsonl, an "ops" file of operations, one per line, and
// "want.log", the expected activity log as JSON lines followed by the
// operations' errors. Operations:
//
//	now 2026-12-01T09:00:00Z          set the clock
//	batch "C" [my.Name=V ...]         run a batch campaign (at the clock's time: once)
//	batch again "C" [my.Name=V ...]   run it again at the same time
//	request "C" ID... [my.Name=V ...] request a trigger campaign (API)
//	status ID "Program" "Status"      deliver a program status change
//	form ID "Form"                    deliver a form fill
//	data ID Field "value"             deliver a data value change
//	list ID "List"                    deliver an add to list
//	created ID                        deliver person is created
//	advance 3d                        move the clock, resume due waits
//	deploy v2                         run on from here with the program in v2/
//
// The project is the .camp files at the archive's top level; "deploy DIR"
// replaces it with the .camp files under DIR/ (checked the same way) for
// the operations that follow, on the same store, as a redeploy would.
//
// Engagement events (issue 11), delivered as the host would:
//
//	form ID "Form" page "P"           a form fill on a web page
//	score ID Field "value"            deliver a score change (the new score)
//	open ID "Email"                   an email open
//	click ID "Email" [link "L"]       a click on a link in an email
//	visit ID "Page"                   a web page visit
//	clickpage ID "Page" [link "L"]    a click on a link on a web page
//	delivered ID "Email"              an email delivery
//	bounce ID "Email"                 an email bounce
//	unsubscribe ID "Email"            an unsubscription from an email
//	budget steps N | cascade N        set the engine's budgets (before any run)
//
// RunCases runs every case in dir against stores made by newStore: each
// case gets a new, empty store. With update, it rewrites the golden logs.
func RunCases(t *testing.T, dir string, newStore func(t *testing.T) Store, update bool) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := runCase(t, ar, newStore(t))
			var want string
			for _, fl := range ar.Files {
				if fl.Name == "want.log" {
					want = string(fl.Data)
				}
			}
			if update {
				updateGolden(t, f, ar, got)
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("log differs (-want +got):\n%s", diff)
			}
		})
	}
}

func updateGolden(t *testing.T, path string, ar *txtar.Archive, got string) {
	found := false
	for i := range ar.Files {
		if ar.Files[i].Name == "want.log" {
			ar.Files[i].Data = []byte(got)
			found = true
		}
	}
	if !found {
		ar.Files = append(ar.Files, txtar.File{Name: "want.log", Data: []byte(got)})
	}
	if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// compileCase compiles the .camp files of a case in dir ("" for the top
// level); they must check clean unless the case says "lenient" in its
// comment, or lists the warnings it expects in a "warnings" file.
func compileCase(t testing.TB, ar *txtar.Archive, dir string) *ir.Program {
	t.Helper()
	in := "."
	if dir != "" {
		in = path.Clean(dir)
	}
	var srcs []lang.Source
	for _, f := range ar.Files {
		if strings.HasSuffix(f.Name, ".camp") && path.Dir(f.Name) == in {
			srcs = append(srcs, lang.Source{Name: f.Name, Text: string(f.Data)})
		}
	}
	if len(srcs) == 0 {
		t.Fatalf("no .camp files in %q", dir)
	}
	// The archive's other files are the files declarations name (email
	// bodies), by their names in the archive.
	read := func(name string) (string, error) {
		for _, f := range ar.Files {
			if f.Name == name {
				return string(f.Data), nil
			}
		}
		return "", fs.ErrNotExist
	}
	res := compiler.Compile(srcs, compiler.Options{MaxErrors: -1, Zones: time.LoadLocation, ReadFile: read})
	lenient := strings.Contains(string(ar.Comment), "lenient")
	prog, err := res.Runnable(lenient)
	if err != nil {
		t.Fatalf("%v:\n%s", err, res)
	}
	// A "warnings" file lists the warning codes the case expects, one a
	// line; every one must be reported, and nothing else.
	want := map[string]bool{}
	for _, f := range ar.Files {
		if f.Name == "warnings" {
			for _, code := range strings.Fields(string(f.Data)) {
				want[code] = true
			}
		}
	}
	got := map[string]bool{}
	for _, d := range res.Diagnostics {
		if d.Severity == lang.SeverityWarning && want[string(d.Code)] {
			got[string(d.Code)] = true
			continue
		}
		if !lenient {
			t.Fatalf("case does not check clean:\n%s", res)
		}
	}
	for code := range want {
		if !got[code] {
			t.Fatalf("case expects a %s warning, and the checker reports none:\n%s", code, res)
		}
	}
	return prog
}

// Store is a vm.Store that can also take people in bulk, as an import does.
type Store interface {
	storage.Store
	Import(ctx context.Context, people []*storage.Person, progress func(int)) error
}

func runCase(t *testing.T, ar *txtar.Archive, store Store) string {
	prog := compileCase(t, ar, "")
	schema, err := people.NewSchema(prog)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var ops string
	for _, f := range ar.Files {
		switch f.Name {
		case "people.jsonl":
			ps, err := people.ParseJSONL(f.Name, f.Data, schema)
			if err != nil {
				t.Fatal(err)
			}
			// The people come into the store at the clock's start.
			storage.StampImport(ps, start)
			if err := store.Import(context.Background(), ps, nil); err != nil {
				t.Fatal(err)
			}
		case "ops":
			ops = string(f.Data)
		}
	}
	clock := vm.NewManualClock(start)
	opts := vm.Options{Store: store, Clock: clock}
	var eng *vm.Engine
	engine := func() *vm.Engine {
		if eng == nil {
			eng, err = vm.New(prog, opts)
			if err != nil {
				t.Fatal(err)
			}
		}
		return eng
	}
	var errs []string
	ctx := context.Background()
	for n, line := range strings.Split(ops, "\n") {
		args := splitArgs(t, line)
		if len(args) == 0 {
			continue
		}
		var err error
		switch args[0] {
		case "now":
			tm, perr := time.Parse(time.RFC3339, args[1])
			if perr != nil {
				t.Fatal(perr)
			}
			clock.Set(tm)
		case "budget":
			n, _ := strconv.Atoi(args[2])
			if args[1] == "steps" {
				opts.StepBudget = n
			} else {
				opts.CascadeBudget = n
			}
		case "batch":
			// batch again "C" starts a new run even when one at the same
			// time is complete.
			again := len(args) > 2 && args[1] == "again"
			if again {
				args = append(args[:1:1], args[2:]...)
			}
			ids, tokens := splitTokens(args[2:])
			if len(ids) > 0 {
				t.Fatalf("ops line %d: batch takes no people", n+1)
			}
			_, err = engine().RunBatch(ctx, args[1], vm.RunOptions{Tokens: tokens, Again: again})
		case "request":
			ids, tokens := splitTokens(args[2:])
			_, err = engine().Request(ctx, args[1], ids, vm.RunOptions{Tokens: tokens})
		case "status":
			_, err = engine().Deliver(ctx, storage.Event{Kind: ir.TrigStatusChanged, Person: args[1], Program: args[2], Status: args[3]})
		case "form":
			ev := storage.Event{Kind: ir.TrigFillsOutForm, Person: args[1], Form: args[2]}
			ev.WebPage = option(t, n, args[3:], "page")
			_, err = engine().Deliver(ctx, ev)
		case "data":
			_, err = engine().Deliver(ctx, storage.Event{Kind: ir.TrigDataChanges, Person: args[1], Field: args[2], New: args[3]})
		case "list":
			_, err = engine().Deliver(ctx, storage.Event{Kind: ir.TrigAddedToList, Person: args[1], List: args[2]})
		case "created":
			_, err = engine().Deliver(ctx, storage.Event{Kind: ir.TrigCreated, Person: args[1]})
		case "score":
			_, err = engine().Deliver(ctx, storage.Event{Kind: ir.TrigScoreChanged, Person: args[1], Field: args[2], New: args[3]})
		case "open", "click", "delivered", "bounce", "unsubscribe":
			kind := map[string]ir.TriggerKind{"open": ir.TrigOpensEmail, "click": ir.TrigClicksEmail,
				"delivered": ir.TrigEmailDelivered, "bounce": ir.TrigEmailBounces, "unsubscribe": ir.TrigUnsubscribes}[args[0]]
			_, err = engine().Deliver(ctx, storage.Event{Kind: kind, Person: args[1], Email: args[2], Link: option(t, n, args[3:], "link")})
		case "visit", "clickpage":
			kind := ir.TrigVisitsPage
			if args[0] == "clickpage" {
				kind = ir.TrigClicksPage
			}
			_, err = engine().Deliver(ctx, storage.Event{Kind: kind, Person: args[1], WebPage: args[2], Link: option(t, n, args[3:], "link")})
		case "advance":
			d, perr := parseTestDuration(args[1])
			if perr != nil {
				t.Fatal(perr)
			}
			clock.Set(clock.Now().Add(d))
			_, err = engine().Advance(ctx)
		case "deploy":
			if len(args) != 2 {
				t.Fatalf("ops line %d: deploy takes one directory", n+1)
			}
			prog, eng = compileCase(t, ar, args[1]), nil
		default:
			t.Fatalf("ops line %d: unknown operation %q", n+1, args[0])
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("error (ops line %d): %v", n+1, err))
		}
	}
	acts, err := store.Activities(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(FormatLog(acts))
	for _, e := range errs {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// FormatLog writes activities as the golden logs have them: one JSON
// object per line.
func FormatLog(acts []*storage.Activity) string {
	var b strings.Builder
	storage.WriteJSONLog(&b, acts) // a strings.Builder never fails
	return b.String()
}

var argRe = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\S+`)

func splitArgs(t *testing.T, line string) []string {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	var out []string
	for _, m := range argRe.FindAllString(line, -1) {
		if strings.HasPrefix(m, `"`) {
			u, err := strconv.Unquote(m)
			if err != nil {
				t.Fatalf("bad quoted argument %s", m)
			}
			m = u
		}
		out = append(out, m)
	}
	return out
}

// option reads an op's optional trailing "name value" pair.
func option(t *testing.T, line int, rest []string, name string) string {
	switch {
	case len(rest) == 0:
		return ""
	case len(rest) == 2 && rest[0] == name:
		return rest[1]
	}
	t.Fatalf("ops line %d: expected nothing or %s \"…\" at the end, got %q", line+1, name, rest)
	return ""
}

func splitTokens(args []string) ([]string, map[string]string) {
	var ids []string
	var tokens map[string]string
	for _, a := range args {
		if name, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "my.") {
			if tokens == nil {
				tokens = map[string]string{}
			}
			tokens[strings.TrimPrefix(name, "my.")] = v
			continue
		}
		ids = append(ids, a)
	}
	return ids, tokens
}

func parseTestDuration(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		return time.Duration(n) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}
