package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
)

// parseInterleaved parses flags that may stand before, between or after
// positional arguments ("campc check examples --format json"); "--" ends
// the flags. -h or --help prints the command's usage to standard output
// and returns flag.ErrHelp; a bad flag prints one line to standard error
// (the flag, the problem, and where the usage is) and returns the error.
// Callers turn either into an exit code with flagExit.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseQuiet(fs, args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.Usage()
			} else {
				badUsage(fs, "%s", flagProblem(err))
			}
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseQuiet parses with the flag package's own messages silenced: it
// prints the whole usage on any error, where one line says more.
func parseQuiet(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defer func() { fs.SetOutput(out); fs.Usage = usage }()
	return fs.Parse(args)
}

// flagExit is the exit code for parseInterleaved's error: 0 after -h or
// --help, 2 for a bad flag.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// badUsage prints a usage problem as one line that points to --help, and
// returns the exit code for it.
func badUsage(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(fs.Output(), "campc %s: %s; run 'campc %s --help' for usage\n", fs.Name(), lang.Escape(fmt.Sprintf(format, args...)), fs.Name())
	return exitUsage
}

// The flag package's error messages, to say them with the flag written
// as campc's documentation writes it (--name).
var (
	errUnknownFlag = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	errNeedsValue  = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	errBadBool     = regexp.MustCompile(`^invalid boolean value (".*") for -+([^:]*): `)
	errBadBoolFlag = regexp.MustCompile(`^invalid boolean flag ([^:]*): `)
	errBadValue    = regexp.MustCompile(`^invalid value (".*") for flag -+([^:]*): (.*)$`)
)

// flagProblem says what is wrong with a flag, naming it.
func flagProblem(err error) string {
	msg := err.Error()
	if m := errUnknownFlag.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown flag --%s", m[1])
	}
	if m := errNeedsValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s needs a value", m[1])
	}
	if m := errBadBool.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s takes true or false, not %s", m[2], m[1])
	}
	if m := errBadBoolFlag.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s takes true or false", m[1])
	}
	if m := errBadValue.FindStringSubmatch(msg); m != nil {
		switch m[3] {
		case "parse error": // a number flag
			return fmt.Sprintf("--%s takes a whole number, not %s", m[2], m[1])
		case "value out of range":
			return fmt.Sprintf("--%s: %s is out of range", m[2], m[1])
		}
		return fmt.Sprintf("--%s: %s", m[2], m[3])
	}
	return msg
}

// newFlagSet makes a flag set that reports errors (not panics, not exits):
// its usage, for -h and --help, goes to stdout; problems go to stderr.
func newFlagSet(name, synopsis string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printUsage(stdout, fs, synopsis) }
	return fs
}

// printUsage writes a command's synopsis, what it does (commandDoc), and
// its flags, as --name TYPE lines.
func printUsage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "usage: campc %s\n", synopsis)
	if doc := commandDoc[fs.Name()]; doc != "" {
		fmt.Fprintf(w, "\n%s", doc)
	}
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nflags:\n")
			first = false
		}
		typ, text := flag.UnquoteUsage(f)
		switch v := f.Value.(type) {
		case *timeFlag:
			typ = "TIME"
		case *durationFlag:
			typ = "DURATION"
		case *choice:
			typ = strings.Join(v.allowed, "|")
		case tokenFlags:
			typ = "my.Name=VALUE"
		default:
			if typ == "int" {
				typ = "N"
			} else if typ != "" {
				typ = map[string]string{"people": "FILE", "person": "ID", "debounce": "DURATION", "users": "FILE", "addr": "HOST:PORT"}[f.Name]
				if typ == "" {
					typ = strings.ToUpper(f.Name)
				}
			}
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		line := "  " + dash + f.Name
		if typ != "" {
			line += " " + typ
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0" && def != "0s" && def != "now" && !strings.Contains(text, "default") {
			text += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(w, "%s\n        %s\n", line, text)
	})
}

// commandHelp prints a command's usage for "campc help CMD", as CMD
// --help does.
func commandHelp(cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	if _, ok := commandDoc[cmd]; !ok || cmd == "help" {
		fmt.Fprintf(stderr, "campc help: unknown command %q; run 'campc help' for the commands\n", lang.Escape(cmd))
		return exitUsage
	}
	return run([]string{cmd, "--help"}, stdin, stdout, stderr)
}

