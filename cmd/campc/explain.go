package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/vm"
)

// explainer renders trace events as an indented explanation: for each
// campaign, its filters with what they saw, the logic and qualification
// verdicts, then each step with its tokens, branches and activities, and
// executed children explained the same way, one level deeper.
type explainer struct {
	w        io.Writer
	person   string            // the person of the last header, to separate people
	campaign *ir.Campaign      // the campaign of the last header
	open     bool              // the last header's flow is running, not ended or waiting
	started  map[rootFlow]bool // root flows whose "flow:" heading is printed
}

// rootFlow is one person's flow of one campaign; the campaign, not its
// name, since names repeat across workspaces.
type rootFlow struct {
	person   string
	campaign *ir.Campaign
}

// line writes one line of the explanation, escaped (lang.Escape): source
// text, names and values in it must not drive the terminal.
func (x *explainer) line(depth, extra int, format string, args ...any) {
	fmt.Fprintf(x.w, "%s%s\n", strings.Repeat("  ", depth*3+extra), lang.Escape(fmt.Sprintf(format, args...)))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (x *explainer) Trace(e vm.TraceEvent) {
	d := e.Depth
	switch e.Kind {
	case vm.TraceStart:
		if d == 0 {
			if x.person != "" {
				fmt.Fprintln(x.w)
			}
			x.person, x.campaign, x.open = e.Person, e.Campaign, true
			x.line(0, 0, "person %s, campaign %q (%s)", lang.QuoteIfNeeded(e.Person), e.Campaign.Name, e.Campaign.Kind)
		} else {
			x.line(d, 0, "campaign %q (%s)", e.Campaign.Name, e.Campaign.Kind)
		}
		x.line(d, 1, "smart list:")
	case vm.TraceTrigger:
		x.line(d, 2, "%s  [heard %s] %s", e.Text, e.Saw, yesNo(e.Result))
	case vm.TraceFilter:
		x.line(d, 2, "filter %d: %s  [saw %s] %s", e.Filter, e.Cond.Base().Text, e.Saw, yesNo(e.Result))
	case vm.TraceLogic:
		verdict := "qualifies"
		if !e.Result {
			verdict = "does not qualify"
		}
		if e.Reason != "" {
			verdict += " (" + e.Reason + ")"
		}
		if e.Text == "" || e.Text == "no filters" {
			x.line(d, 2, "%s%s", map[bool]string{true: "no filters: ", false: ""}[e.Text != ""], verdict)
		} else {
			x.line(d, 2, "logic %s: %s", e.Text, verdict)
		}
	case vm.TraceQualify:
		verdict := "lets the person in"
		if !e.Result {
			verdict = "keeps the person out"
		}
		x.line(d, 1, "qualification: %s: %s", e.Text, verdict)
	case vm.TraceInFlow:
		x.line(d, 1, "campaign %q: the person is in its flow already (%s): does not enter again", e.Campaign.Name, e.Text)
	case vm.TraceEnter:
		how := "its own token context"
		if e.Parent {
			how = "the caller's token context (use parent tokens)"
		}
		x.line(d, 1, "flow, in %s:", how)
	case vm.TraceStep:
		if d == 0 && (!x.open || x.person != e.Person || x.campaign != e.Campaign) {
			// A flow resumed from a wait (advance, --until): its own
			// heading, not the steps of whoever was explained last.
			if x.person != "" {
				fmt.Fprintln(x.w)
			}
			x.person, x.campaign, x.open = e.Person, e.Campaign, true
			x.line(0, 0, "person %s, campaign %q (%s), resumed:", lang.QuoteIfNeeded(e.Person), e.Campaign.Name, e.Campaign.Kind)
			x.line(0, 1, "flow:")
			x.lastDepth0Flow(e)
		} else if d == 0 && e.Step != nil && x.lastDepth0Flow(e) {
			x.line(0, 1, "flow:")
		}
		src := e.Step.Base().Source
		if _, ok := e.Step.(*ir.If); ok {
			src = "if …"
		}
		x.line(d, 2, "%s: %s", e.Step.Base().Pos, src)
	case vm.TraceToken:
		x.line(d, 3, "%s = %q  from %s", e.Token, e.Value, e.From)
	case vm.TraceBranch:
		switch {
		case e.Branch == 0:
			x.line(d, 3, "no choice matched; nothing runs")
		case e.Text == "else":
			x.line(d, 3, "choice %d (else) taken", e.Branch)
		default:
			x.line(d, 3, "choice %d taken: %s", e.Branch, e.Text)
		}
	case vm.TraceActivity:
		a := e.Activity
		x.line(d, 3, "→ %s %q%s", a.Type, a.Primary, formatAttrs(a.Attributes))
	case vm.TraceLeave:
		x.line(d, 1, "%s", e.Text)
		if d == 0 {
			x.open = false
		}
	}
}

// lastDepth0Flow reports whether this is the first step of a root flow,
// so that the "flow:" heading is printed once per root campaign.
func (x *explainer) lastDepth0Flow(e vm.TraceEvent) bool {
	key := rootFlow{e.Person, e.Campaign}
	if x.started == nil {
		x.started = map[rootFlow]bool{}
	}
	if x.started[key] {
		return false
	}
	x.started[key] = true
	return true
}

func cmdExplain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("explain", "explain CAMPAIGN --person ID (--people FILE | --db DB) [flags] [PATH ...]", stdout, stderr)
	person := fs.String("person", "", "the person's Id (required)")
	peopleFile := fs.String("people", "", "the people file (.csv or .jsonl) that holds the person (this or --db)")
	dbFlag := fs.String("db", "", "the database that holds the person, only read: a SQLite file path or a postgres:// URL (this or --people)")
	var until durationFlag
	fs.Var(&until, "until", "then advance the clock by this much (72h, 90m, 3d, \"3 days\"), explaining the waits it resumes")
	tokens := tokenFlags{}
	fs.Var(tokens, "token", "override a My Token for this run: my.Name=VALUE (repeatable)")
	var now timeFlag
	fs.Var(&now, "now", "the clock: a date (2026-12-01, midnight UTC) or an RFC 3339 time (default: the current time)")
	workspace := fs.String("workspace", "", "the campaign's workspace, when its name alone may mean several campaigns")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) == 0 || *person == "" || (*peopleFile == "") == (*dbFlag == "") {
		return badUsage(fs, "name the campaign, --person ID, and either --people FILE or --db DB")
	}
	name, paths := rest[0], rest[1:]
	start := now.value()
	if err := clockEnd(start, until.d); err != nil {
		fmt.Fprintf(stderr, "campc explain: %v\n", err)
		return exitUsage
	}
	res, code := compileProject(paths, "text", false, compiler.DefaultMaxErrors, stderr, stderr)
	if res == nil {
		return code
	}
	prog, err := res.Runnable(true)
	if err != nil {
		fmt.Fprintln(stderr, "campc explain: the project has errors; nothing ran")
		return exitError
	}
	ctx := context.Background()
	st := vm.NewMemStore()
	var who *vm.Person
	if *dbFlag != "" {
		var code int
		if who, code = copyFromDB(ctx, st, *dbFlag, *person, stderr); who == nil {
			return code
		}
	} else {
		people, err := openPeople(*peopleFile, prog)
		if err != nil {
			fmt.Fprintf(stderr, "campc explain: %v\n", err)
			return exitUsage
		}
		who, err = people.person(*person)
		people.Close()
		if err != nil {
			fmt.Fprintf(stderr, "campc explain: %v\n", err)
			return exitUsage
		}
		if who == nil {
			fmt.Fprintf(stderr, "campc explain: --person %s: no such Id in %s\n", lang.QuoteIfNeeded(*person), lang.Escape(*peopleFile))
			return exitUsage
		}
		// As run --people would import the person: at the clock's start.
		vm.StampImport([]*vm.Person{who}, start)
		st.PutPeople(who)
	}
	x := &explainer{w: stdout}
	clock := vm.NewManualClock(start)
	eng, err := vm.New(prog, vm.Options{Store: st, Clock: clock, Tracer: x})
	if err != nil {
		fmt.Fprintf(stderr, "campc explain: %v\n", err)
		return exitError
	}
	c, err := findCampaign(eng, prog, *workspace, name)
	if err != nil {
		fmt.Fprintf(stderr, "campc explain: %v\n", err)
		return exitError
	}
	if c.Kind == ir.Executable {
		fmt.Fprintf(stderr, "campc explain: campaign %q is executable: it runs only when another campaign executes it%s\n", c.Name, callersOf(prog, c))
		return exitError
	}
	if c.Kind == ir.Trigger && !c.Workspace.Sees(who.Partition) {
		fmt.Fprintf(stderr, "campc explain: person %s is in partition %q, which workspace %q does not see\n", lang.QuoteIfNeeded(who.ID), who.PartitionName(), c.Workspace.Name)
		return exitError
	}
	_, err = startCampaign(ctx, eng, c, []string{who.ID}, vm.RunOptions{Tokens: tokens})
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "campc explain: %v\n", ue.err)
		return ue.code
	}
	if err == nil && until.d > 0 {
		clock.Set(start.Add(until.d))
		_, err = eng.Advance(ctx)
	}
	if x.person == "" {
		fmt.Fprintf(stdout, "person %s: campaign %q did not consider this person (not in its workspace's partitions, or its trigger did not fire)\n", lang.QuoteIfNeeded(who.ID), c.Name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "campc explain: %v\n", err)
		return exitError
	}
	return exitOK
}

