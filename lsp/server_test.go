package lsp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/project"
)

const fileA = `workspace "W"

field Region text

list "Hot Leads"

folder "Ops" {
  token "Points" score "+5"

  program "Engine" {
    executable campaign "Apply Score" {
      qualify every time
      flow {
        change score LeadScore by "{{my.Points}}"
      }
    }
  }
}
`

const fileB = `workspace "W"

program "Webinar" {
  statuses "Invited", "Registered"
  token "Points" score "+25"
  email "Invitation" {
    subject "Hi {{lead.FirstName}}, {{my.Points}}"
  }

  batch campaign "Invite" {
    smart list {
      filter Region is "EMEA"
    }
    flow {
      send email "Invitation"
      add to list "Hot Leads"
      execute campaign "Apply Score" use parent tokens
      change program status to "Invited"
    }
  }
}
`

const fileC = `workspace "W"

program "Tradeshow" {
  trigger campaign "Scan" {
    smart list {
      trigger campaign is requested
      filter Region is "Zürich 😀"
    }
    flow {
      execute campaign "Apply Score"
      add to list "Hot Leads"
      send alert "😀 {{lead.Region}}" to "sales@acme.example"
    }
  }
}
`

type proj struct {
	dir     string
	a, b, c string // file paths
}

func newProj(t *testing.T) (*client, proj) {
	t.Helper()
	dir := writeProject(t, map[string]string{"a.camp": fileA, "b.camp": fileB, "sub/c.camp": fileC})
	p := proj{dir: dir, a: filepath.Join(dir, "a.camp"), b: filepath.Join(dir, "b.camp"), c: filepath.Join(dir, "sub/c.camp")}
	c := startClient(t, Options{})
	c.initialize(dir)
	return c, p
}

func codes(ds []protocol.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Code.Value.(string))
	}
	sort.Strings(out)
	return out
}

func hasCode(code string) func([]protocol.Diagnostic) bool {
	return func(ds []protocol.Diagnostic) bool { return slices.Contains(codes(ds), code) }
}

func noErrors(ds []protocol.Diagnostic) bool {
	for _, d := range ds {
		if *d.Severity == protocol.DiagnosticSeverityError {
			return false
		}
	}
	return true
}

func TestDiagnosticsMoveBetweenFiles(t *testing.T) {
	c, p := newProj(t)
	c.open(p.a, fileA)
	c.open(p.b, fileB)
	// The project's other file, not open, gets its diagnostics too.
	c.waitDiags(pathToURI(p.c), hasCode("never_runs"))

	// A second "Hot Leads" in b.camp: the duplicate is reported there,
	// pointing at the first in a.camp.
	b2 := strings.Replace(fileB, `program "Webinar" {`, "list \"Hot Leads\"\n\nprogram \"Webinar\" {", 1)
	c.changeAll(p.b, 2, b2)
	ds := c.waitDiags(pathToURI(p.b), hasCode("duplicate"))
	var dup protocol.Diagnostic
	for _, d := range ds {
		if d.Code.Value == "duplicate" {
			dup = d
		}
	}
	if dup.Range.Start.Line != 2 || len(dup.RelatedInformation) == 0 || dup.RelatedInformation[0].Location.URI != pathToURI(p.a) {
		t.Fatalf("duplicate: %+v", dup)
	}

	// Moving the declaration out of a.camp (an incremental edit) clears it.
	start := find(t, fileA, `list "Hot Leads"`, 0, 0)
	end := find(t, fileA, `folder`, 0, 0)
	c.change(p.a, 2, start, end, "")
	c.waitDiags(pathToURI(p.b), func(ds []protocol.Diagnostic) bool { return !hasCode("duplicate")(ds) && noErrors(ds) })
	c.waitDiags(pathToURI(p.c), noErrors)

	// Removing it from b.camp too: every user of the list, in every file,
	// now has an error, with a suggestion where there is one.
	c.changeAll(p.b, 3, fileB)
	c.waitDiags(pathToURI(p.b), hasCode("undefined"))
	cd := c.waitDiags(pathToURI(p.c), hasCode("undefined"))
	for _, d := range cd {
		if d.Code.Value == "undefined" && !strings.Contains(d.Message, `"Hot Leads"`) {
			t.Errorf("undefined: %q", d.Message)
		}
	}

	// Closing a.camp with unsaved changes goes back to the disk's text.
	c.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.a)}})
	c.waitDiags(pathToURI(p.c), func(ds []protocol.Diagnostic) bool { return !hasCode("undefined")(ds) })
	c.waitDiags(pathToURI(p.b), noErrors)
}