// commandDoc says what each command does, under its synopsis in --help.
var commandDoc = map[string]string{
	"check": "Check .camp files and directories as one project. Exit 0: clean (warnings are\nprinted); 1: errors; 2: usage or I/O problems.\n",
	"run": `Compile the project and run one campaign over people. Say where the people
come from:
  --people FILE   the people in a .csv or .jsonl file (in memory);
  --db DB         the people a database holds (campc import puts them there).
With both, the file is imported into the database first, and the run, batch
or trigger, is for the people the file lists only.
A batch campaign runs over everyone its workspace sees; a trigger campaign
for each person, as its first trigger (or an API request) would start it.
`,
	"import":  "Import people (.csv or .jsonl) into a database: all of the file or, on a bad\nrow, none of it.\n",
	"log":     "Print the activity log a database holds.\n",
	"explain": "Show, step by step, what a campaign does for one person and why: the person\nfrom a people file (--people) or a database (--db). With --db, the database is\nonly read: the campaign runs on a copy of the person (fields, lists, program\nstatuses, log and waits). --until then advances the clock, resuming waits.\n",
	"advance": "Move the clock to --now plus --until and resume the waits and queued runs a\ndatabase holds.\n",
	"migrate": "Create or update a database's schema.\n",
	"status":  "Show the campc serve processes alive on a database, River's jobs by kind and\nstate, the waits due in the next hour, the oldest waiting job's age, and the\ndead jobs (retries exhausted) with their last error.\n",
	"retry":   "Run dead jobs (River's discarded jobs) again: the ids given, or --all.\n",
	"fmt":     "Format .camp files in the one canonical layout (no PATH: standard input).\n",
	"graph":   "Draw which campaign executes or requests which, as Graphviz or Mermaid.\n",
	"lsp":     "Serve the Language Server Protocol over standard input and output, for\neditors: diagnostics as you type, hover, go to definition, references,\ncompletion, rename, formatting, symbols, quick fixes and semantic tokens.\nA file's project is the editor's workspace folder that holds it, else the\nfile's folder, loaded as campc check loads it. Logs go to standard error.\n",
	"serve": `Run the project as a service: Marketo's REST API (/identity, /rest), with the
waits, schedules (run at, run every, run now) and triggers running on the
clock; GET /healthz and GET /metrics for operations. API users come from
CAMPC_CLIENT_ID and CAMPC_CLIENT_SECRET (with CAMPC_WORKSPACE when the project
has several workspaces) and from --users. SIGTERM drains the calls and passes
in flight and stops; the next start resumes. SIGHUP reads and checks the same
PATHs again: a project with errors is logged and refused, and the service
keeps running; a good one is deployed (see campc deploy). A deploy that campc
deploy recorded is run from the next tick.
`,
	"deploy": `Check a project and record it in the database as the one every campc serve on
it runs next: each picks it up on its next tick (or start), and the first to
do so moves the people who wait, once, in one transaction. A person waiting
in a wait step that the new flow still has (whatever was inserted or deleted
around it) continues after it; one whose wait step or campaign is gone leaves
the flow with a Wait Dropped activity that says why. The plan, who would move
where, is printed first; --dry-run prints it and writes nothing.
Exit 0: deployed (or planned); 1: the project has errors (printed as
file:line:col; nothing written) or the deploy failed; 2: usage, I/O or
database problems.
`,
	"help": "",
}

// choice is a flag whose value must be one of a fixed set.
type choice struct {
	value   string
	allowed []string
}

func (c *choice) String() string { return c.value }

func (c *choice) Set(s string) error {
	for _, a := range c.allowed {
		if s == a {
			c.value = s
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(c.allowed, ", "))
}

// flagSet reports whether a flag was given on the command line, to tell an
// explicit value from the default.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// clockEnd refuses a --now plus --until that leaves the clock's range: the
// clock could not get there, nor a store keep the times.
func clockEnd(start time.Time, until time.Duration) error {
	if end := start.Add(until); !stdlib.InTimeRange(end) {
		return fmt.Errorf("--until %s from %s ends at %s, outside the clock's range, %s", formatDays(until), start.Format(time.RFC3339), end.Format(time.RFC3339), stdlib.TimeRange)
	}
	return nil
}

// formatDays writes a duration as the days flag reads it.
func formatDays(d time.Duration) string {
	day := 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
