package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(cleanupM{m}, map[string]func(){
		"campc": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// cleanupM removes the binary buildCampc made once the tests have run
// (testscript.Main exits the process itself).
type cleanupM struct{ *testing.M }

func (c cleanupM) Run() int {
	code := c.M.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	return code
}

// TestScripts runs the CLI scenarios in testdata/script: each is a txtar
// archive of files plus the commands to run and the output to expect.
//
// When CAMPC_TEST_POSTGRES names a PostgreSQL server, each script gets a
// schema of its own there, as $PGURL, and the condition [postgres] holds;
// scripts skip their PostgreSQL parts with [!postgres] skip otherwise (in
// CI, where the server must be there, [postgres] fails instead).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
		Setup: func(env *testscript.Env) error {
			base := os.Getenv("CAMPC_TEST_POSTGRES")
			if base == "" {
				return nil
			}
			url, drop, err := newSchema(base)
			if err != nil {
				return err
			}
			env.Defer(drop)
			env.Setenv("PGURL", url)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond != "postgres" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			if os.Getenv("CAMPC_TEST_POSTGRES") == "" {
				if os.Getenv("CI") != "" {
					return false, fmt.Errorf("CI is set but CAMPC_TEST_POSTGRES is not: .ci/run must start PostgreSQL")
				}
				return false, nil
			}
			return true, nil
		},
	})
}

// newSchema makes a schema of its own on the PostgreSQL server at base and
// returns a URL whose search path is that schema, and a function that
// drops it.
func newSchema(base string) (string, func(), error) {
	schema := fmt.Sprintf("cli%d_%d", os.Getpid(), schemaCount.Add(1))
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create a test schema on %s: %w", base, err)
	}
	drop := func() {
		if a, err := sql.Open("pgx", base); err == nil {
			a.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
			a.Close()
		}
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, drop, nil
}
