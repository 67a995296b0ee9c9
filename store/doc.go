// Package store holds the durable implementations of vm.Store: SQLite (a
// file, through the pure-Go modernc.org/sqlite driver) and PostgreSQL
// (through github.com/jackc/pgx/v5). Both share one SQL implementation;
// they differ in their schema's types, placeholders and how a transaction
// takes its locks. Schema migrations are versioned and run by the program.
package store
