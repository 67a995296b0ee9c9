package compiler

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
)

// webhookMethods are the HTTP methods a webhook may use.
var webhookMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// payloadEncodings are the words after "payload", by encoding.
var payloadEncodings = map[string]ir.Encoding{"json": ir.EncodeJSON, "form": ir.EncodeForm}

// headerName is an HTTP header name (RFC 9110 token).
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// reservedHeaders are set by campc or by HTTP itself: a webhook may not
// write them.
var reservedHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Idempotency-Key"}

// literalHost is the start a webhook URL must have before its first
// token: the scheme and the host written out, so that no value chooses
// where the call goes.
var literalHost = regexp.MustCompile(`^(?i)https?://[^/?#{}]+([/?#]|$)`)

// resolveWebhook compiles a webhook's clauses. url, method and payload
// may be written once; header and map may repeat (a field is mapped
// once).
func (c *checker) resolveWebhook(ws *ir.Workspace, wh *ir.Webhook) {
	decl := c.hookInfo[wh].webhook
	seen := map[string]lang.Position{}
	once := func(what string, it *lang.WebhookItem) bool {
		s, e := rng(it.Pos, it.EndPos)
		if first, ok := seen[what]; ok {
			d := c.errorf(nil, lang.CodeDuplicate, s, e, "webhook %q has more than one %s", wh.Name, what)
			d.Related = append(d.Related, lang.Related{Message: "first here", Start: first, End: first})
			return false
		}
		seen[what] = s
		return true
	}
	mapped := map[*ir.Field]lang.Position{}
	var method *lang.Ident
	var payload *lang.WebhookPayload
	for _, it := range decl.Items {
		switch {
		case it.URL != nil:
			if once("url", it) {
				wh.URL = c.template(nil, it.URL)
				c.checkWebhookURL(wh, it.URL)
			}
		case it.Method != nil:
			if once("method", it) {
				method = it.Method
			}
		case it.Header != nil:
			c.resolveHeader(wh, it.Header)
		case it.Payload != nil:
			if once("payload", it) {
				payload = it.Payload
				c.resolvePayload(wh, it.Payload)
			}
		case it.Map != nil:
			if m, ok := c.resolveMapping(ws, wh, it.Map); ok {
				if first, dup := mapped[m.Field]; dup {
					s, e := rng(it.Map.Field.Pos, it.Map.Field.EndPos)
					d := c.errorf(nil, lang.CodeDuplicate, s, e, "webhook %q maps field %s twice", wh.Name, m.Field.Name)
					d.Related = append(d.Related, lang.Related{Message: "first here", Start: first, End: first})
					continue
				}
				mapped[m.Field] = m.Pos
				wh.Maps = append(wh.Maps, m)
			}
		case it.Unknown != nil:
			c.unknownWord(nil, it.Unknown.Head, it.Unknown.Tail(), "webhook clause", stdlib.WebhookKeywords)
		}
	}
	wh.Method = "GET"
	if payload != nil {
		wh.Method = "POST"
	}
	if method != nil {
		s, e := rng(method.Pos, method.EndPos)
		switch m := method.Name; {
		case slices.Contains(webhookMethods, m):
			wh.Method = m
		case slices.Contains(webhookMethods, strings.ToUpper(m)):
			d := c.errorf(nil, lang.CodeInvalidWebhook, s, e, "HTTP methods are written in capitals: %s", strings.ToUpper(m))
			d.Suggestion = strings.ToUpper(m)
		default:
			sug := nearest(strings.ToUpper(m), webhookMethods)
			d := c.errorf(nil, lang.CodeInvalidWebhook, s, e, "unknown HTTP method %s (one of %s)%s", m, strings.Join(webhookMethods, ", "), didYouMean(sug, false))
			d.Suggestion = sug
		}
	}
	if payload != nil && wh.Method == "GET" {
		s, e := rng(payload.Pos, payload.EndPos)
		c.errorf(nil, lang.CodeInvalidWebhook, s, e, "webhook %q sends a payload with method GET, which has no body; use POST, PUT or PATCH", wh.Name)
	}
}

// checkWebhookURL checks a webhook's URL: http or https, the scheme and
// host written out (tokens only in the path, the query and the fragment),
// and a URL once its tokens are filled.
func (c *checker) checkWebhookURL(wh *ir.Webhook, src *lang.Str) {
	s, e := rng(src.Pos, src.EndPos)
	var prefix, sample strings.Builder
	token := false
	for _, p := range wh.URL.Parts {
		if p.Ref != nil {
			token = true
			sample.WriteString("x")
			continue
		}
		if !token {
			prefix.WriteString(p.Lit)
		}
		sample.WriteString(p.Lit)
	}
	if !literalHost.MatchString(prefix.String()) {
		if !token || !literalHost.MatchString(sample.String()) {
			c.errorf(nil, lang.CodeInvalidWebhook, s, e, "webhook %q has URL %q; a webhook URL starts with http:// or https:// and a host", wh.Name, src.Value())
		} else {
			c.errorf(nil, lang.CodeInvalidWebhook, s, e, "webhook %q has a token in its URL's scheme or host; write them out, so that no value chooses where the call goes (tokens may stand in the path and the query)", wh.Name)
		}
		return
	}
	if u, err := url.Parse(sample.String()); err != nil || u.Host == "" {
		why := "it has no host"
		if err != nil {
			why = strings.TrimPrefix(err.Error(), fmt.Sprintf("parse %q: ", sample.String()))
		}
		c.errorf(nil, lang.CodeInvalidWebhook, s, e, "webhook %q has URL %q, which is not a URL: %s", wh.Name, src.Value(), why)
	}
}

