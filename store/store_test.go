package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/campc/campc/vm/vmtest"
)

// PostgresEnv names the environment variable that points the tests at a
// PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres.
const PostgresEnv = "CAMPC_TEST_POSTGRES"

func newSQLite(t *testing.T) vmtest.Store {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "campc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// postgresURL returns the test server's URL, skipping the test when there
// is none (and failing it in CI, where there must be one).
func postgresURL(t testing.TB) string {
	url := os.Getenv(PostgresEnv)
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s is not: .ci/run must start PostgreSQL", PostgresEnv)
		}
		t.Skipf("set %s=postgres://… to run the PostgreSQL tests (.ci/run starts a private server)", PostgresEnv)
	}
	return url
}

var schemaSeq atomic.Int64

// newPostgres gives each test a schema of its own on the test server.
func newPostgres(t *testing.T) vmtest.Store {
	s, err := OpenPostgres(context.Background(), newPostgresURL(t), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newPostgresURL makes a schema of the test's own on the test server,
// dropped when the test ends, and returns a URL that works in it.
func newPostgresURL(t *testing.T) string {
	base := postgresURL(t)
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("t%d_%d", os.Getpid(), schemaSeq.Add(1))
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err == nil {
			a.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
			a.Close()
		}
	})
	return withSearchPath(base, schema)
}

func withSearchPath(url, schema string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}

func TestSQLiteConformance(t *testing.T)   { vmtest.Conformance(t, newSQLite) }
func TestPostgresConformance(t *testing.T) { postgresURL(t); vmtest.Conformance(t, newPostgres) }

// The whole run-case suite of the engine, on each durable store.
func TestSQLiteRunCases(t *testing.T) { vmtest.RunCases(t, "../vm/testdata/run", newSQLite, false) }
func TestPostgresRunCases(t *testing.T) {
	postgresURL(t)
	vmtest.RunCases(t, "../vm/testdata/run", newPostgres, false)
}