func TestDiagnosticFields(t *testing.T) {
	c, p := newProj(t)
	bad := strings.Replace(fileB, `add to list "Hot Leads"`, `add to list "Hot Lead"`, 1)
	c.open(p.b, bad)
	ds := c.waitDiags(pathToURI(p.b), hasCode("undefined"))
	d := ds[slices.IndexFunc(ds, func(d protocol.Diagnostic) bool { return d.Code.Value == "undefined" })]
	want := find(t, bad, `"Hot Lead"`, 0, 0)
	if d.Range.Start != want || d.Range.End.Character != want.Character+10 {
		t.Errorf("range %+v, want from %+v, 10 wide", d.Range, want)
	}
	if *d.Severity != protocol.DiagnosticSeverityError || *d.Source != "campc" || !strings.Contains(d.Message, `did you mean "Hot Leads"`) {
		t.Errorf("diagnostic %+v", d)
	}
	data, _ := json.Marshal(d.Data)
	if string(data) != `{"suggestion":"Hot Leads"}` {
		t.Errorf("data %s", data)
	}
}

func TestHoverTokenFrames(t *testing.T) {
	c, p := newProj(t)
	c.open(p.a, fileA)
	v := hoverText(t, c, p.a, find(t, fileA, "Points}}", 0, 2))
	for _, want := range []string{
		"**My Token** \"Points\": score = `+5`",
		"In campaign \"Apply Score\": `+5`, from folder \"Ops\"",
		"When \"Invite\" executes it with use parent tokens: `+25`, from program \"Webinar\": the caller's, when executed with use parent tokens",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("hover lacks %q:\n%s", want, v)
		}
	}
	// In an email's subject: as each campaign that sends it resolves it.
	c.open(p.b, fileB)
	v2 := hoverText(t, c, p.b, find(t, fileB, "Points}}", 0, 1))
	if !strings.Contains(v2, "In campaign \"Invite\": `+25`, from program \"Webinar\" (the program's own)") {
		t.Errorf("hover in an email subject:\n%s", v2)
	}
	if strings.Contains(v, `"Scan" executes`) {
		t.Errorf("Scan executes without parent tokens, yet is listed:\n%s", v)
	}
}

func hoverText(t *testing.T, c *client, file string, pos protocol.Position) string {
	t.Helper()
	m := c.call("textDocument/hover", docPos(file, pos))
	if m.Error != nil {
		t.Fatalf("hover: %v", m.Error)
	}
	if string(m.Result) == "null" {
		return ""
	}
	var h struct {
		Contents protocol.MarkupContent `json:"contents"`
		Range    protocol.Range         `json:"range"`
	}
	json.Unmarshal(m.Result, &h)
	return h.Contents.Value
}

func TestHoverNames(t *testing.T) {
	c, p := newProj(t)
	c.open(p.b, fileB)
	camp := hoverText(t, c, p.b, find(t, fileB, `"Apply Score"`, 0, 3))
	for _, want := range []string{`**executable campaign** "Apply Score" in program "Engine", workspace "W"`, "- depth: 1", `- executed by:`, `"Invite", depth 0 (use parent tokens)`, `"Scan", depth 0`, "declared at `a.camp:11:25`"} {
		if !strings.Contains(camp, want) {
			t.Errorf("campaign hover lacks %q:\n%s", want, camp)
		}
	}
	invite := hoverText(t, c, p.b, find(t, fileB, `"Invite" {`, 0, 2))
	for _, want := range []string{"**batch campaign**", "qualification: once (the default)", `executes "Apply Score", depth 1`} {
		if !strings.Contains(invite, want) {
			t.Errorf("campaign hover lacks %q:\n%s", want, invite)
		}
	}
	if h := hoverText(t, c, p.b, find(t, fileB, `"Hot Leads"`, 0, 1)); !strings.Contains(h, `**list** "Hot Leads"`) || !strings.Contains(h, "declared at `a.camp:5:6`") {
		t.Errorf("list hover:\n%s", h)
	}
	if h := hoverText(t, c, p.b, find(t, fileB, `"Invitation"`, 1, 1)); !strings.Contains(h, `**email** "Invitation"`) || !strings.Contains(h, "declared at `b.camp:6:9`") {
		t.Errorf("email hover:\n%s", h)
	}
	if h := hoverText(t, c, p.b, find(t, fileB, `Region is`, 0, 1)); !strings.Contains(h, "**field** `Region`: text") {
		t.Errorf("field hover:\n%s", h)
	}
	if h := hoverText(t, c, p.b, find(t, fileB, `"Invited"`, 1, 1)); !strings.Contains(h, `**status** "Invited"`) {
		t.Errorf("status hover:\n%s", h)
	}
	if h := hoverText(t, c, p.b, protocol.Position{Line: 1, Character: 0}); h != "" {
		t.Errorf("hover on an empty line: %q", h)
	}
}

