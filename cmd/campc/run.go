package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/explain"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// tokenFlags collects repeated --token my.Name=VALUE flags.
type tokenFlags map[string]string

func (t tokenFlags) String() string { return "" }

func (t tokenFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want my.Name=VALUE, not %q", s)
	}
	if !strings.HasPrefix(name, "my.") || len(name) == len("my.") {
		return fmt.Errorf("a token override is written my.Name=VALUE (a My Token), not %q", s)
	}
	name = strings.TrimPrefix(name, "my.")
	if err := storage.CheckText(value); err != nil {
		return fmt.Errorf("my.%s: %v", name, err)
	}
	if _, dup := t[name]; dup {
		return fmt.Errorf("my.%s is given twice", name)
	}
	t[name] = value
	return nil
}

// durationFlag accepts Go durations ("72h", "90m") plus days and weeks
// ("3d", "2w", "1d12h"), and the language's "N unit" ("3 days", "2 weeks").
type durationFlag struct{ d time.Duration }

var dayPrefix = regexp.MustCompile(`^([0-9]+)([dw])`)

func (f *durationFlag) String() string { return f.d.String() }

func (f *durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	f.d = d
	return nil
}

// maxDuration is the longest duration campc takes (see stdlib).
const maxDuration = stdlib.MaxDurationDays * 24 * time.Hour

