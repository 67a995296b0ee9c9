package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also the "pgx" database/sql driver
	_ "modernc.org/sqlite"           // the "sqlite" database/sql driver
)

// IsPostgres reports whether a --db value names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens a store: a postgres:// URL means PostgreSQL (whose schema
// must be migrated first, with campc migrate), anything else is a SQLite
// file, created and migrated as needed.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if IsPostgres(dsn) {
		return OpenPostgres(ctx, dsn, false)
	}
	return OpenSQLite(ctx, dsn)
}

// OpenSQLite opens (creating if needed) a SQLite file and migrates it.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("no database file given")
	}
	if len(kvSecretSpans(path)) > 0 {
		// A key-value PostgreSQL connection string, not a file name:
		// creating a file of that name would write its password to disk.
		return nil, fmt.Errorf("this is a key-value connection string, which campc does not read; write a postgres:// URL")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a SQLite database file", path)
	} else if errors.Is(err, fs.ErrNotExist) {
		if dir := filepath.Dir(path); !isDir(dir) {
			return nil, fmt.Errorf("%s: directory %s does not exist", path, dir)
		}
	}
	db, err := sqliteDB(path)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, sqliteErr(path, err)
	}
	s, err := open(ctx, db, sqliteDialect, true)
	if err != nil {
		return nil, sqliteErr(path, err)
	}
	return s, nil
}

