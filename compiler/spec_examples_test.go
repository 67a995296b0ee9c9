package compiler

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/lang"
)

// TestSpecExamples compiles every complete example in spec.md (a ```camp
// block that starts with its workspace line) and holds it to its comments:
// each "// error[CODE]: message" or "// warning[CODE]: message" names a
// diagnostic that must start on that line with that code and a message
// that begins with the text written (up to a closing "…"), and an example
// without such comments must check clean. A line "// file: NAME" starts
// another file of the same example.
func TestSpecExamples(t *testing.T) {
	b, err := os.ReadFile("../spec.md")
	if err != nil {
		t.Fatal(err)
	}
	blockRe := regexp.MustCompile("(?s)```camp\n(.*?)```")
	startRe := regexp.MustCompile(`^(\s*//[^\n]*\n)*\s*workspace`)
	commentRe := regexp.MustCompile(`//\s*(error|warning)\[([a-z_]+)\]:\s*(.*)$`)
	n := 0
	for _, m := range blockRe.FindAllSubmatchIndex(b, -1) {
		text := string(b[m[2]:m[3]])
		if !startRe.MatchString(text) {
			continue
		}
		specLine := strings.Count(string(b[:m[2]]), "\n") + 1
		n++
		t.Run(fmt.Sprintf("spec.md:%d", specLine), func(t *testing.T) {
			type want struct {
				file     string
				line     int
				severity lang.Severity
				code     string
				prefix   string
				hit      bool
			}
			var srcs []lang.Source
			var wants []*want
			name, lines, line := "example.camp", []string(nil), 0
			flush := func() {
				if len(lines) > 0 {
					srcs = append(srcs, lang.Source{Name: name, Text: strings.Join(lines, "\n") + "\n"})
				}
				lines, line = nil, 0
			}
			for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
				if f, ok := strings.CutPrefix(strings.TrimSpace(l), "// file:"); ok {
					flush()
					name = strings.TrimSpace(f)
					continue
				}
				lines = append(lines, l)
				line++
				if c := commentRe.FindStringSubmatch(l); c != nil {
					sev := lang.SeverityError
					if c[1] == "warning" {
						sev = lang.SeverityWarning
					}
					prefix, _, _ := strings.Cut(c[3], "…")
					wants = append(wants, &want{file: name, line: line, severity: sev, code: c[2], prefix: strings.TrimSpace(prefix)})
				}
			}
			flush()
			res := Compile(srcs, Options{MaxErrors: -1, Zones: time.LoadLocation})
			for _, d := range res.Diagnostics {
				found := false
				for _, w := range wants {
					if !w.hit && w.file == d.Start.Filename && w.line == d.Start.Line && w.code == string(d.Code) && w.severity == d.Severity && strings.HasPrefix(d.Message, w.prefix) {
						w.hit, found = true, true
						break
					}
				}
				if !found {
					t.Errorf("spec.md:%d: the example reports %s, which its comments do not show", specLine, d)
				}
			}
			for _, w := range wants {
				if !w.hit {
					t.Errorf("spec.md:%d: %s line %d shows %s[%s]: %s…, which the checker does not report", specLine, w.file, w.line, map[lang.Severity]string{lang.SeverityError: "error", lang.SeverityWarning: "warning"}[w.severity], w.code, w.prefix)
				}
			}
		})
	}
	if n < 20 {
		t.Fatalf("found only %d complete examples in spec.md", n)
	}
}