// resolveHeader compiles a header clause: a name HTTP accepts that campc
// does not set itself, and a value without line breaks.
func (c *checker) resolveHeader(wh *ir.Webhook, h *lang.WebhookHeader) {
	ns, ne := rng(h.Name.Pos, h.Name.EndPos)
	name := h.Name.Value()
	switch {
	case !headerName.MatchString(name):
		c.errorf(nil, lang.CodeInvalidWebhook, ns, ne, "%q is not a header name (letters, digits and !#$%%&'*+.^_`|~- only)", name)
		return
	case slices.ContainsFunc(reservedHeaders, func(r string) bool { return strings.EqualFold(r, name) }):
		c.errorf(nil, lang.CodeInvalidWebhook, ns, ne, "header %s is set by campc, not by a webhook", name)
		return
	}
	v := c.template(nil, h.Value)
	for _, p := range v.Parts {
		if p.Ref == nil && strings.ContainsFunc(p.Lit, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			vs, ve := rng(h.Value.Pos, h.Value.EndPos)
			c.errorf(nil, lang.CodeInvalidWebhook, vs, ve, "the value of header %s holds a control character (a line break?); a header is one line", name)
			return
		}
	}
	wh.Headers = append(wh.Headers, ir.Header{Name: name, Value: v})
}

// resolvePayload compiles a payload clause: its encoding, and for JSON a
// template that renders valid JSON whatever the values.
func (c *checker) resolvePayload(wh *ir.Webhook, p *lang.WebhookPayload) {
	if p.Encoding != nil {
		enc, ok := payloadEncodings[p.Encoding.Name]
		if !ok {
			s, e := rng(p.Encoding.Pos, p.Encoding.EndPos)
			sug := nearest(strings.ToLower(p.Encoding.Name), []string{"json", "form"})
			d := c.errorf(nil, lang.CodeInvalidWebhook, s, e, "unknown payload encoding %s (json, form, or nothing for values as they are)%s", p.Encoding.Name, didYouMean(sug, false))
			d.Suggestion = sug
			return
		}
		wh.Encoding = enc
	}
	wh.Payload = c.template(nil, p.Text)
	if wh.Encoding != ir.EncodeJSON {
		return
	}
	ref, err := ir.CheckJSONPayload(wh.Payload)
	if err == nil {
		return
	}
	s, e := rng(p.Text.Pos, p.Text.EndPos)
	if ref != nil {
		s, e = ref.Start, ref.End
	}
	c.errorf(nil, lang.CodeInvalidWebhook, s, e, "webhook %q: %v", wh.Name, err)
}

// resolveMapping compiles map "$.path" to Field: a well-formed path and a
// field of the workspace that a flow may change.
func (c *checker) resolveMapping(ws *ir.Workspace, wh *ir.Webhook, m *lang.WebhookMap) (ir.Mapping, bool) {
	out := ir.Mapping{Pos: lang.Pos(m.Pos)}
	path, err := ir.ParseJSONPath(m.Path.Value())
	if err != nil {
		s, e := rng(m.Path.Pos, m.Path.EndPos)
		if pe, ok := err.(*ir.PathError); ok && !strings.Contains(m.Path.Raw, `\`) {
			// The raw text is the value (no escapes): point at the character.
			s = s.Advance(1 + len([]rune(m.Path.Value()[:pe.Offset])))
			e = s.Advance(1)
		}
		c.errorf(nil, lang.CodeInvalidWebhook, s, e, "webhook %q: response path %q: %v", wh.Name, m.Path.Value(), err)
		return out, false
	}
	out.Path = path
	f := c.ws(ws).fields[m.Field.Name]
	s, e := rng(m.Field.Pos, m.Field.EndPos)
	if f == nil {
		sug := nearest(m.Field.Name, fieldNames(ws))
		d := c.errorf(nil, lang.CodeUndefined, s, e, "undefined field %s%s", m.Field.Name, didYouMean(sug, false))
		d.Suggestion = sug
		return out, false
	}
	c.refIdent(nil, m.Field, f, false)
	if f.Builtin && stdlib.ReadOnlyField(f.Name) {
		c.errorf(nil, lang.CodeReadOnlyField, s, e, "%s", readOnlyMessage(f.Name))
		return out, false
	}
	out.Field = f
	return out, true
}