func TestHoverUTF16(t *testing.T) {
	c, p := newProj(t)
	c.open(p.c, fileC)
	// The cursor on "Region" after an emoji: two UTF-16 units for one
	// character.
	line := "      send alert \"😀 {{lead."
	col := len(utf16.Encode([]rune(line)))
	m := c.call("textDocument/hover", docPos(p.c, protocol.Position{Line: 11, Character: protocol.UInteger(col + 1)}))
	var h struct {
		Contents protocol.MarkupContent `json:"contents"`
		Range    protocol.Range         `json:"range"`
	}
	json.Unmarshal(m.Result, &h)
	if !strings.Contains(h.Contents.Value, "**field** `Region`") {
		t.Fatalf("hover: %s", m.Result)
	}
	if h.Range.Start.Character != protocol.UInteger(col) || h.Range.End.Character != protocol.UInteger(col+6) {
		t.Errorf("range %+v, want characters %d to %d", h.Range, col, col+6)
	}
}

func locations(t *testing.T, c *client, method string, params any) []string {
	t.Helper()
	var locs []protocol.Location
	c.result(method, params, &locs)
	var out []string
	for _, l := range locs {
		p, _ := uriToPath(l.URI)
		out = append(out, filepath.Base(p)+":"+itoa(int(l.Range.Start.Line)+1)+":"+itoa(int(l.Range.Start.Character)+1))
	}
	return out
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonNum(n)) }

func jsonNum(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestDefinitionAndReferences(t *testing.T) {
	c, p := newProj(t)
	c.open(p.c, fileC)
	pos := find(t, fileC, `"Hot Leads"`, 0, 2)
	if got := locations(t, c, "textDocument/definition", docPos(p.c, pos)); !slices.Equal(got, []string{"a.camp:5:6"}) {
		t.Errorf("definition: %v", got)
	}
	refs := locations(t, c, "textDocument/references", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.c)}, "position": pos, "context": map[string]any{"includeDeclaration": true}})
	if want := []string{"a.camp:5:6", "b.camp:16:19", "c.camp:11:19"}; !slices.Equal(refs, want) {
		t.Errorf("references: %v, want %v", refs, want)
	}
	// Each kind of name, across files.
	for _, tc := range []struct {
		file, text, at string
		n, skip        int
		want           string
	}{
		{p.c, fileC, `"Apply Score"`, 0, 1, "a.camp:11:25"},
		{p.c, fileC, `Region is`, 0, 0, "a.camp:3:7"},
		{p.a, fileA, `Points}}`, 0, 0, "a.camp:8:9"},
		{p.b, fileB, `Points}}`, 0, 0, "b.camp:5:9"},
		{p.b, fileB, `"Invited"`, 1, 1, "b.camp:4:12"},
		{p.b, fileB, `"Invitation"`, 1, 1, "b.camp:6:9"},
	} {
		got := locations(t, c, "textDocument/definition", docPos(tc.file, find(t, tc.text, tc.at, tc.n, tc.skip)))
		if !slices.Equal(got, []string{tc.want}) {
			t.Errorf("definition of %s in %s: %v, want %s", tc.at, filepath.Base(tc.file), got, tc.want)
		}
	}
}

// applyEdits applies a workspace edit's changes to the files' texts.
func applyEdits(t *testing.T, texts map[string]string, we protocol.WorkspaceEdit) {
	t.Helper()
	for uri, edits := range we.Changes {
		f, _ := uriToPath(uri)
		text, ok := texts[f]
		if !ok {
			t.Fatalf("edit of unknown file %s", f)
		}
		sort.Slice(edits, func(i, j int) bool {
			a, b := edits[i].Range.Start, edits[j].Range.Start
			return a.Line > b.Line || (a.Line == b.Line && a.Character > b.Character)
		})
		for _, e := range edits {
			s, err1 := offsetOf(text, e.Range.Start)
			en, err2 := offsetOf(text, e.Range.End)
			if err1 != nil || err2 != nil {
				t.Fatalf("bad edit range %+v", e.Range)
			}
			text = text[:s] + e.NewText + text[en:]
		}
		texts[f] = text
	}
}

