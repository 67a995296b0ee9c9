package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// Issue #9 item 7: the first schema stored times as text, which sorts
// wrongly, and fails to parse, past year 9999. The migration turns every
// stored time into an integer exactly, year 10000 due times written by
// that bug included, and they then sort by time.
func TestTimeMigrationSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	testTimeMigration(t, sqliteDialect, func() (*sql.DB, error) { return sqliteDB(path) }, func(ctx context.Context) (*Store, error) {
		return OpenSQLite(ctx, path)
	})
}

func TestTimeMigrationPostgres(t *testing.T) {
	url := newPostgresURL(t)
	testTimeMigration(t, postgresDialect, func() (*sql.DB, error) { return sql.Open("pgx", url) }, func(ctx context.Context) (*Store, error) {
		return OpenPostgres(ctx, url, true)
	})
}

func testTimeMigration(t *testing.T, d dialect, raw func() (*sql.DB, error), reopen func(context.Context) (*Store, error)) {
	ctx := context.Background()
	db, err := raw()
	if err != nil {
		t.Fatal(err)
	}
	first := d
	first.migrations = d.migrations[:1]
	// Only the first migration, and no statements prepared: those are
	// written for the newest schema.
	old := &Store{db: db, d: first}
	if _, err := old.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO activities (person, time, type, campaign, workspace, primary_value, attributes) VALUES
		  ('1', '2026-12-01T09:00:00.000001000Z', 'T', 'C', 'W', 'a', '{}'),
		  ('1', '0001-01-01T00:00:00.000000000Z', 'T', 'C', 'W', 'b', '{}'),
		  ('1', '1970-01-01T00:00:00.000000000Z', 'T', 'C', 'W', 'c', '{}'),
		  ('1', '9999-12-31T23:59:59.999999000Z', 'T', 'C', 'W', 'd', '{}'),
		  ('1', '10000-01-03T09:00:00.000000000Z', 'T', 'C', 'W', 'e', '{}')`,
		`INSERT INTO parked (person, workspace, campaign, due, data) VALUES
		  ('1', 'W', 'Far', '10000-01-03T09:00:00.000000000Z', '{"path":[1]}'),
		  ('2', 'W', 'Near', '2026-12-03T09:00:00.000000000Z', '{"path":[1]}'),
		  ('3', 'W', 'Past', '1969-12-31T23:59:59.500000000Z', '{"path":[1]}'),
		  ('4', 'W', 'Leap', '2400-02-29T12:30:45.123456000Z', '{"path":[1]}')`,
		`INSERT INTO batch_runs (workspace, campaign, started, tokens, cursor, done) VALUES ('W', 'C', '2026-12-01T09:00:00.000000000Z', '{}', '', 0)`,
	} {
		if _, err := old.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s, err := reopen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := func(s string) time.Time {
		if s == "10000-01-03T09:00:00Z" { // past what time.Parse reads
			return time.Date(10000, 1, 3, 9, 0, 0, 0, time.UTC)
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	acts, err := s.Activities(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-12-01T09:00:00.000001Z", "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "10000-01-03T09:00:00Z"}
	if len(acts) != len(want) {
		t.Fatalf("%d activities, want %d", len(acts), len(want))
	}
	for i, a := range acts {
		if w := at(want[i]); !a.Time.Equal(w) {
			t.Errorf("activity %s: time %v, want %v", a.Primary, a.Time, w)
		}
	}
	due, err := s.DueWaits(ctx, at("9999-12-31T23:59:59.999999Z"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range due {
		got = append(got, w.Campaign+" "+w.Due.Format(time.RFC3339Nano))
	}
	wantDue := []string{"Past 1969-12-31T23:59:59.5Z", "Near 2026-12-03T09:00:00Z", "Leap 2400-02-29T12:30:45.123456Z"}
	if len(got) != len(wantDue) {
		t.Fatalf("due waits %q, want %q", got, wantDue)
	}
	for i := range got {
		if got[i] != wantDue[i] {
			t.Errorf("due wait %d: %s, want %s", i, got[i], wantDue[i])
		}
	}
	all, err := s.DueWaits(ctx, at("10000-01-03T09:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[3].Campaign != "Far" || !all[3].Due.Equal(at("10000-01-03T09:00:00Z")) {
		t.Errorf("the year-10000 wait did not survive the migration: %v", all)
	}
	r, err := s.OpenRun(ctx, "W", "C")
	if err != nil || r == nil || !r.Started.Equal(at("2026-12-01T09:00:00Z")) {
		t.Errorf("batch run %+v (%v), started 2026-12-01T09:00:00Z wanted", r, err)
	}
}
