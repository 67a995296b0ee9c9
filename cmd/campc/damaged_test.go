package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const damagedProject = `workspace "W"
program "P" {
  batch campaign "Welcome" {
    smart list { filter Email is not empty }
    flow {
      change score LeadScore by "+5"
      wait 2 days
      interesting moment web "back"
    }
    qualify every time
  }
}
`

// Issue #9 item 13.5: a damaged database is bad input, as a --db that
// cannot be opened is (spec §15.6): every command exits 2 and names --db,
// whether the damage is in stored data campc cannot decode or in the
// database's own pages.
func TestDamagedDatabaseExits2(t *testing.T) {
	dir := t.TempDir()
	camp := filepath.Join(dir, "p.camp")
	people := filepath.Join(dir, "people.csv")
	good := filepath.Join(dir, "good.db")
	os.WriteFile(camp, []byte(damagedProject), 0o644)
	os.WriteFile(people, []byte("Id,Email\n1,a@x.example\n2,b@x.example\n"), 0o644)
	if code, _ := runCLI("run", "--db", good, "--people", people, "--now", "2026-12-01T09:00:00Z", "Welcome", camp); code != 0 {
		t.Fatalf("setting up: exit %d", code)
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, db *sql.DB, path string)
		args   []string // --db and the path are added
	}{
		{"person data", sqlDamage(`UPDATE people SET data = x'09ff' WHERE id = '2'`), []string{"run", "--now", "2026-12-10T09:00:00Z", "Welcome"}},
		{"activity attributes", sqlDamage(`UPDATE activities SET attributes = '{' WHERE seq = 1`), []string{"log"}},
		{"parked wait", sqlDamage(`UPDATE parked SET data = x'00'`), []string{"advance", "--now", "2026-12-05T09:00:00Z"}},
		{"pages of a table", pageDamage("activities"), []string{"log"}},
		{"pages of a table, on a run", pageDamage("parked"), []string{"advance", "--now", "2026-12-05T09:00:00Z"}},
	}
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "damaged.db")
			if err := os.WriteFile(path, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			c.damage(t, db, path)
			args := append([]string{c.args[0], "--db", path}, c.args[1:]...)
			if c.args[0] != "log" {
				args = append(args, camp)
			}
			code, stderr := runCLI(args...)
			if code != exitUsage || !strings.Contains(stderr, "--db "+path+": ") {
				t.Errorf("campc %s: exit %d, stderr %q; want exit 2 and a message naming --db", strings.Join(c.args, " "), code, stderr)
			}
		})
	}
}

func sqlDamage(q string) func(*testing.T, *sql.DB, string) {
	return func(t *testing.T, db *sql.DB, _ string) {
		defer db.Close()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// pageDamage overwrites a table's root page with garbage, as a disk or a
// careless copy would.
func pageDamage(table string) func(*testing.T, *sql.DB, string) {
	return func(t *testing.T, db *sql.DB, path string) {
		var root, size int64
		if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&root); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		db.Close()
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, int(size)), (root-1)*size); err != nil {
			t.Fatal(err)
		}
	}
}

// runCLI runs campc in this process and returns its exit code and stderr.
func runCLI(args ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stderr.String()
}