func checkClean(t *testing.T, texts map[string]string) {
	t.Helper()
	var srcs []lang.Source
	for f, text := range texts {
		srcs = append(srcs, lang.Source{Name: f, Text: text})
	}
	res := compiler.Compile(srcs, compiler.Options{})
	if res.HasErrors() {
		t.Fatalf("after the edit the project has errors:\n%s", res)
	}
}

func TestRenameAcrossThreeFiles(t *testing.T) {
	c, p := newProj(t)
	c.open(p.c, fileC)
	texts := map[string]string{p.a: fileA, p.b: fileB, p.c: fileC}
	var rng protocol.Range
	c.result("textDocument/prepareRename", docPos(p.c, find(t, fileC, `"Apply Score"`, 0, 4)), &rng)
	if rng.Start != find(t, fileC, `"Apply Score"`, 0, 0) {
		t.Errorf("prepareRename range %+v", rng)
	}
	var we protocol.WorkspaceEdit
	c.result("textDocument/rename", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.c)}, "position": find(t, fileC, `"Apply Score"`, 0, 4), "newName": `Apply "Points"`}, &we)
	if len(we.Changes) != 3 {
		t.Fatalf("rename touches %d files, want 3: %+v", len(we.Changes), we.Changes)
	}
	applyEdits(t, texts, we)
	for _, f := range []string{p.a, p.b, p.c} {
		if !strings.Contains(texts[f], `"Apply \"Points\""`) || strings.Contains(texts[f], `"Apply Score"`) {
			t.Errorf("%s after rename:\n%s", f, texts[f])
		}
	}
	checkClean(t, texts)

	// A field, written bare and inside {{lead.…}}.
	texts = map[string]string{p.a: fileA, p.b: fileB, p.c: fileC}
	c.result("textDocument/rename", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.c)}, "position": find(t, fileC, `Region}}`, 0, 0), "newName": "Area"}, &we)
	applyEdits(t, texts, we)
	if strings.Contains(texts[p.a]+texts[p.b]+texts[p.c], "Region") || !strings.Contains(texts[p.c], "{{lead.Area}}") {
		t.Errorf("field rename left Region:\n%s", texts[p.c])
	}
	checkClean(t, texts)

	// A My Token: its declaration and the references that resolve to it,
	// not the other program's token of the same name.
	texts = map[string]string{p.a: fileA, p.b: fileB, p.c: fileC}
	c.result("textDocument/rename", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.b)}, "position": find(t, fileB, `Points}}`, 0, 1), "newName": "Bonus"}, &we)
	applyEdits(t, texts, we)
	if !strings.Contains(texts[p.b], `token "Bonus"`) || !strings.Contains(texts[p.b], "{{my.Bonus}}") || !strings.Contains(texts[p.a], `token "Points"`) {
		t.Errorf("token rename:\n%s\n%s", texts[p.a], texts[p.b])
	}

	// Collisions are refused with a message.
	for _, tc := range []struct {
		file, text, at, name, msg string
	}{
		{p.b, fileB, `"Invite"`, "Scan", `campaign "Scan" already exists`},
		{p.b, fileB, `Region is`, "Email", `field "Email" already exists`},
		{p.b, fileB, `"Invited"`, "Registered", `status "Registered" already exists`},
		{p.b, fileB, `Region is`, "9 lives", `not a field name`},
	} {
		m := c.call("textDocument/rename", map[string]any{"textDocument": map[string]any{"uri": pathToURI(tc.file)}, "position": find(t, tc.text, tc.at, 0, 1), "newName": tc.name})
		if m.Error == nil || !strings.Contains(m.Error.Message, tc.msg) {
			t.Errorf("rename to %q: %s %+v, want %q", tc.name, m.Result, m.Error, tc.msg)
		}
	}
}

