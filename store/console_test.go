package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/campc/campc/vm/storage"
)

// SearchPeople reads people a page at a time: every match is found across
// pages, in Id order, up to the limit.
func TestSearchPeoplePages(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var people []*storage.Person
	for i := range 2500 {
		people = append(people, &storage.Person{ID: fmt.Sprintf("p%05d", i)})
	}
	if err := s.Import(ctx, people, nil); err != nil {
		t.Fatal(err)
	}
	every := func(p *storage.Person) bool { return true }
	all, err := s.SearchPeople(ctx, every, 10_000)
	if err != nil || len(all) != 2500 {
		t.Fatalf("all: %d %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].ID >= all[i].ID {
			t.Fatalf("not in Id order at %d", i)
		}
	}
	odd := func(p *storage.Person) bool { return p.ID[len(p.ID)-1]%2 == 1 }
	some, err := s.SearchPeople(ctx, odd, 600)
	if err != nil || len(some) != 600 || some[599].ID != "p01199" {
		t.Fatalf("limited: %d %v", len(some), err)
	}
}
