package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrCorrupt marks what the store reads back and cannot make sense of: the
// database was damaged (or written by something else), which is bad input,
// not a failed run.
var ErrCorrupt = errors.New("the database is damaged")

// damaged is an error about stored data that cannot be read.
func damaged(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// IsCorrupt reports whether err says that the database is damaged: stored
// data that does not decode, or the database's own word for it (SQLite's
// "malformed" and "not a database", PostgreSQL's data and index
// corruption).
func IsCorrupt(err error) bool {
	if errors.Is(err, ErrCorrupt) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff // the primary code of an extended one
		return code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "XX001" || pe.Code == "XX002" // data_corrupted, index_corrupted
	}
	return false
}

// isSQLiteBusy reports whether err is SQLite refusing a lock another
// connection holds (SQLITE_BUSY, after the busy timeout where it applies).
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == 5
}

// IsRetryable reports whether err is PostgreSQL giving up a transaction
// that would succeed if done again: a deadlock between two transactions
// that lock the same people in different orders (40P01), or a
// serialization failure (40001). Everything the transaction wrote was
// rolled back.
func IsRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40P01" || pe.Code == "40001"
	}
	return false
}
