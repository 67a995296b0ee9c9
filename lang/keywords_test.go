package lang

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/campc/campc/stdlib"
)

// leadingWords is the keyword phrase a participle tag starts with: its
// quoted words up to the first thing that is not one ('change' 'score' @@
// is "change score"), and whether a capture of a node (@@) follows them.
// Alternation bars and capture groups in front are skipped.
func leadingWords(tag string) (out []string, node bool) {
	tag = strings.TrimLeft(tag, " |")
	if !strings.HasPrefix(tag, "@@") {
		tag = strings.TrimLeft(tag, "@(")
	}
	for {
		tag = strings.TrimLeft(tag, " ")
		if !strings.HasPrefix(tag, "'") {
			return out, strings.HasPrefix(tag, "@@")
		}
		end := strings.Index(tag[1:], "'")
		out = append(out, tag[1:1+end])
		tag = tag[end+2:]
	}
}

// grammarSteps lists the step alternatives of the grammar (lang.Step) by
// field name, each with the keyword phrase it starts with: the field's own
// tag's words, then, where they are followed by @@, the words the first
// tagged field of the captured node starts with.
func grammarSteps(t *testing.T, skip map[string]bool) map[string][]string {
	out := map[string][]string{}
	st := reflect.TypeFor[Step]()
	for i := range st.NumField() {
		f := st.Field(i)
		tag, ok := f.Tag.Lookup("parser")
		if !ok || skip[f.Name] {
			continue
		}
		words, more := leadingWords(tag)
		if more {
			node := f.Type
			for node.Kind() == reflect.Pointer {
				node = node.Elem()
			}
			for j := range node.NumField() {
				if inner, ok := node.Field(j).Tag.Lookup("parser"); ok {
					w, _ := leadingWords(inner)
					words = append(words, w...)
					break
				}
			}
		}
		if len(words) == 0 {
			t.Fatalf("step alternative %s starts with no keyword", f.Name)
		}
		out[f.Name] = words
	}
	return out
}

// tableWords is the keyword phrase a stdlib step's syntax starts with: its
// lower-case words up to the first placeholder, option or quote.
func tableWords(syntax string) []string {
	var out []string
	for _, w := range strings.Fields(syntax) {
		if !regexp.MustCompile(`^[a-z]+$`).MatchString(w) {
			break
		}
		out = append(out, w)
	}
	return out
}

func isPrefix(a, b []string) bool { return len(a) <= len(b) && slices.Equal(a, b[:len(a)]) }

// TestGrammarMatchesStdlib keeps the grammar's step alternatives and
// stdlib.Steps one to one: every spelling of a row (its syntax and each
// alias) is parsed by exactly one alternative that starts with its
// keywords, and every alternative is a spelling of a row, except the two
// that parse what campc refuses (add to engagement program, and an
// unknown step). Adding a step to one and not the other fails here.
func TestGrammarMatchesStdlib(t *testing.T) {
	refused := map[string]bool{"Engagement": true, "Unknown": true}
	alts := grammarSteps(t, refused)
	matched := map[string]string{}
	for op, r := range stdlib.Steps {
		for _, syntax := range append([]string{r.Syntax}, r.Aliases...) {
			matchSpelling(t, stdlib.StepOp(op), syntax, alts, matched)
		}
	}
	for name, words := range alts {
		if _, ok := matched[name]; !ok {
			t.Errorf("grammar alternative %s (%q …) has no row in stdlib.Steps", name, strings.Join(words, " "))
		}
	}
}

// matchSpelling finds the one grammar alternative that parses a spelling
// of a step, and records it in matched.
func matchSpelling(t *testing.T, op stdlib.StepOp, syntax string, alts map[string][]string, matched map[string]string) {
	t.Helper()
	want := tableWords(syntax)
	if len(want) == 0 {
		t.Errorf("stdlib step %d (%q) has no keywords in its syntax", op, syntax)
		return
	}
	var found []string
	for name, words := range alts {
		if isPrefix(want, words) || isPrefix(words, want) {
			found = append(found, name)
		}
	}
	slices.Sort(found)
	if len(found) != 1 {
		t.Errorf("stdlib step %q is parsed by %d grammar alternatives %v, want 1", syntax, len(found), found)
		return
	}
	if prev, dup := matched[found[0]]; dup {
		t.Errorf("grammar alternative %s matches stdlib steps %q and %q", found[0], prev, syntax)
	}
	matched[found[0]] = syntax
}