func TestCompletion(t *testing.T) {
	c, p := newProj(t)
	c.open(p.b, fileB)
	labels := func(text string, pos protocol.Position) []string {
		t.Helper()
		c.changeAll(p.b, 2, text)
		var l protocol.CompletionList
		c.result("textDocument/completion", docPos(p.b, pos), &l)
		var out []string
		for _, it := range l.Items {
			out = append(out, it.Label)
		}
		return out
	}
	at := func(text, marker string) (string, protocol.Position) {
		i := strings.Index(text, marker)
		return strings.Replace(text, marker, "", 1), posOf(text, i)
	}
	flowLine := "      change program status to \"Invited\"\n"
	with := func(line string) string { return strings.Replace(fileB, flowLine, flowLine+line, 1) }

	// Names in scope for a quoted name: executables of this workspace.
	if got := labels(at(with("      execute campaign \"|\"\n"), "|")); !slices.Equal(got, []string{"Apply Score"}) {
		t.Errorf("execute campaign: %v", got)
	}
	if got := labels(at(with("      request campaign \"|\"\n"), "|")); !slices.Equal(got, []string{"Scan"}) {
		t.Errorf("request campaign: %v", got)
	}
	if got := labels(at(with("      add to list \"Ho|\"\n"), "|")); !slices.Equal(got, []string{"Hot Leads"}) {
		t.Errorf("list: %v", got)
	}
	if got := labels(at(with("      change program status to \"|\"\n"), "|")); !slices.Equal(got, []string{"Invited", "Registered"}) {
		t.Errorf("status: %v", got)
	}
	// Token families, then names.
	if got := labels(at(with("      send alert \"{{|\" to \"a@b.c\"\n"), "|")); !slices.Contains(got, "my") || !slices.Contains(got, "lead") || len(got) != 7 {
		t.Errorf("families: %v", got)
	}
	if got := labels(at(with("      send alert \"{{my.|\" to \"a@b.c\"\n"), "|")); !slices.Equal(got, []string{"Points"}) {
		t.Errorf("my tokens: %v", got)
	}
	if got := labels(at(with("      send alert \"{{lead.Reg|\" to \"a@b.c\"\n"), "|")); !slices.Contains(got, "Region") || !slices.Contains(got, "Email") {
		t.Errorf("lead tokens: %v", got)
	}
	if got := labels(at(with("      send alert \"{{campaign.|\" to \"a@b.c\"\n"), "|")); !slices.Equal(got, []string{"Name", "Id", "Description"}) {
		t.Errorf("campaign tokens: %v", got)
	}
	// Units after a number in wait.
	if got := labels(at(with("      wait 3 |\n"), "|")); !slices.Contains(got, "days") || !slices.Contains(got, "hour") {
		t.Errorf("units: %v", got)
	}
	// Keywords where a step may start, and where a clause may.
	if got := labels(at(with("      ex|\n"), "|")); !slices.Contains(got, "execute") || slices.Contains(got, "flow") {
		t.Errorf("step keywords: %v", got)
	}
	if got := labels(at(strings.Replace(fileB, "    flow {", "    qu|\n    flow {", 1), "|")); !slices.Contains(got, "qualify") || slices.Contains(got, "execute") {
		t.Errorf("campaign keywords: %v", got)
	}
	if got := labels(at(strings.Replace(fileB, "      filter Region", "      |\n      filter Region", 1), "|")); !slices.Equal(got, []string{"trigger", "filter", "logic"}) {
		t.Errorf("smart list keywords: %v", got)
	}
	if got := labels(at(strings.Replace(fileB, "\nprogram \"Webinar\" {", "\nwebhook \"Hook\" {\n  url \"https://h.example\"\n  |\n}\nprogram \"Webinar\" {", 1), "|")); !slices.Equal(got, []string{"url", "method", "header", "payload", "map"}) {
		t.Errorf("webhook keywords: %v", got)
	}
	// Fields after filter.
	if got := labels(at(strings.Replace(fileB, "      filter Region", "      filter Re|\n      filter Region", 1), "|")); !slices.Contains(got, "Region") || !slices.Contains(got, "LeadScore") {
		t.Errorf("fields: %v", got)
	}
}

