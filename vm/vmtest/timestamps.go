package vmtest

import (
	"context"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// importTimestamps checks what every store's Import does to CreatedAt and
// UpdatedAt (issue 11): a new person gets the import's time (or the
// file's); a known person keeps its CreatedAt, and its UpdatedAt moves to
// the import's time only when the import changes a field's value.
func importTimestamps(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	t1, t2, t3 := t0, t0.Add(time.Hour), t0.Add(2*time.Hour)
	text := func(s string) ir.Value { return ir.NewText(stdlib.Text, s) }
	rec := func(id string, fields map[string]ir.Value) *storage.Person {
		fields["Id"] = text(id)
		return &storage.Person{ID: id, Fields: fields}
	}
	load := func(t *testing.T, s Store, id string) *storage.Person {
		t.Helper()
		tx, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		p, err := tx.LoadPerson(id)
		if err != nil || p == nil {
			t.Fatalf("load %s: %v, %v", id, p, err)
		}
		return p
	}
	imp := func(t *testing.T, s Store, at time.Time, ps ...*storage.Person) {
		t.Helper()
		storage.StampImport(ps, at)
		if err := s.Import(ctx, ps, nil); err != nil {
			t.Fatal(err)
		}
	}
	times := func(p *storage.Person) (time.Time, time.Time) {
		return p.Fields["CreatedAt"].Time, p.Fields["UpdatedAt"].Time
	}
	s := newStore(t)
	given := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	imp(t, s, t1, rec("a", map[string]ir.Value{"City": text("Berlin")}),
		rec("b", map[string]ir.Value{"CreatedAt": ir.NewTime(stdlib.DateTime, given)}))
	if c, u := times(load(t, s, "a")); !c.Equal(t1) || !u.Equal(t1) {
		t.Errorf("a new person: CreatedAt %v, UpdatedAt %v; want both %v", c, u, t1)
	}
	if c, u := times(load(t, s, "b")); !c.Equal(given) || !u.Equal(t1) {
		t.Errorf("a new person whose file gives CreatedAt: CreatedAt %v, UpdatedAt %v; want %v and %v", c, u, given, t1)
	}
	// The same values again: nothing changed, so nothing moves.
	imp(t, s, t2, rec("a", map[string]ir.Value{"City": text("Berlin")}))
	if c, u := times(load(t, s, "a")); !c.Equal(t1) || !u.Equal(t1) {
		t.Errorf("an import that changes nothing: CreatedAt %v, UpdatedAt %v; want both %v", c, u, t1)
	}
	// A changed value moves UpdatedAt, never CreatedAt.
	imp(t, s, t3, rec("a", map[string]ir.Value{"City": text("Hamburg")}))
	if c, u := times(load(t, s, "a")); !c.Equal(t1) || !u.Equal(t3) {
		t.Errorf("an import that changes City: CreatedAt %v, UpdatedAt %v; want %v and %v", c, u, t1, t3)
	}
}
