package vm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm/storage"
)

// callWebhook renders a webhook's request and has the host make it
// (webhookDone logs how it ended), or, with Options.DeferWebhooks, parks
// the person with the request for the host to make after the commit.
func (ps *pass) callWebhook(st *ir.CallWebhook, cur *cursor) error {
	f, wh := cur.frame, st.Webhook
	req := storage.WebhookRequest{Method: wh.Method, URL: ps.renderURL(wh.URL, f), Person: ps.p.ID,
		Workspace: f.campaign.Workspace.Name, Campaign: f.campaign.Name, Webhook: wh.Name, Step: st.ID}
	if req.Method == "" {
		req.Method = "GET" // a program built without the checker
	}
	for _, h := range wh.Headers {
		req.Headers = append(req.Headers, storage.Header{Name: h.Name, Value: oneLine(ps.render(h.Value, f))})
	}
	if len(wh.Payload.Parts) > 0 {
		req.Body, req.ContentType = ps.renderPayload(wh, f), wh.Encoding.ContentType()
	}
	req.IdempotencyKey = ps.idempotencyKey(st, req.Workspace)
	if ps.r.e.deferHooks && f.depth == 0 {
		ps.parkWebhook(st, req)
		return nil
	}
	resp, err := ps.r.e.fx.CallWebhook(ps.r.ctx, req)
	if err != nil {
		return ps.fail(fmt.Errorf("call webhook %q: %w", wh.Name, err))
	}
	ps.webhookDone(st, cur, req, resp)
	return nil
}

// parkWebhook parks the person at a call webhook step of the root flow
// (Options.DeferWebhooks) with the request it rendered: the host calls
// after the commit and resumes the flow with ResumeWebhook, which logs
// the Call Webhook activity. Like a wait due now, but nothing resumes it
// by its time.
func (ps *pass) parkWebhook(st *ir.CallWebhook, req storage.WebhookRequest) {
	root := ps.stack[0].frame
	ps.park = append(ps.park, &storage.Parked{Person: ps.p.ID, Workspace: root.campaign.Workspace.Name, Campaign: root.campaign.Name,
		Step: st.ID, Due: ps.r.now.UTC(), Tokens: root.tokens.overrides, Trigger: root.tokens.trigger, Webhook: &req})
	if ps.tracing() {
		ps.trace(TraceEvent{Kind: TraceLeave, Campaign: root.campaign, Text: "calling webhook " + strconv.Quote(st.Webhook.Name) + " after the commit; the rest of the flow runs when it answers"})
	}
	ps.unwind()
}

// webhookDone logs how a webhook call ended (the Call Webhook activity)
// and applies the response mappings of a 2xx JSON response: each mapped
// field is changed as change data value would, with its own activity and
// "data value changes" event.
func (ps *pass) webhookDone(st *ir.CallWebhook, cur *cursor, req storage.WebhookRequest, resp storage.WebhookResponse) {
	wh := st.Webhook
	attrs := storage.Attrs{{Key: "Status", Value: storage.AttrNum(float64(resp.Status))}, {Key: "URL", Value: storage.AttrStr(req.URL)}}
	if resp.Error != "" {
		attrs = append(attrs, storage.Attr{Key: "Error", Value: storage.AttrStr(resp.Error)})
	}
	if resp.Body != "" {
		attrs = append(attrs, storage.Attr{Key: "Response", Value: storage.AttrStr(truncate(resp.Body, storage.MaxLoggedResponse))})
	}
	var sets []mapped
	if len(wh.Maps) > 0 && resp.Error == "" && resp.Status >= 200 && resp.Status < 300 && resp.Body != "" {
		var names, problems []string
		sets, names, problems = mapResponse(wh, resp.Body)
		if len(names) > 0 {
			attrs = append(attrs, storage.Attr{Key: "Mapped Fields", Value: storage.AttrStr(strings.Join(names, ", "))})
		}
		if len(problems) > 0 {
			attrs = append(attrs, storage.Attr{Key: "Mapping Errors", Value: storage.AttrStr(strings.Join(problems, "; "))})
		}
	}
	ps.add(&storage.Activity{Type: stdlib.ActCallWebhook, Primary: wh.Name, Attributes: attrs}, st, cur)
	for _, m := range sets {
		if m.field.Builtin && stdlib.ReadOnlyField(m.field.Name) {
			continue // the checker refuses this; a program built another way changes nothing
		}
		ps.setData(st, m.field, m.value, cur, storage.Attrs{{Key: "Reason", Value: storage.AttrStr(fmt.Sprintf("webhook %q response %s", wh.Name, m.path))}})
	}
}

// mapped is a field value a response mapping found.
type mapped struct {
	field *ir.Field
	path  string
	value ir.Value
}

// mapResponse evaluates a webhook's response mappings on a JSON response
// body: the values found, converted to their fields' types, the fields
// they are for, and what could not be mapped (a path the response lacks,
// a value of the wrong type), which the activity logs.
func mapResponse(wh *ir.Webhook, body string) (out []mapped, names, problems []string) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var doc, extra any
	if err := dec.Decode(&doc); err != nil || dec.Decode(&extra) != io.EOF {
		return nil, nil, []string{"the response is not JSON, so no field is mapped"}
	}
	for _, m := range wh.Maps {
		if m.Field == nil {
			continue
		}
		x, ok := m.Path.Find(doc)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: not in the response", m.Path.Text))
			continue
		}
		v, err := jsonValue(m.Field.Type, x)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v for %s field %s", m.Path.Text, err, m.Field.Type, m.Field.Name))
			continue
		}
		out = append(out, mapped{field: m.Field, path: m.Path.Text, value: v})
		names = append(names, m.Field.Name)
	}
	return out, names, problems
}

