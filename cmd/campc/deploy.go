package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/project"
	"github.com/campc/campc/serve"
	"github.com/campc/campc/store"
)

// loadDeployable reads and checks the project paths name, as campc check
// does, and keeps what a deploy records: the sources and the files the
// declarations name, read once here. Diagnostics go to diag; the code is
// exitOK, exitError (the project has errors) or exitUsage (it cannot be
// read).
func loadDeployable(paths []string, diag io.Writer) (*serve.Project, *ir.Program, int) {
	srcs, texts, err := loadProject(paths)
	if err != nil {
		fmt.Fprintf(diag, "campc: %s\n", lang.Escape(err.Error()))
		return nil, nil, exitUsage
	}
	var mu sync.Mutex
	files := map[string]string{}
	read := func(name string) (string, error) {
		t, err := project.ReadFile(name)
		if err == nil {
			mu.Lock()
			files[name] = t
			mu.Unlock()
		}
		return t, err
	}
	res := compiler.Compile(srcs, compiler.Options{MaxErrors: compiler.DefaultMaxErrors, Zones: zones, ReadFile: read})
	if len(res.Diagnostics) > 0 {
		lang.RenderText(diag, res.Diagnostics, texts)
	}
	prog, err := res.Runnable(false)
	if err != nil || res.HasErrors() {
		return nil, nil, exitError
	}
	if len(files) == 0 {
		files = nil
	}
	return &serve.Project{Sources: srcs, Files: files}, prog, exitOK
}

// deployer names who asked for a deploy, for serve_deploys.
func deployer() string {
	who := "campc deploy"
	if u := os.Getenv("USER"); u != "" {
		who += " by " + u
	}
	if h, err := os.Hostname(); err == nil {
		who += " on " + h
	}
	return who
}

func cmdDeploy(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("deploy", "deploy --db DB [--dry-run] [PATH ...]", stdout, stderr)
	db := fs.String("db", "campc.db", "the database campc serve runs on: a SQLite file path or a postgres:// URL")
	dry := fs.Bool("dry-run", false, "print who would move where, and write nothing")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if *db == "" {
		return badUsage(fs, "--db needs a value (a SQLite file path or a postgres:// URL)")
	}
	proj, prog, code := loadDeployable(paths, stderr)
	if code != exitOK {
		if code == exitError {
			fmt.Fprintln(stderr, "campc deploy: the project has errors; nothing deployed")
		}
		return code
	}
	ctx := context.Background()
	st, err := openExisting(ctx, *db)
	if err != nil {
		return dbError(stderr, "deploy", *db, err)
	}
	defer st.Close()
	sst, ok := st.(*store.Store)
	if !ok {
		return badUsage(fs, "--db needs a database")
	}
	plan, err := serve.PlanStored(ctx, sst, prog)
	if err != nil {
		return runFailed(stderr, "deploy", *db, err)
	}
	plan.Write(stdout)
	if *dry {
		fmt.Fprintln(stdout, "dry run: nothing deployed")
		return exitOK
	}
	d, err := serve.RecordDeploy(ctx, sst, proj, deployer(), time.Now())
	if err != nil {
		return runFailed(stderr, "deploy", *db, err)
	}
	fmt.Fprintf(stdout, "deploy %d recorded (pending, project %s): every campc serve on %s runs it from its next tick\n", d.ID, d.Hash[:12], lang.Escape(dbName(*db)))
	return exitOK
}

// reload is SIGHUP in campc serve: the same paths read and checked again;
// a project with errors is logged (file:line:col) and refused, and the
// service keeps running what it ran; a good one is deployed.
func reload(ctx context.Context, svc *serve.Service, paths []string, log interface {
	Info(string, ...any)
	Error(string, ...any)
}) {
	var diag strings.Builder
	proj, prog, code := loadDeployable(paths, &diag)
	if code != exitOK {
		log.Error("SIGHUP: the project has errors; still running the old one", "diagnostics", strings.TrimRight(diag.String(), "\n"))
		return
	}
	p, err := svc.Deploy(ctx, prog, proj, "SIGHUP")
	switch {
	case errors.Is(err, serve.ErrUnchanged):
		log.Info("SIGHUP: the project is unchanged")
	case err != nil:
		log.Error("SIGHUP: deploy refused; still running the old one", "error", err.Error())
	default:
		log.Info("SIGHUP: deployed", "deploy", svc.Version(), "summary", p.Summary())
	}
}
