package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/lang"
)

// The files under testdata/diag hold chunks separated by a line "---".
// Each chunk is one project; a line "=== file NAME" starts another file of
// the same chunk. A comment "// want CODE" or "// want CODE `regexp`" on a
// line says that exactly such a diagnostic starts on that line; several
// "want" may follow one another. Any diagnostic without a "want", and any
// "want" without its diagnostic, fails the test.

var wantRe = regexp.MustCompile("want ([a-z_]+)(?: `([^`]*)`)?")

type want struct {
	file string
	line int
	code string
	re   *regexp.Regexp
	hit  bool
}

type chunk struct {
	name    string
	sources []lang.Source
	wants   []*want
}

func readChunks(t *testing.T, path string) []chunk {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var chunks []chunk
	base := filepath.Base(path)
	lines := strings.Split(string(b), "\n")
	var cur *chunk
	var file string
	var text []string
	startLine := 0
	explicit := false
	flush := func() {
		// The implicit first file of a chunk that starts with "=== file"
		// is empty: drop it rather than the chunk.
		if cur != nil && file != "" && (explicit || strings.TrimSpace(strings.Join(text, "\n")) != "") {
			cur.sources = append(cur.sources, lang.Source{Name: file, Text: strings.Join(text, "\n")})
		}
		text = nil
	}
	newChunk := func(at int) {
		flush()
		if cur != nil {
			chunks = append(chunks, *cur)
		}
		cur = &chunk{name: fmt.Sprintf("%s:%d", base, at+1)}
		explicit = false
		file = fmt.Sprintf("%s_%d.camp", strings.TrimSuffix(base, ".camp"), at+1)
		startLine = at
	}
	newChunk(0)
	for i, l := range lines {
		switch {
		case strings.TrimSpace(l) == "---":
			newChunk(i + 1)
			continue
		case strings.HasPrefix(l, "=== file "):
			flush()
			explicit = true
			file = strings.TrimSpace(strings.TrimPrefix(l, "=== file "))
			startLine = i + 1
			continue
		}
		text = append(text, l)
		if k := strings.Index(l, "// want "); k >= 0 {
			for _, m := range wantRe.FindAllStringSubmatch(l[k:], -1) {
				w := &want{file: file, line: i - startLine + 1, code: m[1]}
				if m[2] != "" {
					w.re = regexp.MustCompile(m[2])
				}
				cur.wants = append(cur.wants, w)
			}
		}
	}
	newChunk(len(lines))
	return chunks
}

func TestDiagnostics(t *testing.T) {
	files, _ := filepath.Glob("testdata/diag/*.camp")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	seen := map[string]bool{}
	for _, f := range files {
		for _, ch := range readChunks(t, f) {
			if len(ch.sources) == 0 {
				continue
			}
			t.Run(ch.name, func(t *testing.T) {
				// Files not named .camp are the files declarations name
				// (email bodies), read through Options.ReadFile.
				var camp []lang.Source
				others := map[string]string{}
				for _, s := range ch.sources {
					if strings.HasSuffix(s.Name, ".camp") {
						camp = append(camp, s)
					} else {
						others[s.Name] = s.Text
					}
				}
				read := func(name string) (string, error) {
					if t, ok := others[name]; ok {
						return t, nil
					}
					return "", os.ErrNotExist
				}
				res := Compile(camp, Options{MaxErrors: -1, Zones: time.LoadLocation, ReadFile: read})
				for _, d := range res.Diagnostics {
					seen[string(d.Code)] = true
					ok := false
					for _, w := range ch.wants {
						if !w.hit && w.file == d.Start.Filename && w.line == d.Start.Line && w.code == string(d.Code) && (w.re == nil || w.re.MatchString(d.Message)) {
							w.hit, ok = true, true
							break
						}
					}
					if !ok {
						t.Errorf("unexpected %s", d)
					}
				}
				for _, w := range ch.wants {
					if !w.hit {
						t.Errorf("%s:%d: missing %s diagnostic (matching %v)", w.file, w.line, w.code, w.re)
					}
				}
			})
		}
	}
	// Every contract code must be produced by at least one chunk.
	for _, code := range []lang.Code{lang.CodeSyntax, lang.CodeUndefined, lang.CodeDuplicate, lang.CodeExecuteDepth,
		lang.CodeExecuteCycle, lang.CodeCrossWorkspace, lang.CodeNotExecutable, lang.CodeNotRequestable,
		lang.CodeExecutableStep, lang.CodeExecutableTrigger, lang.CodeExecutableSchedule, lang.CodeInvalidSmartList,
		lang.CodeCloneTrigger, lang.CodeBadToken, lang.CodeTypeMismatch, lang.CodeQualifyDefault, lang.CodeEmptySmartList} {
		if !seen[string(code)] && !t.Failed() {
			t.Errorf("no chunk produces %s", code)
		}
	}
}
