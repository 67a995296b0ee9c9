package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/campc/campc/vm/storage"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// How a transaction's writes reach the database at Commit: few
// statements, each prepared once per Store, whatever the number of rows.
//
// PostgreSQL takes all the people of a commit in one statement, the rows'
// values passed as arrays and spread out by unnest: its text does not
// depend on the number of rows, so it is parsed and planned once per
// connection (a VALUES list of a new length is a new statement to the
// server, and planning one of thousands of parameters was most of the
// time a batch group spent in the database). Activities go in with COPY
// (logCopy).
//
// SQLite has no arrays. It takes rows in multi-row statements of a few
// fixed sizes (chunkSizes), prepared when the Store opens: a commit of n
// rows runs the largest that fit, then smaller ones for the rest, so no
// statement is ever parsed twice. Its activities are numbered without
// RETURNING (see logChunk).

// chunkSizes are the row counts of SQLite's prepared multi-row statements,
// largest first. The largest, with 9 parameters a row, stays under
// SQLite's 32,766 parameters; each size is 4 times the next, so a commit
// takes at most 3 statements of each size.
var chunkSizes = []int{1024, 256, 64, 16, 4, 1}

// Statements of SQLite's chunked writes and of PostgreSQL's array writes.
const (
	insertPeopleHead = `INSERT INTO people (id, data, deleted) VALUES `
	insertPeopleTail = ` ON CONFLICT (id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted`
	insertActsHead   = `INSERT INTO activities (person, time, type, campaign, workspace, primary_value, attributes, run, step) VALUES `

	insertOutboxHead = `INSERT INTO outbox (message_id, workspace, person, payload, next_at) VALUES `

	pgPeople = `INSERT INTO people (id, data, deleted) SELECT * FROM unnest($1::text[], $2::bytea[], $3::integer[])` + insertPeopleTail
	pgOutbox = `INSERT INTO outbox (message_id, workspace, person, payload, next_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])`
	// The sequence behind activities.seq (a BIGSERIAL) is named after it.
	pgSeqs = `SELECT nextval('activities_seq_seq') FROM generate_series(1, $1::integer)`
)

// writeStmts are the prepared statements of the write path.
type writeStmts struct {
	mu           sync.Mutex
	ready        bool
	people, acts map[int]*sql.Stmt // SQLite, by rows
	outbox       map[int]*sql.Stmt // SQLite, by rows
	pgPeople     *sql.Stmt
	pgSeqs       *sql.Stmt
	pgOutbox     *sql.Stmt
}

// multiRow is a multi-row statement of n rows of width placeholders each.
func multiRow(head string, n, width int, tail string) string {
	row := "(" + strings.Repeat("?, ", width-1) + "?)"
	var b strings.Builder
	b.Grow(len(head) + n*(len(row)+1) + len(tail))
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(tail)
	return b.String()
}

// prepareWrites prepares the write path's statements for the dialect, the
// first time a transaction begins: they take a few milliseconds, which a
// command that only reads need not spend. It runs before the transaction
// takes its connection, SQLite's only one.
func (s *Store) prepareWrites(ctx context.Context) error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.w.ready {
		return nil
	}
	if err := s.prepareWritesOnce(ctx); err != nil {
		return err
	}
	s.w.ready = true
	return nil
}

func (s *Store) prepareWritesOnce(ctx context.Context) error {
	prep := func(q string) (*sql.Stmt, error) { return s.db.PrepareContext(ctx, q) }
	var err error
	if s.d.dollar {
		if s.w.pgPeople, err = prep(pgPeople); err != nil {
			return fmt.Errorf("prepare the people write: %w", err)
		}
		if s.w.pgSeqs, err = prep(pgSeqs); err != nil {
			return fmt.Errorf("prepare the activity write: %w", err)
		}
		if s.w.pgOutbox, err = prep(pgOutbox); err != nil {
			return fmt.Errorf("prepare the outbox write: %w", err)
		}
		return nil
	}
	s.w.people, s.w.acts, s.w.outbox = map[int]*sql.Stmt{}, map[int]*sql.Stmt{}, map[int]*sql.Stmt{}
	for _, n := range chunkSizes {
		if s.w.people[n], err = prep(multiRow(insertPeopleHead, n, 3, insertPeopleTail)); err != nil {
			return fmt.Errorf("prepare the people write: %w", err)
		}
		if s.w.acts[n], err = prep(multiRow(insertActsHead, n, 9, "")); err != nil {
			return fmt.Errorf("prepare the activity write: %w", err)
		}
		if s.w.outbox[n], err = prep(multiRow(insertOutboxHead, n, 5, "")); err != nil {
			return fmt.Errorf("prepare the outbox write: %w", err)
		}
	}
	return nil
}

