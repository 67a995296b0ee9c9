package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/campc/campc/store"
)

const doorProject = `workspace "W"
program "P" {
  token "Label" text "x"
  batch campaign "Score" {
    smart list { filter Email is not empty }
    flow { interesting moment web "{{my.Label}}" }
    qualify every time
  }
}
`

// campc runs the CLI in-process and returns its exit code and streams.
func campc(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestDoorBytes: a NUL byte or invalid UTF-8 anywhere in a people file is
// refused with file:line:col and exit 2 before any store sees it, on every
// store (PostgreSQL would otherwise refuse the NUL on every later run,
// without a position), and the file imports nothing.
func TestDoorBytes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	camp := write("p.camp", doorProject)
	good := write("good.csv", "Id,Email,FirstName\n1,a@x.example,Ann\n")
	bad := []struct{ file, text, want string }{
		{"nul.csv", "Id,Email,FirstName\n1,a@x.example,Bea\n2,b@x.example,B\x00b\n", "nul.csv:3:15: error[people]: field FirstName: a NUL byte at byte 2"},
		{"utf8.csv", "Id,Email,FirstName\n1,a@x.example,Bea\n2,b@x.example,B\xc3\n", "utf8.csv:3:15: error[people]: field FirstName: invalid UTF-8 (byte 0xc3 at byte 2)"},
		{"nulid.csv", "Id,Email,FirstName\n1,a@x.example,Bea\n2\x00,b@x.example,Bob\n", "nulid.csv:3:1: error[people]: Id a NUL byte at byte 2"},
		{"nul.jsonl", "{\"Id\": \"1\", \"Email\": \"a@x.example\", \"FirstName\": \"Bea\"}\n{\"Id\": \"2\", \"FirstName\": \"B\\u0000b\"}\n", "nul.jsonl:2:26: error[people]: field FirstName: a NUL byte at byte 2"},
		{"rawnul.jsonl", "{\"Id\": \"1\", \"Email\": \"a@x.example\", \"FirstName\": \"Bea\"}\n{\"Id\": \"2\", \"FirstName\": \"B\x00b\"}\n", "rawnul.jsonl:2:28: error[people]: a NUL byte at byte 28"},
		{"utf8.jsonl", "{\"Id\": \"1\", \"Email\": \"a@x.example\", \"FirstName\": \"Bea\"}\n{\"Id\": \"2\xff\"}\n", "utf8.jsonl:2:10: error[people]: invalid UTF-8 (byte 0xff at byte 10)"},
	}
	for i := range bad {
		bad[i].file = write(bad[i].file, bad[i].text)
		bad[i].want = filepath.Join(dir, bad[i].want)
	}

	dbs := map[string]string{"sqlite": filepath.Join(dir, "state.db")}
	if base := os.Getenv("CAMPC_TEST_POSTGRES"); base != "" {
		url, drop, err := newSchema(base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(drop)
		if code, _, stderr := campc("migrate", "--db", url); code != 0 {
			t.Fatal(stderr)
		}
		dbs["postgres"] = url
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			if code, _, stderr := campc("import", "--db", db, good, camp); code != 0 {
				t.Fatal(stderr)
			}
			for _, b := range bad {
				for _, args := range [][]string{
					{"import", "--db", db, b.file, camp},
					{"run", "--db", db, "--people", b.file, "--now", "2026-12-01T09:00:00Z", "Score", camp},
				} {
					code, stdout, stderr := campc(args...)
					if code != exitUsage || !strings.Contains(stderr, b.want) || stdout != "" {
						t.Errorf("campc %s %s: exit %d, stderr %q, stdout %q; want exit 2 and %q", args[0], filepath.Base(b.file), code, stderr, stdout, b.want)
					}
				}
			}
			// Nothing got in: one person, with the name the good file gave.
			s, err := store.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ids, err := s.PersonIDs(context.Background())
			if err != nil || len(ids) != 1 {
				t.Fatalf("people after the bad files: %v, %v", ids, err)
			}
			tx, err := s.Begin(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			p, err := tx.LoadPerson("1")
			if err != nil || p.Fields["FirstName"].Text != "Ann" {
				t.Fatalf("person 1 after the bad files: %+v, %v", p, err)
			}
		})
	}
	t.Run("memory", func(t *testing.T) {
		for _, b := range bad {
			code, stdout, stderr := campc("run", "--people", b.file, "--now", "2026-12-01T09:00:00Z", "Score", camp)
			if code != exitUsage || !strings.Contains(stderr, b.want) || stdout != "" {
				t.Errorf("campc run %s: exit %d, stderr %q; want exit 2 and %q", filepath.Base(b.file), code, stderr, b.want)
			}
		}
	})
	t.Run("token", func(t *testing.T) {
		for _, v := range []string{"a\xffb", "\xc3"} {
			code, stdout, stderr := campc("run", "--people", good, "--token", "my.Label="+v, "--now", "2026-12-01T09:00:00Z", "Score", camp)
			if code != exitUsage || !strings.Contains(stderr, "-token") || !strings.Contains(stderr, "my.Label: invalid UTF-8") || stdout != "" {
				t.Errorf("--token my.Label=%q: exit %d, stderr %q; want exit 2 naming the flag", v, code, stderr)
			}
		}
	})
}