// TestStepKeywordLists keeps the parser's list of words that start a step
// (the lookahead that keeps UnknownStep from taking a known step) equal to
// stdlib.StepKeywords, and both equal to the first words of stdlib.Steps.
func TestStepKeywordLists(t *testing.T) {
	parser := slices.DeleteFunc(lookahead(t, reflect.TypeFor[UnknownStep]()), func(w string) bool {
		return w == "else" // else ends an if's branch
	})
	var table []string
	for _, row := range stdlib.Steps {
		for _, syntax := range append([]string{row.Syntax}, row.Aliases...) {
			if w := tableWords(syntax); len(w) > 0 && !slices.Contains(table, w[0]) {
				table = append(table, w[0])
			}
		}
	}
	if got, want := sorted(parser), sorted(table); !slices.Equal(got, want) {
		t.Errorf("UnknownStep's lookahead has %v; the first words of stdlib.Steps are %v", got, want)
	}
	if got, want := sorted(stdlib.StepKeywords), sorted(table); !slices.Equal(got, want) {
		t.Errorf("stdlib.StepKeywords has %v; the first words of stdlib.Steps are %v", got, want)
	}
}

func sorted(xs []string) []string { return slices.Sorted(slices.Values(xs)) }

// lookahead is the list of words in the negative lookahead of an unknown
// node's tag: the words that start a known one.
func lookahead(t *testing.T, node reflect.Type) []string {
	t.Helper()
	re := regexp.MustCompile(`\(\?!([^)]*)\)`)
	for i := range node.NumField() {
		tag, ok := node.Field(i).Tag.Lookup("parser")
		if look := re.FindStringSubmatch(tag); ok && look != nil {
			var out []string
			for _, w := range strings.Split(look[1], "|") {
				out = append(out, strings.Trim(strings.TrimSpace(w), "'"))
			}
			return out
		}
	}
	t.Fatalf("%s has no lookahead", node.Name())
	return nil
}

// TestUnknownKeywordLists keeps the parser's other lookaheads (the words
// that start a declaration, a campaign clause and a smart-list line, which
// an unknown one may not start with) equal to stdlib's lists of them,
// which "did you mean" suggests from.
func TestUnknownKeywordLists(t *testing.T) {
	cases := []struct {
		node  reflect.Type
		table []string
		extra []string // words the parser also stops at
	}{
		{reflect.TypeFor[UnknownDecl](), stdlib.DeclKeywords, []string{"workspace"}}, // the file's first line, not a declaration
		{reflect.TypeFor[UnknownItem](), stdlib.CampaignKeywords, nil},
		{reflect.TypeFor[UnknownSLine](), stdlib.SmartListKeywords, nil},
		{reflect.TypeFor[UnknownHook](), stdlib.WebhookKeywords, nil},
	}
	for _, c := range cases {
		want := sorted(append(slices.Clone(c.table), c.extra...))
		if got := sorted(lookahead(t, c.node)); !slices.Equal(got, want) {
			t.Errorf("%s's lookahead has %v; stdlib's list (with %v) is %v", c.node.Name(), got, c.extra, want)
		}
	}
}

// TestWebhookKeywords keeps the clauses a webhook may hold (WebhookItem's
// alternatives) and stdlib.WebhookKeywords, which "did you mean" suggests
// from and UnknownHook's lookahead names, the same list.
func TestWebhookKeywords(t *testing.T) {
	var grammar []string
	it := reflect.TypeFor[WebhookItem]()
	for i := range it.NumField() {
		tag, ok := it.Field(i).Tag.Lookup("parser")
		if !ok || it.Field(i).Name == "Unknown" {
			continue
		}
		words, _ := leadingWords(tag)
		if len(words) != 1 {
			t.Fatalf("webhook clause %s starts with %v, want one keyword", it.Field(i).Name, words)
		}
		grammar = append(grammar, words[0])
	}
	if got, want := sorted(grammar), sorted(stdlib.WebhookKeywords); !slices.Equal(got, want) {
		t.Errorf("WebhookItem's clauses start with %v; stdlib.WebhookKeywords is %v", got, want)
	}
}
