package lang

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rogpeppe/go-internal/txtar"
)

// The golden files in testdata/format are txtar archives with a file "in"
// and either a file "want" (the formatted text) or a file "error" (a
// regexp-free substring of the syntax error). UPDATE_GOLDEN=1 rewrites the
// "want" files from the formatter's output.
func TestFormatGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/format/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			in, want, wantErr, wantAt := []byte(nil), []byte(nil), "", -1
			for i, f := range ar.Files {
				switch f.Name {
				case "in":
					in = f.Data
				case "want":
					want, wantAt = f.Data, i
				case "error":
					wantErr = strings.TrimSpace(string(f.Data))
				}
			}
			got, err := Format("in.camp", in)
			if wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), wantErr) {
					t.Fatalf("want error containing %q, got %v", wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if os.Getenv("UPDATE_GOLDEN") == "1" {
				if wantAt < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantAt = len(ar.Files) - 1
				}
				ar.Files[wantAt].Data = got
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("formatted text differs (-want +got):\n%s", cmp.Diff(string(want), string(got)))
			}
			checkFormatted(t, "in", in)
		})
	}
}

// TestFormatIdempotent formats every example, every chunk of the
// diagnostics tests that parses, and every golden input: the result must
// be a fixed point and parse to the same AST as the original.
func TestFormatIdempotent(t *testing.T) {
	n := 0
	for _, s := range formatCorpus(t) {
		if f, _ := Parse(s.Name, s.Text); f == nil {
			continue
		}
		n++
		checkFormatted(t, s.Name, []byte(s.Text))
	}
	if n < 50 {
		t.Errorf("only %d files parsed; the corpus is missing", n)
	}
}

