package lang

import "testing"

// TestTemplateText checks that a body file's references carry their line
// and column in that file, and that its text is taken without escapes.
func TestTemplateText(t *testing.T) {
	text := "Hello \\n {{lead.FirstName}},\n\tsee {{my.Link:default=here}}.\n"
	parts, d := TemplateText("w/body.txt", text)
	if d != nil {
		t.Fatal(d)
	}
	if len(parts) != 5 || parts[0].Lit != "Hello \\n " || parts[2].Lit != ",\n\tsee " || parts[4].Lit != ".\n" {
		t.Fatalf("parts = %#v", parts)
	}
	r := parts[1].Ref
	if r.Family != "lead" || r.Name != "FirstName" || r.Start.Filename != "w/body.txt" || r.Start.Line != 1 || r.Start.Column != 10 || r.End.Column != 28 {
		t.Errorf("first ref = %+v %v %v", *r, r.Start, r.End)
	}
	r = parts[3].Ref
	if r.Name != "Link" || r.Default != "here" || r.Start.Line != 2 || r.Start.Column != 6 || r.Start.Offset != 34 {
		t.Errorf("second ref = %+v", r)
	}
	_, d = TemplateText("b.txt", "line\nand {{lead.X\nmore")
	if d == nil || d.Start.Line != 2 || d.Start.Column != 5 || d.Code != CodeBadToken {
		t.Errorf("unclosed: %v", d)
	}
}

// FuzzTemplateText checks that any body text splits without panic and
// that its parts put back together give the text.
func FuzzTemplateText(f *testing.F) {
	f.Add("Hi {{lead.FirstName}}\n{{my.X:default=y}}")
	f.Add("{{")
	f.Add("{{a.}}")
	f.Fuzz(func(t *testing.T, s string) {
		parts, d := TemplateText("f.txt", s)
		if d != nil {
			return
		}
		out := ""
		for _, p := range parts {
			if p.Ref != nil {
				out += s[p.Ref.Start.Offset:p.Ref.End.Offset]
			} else {
				out += p.Lit
			}
		}
		if out != s {
			t.Fatalf("parts give %q, not %q", out, s)
		}
	})
}
