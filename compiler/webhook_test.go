package compiler

import (
	"testing"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
)

// The checker points at the offending character of a response path and
// at the token of a payload, by line and column.
func TestWebhookDiagnosticColumns(t *testing.T) {
	src := `workspace "W"
field Owner text
webhook "H" {
  url "https://crm.example/hook"
  payload json "{\"a\": \"\\{{lead.Email}}\"}"
  map "$.data..owner" to Owner
}
`
	res := Compile([]lang.Source{{Name: "h.camp", Text: src}}, Options{MaxErrors: -1})
	want := map[string][2]int{ // code+line -> line, column
		"payload": {5, 29},
		"path":    {6, 14},
	}
	got := map[string][2]int{}
	for _, d := range res.Diagnostics {
		if d.Code != lang.CodeInvalidWebhook {
			t.Errorf("unexpected %v", d)
			continue
		}
		key := "payload"
		if d.Start.Line == 6 {
			key = "path"
		}
		got[key] = [2]int{d.Start.Line, d.Start.Column}
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s error at %v, want line %d column %d (all: %v)", k, got[k], w[0], w[1], res.Diagnostics)
		}
	}
}

// A clean webhook compiles to the request the engine sends.
func TestWebhookResolves(t *testing.T) {
	src := `workspace "W"
field Score2 score
webhook "H" {
  url "https://crm.example/hook/{{lead.Id}}"
  header "X-A" "1"
  header "X-B" "{{lead.Email}}"
  payload form "e={{lead.Email}}"
  map "$.score" to Score2
}
webhook "Plain" { url "https://crm.example/x" }
`
	res := Compile([]lang.Source{{Name: "h.camp", Text: src}}, Options{MaxErrors: -1})
	if len(res.Diagnostics) > 0 {
		t.Fatal(res.Diagnostics)
	}
	ws := res.Program.Workspaces[0]
	h, plain := ws.Webhooks[0], ws.Webhooks[1]
	if h.Method != "POST" || h.Encoding != ir.EncodeForm || len(h.Headers) != 2 || h.Headers[1].Name != "X-B" ||
		len(h.Maps) != 1 || h.Maps[0].Field.Name != "Score2" || h.Maps[0].Path.Text != "$.score" || h.Payload.String() != "e={{lead.Email}}" {
		t.Errorf("webhook H compiled to %+v", h)
	}
	if plain.Method != "GET" || len(plain.Payload.Parts) != 0 || plain.URL.String() != "https://crm.example/x" {
		t.Errorf("webhook Plain compiled to %+v", plain)
	}
}
