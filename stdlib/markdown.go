package stdlib

import (
	"fmt"
	"strings"
)

// Markdown renders the tables as the appendix of spec.md, which a test
// keeps equal to this output.
func Markdown() string {
	var b strings.Builder
	cell := func(s string) string { return "`" + strings.ReplaceAll(s, "|", `\|`) + "`" }
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	b.WriteString("### Flow steps\n\n| step | activity | primary value | attributes | in an executable | emits |\n|---|---|---|---|---|---|\n")
	for _, s := range Steps {
		if s.Name == "" {
			continue // if: control flow, described in the grammar
		}
		attrs := strings.Join(s.Attributes, ", ")
		syntax := cell(s.Syntax)
		for _, a := range s.Aliases {
			syntax += " (also " + cell(a) + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", syntax, s.Name, s.PrimaryAttribute, attrs, yes(s.InExecutable), s.EmitsEvent)
	}
	b.WriteString("\nA step inside `if`/`else` also records `Choice`. The engine itself (and the deliverer of `campc serve`) writes ")
	var engine []string
	for _, a := range EngineActivities {
		engine = append(engine, "`"+a+"`")
	}
	b.WriteString(strings.Join(engine, ", "))
	b.WriteString(" activities.\n\n### Triggers\n\n| trigger | event | example |\n|---|---|---|\n")
	for _, t := range Triggers {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(t.Syntax), t.Event, cell(t.Example))
	}
	b.WriteString("\n### Filters\n\n| filter | example |\n|---|---|\n")
	for _, f := range Filters {
		fmt.Fprintf(&b, "| %s | %s |\n", cell(f.Syntax), cell(f.Example))
	}
	b.WriteString("\n### Built-in fields\n\nThe display name is the column heading Marketo's exports use; a people file may use it\ninstead of the field's name (§15.2).\n\n| field | type | display name |\n|---|---|---|\n")
	for _, f := range BuiltinFields {
		display := FieldDisplayName(f.Name)
		if display != "" {
			display = "`" + display + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Name, f.Type, display)
	}
	b.WriteString("\n### Token families\n\n| family | names | what |\n|---|---|---|\n")
	for _, f := range Families {
		names := "any field name"
		if f.Name == "my" {
			names = "any My Token"
		}
		if f.Names != nil {
			names = strings.Join(f.Names, ", ")
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Name, names, f.Doc)
	}
	b.WriteString("\n### Duration units\n\n| unit | length |\n|---|---|\n")
	for _, u := range Units {
		fmt.Fprintf(&b, "| `%s`, `%ss` | %d minutes |\n", u.Name, u.Name, u.Minutes)
	}
	return b.String()
}