// sqliteDB is the connection to a SQLite file that a Store uses.
func sqliteDB(path string) (*sql.DB, error) {
	// Writers take the lock when the transaction begins (no upgrade
	// deadlocks between processes), wait for each other, and the WAL
	// journal keeps committed transactions across a crash of the process.
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Add("_pragma", "busy_timeout(30000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// sqliteErr says what went wrong opening a SQLite file in plain words
// where the driver's are obscure.
func sqliteErr(path string, err error) error {
	if strings.Contains(err.Error(), "file is not a database") {
		return fmt.Errorf("%s is not a SQLite database file", path)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// OpenPostgres opens a PostgreSQL database; migrate says whether to bring
// its schema up to date (campc migrate) or to require that it is.
// Its errors never carry the URL's secrets (see RedactDSN).
func OpenPostgres(ctx context.Context, url string, migrate bool) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, redactErr(fmt.Errorf("cannot connect to PostgreSQL: %w", err), url)
	}
	// Guard rails: a transaction that waits on a lock, or holds locks while
	// idle, for longer than any run should fails loudly rather than hangs.
	// The URL may set either (…&lock_timeout=10s).
	for k, v := range pgTimeouts {
		if _, set := cfg.RuntimeParams[k]; !set {
			cfg.RuntimeParams[k] = v
		}
	}
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, redactErr(fmt.Errorf("cannot connect to PostgreSQL: %w", err), url)
	}
	s, err := open(ctx, db, postgresDialect, migrate)
	return s, redactErr(err, url)
}

// pgTimeouts are the session settings OpenPostgres gives by default. A
// batch worker waits for a row lock while another process's group commits,
// or, holding its own, while earlier groups of its run commit (which may
// wait for a lock in turn): neither takes long unless something is wrong,
// such as a long import holding the rows.
var pgTimeouts = map[string]string{
	"lock_timeout":                        "60s",
	"idle_in_transaction_session_timeout": "180s",
}

var sqliteDialect = dialect{
	name:       "sqlite",
	hasVersion: `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`,
	migrations: []string{`
CREATE TABLE people (id TEXT PRIMARY KEY, data BLOB NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE activities (seq INTEGER PRIMARY KEY AUTOINCREMENT, person TEXT NOT NULL, time TEXT NOT NULL,
  type TEXT NOT NULL, campaign TEXT NOT NULL, workspace TEXT NOT NULL, primary_value TEXT NOT NULL, attributes TEXT NOT NULL);
CREATE INDEX activities_person ON activities (person, seq);
CREATE TABLE parked (id INTEGER PRIMARY KEY AUTOINCREMENT, person TEXT NOT NULL, workspace TEXT NOT NULL,
  campaign TEXT NOT NULL, due TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX parked_due ON parked (due, id);
CREATE INDEX parked_person ON parked (person);
CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, person TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE batch_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, campaign TEXT NOT NULL,
  started TEXT NOT NULL, tokens BLOB NOT NULL, cursor TEXT NOT NULL, done INTEGER NOT NULL);
`, `
DROP INDEX parked_due;
` + sqliteTimeColumn("activities", "time") + sqliteTimeColumn("parked", "due") + sqliteTimeColumn("batch_runs", "started") + `
CREATE INDEX parked_due ON parked (due, id);
`,
		// A batch run's lease (who runs it, and when they last said so),
		// what it did (its summary), and which activities it wrote.
		`
ALTER TABLE batch_runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE batch_runs ADD COLUMN heartbeat INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batch_runs ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE batch_runs ADD COLUMN first_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batch_runs ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activities ADD COLUMN run INTEGER NOT NULL DEFAULT 0;
CREATE INDEX batch_runs_campaign ON batch_runs (workspace, campaign, done, started);
`},
}

// sqliteTimeColumn turns a column of times as text into one of
// microseconds (see fmtTime). SQLite changes a column's type only by
// adding another: the new column goes last, and queries name columns.
func sqliteTimeColumn(table, col string) string {
	return fmt.Sprintf(`
ALTER TABLE %[1]s ADD COLUMN %[2]s_us INTEGER NOT NULL DEFAULT 0;
UPDATE %[1]s SET %[2]s_us = %[3]s;
ALTER TABLE %[1]s DROP COLUMN %[2]s;
ALTER TABLE %[1]s RENAME COLUMN %[2]s_us TO %[2]s;
`, table, col, textToMicros(col, "CAST(%s AS INTEGER)", "CAST(strftime('%%s', %s) AS INTEGER)"))
}

// textToMicros is the SQL that converts a time stored as text by the first
// schema, "2006-01-02T15:04:05.000000000Z", to microseconds since 1970.
// The year may have more than four digits (a bug stored due times past
// 9999), which date functions do not read: the year is brought into
// 2000–2399 and the difference added back as whole 400-year cycles of
// the Gregorian calendar, 146,097 days each, so the conversion is exact
// for every year. toInt and epoch are the dialect's integer cast and its
// seconds since 1970 of a "YYYY-MM-DDTHH:MM:SS" text, with %s for the
// operand.
func textToMicros(col, toInt, epoch string) string {
	cast := func(x string) string { return fmt.Sprintf(toInt, x) }
	year := cast(fmt.Sprintf("substr(%s, 1, length(%s) - 26)", col, col))
	near := fmt.Sprintf("(2000 + %s %% 400)", year)
	// "-MM-DDTHH:MM:SS" follows the year; the fraction follows its dot.
	rest := fmt.Sprintf("substr(%s, length(%s) - 25, 15)", col, col)
	sec := fmt.Sprintf(epoch, fmt.Sprintf("CAST(%s AS TEXT) || %s", near, rest))
	frac := cast(fmt.Sprintf("substr(%s, length(%s) - 9, 6)", col, col))
	return fmt.Sprintf("(%s + (%s - %s) / 400 * 12622780800) * 1000000 + %s", sec, year, near, frac)
}

var postgresDialect = dialect{
	name:      "postgres",
	dollar:    true,
	forUpdate: " FOR UPDATE",
	// to_regclass looks the table up on the search path, as queries do.
	hasVersion:  `SELECT to_regclass('schema_version') IS NOT NULL`,
	migrateLock: `SELECT pg_advisory_xact_lock(7140693351786733357)`, // "campc migrate"
	runLock:     `SELECT pg_advisory_xact_lock(7140693351786733358)`, // StartRun
	migrations: []string{`
CREATE TABLE people (id TEXT COLLATE "C" PRIMARY KEY, data BYTEA NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE activities (seq BIGSERIAL PRIMARY KEY, person TEXT NOT NULL, time TEXT NOT NULL,
  type TEXT NOT NULL, campaign TEXT NOT NULL, workspace TEXT NOT NULL, primary_value TEXT NOT NULL, attributes TEXT NOT NULL);
CREATE INDEX activities_person ON activities (person, seq);
CREATE TABLE parked (id BIGSERIAL PRIMARY KEY, person TEXT NOT NULL, workspace TEXT NOT NULL,
  campaign TEXT NOT NULL, due TEXT COLLATE "C" NOT NULL, data BYTEA NOT NULL);
CREATE INDEX parked_due ON parked (due, id);
CREATE INDEX parked_person ON parked (person);
CREATE TABLE queue (id BIGSERIAL PRIMARY KEY, person TEXT NOT NULL, data BYTEA NOT NULL);
CREATE TABLE batch_runs (id BIGSERIAL PRIMARY KEY, workspace TEXT NOT NULL, campaign TEXT NOT NULL,
  started TEXT NOT NULL, tokens BYTEA NOT NULL, cursor TEXT NOT NULL, done INTEGER NOT NULL);
`, postgresTimeColumn("activities", "time") + postgresTimeColumn("parked", "due") + postgresTimeColumn("batch_runs", "started"),
		// A batch run's lease (who runs it, and when they last said so),
		// what it did (its summary), and which activities it wrote.
		`
ALTER TABLE batch_runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE batch_runs ADD COLUMN heartbeat BIGINT NOT NULL DEFAULT 0;
ALTER TABLE batch_runs ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE batch_runs ADD COLUMN first_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE batch_runs ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE activities ADD COLUMN run BIGINT NOT NULL DEFAULT 0;
CREATE INDEX batch_runs_campaign ON batch_runs (workspace, campaign, done, started);
`},
}

// postgresTimeColumn turns a column of times as text into one of
// microseconds (see fmtTime and textToMicros).
func postgresTimeColumn(table, col string) string {
	return fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE BIGINT USING %s;\n", table, col,
		textToMicros(col, "CAST(%s AS BIGINT)", "CAST(extract(epoch FROM CAST(%s || 'Z' AS timestamptz)) AS BIGINT)"))
}
