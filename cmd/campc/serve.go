package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/campc/campc/console"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/mail"
	"github.com/campc/campc/serve"
	"github.com/campc/campc/store"
)

// wallClock is the host's clock, the only one campc serve reads.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// drainTimeout is how long SIGTERM waits for calls and passes in flight.
const drainTimeout = 30 * time.Second

func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "serve [--db DB] [--addr HOST:PORT] [--token-ttl DURATION] [--users FILE] [--webhook-allow LIST] [--webhook-timeout DURATION] [--webhook-attempts N] [--smtp URL] [--no-console] [PATH ...]", stdout, stderr)
	db := fs.String("db", "campc.db", "the database: a SQLite file path (created and migrated) or a postgres:// URL (migrated by campc migrate)")
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on")
	ttl := durationFlag{d: serve.DefaultTokenTTL}
	fs.Var(&ttl, "token-ttl", "how long an access token lasts (30m, 2h)")
	users := fs.String("users", "", "a JSON file of API users: [{\"client_id\", \"client_secret\", \"workspace\"}, …] (besides CAMPC_CLIENT_ID and CAMPC_CLIENT_SECRET)")
	rate := fs.Int("rate-limit", serve.DefaultRateLimit, "calls per API user per --rate-window; more get error 606")
	window := durationFlag{d: serve.DefaultRateWindow}
	fs.Var(&window, "rate-window", "the window of --rate-limit")
	maxBody := fs.Int("max-body", serve.DefaultMaxBody, "the largest request body, in bytes (larger: HTTP 413)")
	workers := fs.Int("workers", 4, "PostgreSQL: how many of River's jobs (waits due, email, webhook calls, schedules) this process works at once; chunks of batch runs: one per core, at most this many")
	hookAllow := fs.String("webhook-allow", "", "host patterns webhooks may call even at private, loopback or link-local addresses, comma-separated: hooks.example.com, *.corp.internal, 127.0.0.1, 10.0.0.0/8 (public addresses need none)")
	hookTimeout := durationFlag{d: serve.DefaultWebhookTimeout}
	fs.Var(&hookTimeout, "webhook-timeout", "how long one webhook attempt may take (5xx answers and network errors are tried again, up to --webhook-attempts attempts)")
	hookAttempts := fs.Int("webhook-attempts", serve.DefaultWebhookAttempts, "attempts at a webhook call in all (5xx answers and network errors are tried again, from 0.5s doubling to 30s between them; on PostgreSQL each attempt is a run of the call's River job)")
	smtpURL := fs.String("smtp", "", "the SMTP relay that delivers email and alerts: smtp://user:password@host:port (STARTTLS when offered) or smtps://… (TLS); the password may come from CAMPC_SMTP_PASSWORD instead. Without it nothing is delivered")
	smtpFrom := fs.String("smtp-from", "campc@localhost", "the sender of alerts and of email that names no from")
	smtpTimeout := durationFlag{d: mail.DefaultTimeout}
	fs.Var(&smtpTimeout, "smtp-timeout", "how long one delivery attempt may take; a message a stopped process was sending is tried again after three times this")
	smtpAttempts := fs.Int("smtp-attempts", serve.DefaultMaxAttempts, "attempts at a message before it is Send Email Failed (waits double from 30s between them, at most 1h)")
	noConsole := fs.Bool("no-console", false, "do not serve the web console at /console (it signs in API users, and admin with CAMPC_CONSOLE_PASSWORD)")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	var mailer serve.Mailer
	var relay string
	if *smtpURL != "" {
		r, err := mail.ParseURL(*smtpURL)
		if err != nil {
			return badUsage(fs, "%s", err)
		}
		if r.User != "" && r.Password == "" {
			r.Password = os.Getenv("CAMPC_SMTP_PASSWORD")
		}
		snd, err := mail.NewSender(r, *smtpFrom, smtpTimeout.d)
		if err != nil {
			return badUsage(fs, "%s", err)
		}
		mailer, relay = snd, r.String()
	}
	switch {
	case smtpTimeout.d <= 0:
		return badUsage(fs, "--smtp-timeout must be positive")
	case *smtpAttempts <= 0:
		return badUsage(fs, "--smtp-attempts must be positive, not %d", *smtpAttempts)
	case *db == "":
		return badUsage(fs, "--db needs a value (a SQLite file path or a postgres:// URL)")
	case ttl.d <= 0:
		return badUsage(fs, "--token-ttl must be positive")
	case *rate <= 0:
		return badUsage(fs, "--rate-limit must be positive, not %d", *rate)
	case window.d <= 0:
		return badUsage(fs, "--rate-window must be positive")
	case *maxBody <= 0:
		return badUsage(fs, "--max-body must be positive, not %d", *maxBody)
	case hookTimeout.d <= 0:
		return badUsage(fs, "--webhook-timeout must be positive")
	case *hookAttempts <= 0:
		return badUsage(fs, "--webhook-attempts must be positive, not %d", *hookAttempts)
	}
	allow, err := serve.ParseWebhookAllow(*hookAllow)
	if err != nil {
		return badUsage(fs, "--webhook-allow: %s", err)
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return badUsage(fs, "--addr %s: want HOST:PORT, such as 127.0.0.1:8080", *addr)
	}
	log := newLogger(stderr)

	proj, prog, code := loadDeployable(paths, stderr)
	if code != exitOK {
		if code == exitError {
			fmt.Fprintln(stderr, "campc serve: the project has errors; not starting")
		}
		return code
	}
	apiUsers, err := readUsers(*users, prog.Workspaces)
	if err != nil {
		fmt.Fprintf(stderr, "campc serve: %s\n", lang.Escape(err.Error()))
		return exitUsage
	}

	ctx := context.Background()
	var st *store.Store
	if store.IsPostgres(*db) {
		st, err = store.OpenPostgres(ctx, *db, false)
	} else {
		st, err = store.OpenSQLite(ctx, *db)
	}
	if err != nil {
		return dbError(stderr, "serve", *db, err)
	}
	defer st.Close()
	stopLease := startLease(st)
	defer stopLease()

	svc, err := serve.New(ctx, serve.Config{Program: prog, Store: st, Clock: wallClock{}, Users: apiUsers, TokenTTL: ttl.d,
		RateLimit: *rate, RateWindow: window.d, MaxBody: int64(*maxBody), Logger: log,
		Mailer: mailer, MaxAttempts: *smtpAttempts, ClaimTimeout: 3 * smtpTimeout.d,
		Webhooks: serve.WebhookOptions{Allow: allow, Timeout: hookTimeout.d, Attempts: *hookAttempts}, Project: proj})
	if err != nil {
		fmt.Fprintf(stderr, "campc serve: %s\n", lang.Escape(store.RedactIn(err.Error(), *db)))
		return exitUsage
	}
	// On PostgreSQL the work is shared with every other campc serve on the
	// database through River's jobs; on SQLite this process schedules it.
	if st.OnPostgres() {
		if err := svc.UseRiver(*workers); err != nil {
			fmt.Fprintf(stderr, "campc serve: %s\n", lang.Escape(store.RedactIn(err.Error(), *db)))
			return exitUsage
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "campc serve: --addr %s: %v\n", *addr, err)
		return exitUsage
	}
	// SIGHUP reloads the project from the same paths (see reload); one
	// that comes while the database catches up waits for it, rather than
	// ending the process as it would by default.
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	defer signal.Stop(hups)
	handler := svc.Handler()
	if !*noConsole {
		// The console reads the project's sources from the service, so
		// that a deploy shows its own.
		con, err := console.New(svc, console.Config{AdminPassword: os.Getenv("CAMPC_CONSOLE_PASSWORD"), Logger: log})
		if err != nil {
			fmt.Fprintf(stderr, "campc serve: the console: %v\n", err)
			return exitError
		}
		mux := http.NewServeMux()
		mux.Handle(console.Prefix, con.Handler())
		mux.Handle(console.Prefix+"/", con.Handler())
		mux.Handle("/", handler)
		handler = mux
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// /healthz answers 503 until the database has caught up.
	if err := svc.Start(ctx); err != nil {
		srv.Close()
		return runFailed(stderr, "serve", *db, err)
	}
	if mailer == nil {
		log.Warn("no --smtp: email and alerts are kept in the outbox and marked not delivered")
	}
	log.Info("campc serve ready", "addr", ln.Addr().String(), "db", store.RedactDSN(*db), "users", len(apiUsers), "campaigns", len(svc.Program().Campaigns),
		"deploy", svc.Version(), "smtp", relay)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sigs)
	stop := make(chan struct{})
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	ran := make(chan struct{})
	go func() { svc.Run(runCtx, stop); close(ran) }()