// chunk is the largest of chunkSizes that is at most n (n > 0).
func chunk(n int) int {
	for _, c := range chunkSizes {
		if c <= n {
			return c
		}
	}
	return 1
}

// savePeople writes the states of the people this transaction applied.
func (t *sqlTx) savePeople() error {
	ids := t.order
	if len(ids) == 0 {
		return nil
	}
	if t.s.d.dollar {
		data := make([][]byte, len(ids))
		deleted := make([]int32, len(ids))
		for i, id := range ids {
			row := t.people[id]
			data[i], deleted[i] = row.data, int32(row.deleted)
		}
		_, err := t.tx.StmtContext(t.ctx, t.s.w.pgPeople).ExecContext(t.ctx, ids, data, deleted)
		return err
	}
	args := make([]any, 0, 3*chunk(len(ids)))
	for len(ids) > 0 {
		n := chunk(len(ids))
		args = args[:0]
		for _, id := range ids[:n] {
			row := t.people[id]
			args = append(args, id, row.data, row.deleted)
		}
		if _, err := t.tx.StmtContext(t.ctx, t.s.w.people[n]).ExecContext(t.ctx, args...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// logActivities writes this transaction's activities and numbers them, in
// the order they were applied.
func (t *sqlTx) logActivities() error {
	acts := t.acts
	if len(acts) == 0 {
		return nil
	}
	if t.s.d.dollar {
		return t.logCopy(acts)
	}
	args := make([]any, 0, 9*chunk(len(acts)))
	for len(acts) > 0 {
		n := chunk(len(acts))
		var err error
		if args, err = t.logChunk(acts[:n], args[:0]); err != nil {
			return err
		}
		acts = acts[n:]
	}
	return nil
}

// logChunk writes activities in one of SQLite's prepared statements. A
// SQLite transaction holds the database's write lock from its start, and
// AUTOINCREMENT numbers the rows of one statement one after another, in
// the order of its VALUES list, so the last row's number (the statement's
// last insert rowid) gives every row's.
func (t *sqlTx) logChunk(acts []*storage.Activity, args []any) ([]any, error) {
	run := t.runID()
	for _, a := range acts {
		attrs, err := a.Attributes.MarshalJSON()
		if err != nil {
			return args, err
		}
		args = append(args, a.Person, fmtTime(a.Time), a.Type, a.Campaign, a.Workspace, a.Primary, string(attrs), run, stepOf(a))
	}
	res, err := t.tx.StmtContext(t.ctx, t.s.w.acts[len(acts)]).ExecContext(t.ctx, args...)
	if err != nil {
		return args, err
	}
	last, err := res.LastInsertId()
	if err != nil {
		return args, err
	}
	first := last - int64(len(acts)) + 1
	for i, a := range acts {
		a.Seq = first + int64(i)
	}
	return args, nil
}

// logCopy writes activities to PostgreSQL with COPY, which the server
// inserts in batches (about a third less time than an INSERT of the same
// rows). COPY returns nothing, so their numbers are drawn from the
// activities' sequence first, in the same transaction, as the rows' own
// defaults would draw them: the numbers grow with the order of the log and
// are taken at commit, so transactions that commit in turn log in turn.
func (t *sqlTx) logCopy(acts []*storage.Activity) error {
	n := len(acts)
	rows, err := t.tx.StmtContext(t.ctx, t.s.w.pgSeqs).QueryContext(t.ctx, n)
	if err != nil {
		return err
	}
	seqs := make([]int64, 0, n)
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return err
		}
		seqs = append(seqs, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(seqs) != n {
		return fmt.Errorf("%d activities, %d numbers drawn", n, len(seqs))
	}
	slices.Sort(seqs)
	attrs := make([]string, n)
	for i, a := range acts {
		b, err := a.Attributes.MarshalJSON()
		if err != nil {
			return err
		}
		attrs[i] = string(b)
	}
	run := t.runID()
	err = t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the PostgreSQL connection is a %T, not pgx's", dc)
		}
		_, err := c.Conn().CopyFrom(t.ctx, pgx.Identifier{"activities"}, copyColumns, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			a := acts[i]
			return []any{seqs[i], a.Person, fmtTime(a.Time), a.Type, a.Campaign, a.Workspace, a.Primary, attrs[i], run, stepOf(a)}, nil
		}))
		return err
	})
	if err != nil {
		return err
	}
	for i, a := range acts {
		a.Seq = seqs[i]
	}
	return nil
}

// copyColumns are the activity columns logCopy writes.
var copyColumns = []string{"seq", "person", "time", "type", "campaign", "workspace", "primary_value", "attributes", "run", "step"}
