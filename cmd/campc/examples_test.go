package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebinarTimeline runs examples/webinar-timeline as its README line
// says and compares the activity log with expected.log (the summary, whose
// layout is the CLI's business, is left out). UPDATE_EXAMPLES=1 rewrites
// expected.log.
func TestWebinarTimeline(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "webinar-timeline")
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "--events", filepath.Join(dir, "events.jsonl"), "--people", filepath.Join(dir, "people.csv"),
		"--now", "2026-12-01T09:00:00Z", "--until", "2d", dir}, nil, &stdout, &stderr)
	if code != exitOK || stderr.Len() > 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	got, _, _ := strings.Cut(stdout.String(), "\nsummary:")
	want := filepath.Join(dir, "expected.log")
	if os.Getenv("UPDATE_EXAMPLES") == "1" {
		if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(data) {
		t.Errorf("the log differs from %s:\n%s", want, got)
	}
}