wait:
	for {
		select {
		case <-hups:
			log.Info("SIGHUP: reloading the project")
			reload(ctx, svc, paths, log)
		case sig := <-sigs:
			log.Info("stopping: draining calls and passes in flight", "signal", sig.String())
			break wait
		case err := <-served:
			log.Error("the HTTP server stopped", "error", err.Error())
			close(stop)
			<-ran
			return exitError
		}
	}
	close(stop)
	shutCtx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Error("calls still in flight at the drain timeout", "error", err.Error())
	}
	select {
	case <-ran:
	case <-shutCtx.Done():
		// A batch run still going stops at its next group; the next
		// start finishes it.
		cancelRun()
		<-ran
	}
	log.Info("stopped")
	return exitOK
}

// newLogger logs to stderr: JSON when it is not a terminal, text when a
// person reads it.
func newLogger(stderr io.Writer) *slog.Logger {
	if f, ok := stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(stderr, nil))
		}
	}
	return slog.New(slog.NewJSONHandler(stderr, nil))
}

// usersFileEntry is one API user of --users.
type usersFileEntry struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Workspace    string `json:"workspace"`
}

// readUsers gathers the API users: CAMPC_CLIENT_ID and CAMPC_CLIENT_SECRET
// (with CAMPC_WORKSPACE, needed when the project has several workspaces)
// and the --users file. Secrets are never printed.
func readUsers(file string, workspaces []*ir.Workspace) ([]serve.User, error) {
	var out []serve.User
	id, secret := os.Getenv("CAMPC_CLIENT_ID"), os.Getenv("CAMPC_CLIENT_SECRET")
	if (id == "") != (secret == "") {
		return nil, errors.New("set both CAMPC_CLIENT_ID and CAMPC_CLIENT_SECRET, or neither")
	}
	if id != "" {
		ws := os.Getenv("CAMPC_WORKSPACE")
		if ws == "" {
			if len(workspaces) == 1 {
				ws = workspaces[0].Name
			} else {
				return nil, errors.New("the project has several workspaces: set CAMPC_WORKSPACE to the one CAMPC_CLIENT_ID works in")
			}
		}
		out = append(out, serve.User{ID: id, Secret: secret, Workspace: ws})
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--users: %v", err)
		}
		var entries []usersFileEntry
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&entries); err != nil {
			// The decoder's message quotes no values, so no secret.
			return nil, fmt.Errorf("--users %s: want a JSON array of {\"client_id\", \"client_secret\", \"workspace\"}: %v", file, err)
		}
		for i, e := range entries {
			switch {
			case e.ClientID == "":
				return nil, fmt.Errorf("--users %s: user %d has no client_id", file, i+1)
			case e.ClientSecret == "":
				return nil, fmt.Errorf("--users %s: user %q has no client_secret", file, e.ClientID)
			case e.Workspace == "":
				return nil, fmt.Errorf("--users %s: user %q has no workspace", file, e.ClientID)
			}
			out = append(out, serve.User{ID: e.ClientID, Secret: e.ClientSecret, Workspace: e.Workspace})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no API users: set CAMPC_CLIENT_ID and CAMPC_CLIENT_SECRET, or give --users FILE")
	}
	return out, nil
}