// goDuration is what time.ParseDuration reads, to tell a number too large
// for it from a malformed duration (it says "invalid" for both).
var goDuration = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$`)

// unitDuration is a duration as the language writes it: "3 days".
var unitDuration = regexp.MustCompile(`^([0-9]+) +([a-z]+)$`)

func parseDuration(s string) (time.Duration, error) {
	tooLong := fmt.Errorf("%q is too long: a duration is at most %d days", s, stdlib.MaxDurationDays)
	if m := unitDuration.FindStringSubmatch(strings.TrimSpace(s)); m != nil {
		u, ok := stdlib.UnitByName(m[2])
		if !ok {
			return 0, fmt.Errorf("unknown duration unit %q in %q (minutes, hours, days, weeks or months)", m[2], s)
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		// Bounded before the multiplication, so nothing overflows.
		if err != nil || n > stdlib.MaxDurationMinutes/u.Minutes {
			return 0, tooLong
		}
		if n == 0 {
			return 0, fmt.Errorf("want a positive duration, not %q", s)
		}
		return time.Duration(n*u.Minutes) * time.Minute, nil
	}
	rest := s
	var days int64
	for {
		m := dayPrefix.FindStringSubmatch(rest)
		if m == nil {
			break
		}
		n, err := strconv.ParseInt(m[1], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is too large: a duration is at most %d days", s, stdlib.MaxDurationDays)
		}
		if m[2] == "w" {
			n *= 7
		}
		// Summed in days and bounded at each step, so nothing overflows.
		if days += n; days > stdlib.MaxDurationDays {
			return 0, tooLong
		}
		rest = rest[len(m[0]):]
	}
	total := time.Duration(days) * 24 * time.Hour
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil && goDuration.MatchString(rest) {
			return 0, fmt.Errorf("%q is too large: a duration is at most %d days", s, stdlib.MaxDurationDays)
		}
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 72h, 90m, 3d, 1w2d or \"3 days\", not %q", s)
		}
		if d > maxDuration {
			return 0, tooLong
		}
		total += d
	}
	if total < 0 || (s == "") {
		return 0, fmt.Errorf("want a positive duration, not %q", s)
	}
	if total > maxDuration {
		return 0, tooLong
	}
	return total, nil
}

// longYear is a time past year 9999, which time.Parse does not read.
var longYear = regexp.MustCompile(`^[0-9]{5,}-`)

// timeFlag is a date or an RFC 3339 time.
type timeFlag struct {
	t   time.Time
	set bool
}

func (f *timeFlag) String() string {
	if !f.set {
		return "now"
	}
	return f.t.Format(time.RFC3339)
}

// value is the time given, or the current time to the second.
func (f *timeFlag) value() time.Time {
	if !f.set {
		return time.Now().UTC().Truncate(time.Second)
	}
	return f.t
}

// Set reads the language's time forms: a date (2026-12-01, midnight UTC)
// or an RFC 3339 date-time.
func (f *timeFlag) Set(s string) error {
	layout := time.RFC3339
	if len(s) == len(time.DateOnly) {
		layout = time.DateOnly
	}
	t, err := time.Parse(layout, s)
	if err != nil && longYear.MatchString(s) {
		return fmt.Errorf("%s is outside the clock's range, %s", s, stdlib.TimeRange)
	}
	if err != nil {
		return fmt.Errorf("want a date (2026-12-01, midnight UTC) or an RFC 3339 time (2026-12-01T09:00:00Z), not %q", s)
	}
	if !stdlib.InTimeRange(t) {
		return fmt.Errorf("%s is outside the clock's range, %s", s, stdlib.TimeRange)
	}
	f.t, f.set = t.UTC(), true
	return nil
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "run (--people FILE | --db DB) [flags] CAMPAIGN [PATH ...]\n       campc run --events FILE [flags] [PATH ...]", stdout, stderr)
	peopleFile := fs.String("people", "", "people to run over: a .csv or .jsonl file (with --db: imported first, and the run, batch or trigger, is for the people it lists only)")
	eventsFile := fs.String("events", "", "instead of one campaign, apply a timeline: a .jsonl of timed events, with the waits and schedules due between them (spec §15.8)")
	dbFlag := fs.String("db", "", "keep state in a database: a SQLite file path or a postgres:// URL (default: in memory)")
	tokens := tokenFlags{}
	fs.Var(tokens, "token", "override a My Token for this run: my.Name=VALUE (repeatable)")
	format := &choice{value: "text", allowed: []string{"text", "json"}}
	fs.Var(format, "format", "output format: text or json")
	var until durationFlag
	fs.Var(&until, "until", "then advance the clock by this much (72h, 90m, 3d, \"3 days\"), resuming waits")
	var now timeFlag
	fs.Var(&now, "now", "the clock's start: a date (2026-12-01, midnight UTC) or an RFC 3339 time (default: the current time)")
	lenient := fs.Bool("lenient", false, "run even when smart lists are invalid (they qualify nobody)")
	trace := fs.Bool("trace", false, "explain every person's pass as campc explain does (on standard error with --format json)")
	stepBudget := fs.Int("step-budget", vm.DefaultStepBudget, "most steps in one person's pass")
	cascadeBudget := fs.Int("cascade-budget", vm.DefaultCascadeBudget, "most triggered flow runs per person")
	workers := fs.Int("workers", 0, "batch groups run at once; the log is the same whatever the number (default: one per core on PostgreSQL, 1 otherwise)")
	batchGroup := fs.Int("batch-group", vm.DefaultBatchGroup, "people whose passes a batch run commits in one transaction")
	workspace := fs.String("workspace", "", "the campaign's workspace, when its name alone may mean several campaigns")
	again := fs.Bool("again", false, "with --db: run a batch campaign again even when its run at this --now is complete")
	args, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(args) == 0 && *eventsFile == "" {
		return badUsage(fs, "name the campaign to run")
	}
	if flagSet(fs, "workers") && *workers <= 0 {
		// 0 is the default's placeholder, not a number of workers.
		return badUsage(fs, "--workers must be positive")
	}
	if *workers == 0 {
		// Measured on two cores: PostgreSQL gains from overlapping groups'
		// round trips; in memory two workers only make the collector busier.
		*workers = 1
		if isPostgres(*dbFlag) {
			*workers = runtime.NumCPU()
		}
	}
	if *stepBudget <= 0 || *cascadeBudget <= 0 || *batchGroup <= 0 || *workers <= 0 {
		return badUsage(fs, "--step-budget, --cascade-budget, --batch-group and --workers must be positive")
	}
	var name string
	paths := args
	if *eventsFile == "" {
		name, paths = args[0], args[1:]
	}
	for _, f := range []string{"token", "workspace", "again"} {
		if *eventsFile != "" && flagSet(fs, f) {
			// A timeline names no campaign: a request's tokens and
			// workspace are in its event.
			fmt.Fprintf(stderr, "campc run: --%s applies to the campaign campc run names; with --events, give a request's tokens and workspace in its event\n", f)
			return exitUsage
		}
	}
	start := now.value()
	if err := clockEnd(start, until.d); err != nil {
		fmt.Fprintf(stderr, "campc run: %v\n", err)
		return exitUsage
	}
	if *peopleFile == "" && *dbFlag == "" {
		// Running over nobody would look like a campaign that qualifies nobody.
		return badUsage(fs, "say whom to run over: --people FILE (a .csv or .jsonl file) or --db DB (the people a database holds)")
	}

	res, code := compileProject(paths, "text", false, compiler.DefaultMaxErrors, stderr, stderr)
	if res == nil {
		return code
	}
	prog, err := res.Runnable(*lenient)
	if err != nil {
		if res.OnlySmartListErrors() {
			fmt.Fprintln(stderr, "campc run: the project has invalid smart lists; fix them, or pass --lenient to run anyway (they qualify nobody)")
		} else {
			fmt.Fprintln(stderr, "campc run: the project has errors; nothing ran")
		}
		return exitError
	}

	var events []*vm.TimedEvent
	if *eventsFile != "" {
		// Read and check the whole timeline before touching any store.
		if events, err = readEventsFile(*eventsFile, prog); err != nil {
			fmt.Fprintf(stderr, "campc run: %v; nothing ran\n", err)
			return exitUsage
		}
		if !flagSet(fs, "now") && len(events) > 0 {
			start = events[0].Time // the timeline starts with its first event
		}
		if len(events) > 0 && events[0].Time.Before(start) {
			fmt.Fprintf(stderr, "campc run: %s: error[events]: the event at %s is before --now, %s; nothing ran\n", events[0].Pos(),
				events[0].Time.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
			return exitUsage
		}
	}
	ctx := context.Background()
	var people *checkedPeople
	if *peopleFile != "" {
		// Read the whole file before touching any store: a bad row stops
		// everything, and nothing runs.
		if people, err = openPeople(*peopleFile, prog); err != nil {
			fmt.Fprintf(stderr, "campc run: %v\n", err)
			return exitUsage
		}
		defer people.Close()
		people.stampAt(start)
	}
	store, err := openStore(ctx, *dbFlag)
	if err != nil {
		return dbError(stderr, "run", *dbFlag, err)
	}
	defer store.Close()
	stopLease := startLease(store)
	defer stopLease()
	if err := eventPeopleExist(ctx, store, people, events); err != nil {
		fmt.Fprintf(stderr, "campc run: %v; nothing ran\n", err)
		return exitUsage
	}
	var runStore storage.Store = store
	var limited *listedPeople
	if *dbFlag != "" && *peopleFile != "" {
		// With --db, --people limits a batch run to the people it lists,
		// as it limits a trigger run; the list is known once the file is
		// imported, after the database has caught up with --now.
		limited = &listedPeople{Store: store}
		runStore = limited
	}
	clock := vm.NewManualClock(start)
	vopts := vm.Options{Store: runStore, Clock: clock, StepBudget: *stepBudget, CascadeBudget: *cascadeBudget, BatchGroup: *batchGroup, Workers: *workers}
	if *trace {
		w := stdout
		if format.value == "json" {
			w = stderr
		}
		vopts.Tracer = explain.NewWriter(w)
	}
	eng, err := vm.New(prog, vopts)
	if err != nil {
		fmt.Fprintf(stderr, "campc run: %v\n", err)
		return exitError
	}
	var c *ir.Campaign
	if *eventsFile == "" {
		if c, err = findCampaign(eng, prog, *workspace, name); err != nil {
			fmt.Fprintf(stderr, "campc run: %v\n", err)
			return exitError
		}
		if c.Kind == ir.Executable {
			fmt.Fprintf(stderr, "campc run: campaign %q is executable: it runs only when another campaign executes it%s\n", c.Name, callersOf(prog, c))
			return exitError
		}
	}
	var reports []*vm.Report
	if *dbFlag != "" {
		// Bug 9: the database first comes up to --now, in time order,
		// before the people file is imported at --now.
		// A timeline's first event gives its start as --now does.
		reps, err := bringUp(ctx, eng, start, false, flagSet(fs, "now") || len(events) > 0)
		var back *errBackInTime
		if errors.As(err, &back) {
			if !flagSet(fs, "now") {
				back.what = "the first event (" + events[0].Pos() + ")"
			}
			fmt.Fprintf(stderr, "campc run: %v; nothing ran\n", err)
			return exitUsage
		}
		reports = append(reports, reps...)
		if err != nil {
			writeLog(stdout, format.value, prog, activitiesOf(reports), reports)
			return runFailed(stderr, "run", *dbFlag, err)
		}
	}
	var ids []string
	if people != nil && people.len() > 0 {
		if err := store.ImportEach(ctx, people.next(), nil); err != nil {
			return runFailed(stderr, "run", *dbFlag, fmt.Errorf("import %s: %w", *peopleFile, err))
		}
		ids = people.ids()
	}
	if *peopleFile == "" {
		if ids, err = store.PersonIDs(ctx); err != nil {
			return runFailed(stderr, "run", *dbFlag, err)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if limited != nil {
		limited.ids, limited.set = ids, true
	}
	if *eventsFile != "" {
		end := start
		if n := len(events); n > 0 {
			end = events[n-1].Time
		}
		end = end.Add(until.d)
		if err := clockEnd(end, 0); err != nil {
			fmt.Fprintf(stderr, "campc run: %v\n", err)
			return exitUsage
		}
		reps, runErr := runTimeline(ctx, eng, clock, events, start, end)
		return finishRun(stdout, stderr, format.value, *dbFlag, *trace, prog, append(reports, reps...), runErr)
	}
	opts := vm.RunOptions{Tokens: tokens, Again: *again}
	// Work a stopped run left queued in a durable store goes first.
	rep, runErr := eng.Recover(ctx)
	reports = append(reports, rep)
	if runErr == nil {
		people := ids
		if c.Kind == ir.Trigger {
			if people, err = visiblePeople(ctx, store, c, ids); err != nil {
				return runFailed(stderr, "run", *dbFlag, err)
			}
		}
		var reps []*vm.Report
		reps, runErr = startBatchOrCampaign(ctx, eng, c, people, opts, stderr)
		reports = append(reports, reps...)
		var ue *usageError
		if errors.As(runErr, &ue) {
			fmt.Fprintf(stderr, "campc run: %v\n", ue.err)
			return ue.code
		}
		for _, rep := range reps {
			if rep != nil && rep.Resumed {
				fmt.Fprintf(stderr, "campc run: finished an earlier run of %q that had stopped part way\n", c.Name)
			}
			if rep != nil && rep.Completed != nil {
				fmt.Fprintf(stderr, "campc run: the run of %q at %s is complete; nothing ran, and its log below is from the database (--again runs it again)\n",
					c.Name, rep.Completed.Started.UTC().Format(time.RFC3339))
			}
		}
	}
	if runErr == nil && until.d > 0 {
		clock.Set(start.Add(until.d))
		var rep *vm.Report
		rep, runErr = eng.Advance(ctx)
		reports = append(reports, rep)
	}
	return finishRun(stdout, stderr, format.value, *dbFlag, *trace, prog, reports, runErr)
}

// activitiesOf lists the reports' activities in order.
func activitiesOf(reports []*vm.Report) []*storage.Activity {
	var acts []*storage.Activity
	for _, r := range reports {
		if r != nil {
			acts = append(acts, r.Activities...)
		}
	}
	return acts
}

// finishRun prints a run's log and its error.
func finishRun(stdout, stderr io.Writer, format, db string, trace bool, prog *ir.Program, reports []*vm.Report, runErr error) int {
	acts := activitiesOf(reports)
	// A budget error stops a runaway cascade: the log committed before the
	// failing pass is printed, even when empty, with the error after it.
	budget := errors.Is(runErr, vm.ErrCascadeBudget) || errors.Is(runErr, vm.ErrStepBudget)
	if runErr == nil || len(acts) > 0 || budget {
		writeLog(stdout, format, prog, acts, reports)
	}
	if runErr != nil {
		code := runFailed(stderr, "run", db, runErr)
		var ve *vm.Error
		if budget && errors.As(runErr, &ve) && !trace {
			// What looped was rolled back, so the log cannot show it.
			fmt.Fprintf(stderr, "campc run: nothing of person %s's unfinished passes was saved; --trace shows them as they ran\n", lang.QuoteIfNeeded(ve.Person))
		}
		return code
	}
	return exitOK
}

// listedPeople is a store whose people, for a batch run, are the ones
// listed (sorted), not everyone it holds.
type listedPeople struct {
	storage.Store
	ids []string
	set bool // until the list is set, everyone the store holds
}

func (l *listedPeople) PersonIDs(ctx context.Context) ([]string, error) {
	if !l.set {
		return l.Store.PersonIDs(ctx)
	}
	return slices.Clone(l.ids), nil
}

// ConcurrentTx passes on whether the store runs batch groups at once.
func (l *listedPeople) ConcurrentTx() bool {
	cs, ok := l.Store.(interface{ ConcurrentTx() bool })
	return ok && cs.ConcurrentTx()
}

// findCampaign finds the campaign that campc run and campc explain start:
// by its name in workspace ws, or, without ws, by a name that picks one
// campaign (its name, or "Workspace/Campaign"). The error suggests a
// near name, or the --workspace that settles an ambiguous one.
func findCampaign(eng *vm.Engine, prog *ir.Program, ws, name string) (*ir.Campaign, error) {
	c, err := eng.CampaignIn(ws, name)
	var amb *vm.AmbiguousError
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &amb):
		var how []string
		for _, c := range amb.Campaigns {
			how = append(how, fmt.Sprintf("--workspace %s %s", shellQuote(c.Workspace.Name), shellQuote(c.Name)))
		}
		return nil, fmt.Errorf("%v: write %s", err, strings.Join(how, " or "))
	}
	return nil, fmt.Errorf("%v%s", err, suggestCampaign(prog, name))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func suggestCampaign(prog *ir.Program, name string) string {
	var all []string
	for _, c := range prog.Campaigns {
		all = append(all, c.Name)
	}
	if best := compiler.Nearest(name, all); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

func callersOf(prog *ir.Program, c *ir.Campaign) string {
	var names []string
	for _, call := range prog.Callers(c) {
		if n := fmt.Sprintf("%q", call.Caller.Name); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "; run a campaign that executes it: " + strings.Join(names, ", ")
}

func writeTextLog(w io.Writer, prog *ir.Program, acts []*storage.Activity, reports []*vm.Report) {
	for _, a := range acts {
		writeTextActivity(w, a)
	}
	writeSummary(w, prog, acts, reports)
}

// writeTextActivity writes one line of the text log. Every value in it is
// escaped (lang.Escape): an Id or a value holding ESC or a line break must
// neither drive the terminal nor fake a log line.
func writeTextActivity(w io.Writer, a *storage.Activity) {
	line := fmt.Sprintf("%4d  %s  person %-6s %-22s %-18s %q%s", a.Seq, a.Time.UTC().Format(time.RFC3339), lang.QuoteIfNeeded(a.Person),
		quoteName(a.Campaign), a.Type, a.Primary, explain.FormatAttrs(a.Attributes))
	fmt.Fprintln(w, lang.Escape(line))
}

func quoteName(s string) string {
	if s == "" {
		return "-"
	}
	return strconv.Quote(s)
}

// writeSummary counts, per campaign, the people who entered its flow and
// the people who passed each step that wrote an activity, over the
// reports' operations. A batch run found complete brings the counts stored
// with it (its stored activities do not say which step wrote them), so its
// summary reads as when it ran. A campaign is labelled by its kind and a
// step by its source text, found in prog: never by an activity's primary
// value, which may be a person's data (Delete Person's is the Id).
func writeSummary(w io.Writer, prog *ir.Program, acts []*storage.Activity, reports []*vm.Report) {
	type stepCount struct {
		pos    string
		line   int
		col    int
		file   string
		label  string
		people map[string]bool
		stored int
	}
	type campCount struct {
		flow    bool // it was started on its own, not executed
		ws      string
		entered map[string]bool
		stored  int
		steps   map[string]*stepCount
	}
	camps := map[string]*campCount{}
	var order []string
	get := func(name string) *campCount {
		if c := camps[name]; c != nil {
			return c
		}
		c := &campCount{entered: map[string]bool{}, steps: map[string]*stepCount{}}
		camps[name] = c
		order = append(order, name)
		return c
	}
	sources := stepSources(prog)
	step := func(c *campCount, file string, line, col int, typ, src string) *stepCount {
		key := fmt.Sprintf("%s:%d:%d", file, line, col) // as the step's Pos prints
		if file == "" {
			key = fmt.Sprintf("%d:%d", line, col)
		}
		sc := c.steps[key]
		if sc == nil {
			if src == "" {
				src = sources[key]
			}
			if src == "" {
				// A stored run's step the project no longer has.
				src = typ
			}
			sc = &stepCount{pos: key, file: file, line: line, col: col, label: src, people: map[string]bool{}}
			c.steps[key] = sc
		}
		return sc
	}
	for _, r := range reports {
		if r == nil {
			continue
		}
		if r.Completed != nil {
			for _, e := range r.Completed.Summary.Entered {
				c := get(e.Campaign)
				c.flow, c.stored = true, c.stored+e.People
			}
		}
		for _, e := range r.Entered {
			c := get(e.Campaign.Name)
			c.flow, c.entered[e.Person] = true, true
			c.ws = e.Campaign.Workspace.Name
		}
	}
	for _, r := range reports {
		if r == nil {
			continue
		}
		if r.Completed != nil {
			for _, s := range r.Completed.Summary.Steps {
				c := get(s.Campaign)
				if c.ws == "" {
					c.ws = r.Completed.Workspace
				}
				step(c, s.File, s.Line, s.Column, s.Type, "").stored += s.People
			}
			continue
		}
		for _, a := range r.Activities {
			st := a.Step()
			if st == nil || a.Campaign == "" {
				continue
			}
			c := get(a.Campaign)
			if c.ws == "" {
				c.ws = a.Workspace
			}
			step(c, st.Pos.Filename, st.Pos.Line, st.Pos.Column, a.Type, oneLine(st.Source)).people[a.Person] = true
		}
	}
	noun := "activities"
	if len(acts) == 1 {
		noun = "activity"
	}
	fmt.Fprintf(w, "\nsummary: %d %s\n", len(acts), noun)
	for _, name := range order {
		c := camps[name]
		switch kind := campaignKind(prog, c.ws, name); {
		case c.flow:
			fmt.Fprintf(w, "  campaign %q: %s entered the flow\n", name, countPeople(len(c.entered)+c.stored))
		case kind == ir.Batch || kind == ir.Trigger:
			// Its steps ran for people already in its flow: resumed
			// from a wait by advance or --until.
			fmt.Fprintf(w, "  campaign %q (%s)\n", name, kind)
		default:
			fmt.Fprintf(w, "  campaign %q (executed)\n", name)
		}
		var steps []*stepCount
		for _, s := range c.steps {
			steps = append(steps, s)
		}
		sort.Slice(steps, func(i, j int) bool {
			if steps[i].file != steps[j].file {
				return steps[i].file < steps[j].file
			}
			if steps[i].line != steps[j].line {
				return steps[i].line < steps[j].line
			}
			return steps[i].col < steps[j].col
		})
		for _, s := range steps {
			fmt.Fprint(w, lang.Escape(fmt.Sprintf("    %-28s %-*s %s", s.pos, summaryLabel, s.label, countPeople(len(s.people)+s.stored))), "\n")
		}
	}
}

// stepSources maps each step's position, as the summary writes it, to its
// source text on one line.
func stepSources(prog *ir.Program) map[string]string {
	out := map[string]string{}
	if prog == nil {
		return out
	}
	for _, c := range prog.Campaigns {
		ir.WalkSteps(c.Flow, func(step ir.Step) {
			s := step.Base()
			key := fmt.Sprintf("%s:%d:%d", s.Pos.Filename, s.Pos.Line, s.Pos.Column)
			if s.Pos.Filename == "" {
				key = fmt.Sprintf("%d:%d", s.Pos.Line, s.Pos.Column)
			}
			out[key] = oneLine(s.Source)
		})
	}
	return out
}

// oneLine folds a step's source text, which may span lines, onto one, and
// shortens it to the summary's column.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > summaryLabel {
		s = string(r[:summaryLabel-1]) + "…"
	}
	return s
}

// summaryLabel is the width of the summary's step column.
const summaryLabel = 48

// campaignKind is the kind of the named campaign, or -1 when prog does not
// have it.
func campaignKind(prog *ir.Program, ws, name string) ir.Kind {
	if prog != nil {
		if c := prog.Campaign(ws, name); c != nil {
			return c.Kind
		}
	}
	return -1
}

// visiblePeople keeps the ids whose person the campaign's workspace sees.
func visiblePeople(ctx context.Context, st storage.Store, c *ir.Campaign, ids []string) ([]string, error) {
	tx, err := st.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var out []string
	for _, id := range ids {
		p, err := tx.LoadPerson(id)
		if err != nil {
			return nil, err
		}
		if p != nil && c.Workspace.Sees(p.Partition) {
			out = append(out, id)
		}
	}
	return out, nil
}

func countPeople(n int) string {
	if n == 1 {
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}

// usageError is a problem with how a campaign was asked to run, reported
// with its exit code before anything is printed.
type usageError struct {
	code int
	err  error
}

func (e *usageError) Error() string { return e.err.Error() }

// startCampaign runs a campaign as campc run and campc explain do: a batch
// campaign over everyone its workspace sees; a trigger campaign requested
// for people, as the API does, or, when it cannot be requested, by
// simulating for each person the event its first trigger listens to.
// Executables are refused by the callers, with their callers named.
func startCampaign(ctx context.Context, eng *vm.Engine, c *ir.Campaign, people []string, opts vm.RunOptions) ([]*vm.Report, error) {
	if err := checkTokenValues(c, opts.Tokens); err != nil {
		return nil, &usageError{exitUsage, err}
	}
	// The campaign is named by its workspace and name, never by a
	// "Workspace/Name" string, which names with "/" make ambiguous.
	name := c.Name
	opts.Workspace = c.Workspace.Name
	switch {
	case c.Kind == ir.Batch:
		rep, err := eng.RunBatch(ctx, name, opts)
		return []*vm.Report{rep}, err
	case c.Requestable("api"):
		rep, err := eng.Request(ctx, name, people, opts)
		return []*vm.Report{rep}, err
	}
	ev, err := explain.SimulatedEvent(c)
	if err != nil {
		return nil, &usageError{exitError, err}
	}
	if len(opts.Tokens) > 0 {
		return nil, &usageError{exitUsage, fmt.Errorf("--token applies to batch campaigns and API requests; %q is started by its trigger", c.Name)}
	}
	var reps []*vm.Report
	for _, id := range people {
		ev.Person = id
		rep, err := eng.Deliver(ctx, ev)
		reps = append(reps, rep)
		if err != nil {
			return reps, err
		}
	}
	return reps, nil
}

// startBatchOrCampaign is startCampaign for campc run: while another
// process is running the batch run asked for (see lease.go), it says so
// once and waits for that run to finish or to stop.
func startBatchOrCampaign(ctx context.Context, eng *vm.Engine, c *ir.Campaign, people []string, opts vm.RunOptions, stderr io.Writer) ([]*vm.Report, error) {
	said := false
	for {
		reps, err := startCampaign(ctx, eng, c, people, opts)
		var busy *store.RunBusyError
		if !errors.As(err, &busy) {
			return reps, err
		}
		if !said {
			fmt.Fprintf(stderr, "campc run: %v; waiting for it to finish\n", busy)
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(busyPoll):
		}
	}
}

// writeLog prints activities in the form --format asks for.
func writeLog(w io.Writer, format string, prog *ir.Program, acts []*storage.Activity, reports []*vm.Report) {
	if format == "json" {
		storage.WriteJSONLog(w, acts)
	} else {
		writeTextLog(w, prog, acts, reports)
	}
}
