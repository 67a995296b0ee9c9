package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
)

// Two transactions that lock two rows in opposite orders deadlock, and
// PostgreSQL rolls one back: IsRetryable says that one may be done again.
// Other errors are not retryable.
func TestIsRetryablePostgresDeadlock(t *testing.T) {
	db, err := sql.Open("pgx", newPostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE dl (id int PRIMARY KEY, v int); INSERT INTO dl VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	tx1, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback()
	tx2, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Rollback()
	if _, err := tx1.ExecContext(ctx, `UPDATE dl SET v = 1 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx2.ExecContext(ctx, `UPDATE dl SET v = 2 WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		_, err := tx1.ExecContext(ctx, `UPDATE dl SET v = 1 WHERE id = 2`)
		if err != nil {
			tx1.Rollback() // let the other go on
		}
		first <- err
	}()
	_, err2 := tx2.ExecContext(ctx, `UPDATE dl SET v = 2 WHERE id = 1`)
	if err2 != nil {
		tx2.Rollback()
	}
	err1 := <-first
	failed := err1
	if failed == nil {
		failed = err2
	}
	if (err1 == nil) == (err2 == nil) {
		t.Fatalf("want exactly one transaction rolled back for the deadlock, got %v and %v", err1, err2)
	}
	if !IsRetryable(failed) {
		t.Errorf("IsRetryable(%v) = false, want true", failed)
	}
	if IsRetryable(errors.New("no")) || IsRetryable(nil) || IsRetryable(sql.ErrNoRows) {
		t.Error("IsRetryable is true for an error that is not the database's rollback")
	}
}
