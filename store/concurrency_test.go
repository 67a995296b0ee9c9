package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// Two stores opened on one database stand for two campc processes.

func sqlitePair(t *testing.T) (*Store, *Store) {
	path := filepath.Join(t.TempDir(), "campc.db")
	open := func() *Store {
		s, err := OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return open(), open()
}

func postgresPair(t *testing.T) (*Store, *Store) {
	url := newPostgresURL(t)
	open := func() *Store {
		s, err := OpenPostgres(context.Background(), url, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return open(), open()
}

func TestSQLiteConcurrentProcesses(t *testing.T) { concurrentProcesses(t, sqlitePair) }
func TestPostgresConcurrentProcesses(t *testing.T) {
	postgresURL(t)
	concurrentProcesses(t, postgresPair)
}

func TestSQLiteConcurrentMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campc.db")
	concurrentMigrate(t, sqliteDialect, func() (*sql.DB, error) { return sqliteDB(path) })
}

func TestPostgresConcurrentMigrate(t *testing.T) {
	url := newPostgresURL(t)
	concurrentMigrate(t, postgresDialect, func() (*sql.DB, error) { return sql.Open("pgx", url) })
}

// concurrentMigrate migrates one new database from several processes at
// once: each migration runs once, and every process ends on the newest
// version.
func concurrentMigrate(t *testing.T, d dialect, connect func() (*sql.DB, error)) {
	ctx := context.Background()
	var stores []*Store
	for range 4 {
		db, err := connect()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		stores = append(stores, &Store{db: db, d: d})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Migrate(ctx)
		}()
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Errorf("process %d: migrate: %v", i, errs[i])
		}
		if v, err := s.Version(ctx); err != nil || v != len(s.d.migrations) {
			t.Errorf("process %d: version %d (%v), want %d", i, v, err, len(s.d.migrations))
		}
	}
	var rows int
	if err := stores[0].db.QueryRowContext(ctx, `SELECT count(*) FROM schema_version`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("schema_version has %d rows (%v), want 1", rows, err)
	}
}

const concurrentProject = `workspace "W"
program "P" {
  form "Contact"
  batch campaign "Bump" {
    smart list { filter Email is not empty }
    flow { change score LeadScore by "+1" }
    qualify every time
  }
  trigger campaign "On Form" {
    smart list { trigger fills out form "Contact" }
    flow { change score LeadScore by "+10" }
    active
    qualify every time
  }
}
`