// jsonValue converts a value of a decoded JSON response to a field's type:
// null empties the field, a string is read as a people file's cell is, a
// number and a boolean go to fields of their type (or to text fields as
// written); objects and arrays go nowhere.
func jsonValue(t stdlib.FieldType, x any) (ir.Value, error) {
	switch x := x.(type) {
	case nil:
		return ir.Value{Type: t, Null: true}, nil
	case string:
		return storage.ParseFieldValue(t, x)
	case json.Number:
		if t.IsNumeric() || t.IsText() && t != stdlib.Email {
			return storage.ParseFieldValue(t, x.String())
		}
		return ir.Value{}, fmt.Errorf("%s is a number", x)
	case bool:
		if t == stdlib.Boolean || t.IsText() && t != stdlib.Email {
			return storage.ParseFieldValue(t, strconv.FormatBool(x))
		}
		return ir.Value{}, fmt.Errorf("%t is a boolean", x)
	case map[string]any:
		return ir.Value{}, fmt.Errorf("the value is an object")
	case []any:
		return ir.Value{}, fmt.Errorf("the value is an array")
	}
	return ir.Value{}, fmt.Errorf("the value is %T", x)
}

// renderURL renders a webhook's URL: a token's value is escaped as a path
// segment before the "?" and as a query value after it (and in the
// fragment), so that no value adds a path, a parameter or a host.
func (ps *pass) renderURL(t ir.Template, f *frame) string {
	if t.Static() {
		return ps.render(t, f)
	}
	var b strings.Builder
	query := false
	for _, p := range t.Parts {
		if p.Ref == nil {
			b.WriteString(p.Lit)
			query = query || strings.ContainsAny(p.Lit, "?#")
			continue
		}
		v := ps.tokenText(p.Ref, f)
		if query {
			b.WriteString(url.QueryEscape(v))
		} else {
			b.WriteString(url.PathEscape(v))
		}
	}
	return b.String()
}

// renderPayload renders a webhook's payload for its encoding: JSON
// escaping (a value cannot leave its string; outside a string it is one
// JSON value of its token's type), form encoding, or the values as they
// are.
func (ps *pass) renderPayload(wh *ir.Webhook, f *frame) string {
	switch wh.Encoding {
	case ir.EncodeJSON:
		return ir.RenderJSON(wh.Payload, func(r *ir.TokenRef) (string, ir.JSONKind) {
			return ps.tokenText(r, f), ps.jsonKind(r, f)
		})
	case ir.EncodeForm:
		var b strings.Builder
		for _, p := range wh.Payload.Parts {
			if p.Ref == nil {
				b.WriteString(p.Lit)
			} else {
				b.WriteString(url.QueryEscape(ps.tokenText(p.Ref, f)))
			}
		}
		return b.String()
	}
	return ps.render(wh.Payload, f)
}

// tokenText is a reference's value in a frame, its default applied.
func (ps *pass) tokenText(r *ir.TokenRef, f *frame) string {
	v := ps.tokenValue(r, f)
	if v == "" && r.HasDefault {
		v = r.Default
	}
	return v
}

// jsonKind is the JSON value a token outside a JSON string becomes: a
// number for numeric fields and number or score tokens, a boolean for
// boolean fields, a string otherwise.
func (ps *pass) jsonKind(r *ir.TokenRef, f *frame) ir.JSONKind {
	switch r.Family {
	case ir.FamLead:
		if fd := f.campaign.Workspace.Field(r.Name); fd != nil {
			switch {
			case fd.Type.IsNumeric():
				return ir.JSONNumber
			case fd.Type == stdlib.Boolean:
				return ir.JSONBool
			}
		}
	case ir.FamMy:
		if _, over := f.tokens.overrides[r.Name]; over {
			return ir.JSONText // an API value: its type is not known
		}
		for _, s := range f.tokens.my {
			if t := s.Lookup(r.Name); t != nil {
				if t.Type == "number" {
					return ir.JSONNumber
				}
				return ir.JSONText
			}
		}
	}
	return ir.JSONText
}

// idempotencyKey names this call: the workspace, the step and the person,
// what started the pass (a resumed wait or a queue entry, which the store
// keeps; otherwise the operation's clock reading, which a resumed batch
// run keeps as its start), and how many times the step called for the
// person before in this transaction. Not random and not the wall clock:
// doing the same pass again gives the same key.
func (ps *pass) idempotencyKey(st *ir.CallWebhook, workspace string) string {
	origin := ps.origin
	if origin == "" {
		origin = "at:" + ps.r.now.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	root := ""
	if ps.root != nil {
		root = ps.root.Name
	}
	id := strings.Join([]string{"campc webhook 1", workspace, root, ps.p.ID, st.ID, origin}, "\x00")
	if ps.r.hooks == nil {
		ps.r.hooks = map[string]int{}
	}
	n := ps.r.hooks[id]
	ps.r.hooks[id] = n + 1
	sum := sha256.Sum256([]byte(id + "\x00" + strconv.Itoa(n)))
	return hex.EncodeToString(sum[:16])
}

// oneLine replaces the control characters of a header value (a line break
// would end the header) with spaces.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }

// truncate cuts s to at most n bytes on a character boundary, marking the
// cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return string(bytes.ToValidUTF8([]byte(s[:cut]), []byte("\uFFFD"))) + "…"
}
