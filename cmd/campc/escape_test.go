package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/explain"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// hostileIDs are Ids that would drive a terminal or fake a log line if
// printed raw. People files refuse them, but a store written earlier, or
// any future way in, may still hold them: the text output must escape them
// whatever gets in.
var hostileIDs = []string{
	"7\x1b[1A\x1b[2K\x1b[32mOK all good",
	"1\n   2  2026-12-01T09:00:00Z  person 2      \"Start\"",
	"cr\rback",
}

func noControls(t *testing.T, what, out string) {
	t.Helper()
	body := strings.TrimSuffix(out, "\n")
	if strings.ContainsAny(body, "\x1b\r\n") {
		t.Errorf("%s prints a control character raw: %q", what, out)
	}
}

func TestTextLogEscapesIds(t *testing.T) {
	for _, id := range hostileIDs {
		var b bytes.Buffer
		writeTextActivity(&b, &storage.Activity{Seq: 1, Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Person: id,
			Type: "Change Data Value", Campaign: "C\x1b[2J", Primary: "Company",
			Attributes: storage.Attrs{{Key: "New Value", Value: storage.AttrStr("a\nb\u009b2J")}}})
		noControls(t, "the text log", b.String())
		if !strings.Contains(b.String(), `person "`) {
			t.Errorf("the text log does not quote the Id %q: %s", id, b.String())
		}
	}
	// An ordinary Id prints as before.
	var b bytes.Buffer
	writeTextActivity(&b, &storage.Activity{Seq: 1, Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Person: "42", Type: "Wait", Campaign: "C"})
	if want := "   1  2026-12-01T09:00:00Z  person 42     \"C\"                    Wait               \"\"\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestExplainEscapesIds(t *testing.T) {
	c := &ir.Campaign{Name: "Start"}
	for _, id := range hostileIDs {
		var b bytes.Buffer
		x := explain.NewWriter(&b)
		x.Trace(vm.TraceEvent{Kind: vm.TraceStart, Person: id, Campaign: c})
		x.Trace(vm.TraceEvent{Kind: vm.TraceLeave, Person: id, Campaign: c, Text: "ended\x1b[2J"})
		for _, line := range strings.SplitAfter(b.String(), "\n") {
			noControls(t, "the explanation", line)
		}
		if !strings.HasPrefix(b.String(), `person "`) {
			t.Errorf("the explanation does not quote the Id %q: %s", id, b.String())
		}
	}
}