// concurrentProcesses runs two engines, each on its own connection to one
// database, at the same time: one runs a batch that adds 1 to everyone's
// score, several times; the other delivers form fills whose campaign adds
// 10 to the same people's scores. No update may be lost, and no person may
// be in two transactions' hands at once.
func concurrentProcesses(t *testing.T, pair func(t *testing.T) (*Store, *Store)) {
	ctx := context.Background()
	res := compiler.Compile([]lang.Source{{Name: "c.camp", Text: concurrentProject}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	const (
		people = 40
		runs   = 5
		events = 800
	)
	s1, s2 := pair(t)
	var ps []*storage.Person
	for i := range people {
		id := fmt.Sprintf("p%03d", i)
		ps = append(ps, &storage.Person{ID: id, Fields: map[string]ir.Value{
			"Id":        ir.NewText(stdlib.Text, id),
			"Email":     ir.NewText(stdlib.Email, id+"@x.example"),
			"LeadScore": ir.NewNumber(stdlib.Score, float64(i)),
		}, Lists: map[string]bool{}, Programs: map[string]string{}})
	}
	if err := s1.Import(ctx, ps, nil); err != nil {
		t.Fatal(err)
	}

	holders := &lockCheck{held: map[string]*checkedTx{}}
	e1, err := vm.New(prog, vm.Options{Store: &checkedStore{Store: s1, c: holders}, BatchGroup: 7})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := vm.New(prog, vm.Options{Store: &checkedStore{Store: s2, c: holders}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range runs {
			// The runs share a clock time: each is asked for again.
			if _, err := e1.RunBatch(ctx, "Bump", vm.RunOptions{Again: true}); err != nil {
				errs <- fmt.Errorf("batch: %w", err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range events {
			ev := storage.Event{Kind: ir.TrigFillsOutForm, Person: fmt.Sprintf("p%03d", (i*7)%people), Form: "Contact"}
			if _, err := e2.Deliver(ctx, ev); err != nil {
				errs <- fmt.Errorf("event %d: %w", i, err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	holders.mu.Lock()
	for _, v := range holders.violations {
		t.Error(v)
	}
	if holders.overlaps == 0 {
		t.Log("note: the two engines never waited for each other's locks")
	}
	t.Logf("%d times a transaction waited for a person another held", holders.overlaps)
	holders.mu.Unlock()

	fills := map[string]int{}
	for i := range events {
		fills[fmt.Sprintf("p%03d", (i*7)%people)]++
	}
	tx, err := s1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := range people {
		id := fmt.Sprintf("p%03d", i)
		p, err := tx.LoadPerson(id)
		if err != nil || p == nil {
			t.Fatalf("load %s: %v", id, err)
		}
		want := float64(i + runs + 10*fills[id])
		if got := p.Fields["LeadScore"].Num; got != want {
			t.Errorf("%s: LeadScore %v, want %v (%d batch runs, %d form fills): an update was lost", id, got, want, runs, fills[id])
		}
		changes := 0
		for _, a := range p.Log {
			if a.Type == "Change Score" {
				changes++
			}
		}
		if changes != runs+fills[id] {
			t.Errorf("%s: %d score changes logged, want %d", id, changes, runs+fills[id])
		}
	}
}

// lockCheck watches which transaction has each person: a person loaded
// by one transaction while another that loaded it is still open means
// two flows ran for one person at once.
type lockCheck struct {
	mu         sync.Mutex
	held       map[string]*checkedTx
	violations []string
	overlaps   int
}

type checkedStore struct {
	*Store
	c *lockCheck
}

func (s *checkedStore) Begin(ctx context.Context) (storage.Tx, error) {
	tx, err := s.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &checkedTx{Tx: tx, c: s.c}, nil
}

type checkedTx struct {
	storage.Tx
	c    *lockCheck
	mine []string
}

func (t *checkedTx) LoadPerson(id string) (*storage.Person, error) {
	t.c.mu.Lock()
	if h := t.c.held[id]; h != nil && h != t {
		t.c.overlaps++ // this load should now wait for h to finish
	}
	t.c.mu.Unlock()
	p, err := t.Tx.LoadPerson(id)
	if err != nil {
		return p, err
	}
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	switch h := t.c.held[id]; {
	case h == t:
	case h != nil:
		t.c.violations = append(t.c.violations, fmt.Sprintf("person %s was loaded while another transaction had it", id))
	default:
		t.c.held[id] = t
		t.mine = append(t.mine, id)
	}
	return p, nil
}

// release forgets the transaction's people before it ends: whoever waits
// for them can only go on once the commit or rollback is done.
func (t *checkedTx) release() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for _, id := range t.mine {
		if t.c.held[id] == t {
			delete(t.c.held, id)
		}
	}
	t.mine = nil
}

func (t *checkedTx) Commit() error   { t.release(); return t.Tx.Commit() }
func (t *checkedTx) Rollback() error { t.release(); return t.Tx.Rollback() }

func TestSQLitePersonLock(t *testing.T) { personLock(t, sqlitePair) }
func TestPostgresPersonLock(t *testing.T) {
	postgresURL(t)
	personLock(t, postgresPair)
}

// personLock: while one process's transaction has a person, another's
// load of that person waits, and then sees what the first committed.
func personLock(t *testing.T, pair func(t *testing.T) (*Store, *Store)) {
	ctx := context.Background()
	s1, s2 := pair(t)
	p := &storage.Person{ID: "a", Fields: map[string]ir.Value{"LeadScore": ir.NewNumber(stdlib.Score, 1)},
		Lists: map[string]bool{}, Programs: map[string]string{}}
	if err := s1.Import(ctx, []*storage.Person{p}, nil); err != nil {
		t.Fatal(err)
	}
	tx1, err := s1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback() // after a failure: the stores close only when it is done
	p1, err := tx1.LoadPerson("a")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan float64, 1)
	fail := make(chan error, 1)
	go func() {
		tx2, err := s2.Begin(ctx)
		if err != nil {
			fail <- err
			return
		}
		defer tx2.Rollback()
		p2, err := tx2.LoadPerson("a")
		if err != nil {
			fail <- err
			return
		}
		got <- p2.Fields["LeadScore"].Num
	}()
	select {
	case v := <-got:
		t.Fatalf("a second process loaded the person (score %v) while the first had it", v)
	case err := <-fail:
		t.Fatal(err)
	case <-time.After(300 * time.Millisecond):
	}
	p1.Fields["LeadScore"] = ir.NewNumber(stdlib.Score, 2)
	if err := tx1.Apply(&storage.Commit{Person: p1}); err != nil {
		t.Fatal(err)
	}
	if err := tx1.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != 2 {
			t.Errorf("the second process saw score %v, want 2 (the first one's commit)", v)
		}
	case err := <-fail:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("the second process still waits after the first committed")
	}
}

// An import that fails part way imports nothing.
func TestSQLiteImportAllOrNothing(t *testing.T) { importAllOrNothing(t, sqlitePair) }
func TestPostgresImportAllOrNothing(t *testing.T) {
	postgresURL(t)
	importAllOrNothing(t, postgresPair)
}

func importAllOrNothing(t *testing.T, pair func(t *testing.T) (*Store, *Store)) {
	s, _ := pair(t)
	mk := func(id string, score float64) *storage.Person {
		return &storage.Person{ID: id, Fields: map[string]ir.Value{"LeadScore": ir.NewNumber(stdlib.Score, score)},
			Lists: map[string]bool{}, Programs: map[string]string{}}
	}
	bg := context.Background()
	if err := s.Import(bg, []*storage.Person{mk("a", 1), mk("b", 2)}, nil); err != nil {
		t.Fatal(err)
	}
	var next []*storage.Person
	for i := range 200 {
		next = append(next, mk(fmt.Sprintf("n%03d", i), 5))
	}
	next = append(next, mk("a", 100))
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	err := s.Import(ctx, next, func(done int) {
		if done == 150 {
			cancel() // the process is stopped part way
		}
	})
	if err == nil {
		// database/sql rolls a transaction back when its context is
		// canceled; the import fails with whichever error comes first.
		t.Fatal("an import canceled part way succeeded")
	}
	ids, err := s.PersonIDs(bg)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[a b]" {
		t.Errorf("after a failed import the people are %v, want [a b]", ids)
	}
	tx, _ := s.Begin(bg)
	defer tx.Rollback()
	if p, _ := tx.LoadPerson("a"); p == nil || p.Fields["LeadScore"].Num != 1 {
		t.Errorf("person a changed by a failed import: %+v", p)
	}
}

func TestSQLiteConcurrentAdvance(t *testing.T) { concurrentAdvance(t, sqlitePair) }
func TestPostgresConcurrentAdvance(t *testing.T) {
	postgresURL(t)
	concurrentAdvance(t, postgresPair)
}

const waitProject = `workspace "W"
program "P" {
  batch campaign "Later" {
    smart list { filter Email is not empty }
    flow {
      wait 2 days
      change score LeadScore by "+1"
    }
    qualify every time
  }
}
`

// concurrentAdvance: two processes resume the same due waits at once, and
// two processes finish the same interrupted batch run at once. Each wait
// is resumed once and each person processed once: the process that finds
// its work taken by the other stops with ErrTaken, and runs again.
func concurrentAdvance(t *testing.T, pair func(t *testing.T) (*Store, *Store)) {
	ctx := context.Background()
	res := compiler.Compile([]lang.Source{{Name: "w.camp", Text: waitProject}}, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	const people = 150
	s1, s2 := pair(t)
	var ps []*storage.Person
	for i := range people {
		id := fmt.Sprintf("p%03d", i)
		ps = append(ps, &storage.Person{ID: id, Fields: map[string]ir.Value{
			"Id":    ir.NewText(stdlib.Text, id),
			"Email": ir.NewText(stdlib.Email, id+"@x.example"),
		}, Lists: map[string]bool{}, Programs: map[string]string{}})
	}
	if err := s1.Import(ctx, ps, nil); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	engines := func(now time.Time) (*vm.Engine, *vm.Engine) {
		var es []*vm.Engine
		for _, s := range []*Store{s1, s2} {
			e, err := vm.New(prog, vm.Options{Store: s, Clock: vm.NewManualClock(now), BatchGroup: 5})
			if err != nil {
				t.Fatal(err)
			}
			es = append(es, e)
		}
		return es[0], es[1]
	}
	// both runs op on each engine at once; after ErrTaken, again when
	// retry is set.
	both := func(op func(e *vm.Engine) error, retry bool, e1, e2 *vm.Engine) (taken int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, e := range []*vm.Engine{e1, e2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := op(e)
					if errors.Is(err, ErrTaken) {
						mu.Lock()
						taken++
						mu.Unlock()
						if retry {
							continue
						}
						return
					}
					if err != nil {
						t.Error(err)
					}
					return
				}
			}()
		}
		wg.Wait()
		return taken
	}

	// A batch run stopped part way (its first group committed), then
	// finished by two processes at once.
	e1, e2 := engines(t0)
	cctx, cancel := context.WithCancel(ctx)
	n := 0
	stopper := &cancelAfter{Store: s1, n: 2, cancel: cancel, count: &n}
	stopped, _ := vm.New(prog, vm.Options{Store: stopper, Clock: vm.NewManualClock(t0), BatchGroup: 5})
	if _, err := stopped.RunBatch(cctx, "Later", vm.RunOptions{}); err == nil {
		t.Fatal("the first run was not stopped part way")
	}
	var resumed, completed atomic.Int32
	taken := both(func(e *vm.Engine) error {
		rep, err := e.RunBatch(ctx, "Later", vm.RunOptions{})
		if rep != nil && rep.Resumed {
			resumed.Add(1)
		}
		if rep != nil && rep.Completed != nil {
			completed.Add(1)
		}
		return err
	}, false, e1, e2)
	// A process that finds its group taken stops: the other finishes the
	// run. One that comes when the run is finished finds it complete.
	t.Logf("batch: %d times a process found its group taken", taken)
	if resumed.Load() == 0 || resumed.Load()+completed.Load() != 2 {
		t.Errorf("%d processes resumed the stopped run and %d found it complete, want 2 in all, at least one resuming", resumed.Load(), completed.Load())
	}

	// Every person waits once.
	acts, err := s1.Activities(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	count := func(typ string) map[string]int {
		m := map[string]int{}
		for _, a := range acts {
			if a.Type == typ {
				m[a.Person]++
			}
		}
		return m
	}
	waits := count("Wait")
	for _, p := range ps {
		if waits[p.ID] != 1 {
			t.Errorf("%s waits %d times, want 1", p.ID, waits[p.ID])
		}
	}

	// Three days later both processes resume the due waits at once.
	e1, e2 = engines(t0.Add(72 * time.Hour))
	taken = both(func(e *vm.Engine) error { _, err := e.Advance(ctx); return err }, true, e1, e2)
	t.Logf("advance: %d times a process found a wait taken", taken)
	if acts, err = s1.Activities(ctx, ""); err != nil {
		t.Fatal(err)
	}
	scores := count("Change Score")
	for _, p := range ps {
		if scores[p.ID] != 1 {
			t.Errorf("%s resumed %d times, want 1", p.ID, scores[p.ID])
		}
	}
	if due, _ := s1.DueWaits(ctx, t0.Add(72*time.Hour)); len(due) != 0 {
		t.Errorf("%d waits left", len(due))
	}
}

// cancelAfter cancels a context when its n-th transaction begins: the
// process stops there, with the groups before committed.
type cancelAfter struct {
	*Store
	n      int
	count  *int
	cancel func()
}

func (s *cancelAfter) Begin(ctx context.Context) (storage.Tx, error) {
	*s.count++
	if *s.count == s.n {
		s.cancel()
	}
	return s.Store.Begin(ctx)
}
