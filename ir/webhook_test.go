package ir

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseJSONPath(t *testing.T) {
	good := map[string][]PathStep{
		"$":                  nil,
		"$.data.score":       {{Key: "data"}, {Key: "score"}},
		"$.results[0].id":    {{Key: "results"}, {Index: 0, IsIndex: true}, {Key: "id"}},
		`$["a b"]['c.d']`:    {{Key: "a b"}, {Key: "c.d"}},
		"$.lead-id[12]":      {{Key: "lead-id"}, {Index: 12, IsIndex: true}},
		`$[""]`:              {{Key: ""}},
		"$.x_1.Y2[3][4]":     {{Key: "x_1"}, {Key: "Y2"}, {Index: 3, IsIndex: true}, {Index: 4, IsIndex: true}},
		`$["ünï"].data`:      {{Key: "ünï"}, {Key: "data"}},
		"$[999999999]":       {{Index: 999999999, IsIndex: true}},
		`$["]"]`:             {{Key: "]"}},
		`$['"quoted"'].next`: {{Key: `"quoted"`}, {Key: "next"}},
	}
	for s, want := range good {
		p, err := ParseJSONPath(s)
		if err != nil {
			t.Errorf("ParseJSONPath(%q): %v", s, err)
			continue
		}
		if len(p.Steps) != len(want) {
			t.Errorf("ParseJSONPath(%q) = %+v, want %+v", s, p.Steps, want)
			continue
		}
		for i := range want {
			if p.Steps[i] != want[i] {
				t.Errorf("ParseJSONPath(%q) step %d = %+v, want %+v", s, i, p.Steps[i], want[i])
			}
		}
	}
	bad := map[string]struct {
		off  int
		text string
	}{
		"":               {0, `starts with "$"`},
		"data.score":     {0, `starts with "$"`},
		"$.":             {1, "a member name must follow"},
		"$..a":           {1, "a member name must follow"},
		"$.a.":           {3, "a member name must follow"},
		"$[":             {1, "starts an array index"},
		"$[]":            {1, "starts an array index"},
		"$[-1]":          {1, "starts an array index"},
		"$[1":            {1, "starts an array index"},
		"$[a]":           {1, "starts an array index"},
		`$["a`:           {2, "is not closed"},
		`$["a"`:          {5, `"]" must follow`},
		"$[9999999999]":  {2, "too large"},
		"$a":             {1, "unexpected 'a' at character 2"},
		"$.a b":          {3, "unexpected ' ' at character 4"},
		"$.é":            {1, "a member name must follow"},
		"$.data.score[0": {12, "starts an array index"},
	}
	for s, want := range bad {
		_, err := ParseJSONPath(s)
		pe, ok := err.(*PathError)
		if !ok {
			t.Errorf("ParseJSONPath(%q) = %v, want a *PathError", s, err)
			continue
		}
		if pe.Offset != want.off || !strings.Contains(pe.Msg, want.text) {
			t.Errorf("ParseJSONPath(%q) = %d %q, want %d and %q", s, pe.Offset, pe.Msg, want.off, want.text)
		}
	}
}

func TestJSONPathFind(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"data": {"score": 42, "tags": ["a", "b"], "a b": null}}`), &doc); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		want any
		ok   bool
	}{
		"$.data.score":     {42.0, true},
		"$.data.tags[1]":   {"b", true},
		`$.data["a b"]`:    {nil, true},
		"$.data.tags[2]":   {nil, false},
		"$.data.missing":   {nil, false},
		"$.data.score.x":   {nil, false},
		"$.data[0]":        {nil, false},
		"$.data.tags.x":    {nil, false},
		"$.data.score[0]":  {nil, false},
		"$.nothing.at.all": {nil, false},
	}
	for s, want := range cases {
		p, err := ParseJSONPath(s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := p.Find(doc)
		if ok != want.ok || got != want.want {
			t.Errorf("Find(%q) = %v, %v; want %v, %v", s, got, ok, want.want, want.ok)
		}
	}
	if got, ok := (JSONPath{}).Find("whole"); !ok || got != "whole" {
		t.Errorf(`"$" finds %v, %v; want the whole document`, got, ok)
	}
}

// tmpl builds a template from literal text and token names: a string
// "{{name}}" in parts is a lead token, anything else literal text.
func tmpl(parts ...string) Template {
	var t Template
	for _, p := range parts {
		if strings.HasPrefix(p, "{{") && strings.HasSuffix(p, "}}") {
			t.Parts = append(t.Parts, Part{Ref: &TokenRef{Family: FamLead, Name: p[2 : len(p)-2]}})
		} else {
			t.Parts = append(t.Parts, Part{Lit: p})
		}
	}
	return t
}

func TestCheckJSONPayload(t *testing.T) {
	good := []Template{
		tmpl(`{"email": "`, "{{Email}}", `", "score": `, "{{LeadScore}}", `}`),
		tmpl(`{"a": ["`, "{{A}}", `-`, "{{B}}", `", `, "{{C}}", `]}`),
		tmpl(`{"a": "\\`, `n`, "{{A}}", `\u0041`, "{{B}}", `"}`),
		tmpl("{{A}}"),
		tmpl(`"`, "{{A}}", `"`),
		tmpl(`{}`),
	}
	for _, tp := range good {
		if _, err := CheckJSONPayload(tp); err != nil {
			t.Errorf("CheckJSONPayload(%s): %v", tp, err)
		}
	}
	bad := []struct {
		t   Template
		ref bool
		msg string
	}{
		{tmpl(`{"a": "\`, "{{A}}", `"}`), true, "inside an escape sequence"},
		{tmpl(`{"a": "\u00`, "{{A}}", `"}`), true, "inside an escape sequence"},
		{tmpl(`{"a": `, "{{A}}", "{{B}}", `}`), false, "not JSON"},
		{tmpl(`{"a": 1`, "{{A}}", `}`), false, "not JSON"},
		{tmpl(`{ `, "{{A}}", `: 1}`), false, "not JSON"},
		{tmpl(`{"a": "x`), false, "not JSON"},
		{tmpl(`{"a": "line` + "\n" + `"}`), false, "not JSON"},
		{tmpl(`email=`, "{{A}}"), false, "not JSON"},
	}
	for _, c := range bad {
		ref, err := CheckJSONPayload(c.t)
		if err == nil || !strings.Contains(err.Error(), c.msg) || (ref != nil) != c.ref {
			t.Errorf("CheckJSONPayload(%s) = %v, %v; want an error with %q (token: %v)", c.t, ref, err, c.msg, c.ref)
		}
	}
}

