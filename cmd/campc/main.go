// Command campc checks and runs campaign projects written in the campc
// language. See spec.md for the language and README.md for the commands.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/campc/campc/lang"
)

// Exit codes: 0 clean, 1 the project has errors (or a run failed), 2 usage
// or I/O problems.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: campc <command> [flags] [arguments]

commands:
  check [--format text|json] [--strict] [--max-errors N] [PATH ...]
        check .camp files and directories as one project
  run (--people FILE | --db DB) [flags] CAMPAIGN [PATH ...]
        compile the project and run one campaign over people
  run --events FILE [flags] [PATH ...]
        apply a timeline of timed events, with the waits and schedules due between them
  import --db DB [--now TIME] PEOPLE [PATH ...]
        import people (.csv or .jsonl) into a database
  log --db DB [--person ID] [--format text|json]
        print the activity log a database holds
  explain CAMPAIGN --person ID (--people FILE | --db DB) [flags] [PATH ...]
        show, step by step, what a campaign does for one person and why
  advance --db DB [--now TIME] [--until DURATION] [PATH ...]
        resume the waits and queued runs a database holds, and run the schedules due
  migrate --db DB
        create or update a database's schema
  fmt [-l] [-d] [-w] [--check] [PATH ...]
        format .camp files in the one canonical layout (no PATH: standard input)
  graph [--format dot|mermaid] [PATH ...]
        draw which campaign executes or requests which, as Graphviz or Mermaid
  lsp [--debounce DURATION]
        serve the Language Server Protocol on standard input and output, for editors
  serve [--db DB] [--addr HOST:PORT] [--token-ttl DURATION] [--users FILE] [PATH ...]
        run the project as a service: Marketo's REST API, schedules and waits on the clock
  deploy --db DB [--dry-run] [PATH ...]
        check a project and have every campc serve on DB run it, moving the people who wait
  status --db DB [--format text|json]
        show the serve processes alive, the jobs by kind and state, the waits due and dead jobs
  retry --db URL [--all | JOB_ID ...]
        run discarded jobs (retries exhausted) again
  help [COMMAND]
        print this message, or a command's usage

Run "campc <command> --help" (or "campc help <command>") for a command's flags.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "import":
		return cmdImport(args[1:], stdout, stderr)
	case "log":
		return cmdLog(args[1:], stdout, stderr)
	case "migrate":
		return cmdMigrate(args[1:], stdout, stderr)
	case "advance":
		return cmdAdvance(args[1:], stdout, stderr)
	case "fmt":
		return cmdFmt(args[1:], stdin, stdout, stderr)
	case "graph":
		return cmdGraph(args[1:], stdout, stderr)
	case "lsp":
		return cmdLSP(args[1:], stdin, stdout, stderr)
	case "serve":
		return cmdServe(args[1:], stdout, stderr)
	case "deploy":
		return cmdDeploy(args[1:], stdout, stderr)
	case "explain":
		return cmdExplain(args[1:], stdout, stderr)
	case "status":
		return cmdStatus(args[1:], stdout, stderr)
	case "retry":
		return cmdRetry(args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		if args[0] == "help" && len(args) > 1 && !strings.HasPrefix(args[1], "-") {
			return commandHelp(args[1], stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "campc: unknown command %q; run 'campc help' for the commands\n", lang.Escape(args[0]))
		return exitUsage
	}
}
