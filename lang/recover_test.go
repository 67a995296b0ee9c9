package lang

import (
	"fmt"
	"strings"
	"testing"
)

// TestSyntaxErrorPositions: a syntax error names the line and column of
// the offending token, also when it stands inside a smart list, a flow or
// an if block, where participle's backtracking used to place it at the
// enclosing campaign's first word (issue 11, bug 1).
func TestSyntaxErrorPositions(t *testing.T) {
	wrap := func(smart, flow string) string {
		return "workspace \"W\"\nprogram \"P\" {\n  email \"E\" { subject \"x\" }\n  batch campaign \"C\" {\n    smart list {\n" +
			smart + "\n    }\n    flow {\n" + flow + "\n    }\n  }\n}\n"
	}
	ok := `      filter LeadScore > 1`
	step := `      send email "E"`
	cases := []struct {
		name, src string
		at        string // line:col
		msg       string // a substring of the message
	}{
		{"negated activity filter", wrap(`      filter not was mailed email "E"`, step), "6:22", `unexpected "mailed"; expected an activity filter after "was"`},
		{"not before a field", wrap(`      filter not Country is "DE"`, step), "6:18", `a field comparison is negated after the field: Country is not "DE"`},
		{"capitals", wrap(`      filter Country IS NOT EMPTY`, step), "6:22", `(keywords are written in lower case: "is")`},
		{"not contain", wrap(`      filter Country not contain "x"`, step), "6:26", `unexpected "contain"`},
		{"second filter", wrap(ok+"\n      filter Country startswith \"D\"", step), "7:22", `unexpected "startswith"`},
		{"unquoted score", wrap(ok, `      change score LeadScore by 10`), "9:33", `(a score change is quoted: by "+10", "-10" or "=10")`},
		{"alert without to", wrap(ok, "      send alert \"hi\"\n      send email \"E\""), "10:7", `unexpected "send"; expected "to"`},
		{"first step bad", wrap(ok, "      change score LeadScore by 10\n      send email \"E\""), "9:33", `unexpected "10"`},
		{"inside if", wrap(ok, "      if LeadScore > 3 {\n        send email \"E\"\n      } else {\n        change score LeadScore by 1\n      }"), "12:35", `unexpected "1"`},
		{"nested program", "workspace \"W\"\nfolder \"F\" {\n  program \"P\" {\n    batch campaign \"C\" {\n      smart list { filter LeadScore >> 1 }\n      flow { delete person }\n    }\n  }\n}\n", "5:38", `unexpected ">"`},
		{"smart list declaration", "workspace \"W\"\nsmart list \"S\" {\n  filter Country is\n}\n", "4:1", `unexpected "}"`},
		{"campaign clause", wrap(ok, step) + "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ds := Parse("f.camp", c.src)
			if c.at == "" {
				if len(ds) > 0 {
					t.Fatalf("unexpected error %v", ds[0])
				}
				return
			}
			if len(ds) != 1 {
				t.Fatalf("got %d diagnostics, want 1", len(ds))
			}
			d := ds[0]
			if got := fmt.Sprintf("%d:%d", d.Start.Line, d.Start.Column); got != c.at || !strings.Contains(d.Message, c.msg) {
				t.Errorf("got %s: %s\nwant %s: …%s…", got, d.Message, c.at, c.msg)
			}
		})
	}
}

// TestSyntaxErrorBeforeBlockKept: an error that participle already places
// well is not moved into a later block.
func TestSyntaxErrorBeforeBlockKept(t *testing.T) {
	src := "workspace \"W\"\nprogram P {\n  batch campaign \"C\" {\n    smart list { filter LeadScore >> 1 }\n  }\n}\n"
	_, ds := Parse("f.camp", src)
	if len(ds) != 1 || ds[0].Start.Line != 2 {
		t.Fatalf("got %v, want the error on line 2", ds)
	}
}