// TestExamplesAreFormatted keeps the bundled examples in the canonical
// layout (campc fmt -w examples rewrites them).
func TestExamplesAreFormatted(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/*.camp")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Format(p, b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s is not formatted; run campc fmt -w examples:\n%s", p, cmp.Diff(string(b), string(got)))
		}
	}
}

func TestFormatLineEndingsAndTabs(t *testing.T) {
	in := "workspace \"A\"\r\n\r\n\r\nlist \"L\"\t// note \t\r\n\tform \"F\"\r\n"
	want := "workspace \"A\"\n\nlist \"L\" // note\nform \"F\"\n"
	got, err := Format("crlf.camp", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFormatSyntaxErrorIsDiagnostic(t *testing.T) {
	_, err := Format("bad.camp", []byte("workspace \"A\"\nlist\n"))
	d, ok := err.(*Diagnostic)
	if !ok || d.Code != CodeSyntax || d.Start.Filename != "bad.camp" {
		t.Fatalf("want a syntax diagnostic, got %#v", err)
	}
}

// FuzzFormat checks that formatting never panics, that it formats exactly
// the files that parse, and that what it makes is a fixed point with the
// same AST.
func FuzzFormat(f *testing.F) {
	addSeeds(f)
	goldens, _ := filepath.Glob("testdata/format/*.txtar")
	for _, p := range goldens {
		if ar, err := txtar.ParseFile(p); err == nil {
			for _, fl := range ar.Files {
				if fl.Name == "in" {
					f.Add(string(fl.Data))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		parsed, _ := Parse("f.camp", src)
		if parsed == nil {
			if _, err := Format("f.camp", []byte(src)); err == nil {
				t.Fatal("formatted a file that does not parse")
			}
			return
		}
		checkParsed(t, parsed, "f.camp", []byte(src))
	})
}

// astOpts compare ASTs without positions (Unknown* tokens carry theirs
// too). cmp with it is slow on large files, so sameAST decides and cmp only
// explains.
var astOpts = cmpopts.IgnoreTypes(lexer.Position{})

var positionType = reflect.TypeOf(lexer.Position{})

// sameAST is reflect.DeepEqual that ignores every lexer.Position.
func sameAST(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameAST(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !sameAST(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		if a.Type() == positionType {
			return true
		}
		for i := 0; i < a.NumField(); i++ {
			if !sameAST(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	}
	panic("sameAST: unexpected kind " + a.Kind().String())
}

// checkFormatted formats src (which parses) and checks the result: a fixed
// point, the same AST, only whitespace changed, no trailing blanks, one
// final newline.
func checkFormatted(t *testing.T, name string, src []byte) {
	t.Helper()
	a, ds := Parse(name, string(src))
	if a == nil {
		t.Fatalf("%s: %v", name, ds[0])
	}
	checkParsed(t, a, name, src)
}

// checkParsed is checkFormatted for a file already parsed, so that the
// fuzzer parses each text once.
func checkParsed(t *testing.T, a *File, name string, src []byte) {
	t.Helper()
	once, err := formatParsed(a, name, string(src))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b, ds := Parse(name, string(once))
	if b == nil {
		t.Fatalf("%s: formatted text does not parse: %v\n%s", name, ds[0], once)
	}
	if !sameAST(reflect.ValueOf(a), reflect.ValueOf(b)) {
		t.Fatalf("%s: formatting changed the AST (-before +after):\n%s", name, cmp.Diff(a, b, astOpts))
	}
	twice, err := formatParsed(b, name, string(once))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !bytes.Equal(once, twice) {
		t.Fatalf("%s: not idempotent (-once +twice):\n%s", name, cmp.Diff(string(once), string(twice)))
	}
	if squeeze(src) != squeeze(once) {
		t.Fatalf("%s: formatting changed more than whitespace", name)
	}
	if !bytes.HasSuffix(once, []byte("\n")) || bytes.HasSuffix(once, []byte("\n\n")) {
		t.Fatalf("%s: does not end with exactly one newline: %q", name, once)
	}
	for i, l := range strings.Split(string(once), "\n") {
		if strings.TrimRight(l, " \t\r") != l {
			t.Fatalf("%s:%d: trailing whitespace in %q", name, i+1, l)
		}
	}
}

// squeeze drops all whitespace outside strings; comments lose their
// trailing blanks in formatting, and so whitespace inside them goes too.
func squeeze(src []byte) string {
	var b strings.Builder
	inStr, inComment := false, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inStr:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(src) {
				i++
				b.WriteByte(src[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		case inComment:
			if c == '\n' {
				inComment = false
			}
		case c == '"':
			inStr = true
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			inComment = true
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// formatCorpus is every example file, every chunk (and every file of a
// chunk) of the compiler's diagnostics tests, the checked-in fuzz corpus,
// and every golden input and output.
func formatCorpus(t *testing.T) []Source {
	var out []Source
	files, _ := filepath.Glob("../examples/*/*.camp")
	diag, _ := filepath.Glob("../compiler/testdata/diag/*.camp")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Source{Name: p, Text: string(b)})
	}
	for _, p := range diag {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var cur []string
		start := 1
		flush := func(next int) {
			if len(cur) > 0 {
				out = append(out, Source{Name: p + ":" + strconv.Itoa(start), Text: strings.Join(cur, "\n")})
			}
			cur, start = nil, next
		}
		for i, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) == "---" || strings.HasPrefix(l, "=== file ") {
				flush(i + 2)
				continue
			}
			cur = append(cur, l)
		}
		flush(0)
	}
	// Any checked-in fuzz corpus ("go test fuzz v1" files of one string).
	corpus, _ := filepath.Glob("testdata/fuzz/*/*")
	for _, p := range corpus {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(b), "\n", 3)
		if len(lines) < 2 || !strings.HasPrefix(lines[1], "string(") {
			continue
		}
		if text, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")")); err == nil {
			out = append(out, Source{Name: p, Text: text})
		}
	}
	goldens, _ := filepath.Glob("testdata/format/*.txtar")
	for _, p := range goldens {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name == "in" || f.Name == "want" {
				out = append(out, Source{Name: p + ":" + f.Name, Text: string(f.Data)})
			}
		}
	}
	return out
}

// TestSameAST keeps the fast comparison honest: it must see a changed
// token and must not see a moved one.
func TestSameAST(t *testing.T) {
	a, _ := Parse("a", "workspace \"A\"\nlist \"L\"\n")
	b, _ := Parse("b", "workspace \"A\" list \"L\"")
	c, _ := Parse("c", "workspace \"A\"\nlist \"M\"\n")
	if !sameAST(reflect.ValueOf(a), reflect.ValueOf(b)) || sameAST(reflect.ValueOf(a), reflect.ValueOf(c)) {
		t.Fatal("sameAST is wrong")
	}
}