func TestFormattingSymbolsActions(t *testing.T) {
	c, p := newProj(t)
	messy := strings.ReplaceAll(fileB, "  ", " ")
	c.open(p.b, messy)
	var edits []protocol.TextEdit
	c.result("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.b)}, "options": map[string]any{"tabSize": 2, "insertSpaces": true}}, &edits)
	want, err := lang.Format(p.b, []byte(messy))
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{p.b: messy}
	applyEdits(t, texts, protocol.WorkspaceEdit{Changes: map[string][]protocol.TextEdit{pathToURI(p.b): edits}})
	if texts[p.b] != string(want) || texts[p.b] != fileB {
		t.Errorf("formatted:\n%s", texts[p.b])
	}

	var syms []protocol.DocumentSymbol
	c.result("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.b)}}, &syms)
	if len(syms) != 1 || syms[0].Name != "Webinar" {
		t.Fatalf("symbols: %+v", syms)
	}
	var kids []string
	for _, k := range syms[0].Children {
		kids = append(kids, k.Name)
	}
	if !slices.Equal(kids, []string{"Invited", "Registered", "Points", "Invitation", "Invite"}) {
		t.Errorf("children: %v", kids)
	}
	var ws []protocol.SymbolInformation
	c.result("workspace/symbol", map[string]any{"query": "apply"}, &ws)
	if len(ws) != 1 || ws[0].Name != "Apply Score" || !strings.HasSuffix(ws[0].Location.URI, "/a.camp") {
		t.Errorf("workspace symbols: %+v", ws)
	}

	// Quick fixes: the suggestion, and qualify every time.
	bad := strings.Replace(fileB, `add to list "Hot Leads"`, `add to list "Hot Lead"`, 1)
	c.changeAll(p.b, 3, bad)
	ds := c.waitDiags(pathToURI(p.b), hasCode("undefined"))
	var actions []protocol.CodeAction
	c.result("textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.b)}, "range": ds[0].Range, "context": map[string]any{"diagnostics": ds}}, &actions)
	if len(actions) != 1 || actions[0].Title != `Change to "Hot Leads"` {
		t.Fatalf("actions: %+v", actions)
	}
	texts = map[string]string{p.b: bad}
	applyEdits(t, texts, *actions[0].Edit)
	if texts[p.b] != fileB {
		t.Errorf("after the fix:\n%s", texts[p.b])
	}

	noQualify := strings.Replace(fileA, "      qualify every time\n", "", 1)
	c.open(p.a, noQualify)
	ds = c.waitDiags(pathToURI(p.a), hasCode("qualify_default"))
	d := ds[slices.IndexFunc(ds, func(d protocol.Diagnostic) bool { return d.Code.Value == "qualify_default" })]
	c.result("textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.a)}, "range": d.Range, "context": map[string]any{"diagnostics": []any{d}}}, &actions)
	if len(actions) != 1 || actions[0].Title != "Add qualify every time" {
		t.Fatalf("actions: %+v", actions)
	}
	texts = map[string]string{p.a: noQualify}
	applyEdits(t, texts, *actions[0].Edit)
	if texts[p.a] != fileA {
		t.Errorf("after adding qualify:\n%s", texts[p.a])
	}
}

func TestUnparsableKeepsLastGoodAnalysis(t *testing.T) {
	c, p := newProj(t)
	c.open(p.b, fileB)
	c.waitDiags(pathToURI(p.b), noErrors)
	// Typing a new step, half written: the file does not parse.
	broken := strings.Replace(fileB, "      change program status", "      execute campaign \"Apply\n      change program status", 1)
	c.changeAll(p.b, 2, broken)
	ds := c.waitDiags(pathToURI(p.b), hasCode("syntax"))
	if len(ds) != 1 {
		t.Errorf("while b.camp does not parse its only diagnostic is the syntax error: %+v", ds)
	}
	// The other files keep their view of it: no "undefined" cascade.
	c.sync()
	for _, f := range []string{p.a, p.c} {
		if !noErrors(c.diagsOf(pathToURI(f))) {
			t.Errorf("%s: %+v", f, c.diagsOf(pathToURI(f)))
		}
	}
	// Hover, definition and completion keep working from the last good
	// analysis.
	if h := hoverText(t, c, p.b, find(t, broken, `"Invitation"`, 1, 1)); !strings.Contains(h, `**email** "Invitation"`) {
		t.Errorf("hover while unparsable: %q", h)
	}
	if got := locations(t, c, "textDocument/definition", docPos(p.b, find(t, broken, `"Hot Leads"`, 0, 1))); !slices.Equal(got, []string{"a.camp:5:6"}) {
		t.Errorf("definition while unparsable: %v", got)
	}
	var l protocol.CompletionList
	c.result("textDocument/completion", docPos(p.b, find(t, broken, `"Apply`, 0, 6)), &l)
	if len(l.Items) != 1 || l.Items[0].Label != "Apply Score" {
		t.Errorf("completion while unparsable: %+v", l.Items)
	}
	// Fixed again: diagnostics clear.
	c.changeAll(p.b, 3, fileB)
	c.waitDiags(pathToURI(p.b), func(ds []protocol.Diagnostic) bool { return !hasCode("syntax")(ds) })
}

func TestBadInput(t *testing.T) {
	dir := writeProject(t, map[string]string{"a.camp": fileA})
	a := filepath.Join(dir, "a.camp")
	c := startClient(t, Options{MaxMessage: 3 << 20})

	// Before initialize.
	if m := c.call("textDocument/hover", docPos(a, protocol.Position{})); m.Error == nil || m.Error.Code != codeServerNotInit {
		t.Errorf("before initialize: %+v", m.Error)
	}
	c.initialize(dir)

	// Not JSON: a parse error, with a null id; the server goes on.
	c.sendRaw([]byte(`{"jsonrpc": "2.0", "id": 7, "method": `))
	if m := c.wait("null"); m.Error == nil || m.Error.Code != codeParseError {
		t.Errorf("bad JSON: %+v", m)
	}
	// Not a request.
	c.sendRaw([]byte(`{"jsonrpc": "2.0", "id": {"x": 1}, "method": "initialize"}`))
	if m := c.wait("null"); m.Error == nil || m.Error.Code != codeInvalidRequest {
		t.Errorf("object id: %+v", m)
	}
	c.sendRaw([]byte(`{"jsonrpc": "1.0", "id": 8, "method": "shutdown"}`))
	if m := c.wait("8"); m.Error == nil || m.Error.Code != codeInvalidRequest {
		t.Errorf("jsonrpc 1.0: %+v", m)
	}
	// Unknown method.
	if m := c.call("textDocument/frobnicate", map[string]any{}); m.Error == nil || m.Error.Code != codeMethodNotFound || !strings.Contains(m.Error.Message, "frobnicate") {
		t.Errorf("unknown method: %+v", m.Error)
	}
	// Bad parameters.
	if m := c.call("textDocument/hover", map[string]any{"textDocument": 5}); m.Error == nil || m.Error.Code != codeInvalidParams {
		t.Errorf("bad params: %+v", m.Error)
	}
	c.open(a, fileA)
	// A line past the end; a character past the line's end (the line's end).
	if m := c.call("textDocument/hover", docPos(a, protocol.Position{Line: 1000, Character: 0})); m.Error == nil || m.Error.Code != codeInvalidParams || !strings.Contains(m.Error.Message, "line 1001 is past the end") {
		t.Errorf("line out of range: %+v", m.Error)
	}
	if m := c.call("textDocument/hover", docPos(a, protocol.Position{Line: 4, Character: 1 << 30})); m.Error != nil {
		t.Errorf("character past the end of the line: %+v", m.Error)
	}
	if m := c.call("textDocument/hover", docPos("/not/a/camp.txt", protocol.Position{})); m.Error == nil {
		t.Errorf("not a .camp file: %+v", m)
	}
	if m := c.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": "http://x/y.camp"}, "position": protocol.Position{}}); m.Error == nil || !strings.Contains(m.Error.Message, "not a file") {
		t.Errorf("http URI: %+v", m.Error)
	}
	// A change whose range is outside the document is refused, and said so.
	c.change(a, 2, protocol.Position{Line: 500}, protocol.Position{Line: 501}, "x")
	c.sync()
	c.mu.Lock()
	shown := false
	for _, n := range c.notes {
		shown = shown || (n.Method == "window/showMessage" && strings.Contains(string(n.Params), "refused"))
	}
	c.mu.Unlock()
	if !shown {
		t.Errorf("a bad change was not reported")
	}
	// A message over the limit is skipped and answered; the next one works.
	c.sendRaw([]byte(`{"jsonrpc":"2.0","id":99,"method":"x","params":"` + strings.Repeat("a", 4<<20) + `"}`))
	if m := c.wait("null"); m.Error == nil || !strings.Contains(m.Error.Message, "larger than the limit") {
		t.Errorf("too large: %+v", m)
	}
	// A document over a megabyte is analyzed.
	big := fileA + strings.Repeat("// "+strings.Repeat("x", 100)+"\n", 12000)
	c.open(filepath.Join(dir, "big.camp"), big)
	c.waitDiags(pathToURI(filepath.Join(dir, "big.camp")), func(ds []protocol.Diagnostic) bool { return hasCode("duplicate")(ds) })

	// Shutdown, then exit: the server stops cleanly.
	c.result("shutdown", nil, nil)
	if m := c.call("textDocument/hover", docPos(a, protocol.Position{})); m.Error == nil || m.Error.Code != codeInvalidRequest {
		t.Errorf("after shutdown: %+v", m.Error)
	}
	c.notify("exit", nil)
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("Serve after shutdown and exit: %v", err)
		}
		c.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not exit")
	}
}

func TestPanicIsAnErrorReply(t *testing.T) {
	c, p := newProj(t)
	c.open(p.a, fileA)
	s := (*Server)(nil)
	_ = s
	// A handler that panics answers with an internal error, and the
	// server goes on.
	testPanic = true
	defer func() { testPanic = false }()
	if m := c.call("workspace/symbol", map[string]any{"query": "x"}); m.Error == nil || m.Error.Code != codeInternalError {
		t.Fatalf("panic: %+v", m)
	}
	testPanic = false
	var ws []protocol.SymbolInformation
	c.result("workspace/symbol", map[string]any{"query": "apply"}, &ws)
	if len(ws) != 1 {
		t.Errorf("after a panic: %+v", ws)
	}
}

func TestDebouncedDiagnostics(t *testing.T) {
	dir := writeProject(t, map[string]string{"a.camp": fileA})
	a := filepath.Join(dir, "a.camp")
	c := startClient(t, Options{Debounce: 300 * time.Millisecond})
	c.initialize(dir)
	c.open(a, fileA)
	c.waitDiags(pathToURI(a), noErrors)
	c.mu.Lock()
	before := c.nDiags[pathToURI(a)]
	c.mu.Unlock()
	// Ten quick edits: one publication, for the last (up to three, should
	// the machine stall the server for a whole pause between two edits).
	for i := 0; i < 10; i++ {
		c.changeAll(a, 2+i, strings.Replace(fileA, `"Hot Leads"`, `"Hot Leads`+strings.Repeat("s", i+1)+`"`, 1))
	}
	c.waitDiags(pathToURI(a), func([]protocol.Diagnostic) bool {
		return c.nDiags[pathToURI(a)] > before
	})
	time.Sleep(700 * time.Millisecond)
	c.mu.Lock()
	n := c.nDiags[pathToURI(a)] - before
	c.mu.Unlock()
	if n < 1 || n > 3 {
		t.Errorf("%d publications for ten quick edits, want 1", n)
	}
	// Saving publishes at once, before the server answers what follows.
	c.mu.Lock()
	before = c.nDiags[pathToURI(a)]
	c.mu.Unlock()
	os.WriteFile(a, []byte(fileA), 0o644)
	c.notify("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": pathToURI(a)}})
	c.sync()
	c.mu.Lock()
	n = c.nDiags[pathToURI(a)] - before
	c.mu.Unlock()
	if n != 1 {
		t.Errorf("%d publications on save, want 1 at once", n)
	}
}