// A value can never break out of its JSON string: the classic injection
// stays text, and values outside strings are typed JSON values.
func TestRenderJSON(t *testing.T) {
	tp := tmpl(`{"name": "`, "{{Name}}", `", "score": `, "{{LeadScore}}", `, "vip": `, "{{Vip}}", `, "note": `, "{{Note}}", `}`)
	vals := map[string]struct {
		v string
		k JSONKind
	}{
		"Name":      {`x"},"x":1,"y":{"`, JSONText},
		"LeadScore": {"42.5", JSONNumber},
		"Vip":       {"TRUE", JSONBool},
		"Note":      {"", JSONText},
	}
	out := RenderJSON(tp, func(r *TokenRef) (string, JSONKind) { return vals[r.Name].v, vals[r.Name].k })
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	want := map[string]any{"name": `x"},"x":1,"y":{"`, "score": 42.5, "vip": true, "note": nil}
	if len(got) != len(want) {
		t.Fatalf("rendered %s, want the keys of %v", out, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q is %#v, want %#v", out, k, got[k], v)
		}
	}
	// A number or boolean token whose value is not one is written as a string.
	out = RenderJSON(tmpl(`[`, "{{A}}", `,`, "{{B}}", `]`), func(r *TokenRef) (string, JSONKind) {
		if r.Name == "A" {
			return "NaN", JSONNumber
		}
		return "maybe", JSONBool
	})
	if out != `["NaN","maybe"]` {
		t.Errorf("got %s", out)
	}
}

// FuzzJSONPath: the parser never panics, reports an offset inside the
// path, and what it accepts it accepts again the same.
func FuzzJSONPath(f *testing.F) {
	for _, s := range []string{"$", "$.data.score", `$["a b"][0]`, "$[", `$['x`, "$.a.", "data", "$[99999999999]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseJSONPath(s)
		if err != nil {
			pe, ok := err.(*PathError)
			if !ok || pe.Offset < 0 || pe.Offset > len(s) || pe.Msg == "" {
				t.Fatalf("ParseJSONPath(%q): %#v", s, err)
			}
			return
		}
		if p.Text != s {
			t.Fatalf("Text %q, want %q", p.Text, s)
		}
		q, err := ParseJSONPath(s)
		if err != nil || len(q.Steps) != len(p.Steps) {
			t.Fatalf("second parse of %q differs: %v", s, err)
		}
		var doc any = map[string]any{"data": []any{1.0, "x"}}
		p.Find(doc)
	})
}

// FuzzJSONPayload: a template the checker accepts (CheckJSONPayload)
// renders to valid JSON whatever its tokens' values and kinds, and each
// value inside a string reads back exactly (valid UTF-8) from the output.
func FuzzJSONPayload(f *testing.F) {
	f.Add(`{"a": "`, `", "b": `, `}`, `"},"x":1`, "42", uint8(1))
	f.Add(`[`, `,`, `]`, "", "true", uint8(2))
	f.Add(`{"a": "\`, `"`, `}`, `n`, "x", uint8(0))
	f.Add(`"\u00`, `"`, ``, `41`, "", uint8(0))
	f.Fuzz(func(t *testing.T, l1, l2, l3, v1, v2 string, kinds uint8) {
		tp := tmpl(l1, "{{A}}", l2, "{{B}}", l3)
		if _, err := CheckJSONPayload(tp); err != nil {
			return
		}
		vals := map[string]string{"A": v1, "B": v2}
		ks := map[string]JSONKind{"A": JSONKind(kinds % 3), "B": JSONKind(kinds / 3 % 3)}
		out := RenderJSON(tp, func(r *TokenRef) (string, JSONKind) { return vals[r.Name], ks[r.Name] })
		if !json.Valid([]byte(out)) {
			t.Fatalf("template %s with %q, %q rendered invalid JSON: %s", tp, v1, v2, out)
		}
	})
}
