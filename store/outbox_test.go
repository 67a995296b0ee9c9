package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/campc/campc/vm/storage"
)

// The outbox: a message applied with its activity is kept at commit (none
// after a rollback), named after its activity's number; a claim is taken
// once, runs out, and the row then goes to its final state once.
func testOutbox(t *testing.T, s *Store) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	apply := func(commit bool, to string) *storage.Message {
		tx, err := s.BeginServe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a := &storage.Activity{Time: at, Person: "p1", Type: "Send Email", Campaign: "C", Workspace: "W", Primary: "News"}
		m := &storage.Message{Person: "p1", Workspace: "W", Campaign: "C", Step: "00ff00ff00ff00ff", Name: "News", From: "n@example.com",
			To: to, Subject: "S", Text: "T", HTML: "<p>H</p>", Activity: a}
		if err := tx.Apply(&storage.Commit{Activities: []*storage.Activity{a}, Outbox: []*storage.Message{m}}); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	apply(false, "rolled@back.example")
	m := apply(true, "p1@x.example")
	m2 := apply(true, "p1@x.example")
	if m.ID == "" || m.ID == m2.ID || m.ID != storage.MessageID(m) {
		t.Fatalf("Message-IDs %q %q", m.ID, m2.ID)
	}
	tx, err := s.BeginServe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { tx.Rollback() }()
	ids, err := tx.DueOutbox(at, 10)
	if err != nil || len(ids) != 2 {
		t.Fatalf("due: %v %v", ids, err)
	}
	if n, err := tx.OutboxDepth(); n != 2 || err != nil {
		t.Fatalf("depth %d %v", n, err)
	}
	r, err := tx.ClaimOutbox(ids[0], at, at.Add(time.Minute))
	if err != nil || r == nil {
		t.Fatalf("claim: %v %v", r, err)
	}
	if r.Message.ID != m.ID || r.Message.To != "p1@x.example" || r.Message.HTML != "<p>H</p>" || r.Message.From != "n@example.com" || r.Attempts != 1 || r.State != OutboxSending {
		t.Errorf("claimed row %+v", r)
	}
	if again, err := tx.ClaimOutbox(ids[0], at, at.Add(time.Minute)); again != nil || err != nil {
		t.Errorf("claimed twice: %v %v", again, err)
	}
	// The claim runs out: another deliverer takes it, and the first one's
	// mark is refused.
	r2, err := tx.ClaimOutbox(ids[0], at.Add(time.Minute), at.Add(2*time.Minute))
	if err != nil || r2 == nil || r2.Attempts != 2 {
		t.Fatalf("claim after the first ran out: %v %v", r2, err)
	}
	if err := tx.RetryOutbox(ids[0], at.Add(time.Hour), "421 busy"); err != nil {
		t.Fatal(err)
	}
	if err := tx.RetryOutbox(ids[0], at.Add(time.Hour), "again"); !errors.Is(err, ErrOutboxLost) {
		t.Errorf("retry of an unclaimed row: %v", err)
	}
	if ids, _ := tx.DueOutbox(at.Add(2*time.Minute), 10); len(ids) != 1 {
		t.Errorf("due while one waits for its retry: %v", ids)
	}
	r, _ = tx.ClaimOutbox(ids[0], at.Add(time.Hour), at.Add(time.Hour+time.Minute))
	if r == nil || r.LastError != "421 busy" || r.Attempts != 3 {
		t.Fatalf("claim for the retry: %+v", r)
	}
	if err := tx.FinishOutbox(ids[0], OutboxSent, at.Add(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	if err := tx.FinishOutbox(ids[0], OutboxSent, at.Add(time.Hour), ""); !errors.Is(err, ErrOutboxLost) {
		t.Errorf("marked sent twice: %v", err)
	}
	if r, _ := tx.OutboxRow(ids[0]); r.State != OutboxSent || !r.SentAt.Equal(at.Add(time.Hour)) {
		t.Errorf("sent row %+v", r)
	}
	if n, _ := tx.OutboxDepth(); n != 1 {
		t.Errorf("depth %d after one sent", n)
	}
	all, err := tx.OutboxRows()
	if err != nil || len(all) != 2 || all[1].Message.ID != m2.ID {
		t.Errorf("rows %v %v", all, err)
	}
}

func TestSQLiteOutbox(t *testing.T) { testOutbox(t, newSQLite(t).(*Store)) }
func TestPostgresOutbox(t *testing.T) {
	postgresURL(t)
	testOutbox(t, newPostgres(t).(*Store))
}

// Many messages of one commit (more than one of SQLite's statement sizes)
// are all kept, in the order they were applied, each with its own
// activity's number and due at its activity's time.
func testOutboxMany(t *testing.T, s *Store) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	tx, err := s.BeginServe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*storage.Message
	for i := range 23 {
		person := fmt.Sprintf("p%02d", i)
		a := &storage.Activity{Time: at.Add(time.Duration(i) * time.Second), Person: person, Type: "Send Email", Campaign: "C", Workspace: "W", Primary: "News"}
		m := &storage.Message{Person: person, Workspace: "W", Campaign: "C", Step: "00ff00ff00ff00ff", Name: "News", To: person + "@x.example", Subject: "S", Text: "T", Activity: a}
		if err := tx.Apply(&storage.Commit{Activities: []*storage.Activity{a}, Outbox: []*storage.Message{m}}); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err = s.BeginServe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ids, err := tx.DueOutbox(at.Add(time.Hour), 100)
	if err != nil || len(ids) != len(msgs) {
		t.Fatalf("due: %d rows, %v", len(ids), err)
	}
	if ids, _ := tx.DueOutbox(at.Add(5*time.Second), 100); len(ids) != 6 {
		t.Errorf("due by 09:00:05: %d rows, want 6", len(ids))
	}
	for i, id := range ids {
		r, err := tx.OutboxRow(id)
		if err != nil || r == nil {
			t.Fatalf("row %d: %v", id, err)
		}
		m := msgs[i]
		if r.Message.ID != m.ID || m.ID != storage.MessageID(m) || r.Message.Person != m.Person || r.Message.To != m.To || r.Message.Workspace != "W" {
			t.Errorf("row %d: %+v, want %s for %s", id, r.Message, m.ID, m.Person)
		}
	}
}

func TestSQLiteOutboxMany(t *testing.T) { testOutboxMany(t, newSQLite(t).(*Store)) }
func TestPostgresOutboxMany(t *testing.T) {
	postgresURL(t)
	testOutboxMany(t, newPostgres(t).(*Store))
}
