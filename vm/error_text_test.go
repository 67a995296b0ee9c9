package vm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/campc/campc/vm"
)

// A run error names the person as the text log does: an Id that holds
// characters a terminal acts on is quoted and escaped.
func TestErrorQuotesPerson(t *testing.T) {
	e := &vm.Error{Campaign: "C", Person: "7\x1b[1A\x1b[2K\x1b[32mOK", Err: errors.New("boom")}
	if got, want := e.Error(), `campaign "C", person "7\x1b[1A\x1b[2K\x1b[32mOK": boom`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &vm.Error{Campaign: "C", Person: "42", Err: errors.New("boom")}
	if got := e.Error(); !strings.Contains(got, "person 42:") {
		t.Errorf("an ordinary Id changed: %q", got)
	}
}
