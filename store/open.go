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
func OpenPostgres(ctx context.Context, url string, migrate bool) (*Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to PostgreSQL: %w", err)
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
		return nil, fmt.Errorf("cannot connect to PostgreSQL: %w", err)
	}
	return open(ctx, db, postgresDialect, migrate)
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
`,
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