func TestProjectLoadsAsCheck(t *testing.T) {
	dir := writeProject(t, map[string]string{"a.camp": fileA, "b.camp": fileB, "sub/c.camp": fileC, "old/x.camp": "workspace \"W\"\nlist \"Hot Leads\"\n", ".campignore": "old/\n"})
	an := NewAnalyzer(dir, nil).Analyze()
	pr, err := project.Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for f := range an.Current {
		got = append(got, f)
	}
	sort.Strings(got)
	var want []string
	for _, s := range pr.Sources {
		abs, _ := filepath.Abs(s.Name)
		want = append(want, abs)
	}
	if !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
}

func TestSemanticTokens(t *testing.T) {
	c, p := newProj(t)
	c.open(p.c, fileC)
	var st protocol.SemanticTokens
	c.result("textDocument/semanticTokens/full", map[string]any{"textDocument": map[string]any{"uri": pathToURI(p.c)}}, &st)
	// Decode: line, character, length, type, declaration.
	var got []string
	var line, char uint32
	for i := 0; i+4 < len(st.Data); i += 5 {
		if st.Data[i] > 0 {
			char = 0
		}
		line += st.Data[i]
		char += st.Data[i+1]
		decl := ""
		if st.Data[i+4] == 1 {
			decl = " decl"
		}
		got = append(got, jsonNum(int(line)+1)+":"+jsonNum(int(char)+1)+" "+jsonNum(int(st.Data[i+2]))+" "+semanticTypes[st.Data[i+3]]+decl)
	}
	want := []string{
		"3:9 11 class decl",    // "Tradeshow"
		"4:20 6 function decl", // "Scan"
		"7:14 6 property",      // Region
		"10:24 13 function",    // "Apply Score"
		"11:19 11 variable",    // "Hot Leads"
		"12:29 6 property",     // {{lead.Region}}, after an emoji of two UTF-16 units
	}
	if !slices.Equal(got, want) {
		t.Errorf("semantic tokens:\n%v\nwant\n%v", got, want)
	}
}
