package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/vm/storage"
)

func TestSQLiteRunLease(t *testing.T) { runLease(t, sqlitePair) }
func TestPostgresRunLease(t *testing.T) {
	postgresURL(t)
	runLease(t, postgresPair)
}

// Issue #9 item 13.4: a process tells a run in progress (another process
// holds a live lease on it) from one that stopped part way, takes over only
// the latter, and the process that lost it cannot commit to it any more.
func runLease(t *testing.T, pair func(t *testing.T) (*Store, *Store)) {
	ctx := context.Background()
	s1, s2 := pair(t)
	live := true
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s1.SetLease(Lease{Owner: "one", Now: clock, Live: func(string, time.Time) bool { return live }})
	s2.SetLease(Lease{Owner: "two", Now: clock, Live: func(string, time.Time) bool { return live }})
	want := &storage.BatchRun{Workspace: "W", Campaign: "C", Started: now}

	r1, state, err := s1.StartRun(ctx, want, false)
	if err != nil || state != storage.RunNew {
		t.Fatalf("first start: %v, %v", state, err)
	}
	_, _, err = s2.StartRun(ctx, want, false)
	var busy *RunBusyError
	if !errors.As(err, &busy) || busy.Owner != "one" || !busy.Started.Equal(now) {
		t.Fatalf("a run in progress: got %v, want a RunBusyError naming process one", err)
	}
	if !strings.Contains(err.Error(), `the batch run of "C" started at 2026-12-01T09:00:00Z is in progress in another process (one)`) {
		t.Errorf("message: %v", err)
	}

	// Process one's lease lapses: process two takes the run over.
	live = false
	r2, state, err := s2.StartRun(ctx, want, false)
	if err != nil || state != storage.RunResumed || r2.ID != r1.ID {
		t.Fatalf("take over: %v, %v, %+v", state, err, r2)
	}
	// Process one, still running, cannot move the run any more.
	tx, err := s1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r1.Cursor = "a"
	err = tx.Apply(&storage.Commit{Run: r1})
	if err == nil {
		err = tx.Commit()
	} else {
		tx.Rollback()
	}
	if !errors.Is(err, storage.ErrTaken) {
		t.Fatalf("the process that lost the run committed to it: %v", err)
	}
	// Process two finishes it; then the same start finds it complete.
	tx, err = s2.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r2.Cursor, r2.Done = "z", true
	if err := tx.Apply(&storage.Commit{Run: r2}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	live = true
	done, state, err := s1.StartRun(ctx, want, false)
	if err != nil || state != storage.RunDone || done.ID != r1.ID {
		t.Fatalf("a complete run: %v, %v, %+v", state, err, done)
	}
	if again, state, err := s1.StartRun(ctx, want, true); err != nil || state != storage.RunNew || again.ID == r1.ID {
		t.Fatalf("again: %v, %v, %+v", state, err, again)
	}
}

// Issue #9 item 1: PostgreSQL sessions have lock and idle-in-transaction
// timeouts, so that a lock nobody releases fails a run with a clear error
// instead of hanging it; the URL may set its own.
func TestPostgresTimeouts(t *testing.T) {
	url := newPostgresURL(t)
	ctx := context.Background()
	show := func(s *Store, name string) string {
		var v string
		if err := s.db.QueryRowContext(ctx, "SHOW "+name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	s, err := OpenPostgres(ctx, url, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := show(s, "lock_timeout"); v != "1min" {
		t.Errorf("lock_timeout %s, want 1min", v)
	}
	if v := show(s, "idle_in_transaction_session_timeout"); v != "3min" {
		t.Errorf("idle_in_transaction_session_timeout %s, want 3min", v)
	}

	short, err := OpenPostgres(ctx, url+"&lock_timeout=300ms", false)
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	if v := show(short, "lock_timeout"); v != "300ms" {
		t.Errorf("lock_timeout from the URL: %s, want 300ms", v)
	}
	if err := s.Import(ctx, []*storage.Person{{ID: "1"}}, nil); err != nil {
		t.Fatal(err)
	}
	holder, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	var data []byte
	if err := holder.QueryRowContext(ctx, `SELECT data FROM people WHERE id = '1' FOR UPDATE`).Scan(&data); err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	tx, err := short.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	start := time.Now()
	_, err = tx.LoadPerson("1")
	if err == nil || !strings.Contains(err.Error(), "lock timeout") {
		t.Fatalf("loading a person another transaction holds: %v, want a lock timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the lock timeout took %v", d)
	}
}
