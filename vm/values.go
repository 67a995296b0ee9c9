package vm

import (
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

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
		return storage.FormatValue(ps.p.Field(r.Name))
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

func triggerToken(ev *storage.Event, name string) string {
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
