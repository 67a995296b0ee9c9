package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/campc/campc/lang"
	"github.com/campc/campc/serve"
	"github.com/campc/campc/store"
)

func openForStatus(ctx context.Context, db string) (*store.Store, error) {
	if store.IsPostgres(db) {
		return store.OpenPostgres(ctx, db, false)
	}
	return store.OpenSQLite(ctx, db)
}

func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "status --db PATH_OR_URL [--format text|json]", stdout, stderr)
	db := fs.String("db", "", "the database: a SQLite file path or a postgres:// URL")
	format := fs.String("format", "text", "text or json")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 {
		return badUsage(fs, "unexpected argument %q", rest[0])
	}
	if *format != "text" && *format != "json" {
		return badUsage(fs, "--format: %q is neither text nor json", *format)
	}
	if !requireDB("status", *db, stderr) {
		return exitUsage
	}
	ctx := context.Background()
	st, err := openForStatus(ctx, *db)
	if err != nil {
		return dbError(stderr, "status", *db, err)
	}
	defer st.Close()
	now := time.Now()
	s, err := serve.ReadStatus(ctx, st, now)
	if err != nil {
		return dbError(stderr, "status", *db, err)
	}
	if *format == "json" {
		type proc struct {
			ID, Host  string
			PID       int
			Started   time.Time
			Heartbeat time.Time
		}
		out := struct {
			Processes        []proc           `json:"processes"`
			Jobs             []serve.JobCount `json:"jobs"`
			WaitsDueNextHour int              `json:"waits_due_next_hour"`
			OldestJobAgeSec  float64          `json:"oldest_job_age_seconds"`
			Dead             []serve.DeadJob  `json:"dead"`
		}{Processes: []proc{}, Jobs: s.Jobs, WaitsDueNextHour: s.WaitsDueNextHour, OldestJobAgeSec: s.OldestJobAge.Seconds(), Dead: s.Dead}
		for _, p := range s.Processes {
			out.Processes = append(out.Processes, proc{p.ID, p.Host, p.PID, p.Started, p.Heartbeat})
		}
		if out.Jobs == nil {
			out.Jobs = []serve.JobCount{}
		}
		if out.Dead == nil {
			out.Dead = []serve.DeadJob{}
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(stdout, "processes alive: %d\n", len(s.Processes))
	for _, p := range s.Processes {
		fmt.Fprintf(stdout, "  %s  host %s  pid %d  up %s  last seen %s ago\n", lang.Escape(p.ID), lang.Escape(p.Host), p.PID,
			now.Sub(p.Started).Truncate(time.Second), now.Sub(p.Heartbeat).Truncate(time.Second))
	}
	fmt.Fprintf(stdout, "jobs:\n")
	if len(s.Jobs) == 0 {
		fmt.Fprintf(stdout, "  none\n")
	}
	for _, j := range s.Jobs {
		fmt.Fprintf(stdout, "  %-14s %-10s %d\n", lang.Escape(j.Kind), j.State, j.Count)
	}
	fmt.Fprintf(stdout, "waits due in the next hour: %d\n", s.WaitsDueNextHour)
	fmt.Fprintf(stdout, "oldest job waiting: %s\n", s.OldestJobAge.Truncate(time.Millisecond))
	fmt.Fprintf(stdout, "dead jobs: %d\n", len(s.Dead))
	for _, d := range s.Dead {
		fmt.Fprintf(stdout, "  job %d  %s  %d attempts  %s: %s\n", d.ID, lang.Escape(d.Kind), d.Attempts, d.At.UTC().Format(time.RFC3339), lang.Escape(d.Error))
	}
	return exitOK
}

func cmdRetry(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("retry", "retry --db URL (--all | JOB_ID ...)", stdout, stderr)
	db := fs.String("db", "", "the database: a postgres:// URL")
	all := fs.Bool("all", false, "retry every dead job")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if !requireDB("retry", *db, stderr) {
		return exitUsage
	}
	if *all == (len(rest) > 0) {
		return badUsage(fs, "give the ids of the jobs to retry, or --all")
	}
	if !store.IsPostgres(*db) {
		fmt.Fprintf(stderr, "campc retry: --db: River's jobs are on PostgreSQL (a postgres:// URL); on SQLite the service retries its own work\n")
		return exitUsage
	}
	var ids []int64
	for _, a := range rest {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return badUsage(fs, "%q is not a job id", a)
		}
		ids = append(ids, id)
	}
	ctx := context.Background()
	st, err := openForStatus(ctx, *db)
	if err != nil {
		return dbError(stderr, "retry", *db, err)
	}
	defer st.Close()
	n, err := serve.RetryJobs(ctx, st, ids)
	if n > 0 {
		fmt.Fprintf(stdout, "%d jobs queued again\n", n)
	}
	if err != nil {
		fmt.Fprintf(stderr, "campc retry: %s\n", lang.Escape(store.RedactIn(err.Error(), *db)))
		return exitError
	}
	if n == 0 {
		fmt.Fprintf(stdout, "no dead jobs\n")
	}
	return exitOK
}
