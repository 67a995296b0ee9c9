package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
	"github.com/campc/campc/vm/storage"
)

// peopleStore is a store that can also import people.
type peopleStore interface {
	storage.Store
	Import(ctx context.Context, people []*storage.Person, progress func(int)) error
	ImportEach(ctx context.Context, next func() (*storage.Person, error), progress func(int)) error
	Close() error
}

type memCloser struct{ *memstore.Store }

func (memCloser) Close() error { return nil }

// ImportEach gathers the people first: in memory they are all kept anyway.
func (m memCloser) ImportEach(ctx context.Context, next func() (*storage.Person, error), progress func(int)) error {
	var people []*storage.Person
	for {
		p, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		people = append(people, p)
	}
	return m.Import(ctx, people, progress)
}

// openStore opens --db: nothing means in memory, a postgres:// URL means
// PostgreSQL, anything else a SQLite file (created when missing).
func openStore(ctx context.Context, db string) (peopleStore, error) {
	if db == "" {
		return memCloser{memstore.New()}, nil
	}
	return store.Open(ctx, db)
}

// openExisting opens --db for a command that only makes sense on a
// database that holds something (log, advance): a SQLite file that does
// not exist is an error, not a new empty database.
func openExisting(ctx context.Context, db string) (peopleStore, error) {
	if !store.IsPostgres(db) {
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no such file (campc import or campc run --db creates a SQLite database)")
		}
	}
	return openStore(ctx, db)
}

// dbName is --db as messages show it, without the secrets a PostgreSQL
// connection string can carry.
func dbName(db string) string { return store.RedactDSN(db) }

// dbError prints a failure to open --db; it exits 2 (an I/O problem).
func dbError(stderr io.Writer, cmd, db string, err error) int {
	msg := strings.TrimPrefix(err.Error(), db+": ")
	fmt.Fprintf(stderr, "campc %s: --db %s: %s\n", cmd, dbName(db), store.RedactIn(msg, db))
	return exitUsage
}

func requireDB(name string, db string, stderr io.Writer) bool {
	if db == "" {
		fmt.Fprintf(stderr, "campc %s: --db is required (a SQLite file path or a postgres:// URL); run 'campc %s --help' for usage\n", name, name)
		return false
	}
	return true
}

func cmdMigrate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("migrate", "migrate --db PATH_OR_URL", stdout, stderr)
	db := fs.String("db", "", "the database: a SQLite file path or a postgres:// URL")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 {
		return badUsage(fs, "unexpected argument %q", rest[0])
	}
	if !requireDB("migrate", *db, stderr) {
		return exitUsage
	}
	ctx := context.Background()
	var s *store.Store
	if store.IsPostgres(*db) {
		s, err = store.OpenPostgres(ctx, *db, true)
	} else {
		s, err = store.OpenSQLite(ctx, *db)
	}
	if err != nil {
		return dbError(stderr, "migrate", *db, err)
	}
	defer s.Close()
	v, err := s.Version(ctx)
	if err != nil {
		return dbError(stderr, "migrate", *db, err)
	}
	fmt.Fprintf(stdout, "schema at version %d\n", v)
	return exitOK
}

func cmdImport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("import", "import --db PATH_OR_URL [--now TIME] PEOPLE.csv|.jsonl [PATH ...]", stdout, stderr)
	db := fs.String("db", "", "the database: a SQLite file path or a postgres:// URL")
	var now timeFlag
	fs.Var(&now, "now", "the import's time, which new people get as CreatedAt and changed people as UpdatedAt: a date (2026-12-01) or an RFC 3339 time (default: the current time)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !requireDB("import", *db, stderr) {
		return exitUsage
	}
	if len(rest) == 0 {
		return badUsage(fs, "name the people file (.csv or .jsonl), then the project's paths")
	}
	file, paths := rest[0], rest[1:]
	res, code := compileProject(paths, "text", false, compiler.DefaultMaxErrors, stderr, stderr)
	if res == nil {
		return code
	}
	prog, err := res.Runnable(true)
	if err != nil {
		fmt.Fprintln(stderr, "campc import: the project has errors; nothing was imported")
		return exitError
	}
	// The whole file is read and checked before the database is touched: a
	// bad row rejects the file, and nothing is imported. Then it is read
	// again, a person at a time, into one transaction: memory holds where
	// each person is, never the whole file.
	people, err := openPeople(file, prog)
	if err != nil {
		fmt.Fprintf(stderr, "campc import: %v; nothing was imported\n", err)
		return exitUsage
	}
	defer people.Close()
	at := now.value()
	people.stampAt(at)
	ctx := context.Background()
	st, err := openStore(ctx, *db)
	if err != nil {
		return dbError(stderr, "import", *db, err)
	}
	defer st.Close()
	// Bug 9: the database first comes up to --now; the import happens then.
	eng, err := vm.New(prog, vm.Options{Store: st, Clock: vm.NewManualClock(at)})
	if err != nil {
		fmt.Fprintf(stderr, "campc import: %v\n", err)
		return exitError
	}
	reps, err := bringUp(ctx, eng, at, false, flagSet(fs, "now"))
	var back *errBackInTime
	if errors.As(err, &back) {
		fmt.Fprintf(stderr, "campc import: %v; nothing was imported\n", err)
		return exitUsage
	}
	if acts := activitiesOf(reps); len(acts) > 0 {
		writeLog(stdout, "text", prog, acts, reps)
	}
	if err != nil {
		return runFailed(stderr, "import", *db, err)
	}
	bar := newProgress(stderr, people.len())
	if err := st.ImportEach(ctx, people.next(), bar.update); err != nil {
		bar.done()
		fmt.Fprintf(stderr, "campc import: %v; nothing was imported\n", err)
		if store.IsCorrupt(err) {
			return exitUsage // as a --db that cannot be opened
		}
		return exitError
	}
	bar.done()
	fmt.Fprintf(stdout, "imported %d people from %s\n", people.len(), file)
	return exitOK
}

