package store

import (
	"context"
	"testing"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// campc migrate brings River's schema up with campc's, in campc's version
// numbering, and River's own migrator agrees that nothing is left to do.
func TestPostgresRiverMigrations(t *testing.T) {
	ctx := context.Background()
	s, err := OpenPostgres(ctx, newPostgresURL(t), true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := s.Version(ctx)
	if err != nil || v != len(postgresDialect.migrations) {
		t.Fatalf("version %d (%v), want %d", v, err, len(postgresDialect.migrations))
	}
	m, err := rivermigrate.New(riverdatabasesql.New(s.db), nil)
	if err != nil {
		t.Fatal(err)
	}
	have, err := m.ExistingVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(have) != RiverVersion || have[len(have)-1].Version != RiverVersion {
		t.Fatalf("River's migrations applied: %d, want %d", len(have), RiverVersion)
	}
	all := m.AllVersions()
	if last := all[len(all)-1].Version; last != RiverVersion {
		t.Errorf("River %d's newest schema is %d but campc migrates to %d: add a riverStep", len(all), last, RiverVersion)
	}
	for _, table := range []string{"river_job", "river_leader", "river_queue", "serve_processes"} {
		var ok bool
		if err := s.db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s missing (%v)", table, err)
		}
	}
	// A second migrate does nothing.
	if from, err := s.Migrate(ctx); err != nil || from != v {
		t.Errorf("second migrate: from %d (%v), want %d", from, err, v)
	}
}
