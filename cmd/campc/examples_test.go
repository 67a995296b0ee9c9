package main

import (
	"bytes"
	"encoding/json"
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

// TestSpecTimeline runs the example of spec §15.8 (its project and its
// events) and checks the log the text describes.
func TestSpecTimeline(t *testing.T) {
	spec, err := os.ReadFile(filepath.Join("..", "..", "spec.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(spec), "### 15.8 ")
	if !ok {
		t.Fatal("spec.md has no §15.8")
	}
	block := func(lang string) string {
		_, rest, ok := strings.Cut(sec, "```"+lang+"\n")
		body, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok2 {
			t.Fatalf("§15.8 has no %s block", lang)
		}
		return body
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"p.camp": block("camp"), "events.jsonl": block("jsonl"), "people.csv": "Id,Email\n1,a@example.com\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "--events", filepath.Join(dir, "events.jsonl"), "--people", filepath.Join(dir, "people.csv"),
		"--now", "2026-12-01T07:00:00Z", "--format", "json", dir}, nil, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	var got []string
	dec := json.NewDecoder(&stdout)
	for dec.More() {
		var a struct{ Time, Type, Primary string }
		if err := dec.Decode(&a); err != nil {
			t.Fatal(err)
		}
		got = append(got, a.Time+" "+a.Type+" "+a.Primary)
	}
	want := []string{
		"2026-12-01T08:00:00Z Interesting Moment digest",
		"2026-12-01T09:00:00Z Fill Out Form Signup",
		"2026-12-01T09:00:00Z Send Email Welcome",
		"2026-12-01T09:00:00Z Wait 1 day",
		"2026-12-02T08:00:00Z Interesting Moment digest",
		"2026-12-02T09:00:00Z Send Email Tips",
		"2026-12-02T12:00:00Z Open Email Tips",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