// copyFromDB copies a person of the database db into st, with what their
// passes read and resume: fields, lists, program statuses, qualification
// history, log and parked waits. explain runs on the copy, so it never
// writes to the database. It returns nil and an exit code when it cannot.
func copyFromDB(ctx context.Context, st *vm.MemStore, db, id string, stderr io.Writer) (*vm.Person, int) {
	src, err := openExisting(ctx, db)
	if err != nil {
		return nil, dbError(stderr, "explain", db, err)
	}
	defer src.Close()
	tx, err := src.Begin(ctx)
	if err != nil {
		return nil, runFailed(stderr, "explain", db, err)
	}
	defer tx.Rollback()
	who, err := tx.LoadPerson(id)
	if err != nil {
		return nil, runFailed(stderr, "explain", db, err)
	}
	if who == nil {
		fmt.Fprintf(stderr, "campc explain: --person %s: no such Id in the database %s\n", lang.QuoteIfNeeded(id), lang.Escape(dbName(db)))
		return nil, exitUsage
	}
	waits, err := tx.WaitsOf(id)
	if err != nil {
		return nil, runFailed(stderr, "explain", db, err)
	}
	st.PutPeople(who)
	if len(waits) > 0 {
		mt, err := st.Begin(ctx)
		if err == nil {
			if err = mt.Apply(&vm.Commit{Park: waits}); err == nil {
				err = mt.Commit()
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "campc explain: %v\n", err)
			return nil, exitError
		}
	}
	return who, exitOK
}