// progress draws a bar on a terminal and nothing elsewhere.
type progress struct {
	w     io.Writer
	total int
	on    bool
	last  time.Time
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(done int) {
	if !p.on || p.total == 0 || (time.Since(p.last) < 100*time.Millisecond && done < p.total) {
		return
	}
	p.last = time.Now()
	const width = 30
	n := done * width / p.total
	fmt.Fprintf(p.w, "\rimporting [%s%s] %d/%d", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, p.total)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func cmdLog(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("log", "log --db PATH_OR_URL [--person ID] [--format text|json]", stdout, stderr)
	db := fs.String("db", "", "the database: a SQLite file path or a postgres:// URL")
	person := fs.String("person", "", "only this person's activities")
	format := &choice{value: "text", allowed: []string{"text", "json"}}
	fs.Var(format, "format", "output format: text or json")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 {
		return badUsage(fs, "unexpected argument %q", rest[0])
	}
	if !requireDB("log", *db, stderr) {
		return exitUsage
	}
	ctx := context.Background()
	st, err := openExisting(ctx, *db)
	if err != nil {
		return dbError(stderr, "log", *db, err)
	}
	defer st.Close()
	acts, err := st.Activities(ctx, *person)
	if err != nil {
		return runFailed(stderr, "log", *db, err)
	}
	if format.value == "json" {
		storage.WriteJSONLog(stdout, acts)
	} else {
		for _, a := range acts {
			writeTextActivity(stdout, a)
		}
	}
	return exitOK
}

// cmdAdvance resumes the waits and queued runs a database holds, with the
// clock at --now (plus --until).
func cmdAdvance(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("advance", "advance --db PATH_OR_URL [--now TIME] [--until DURATION] [--format text|json] [PATH ...]", stdout, stderr)
	db := fs.String("db", "", "the database: a SQLite file path or a postgres:// URL")
	format := &choice{value: "text", allowed: []string{"text", "json"}}
	fs.Var(format, "format", "output format: text or json")
	var until durationFlag
	fs.Var(&until, "until", "advance the clock by this much past --now (72h, 90m, 3d, \"3 days\")")
	var now timeFlag
	fs.Var(&now, "now", "the clock: a date (2026-12-01, midnight UTC) or an RFC 3339 time (default: the current time)")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !requireDB("advance", *db, stderr) {
		return exitUsage
	}
	t := now.value()
	if err := clockEnd(t, until.d); err != nil {
		fmt.Fprintf(stderr, "campc advance: %v\n", err)
		return exitUsage
	}
	res, code := compileProject(paths, "text", false, compiler.DefaultMaxErrors, stderr, stderr)
	if res == nil {
		return code
	}
	prog, err := res.Runnable(false)
	if err != nil {
		fmt.Fprintln(stderr, "campc advance: the project has errors; nothing ran")
		return exitError
	}
	ctx := context.Background()
	st, err := openExisting(ctx, *db)
	if err != nil {
		return dbError(stderr, "advance", *db, err)
	}
	defer st.Close()
	eng, err := vm.New(prog, vm.Options{Store: st, Clock: vm.NewManualClock(t.Add(until.d))})
	if err != nil {
		fmt.Fprintf(stderr, "campc advance: %v\n", err)
		return exitError
	}
	if _, err := checkNotBack(ctx, st, t); err != nil && flagSet(fs, "now") {
		fmt.Fprintf(stderr, "campc advance: %v; nothing ran\n", err)
		return exitUsage
	}
	// Waits and the scheduled batch runs that fall due, in time order.
	reps, runErr := bringUp(ctx, eng, t.Add(until.d), true, false)
	writeLog(stdout, format.value, prog, activitiesOf(reps), reps)
	if runErr != nil {
		return runFailed(stderr, "advance", *db, runErr)
	}
	return exitOK
}

// takenHint explains an error that says another process took the work.
func takenHint(err error) string {
	if errors.Is(err, store.ErrTaken) {
		return "\ncampc: another campc process took this work first and does it; this one stopped rather than do it twice"
	}
	return ""
}

// isPostgres reports whether --db names a PostgreSQL database.
func isPostgres(db string) bool { return store.IsPostgres(db) }
