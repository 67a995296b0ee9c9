package vm

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
)

// parseValue converts text (a people-file cell, a rendered token) to a
// field's type. Empty text is null.
func parseValue(t stdlib.FieldType, s string) (ir.Value, error) {
	v := ir.Value{Type: t}
	if s == "" {
		v.Null = true
		return v, nil
	}
	switch {
	case t.IsText():
		if t == stdlib.Email && !strings.Contains(s, "@") {
			return v, fmt.Errorf("%q is not an email address", s)
		}
		v.Text, v.Fold = s, strings.ToLower(s)
	case t.IsNumeric():
		n, err := ParseNumber(strings.TrimSpace(s))
		if err != nil {
			return v, err
		}
		v.Num = n
	case t == stdlib.Boolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			v.Bool = true
		case "false":
		default:
			return v, fmt.Errorf("%q is not true or false", s)
		}
	case t == stdlib.Date:
		tm, err := time.Parse("2006-01-02", strings.TrimSpace(s))
		if err != nil {
			return v, fmt.Errorf("%q is not a date (2026-12-01)", s)
		}
		v.Time = tm
	case t == stdlib.DateTime:
		tm, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
		if err != nil {
			return v, fmt.Errorf("%q is not an RFC 3339 date-time (2026-12-01T09:00:00Z)", s)
		}
		v.Time = tm.UTC()
	}
	return v, nil
}

// formatValue writes a value as token text.
func formatValue(v ir.Value) string {
	switch {
	case v.Null || v.Type == "":
		return ""
	case v.Type.IsText():
		return v.Text
	case v.Type.IsNumeric():
		return formatNum(v.Num)
	case v.Type == stdlib.Boolean:
		return strconv.FormatBool(v.Bool)
	case v.Type == stdlib.Date:
		return v.Time.Format("2006-01-02")
	default:
		return v.Time.UTC().Format(time.RFC3339)
	}
}

// sameValue reports whether setting a field holding old to v changes
// nothing. Values compare by the field's type: numbers as numbers (2 and
// 2.0), dates by the day, date-times by the instant, booleans as such, and
// text exactly ("de" to "DE" is a change, though filters ignore case). No
// value equals only no value.
func sameValue(old, v ir.Value) bool {
	oldNone, vNone := old.Null || old.Type == "", v.Null || v.Type == ""
	if oldNone || vNone {
		return oldNone == vNone
	}
	switch {
	case v.Type.IsNumeric():
		return old.Num == v.Num
	case v.Type == stdlib.DateTime && old.Type.IsTime():
		return old.Time.Equal(v.Time)
	}
	return formatValue(old) == formatValue(v)
}

func formatNum(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// attrValue is a field value as it appears in activity attributes.
func attrValue(v ir.Value) AttrValue {
	switch {
	case v.Null || v.Type == "":
		return AttrNull()
	case v.Type.IsNumeric():
		return AttrNum(v.Num)
	case v.Type == stdlib.Boolean:
		return AttrBool(v.Bool)
	default:
		return AttrStr(formatValue(v))
	}
}

// render fills a template's token references in a frame. A token's value
// is text: it is never read again as a template.
func (ps *pass) render(t ir.Template, f *frame) string {
	if len(t.Parts) == 1 && t.Parts[0].Ref == nil {
		return t.Parts[0].Lit
	}
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Ref == nil {
			b.WriteString(p.Lit)
			continue
		}
		v := ps.tokenValue(p.Ref, f)
		if v == "" && p.Ref.HasDefault {
			v = p.Ref.Default
		}
		b.WriteString(v)
	}
	return b.String()
}

// renderHTML renders an HTML body: its text as written, each token's
// value (or default) HTML-escaped, so a field value cannot add markup.
func (ps *pass) renderHTML(t ir.Template, f *frame) string {
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Ref == nil {
			b.WriteString(p.Lit)
			continue
		}
		v := ps.tokenValue(p.Ref, f)
		if v == "" && p.Ref.HasDefault {
			v = p.Ref.Default
		}
		b.WriteString(html.EscapeString(v))
	}
	return b.String()
}

// tokenValue resolves one reference in a frame's token context.
func (ps *pass) tokenValue(r *ir.TokenRef, f *frame) string {
	tc := f.tokens
	switch r.Family {
	case ir.FamLead:
		if r.Name == "Id" {
			// The identity, whether or not the person's fields repeat it
			// (people the API creates have no Id field).
			return ps.p.ID
		}
		return formatValue(ps.p.Field(r.Name))
	case ir.FamMy:
		if v, ok := tc.overrides[r.Name]; ok {
			return v
		}
		for _, s := range tc.my {
			if t := s.Lookup(r.Name); t != nil {
				return t.Value
			}
		}
	case ir.FamCampaign:
		c := tc.campaign
		switch r.Name {
		case "Name":
			return c.Name
		case "Id":
			return strconv.Itoa(c.ID + 1)
		case "Description":
			return c.Description
		}
	case ir.FamProgram:
		p := tc.program
		if p == nil {
			return ""
		}
		switch r.Name {
		case "Name":
			return p.Name
		case "Id":
			return strconv.Itoa(p.ID)
		}
	case ir.FamMember:
		if tc.program != nil && r.Name == "Status" {
			st, _ := ps.p.ProgramStatus(tc.program.Key)
			return st
		}
	case ir.FamTrigger:
		return triggerToken(tc.trigger, r.Name)
	case ir.FamSystem:
		now := ps.r.now.UTC()
		switch r.Name {
		case "date":
			return now.Format("2006-01-02")
		case "time":
			return now.Format("15:04:05")
		case "dateTime":
			return now.Format(time.RFC3339)
		}
	}
	return ""
}

func triggerToken(ev *Event, name string) string {
	if ev == nil {
		return ""
	}
	switch name {
	case "Name", "Trigger Name":
		return triggerName(ev.Kind)
	case "Campaign":
		return ev.Campaign
	case "Source":
		return ev.Source
	case "Old Value":
		return ev.Old
	case "New Value":
		return ev.New
	case "Attribute":
		return ev.Field
	case "Program":
		return ev.Program
	case "Status":
		return ev.Status
	case "List":
		return ev.List
	case "Form":
		return ev.Form
	case "Email":
		return ev.Email
	case "Web Page":
		return ev.WebPage
	case "Link":
		return ev.Link
	}
	return ""
}

func triggerName(k ir.TriggerKind) string {
	if int(k) < len(stdlib.Triggers) {
		return stdlib.Triggers[k].Event
	}
	return ""
}
