//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A people file that is a pipe cannot be read twice: it is held in memory
// for the second pass, and imports as a regular file does.
func TestImportFromPipe(t *testing.T) {
	dir := t.TempDir()
	camp := filepath.Join(dir, "p.camp")
	if err := os.WriteFile(camp, []byte(doorProject), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "people.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString("Id,Email\nb,b@x.example\na,a@x.example\n")
		f.Close()
	}()
	code, stdout, stderr := campc("import", "--db", filepath.Join(dir, "state.db"), fifo, camp)
	if code != 0 || !strings.Contains(stdout, "imported 2 people") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
