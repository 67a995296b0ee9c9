package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/explain"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

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
	st := memstore.New()
	var who *storage.Person
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
		storage.StampImport([]*storage.Person{who}, start)
		st.PutPeople(who)
	}
	x := explain.NewWriter(stdout)
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
	if !x.Explained() {
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
func copyFromDB(ctx context.Context, st *memstore.Store, db, id string, stderr io.Writer) (*storage.Person, int) {
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
			if err = mt.Apply(&storage.Commit{Park: waits}); err == nil {
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
