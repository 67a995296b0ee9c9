package people

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/campc/campc/internal/textutil"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// eventKey is one key an event kind takes.
type eventKey struct {
	name     string
	required bool
}

// eventKind is one kind of event an events file may hold. Adding a kind
// is one entry in eventKinds.
type eventKind struct {
	name string
	kind ir.TriggerKind
	keys []eventKey
}

// eventKinds lists the kinds by the name the "event" key gives them: the
// trigger that listens to them, as the language writes it.
var eventKinds = []eventKind{
	{"fills out form", ir.TrigFillsOutForm, []eventKey{{"form", true}, {"web page", false}}},
	{"data value changes", ir.TrigDataChanges, []eventKey{{"field", true}, {"value", true}}},
	{"score is changed", ir.TrigScoreChanged, []eventKey{{"field", true}, {"value", true}}},
	{"program status is changed", ir.TrigStatusChanged, []eventKey{{"program", true}, {"status", true}}},
	{"added to list", ir.TrigAddedToList, []eventKey{{"list", true}}},
	{"removed from list", ir.TrigRemovedFromList, []eventKey{{"list", true}}},
	{"campaign is requested", ir.TrigRequested, []eventKey{{"campaign", true}, {"workspace", false}, {"tokens", false}}},
	// Engagement events (issue 11).
	{"opens email", ir.TrigOpensEmail, []eventKey{{"email", true}}},
	{"clicks link in email", ir.TrigClicksEmail, []eventKey{{"email", true}, {"link", false}}},
	{"visits web page", ir.TrigVisitsPage, []eventKey{{"web page", true}}},
	{"clicks link on web page", ir.TrigClicksPage, []eventKey{{"web page", true}, {"link", false}}},
	{"email is delivered", ir.TrigEmailDelivered, []eventKey{{"email", true}}},
	{"email bounces", ir.TrigEmailBounces, []eventKey{{"email", true}}},
	{"unsubscribes from email", ir.TrigUnsubscribes, []eventKey{{"email", true}}},
}

// longYear is a time past year 9999, which time.Parse does not read.
var longYear = regexp.MustCompile(`^[0-9]{5,}-`)

// EventKindNames lists the event kinds an events file may hold, for
// documentation and messages.
func EventKindNames() []string {
	var out []string
	for _, k := range eventKinds {
		out = append(out, k.name)
	}
	return out
}

// eventNames is what an events file's names may name in the program.
type eventNames struct {
	sets      map[string][]string // key -> the names the program has
	types     map[string]stdlib.FieldType
	statuses  map[string][]string // program -> its statuses
	requested []string            // campaigns that listen for API requests
}

func newEventNames(prog *ir.Program) *eventNames {
	n := &eventNames{sets: map[string][]string{}, statuses: map[string][]string{}, types: map[string]stdlib.FieldType{}}
	add := func(key, name string) {
		if !slices.Contains(n.sets[key], name) {
			n.sets[key] = append(n.sets[key], name)
		}
	}
	for _, ws := range prog.Workspaces {
		for _, f := range ws.Fields {
			add("field", f.Name)
			if _, ok := n.types[f.Name]; !ok {
				n.types[f.Name] = f.Type
			}
		}
		for _, l := range ws.Lists {
			add("list", l.Name)
		}
		for _, f := range ws.Forms {
			add("form", f.Name)
		}
		for _, e := range ws.Emails {
			add("email", e.Name)
		}
		for _, p := range ws.WebPages {
			add("web page", p.Name)
		}
		for _, p := range ws.Programs {
			add("program", p.Name)
			for _, st := range p.Statuses {
				n.statuses[p.Name] = append(n.statuses[p.Name], st.Name)
			}
		}
		add("workspace", ws.Name)
	}
	for _, c := range prog.Campaigns {
		if c.Requestable("api") {
			add("campaign", c.Name)
		}
	}
	for _, s := range n.sets {
		sort.Strings(s)
	}
	return n
}

// ReadEvents reads an events file: JSON Lines, one object per line (blank
// lines are skipped), each with "time" (RFC 3339, in the clock's range),
// "person" (an Id), "event" (a kind of EventKindNames) and the keys of its
// kind. Every name must name something of the program. The times must
// not decrease from one line to the next: a file out of order is a
// mistake in the history it tells, so it is refused rather than sorted.
// Any bad line rejects the whole file, with its line and column.
func ReadEvents(file string, r io.Reader, prog *ir.Program) ([]*vm.TimedEvent, error) {
	names := newEventNames(prog)
	br, _ := textutil.SkipBOM(r)
	var out []*vm.TimedEvent
	line := 0
	for {
		b, err := br.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			return out, nil
		}
		line++
		if err != nil && err != io.EOF {
			return nil, &Error{Code: lang.CodeEvents, File: file, Line: line, Column: 1, Msg: err.Error()}
		}
		text := strings.TrimRight(string(b), "\r\n")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if err := storage.CheckText(text); err != nil {
			return nil, &Error{Code: lang.CodeEvents, File: file, Line: line, Column: err.(*storage.TextError).Offset + 1, Msg: err.Error()}
		}
		te, col, err := names.event(text)
		if err != nil {
			return nil, &Error{Code: lang.CodeEvents, File: file, Line: line, Column: col, Msg: err.Error()}
		}
		te.File, te.Line, te.TimeColumn = file, line, col
		if n := len(out); n > 0 && te.Time.Before(out[n-1].Time) {
			return nil, &Error{Code: lang.CodeEvents, File: file, Line: line, Column: col, Msg: fmt.Sprintf("time %s is before the previous event's, %s (line %d): events must be in time order",
				te.Time.Format(time.RFC3339Nano), out[n-1].Time.Format(time.RFC3339Nano), out[n-1].Line)}

		}
		out = append(out, te)
	}
}

// event decodes one line token by token, so that an error names the
// column of the offending key or value; col is the time's column.
func (n *eventNames) event(line string) (te *vm.TimedEvent, timeCol int, err error) {
	dec := json.NewDecoder(strings.NewReader(line))
	col := func() int { return int(dec.InputOffset()) + 1 }
	fail := func(c int, format string, args ...any) (*vm.TimedEvent, int, error) {
		return nil, c, fmt.Errorf(format, args...)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fail(1, "each line must be one JSON object")
	}
	vals := map[string]string{}
	at := map[string]int{}    // each key's value's column
	keyAt := map[string]int{} // each key's column
	var tokens map[string]string
	for dec.More() {
		kat := int(dec.InputOffset())
		for kat < len(line) && (line[kat] == ' ' || line[kat] == '\t' || line[kat] == ',') {
			kat++
		}
		kat++
		kt, err := dec.Token()
		if err != nil {
			return fail(col(), "bad JSON: %v", err)
		}
		key, _ := kt.(string)
		if first, dup := keyAt[key]; dup {
			return fail(kat, "key %q appears twice in the object (first at column %d)", key, first)
		}
		vat := int(dec.InputOffset())
		for vat < len(line) && (line[vat] == ' ' || line[vat] == '\t' || line[vat] == ':') {
			vat++
		}
		vat++
		at[key], keyAt[key] = vat, kat
		if key == "tokens" {
			var raw map[string]json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fail(vat, "\"tokens\" must be an object of My Token names and text values")
			}
			tokens = map[string]string{}
			for _, name := range slices.Sorted(maps.Keys(raw)) {
				var v string
				if json.Unmarshal(raw[name], &v) != nil {
					return fail(vat, "token %q: a token's value is text (a JSON string)", name)
				}
				tokens[strings.TrimPrefix(name, "my.")] = v
			}
			continue
		}
		vt, err := dec.Token()
		if err != nil {
			return fail(vat, "bad JSON: %v", err)
		}
		v, ok := vt.(string)
		if !ok {
			if d, isDelim := vt.(json.Delim); isDelim {
				return fail(vat, "%q must be text (a JSON string), not %s", key, map[json.Delim]string{'{': "an object", '[': "an array"}[d])
			}
			return fail(vat, "%q must be text (a JSON string), not %v", key, vt)
		}
		vals[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return fail(col(), "bad JSON: %v", err)
	}
	if dec.More() {
		return fail(col(), "each line must be one JSON object")
	}
	te = &vm.TimedEvent{}
	for _, k := range []string{"time", "person", "event"} {
		if _, ok := vals[k]; !ok {
			return fail(1, "missing %q", k)
		}
	}
	t, err := time.Parse(time.RFC3339Nano, vals["time"])
	if len(vals["time"]) == len("2006-01-02") {
		// A date alone, as the language writes one: its midnight, UTC.
		t, err = time.Parse("2006-01-02", vals["time"])
	}
	if err != nil && longYear.MatchString(vals["time"]) {
		return fail(at["time"], "%s is outside the clock's range, %s", vals["time"], stdlib.TimeRange)
	}
	if err != nil {
		return fail(at["time"], "want an RFC 3339 time such as 2026-12-01T09:00:00Z, not %q", vals["time"])
	}
	if !stdlib.InTimeRange(t) {
		return fail(at["time"], "%s is outside the clock's range, %s", vals["time"], stdlib.TimeRange)
	}
	te.Time = t.UTC().Truncate(time.Microsecond)
	if err := storage.CheckID(vals["person"]); err != nil {
		return fail(at["person"]+err.(*storage.TextError).Offset, "person: %v", err)
	}
	te.Event.Person, te.PersonColumn = vals["person"], at["person"]
	i := slices.IndexFunc(eventKinds, func(k eventKind) bool { return k.name == vals["event"] })
	if i < 0 {
		return fail(at["event"], "unknown event %q (one of: %s)%s", vals["event"], strings.Join(EventKindNames(), ", "), quotedDidYouMean(vals["event"], EventKindNames()))
	}
	kind := eventKinds[i]
	te.Event.Kind = kind.kind
	allowed := map[string]bool{"time": true, "person": true, "event": true}
	for _, k := range kind.keys {
		allowed[k.name] = true
		if _, ok := at[k.name]; k.required && !ok {
			return fail(at["event"], "event %q needs %q", kind.name, k.name)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(at)) {
		if !allowed[k] {
			var keys []string
			for _, k := range kind.keys {
				keys = append(keys, fmt.Sprintf("%q", k.name))
			}
			return fail(keyAt[k], "event %q takes no key %q (its keys: %s)", kind.name, k, strings.Join(keys, ", "))
		}
	}
	// Names must name something of the program: a typo fails here, at its
	// line, before anything runs.
	for _, k := range kind.keys {
		v, ok := vals[k.name]
		if !ok || k.name == "value" || k.name == "link" || k.name == "status" {
			continue
		}
		known := n.sets[k.name]
		if !slices.Contains(known, v) {
			what := k.name
			if k.name == "campaign" {
				return fail(at[k.name], "no campaign %q listens for API requests (trigger campaign is requested from api)%s", v, quotedDidYouMean(v, known))
			}
			return fail(at[k.name], "no %s %q in any workspace%s", what, v, quotedDidYouMean(v, known))
		}
	}
	ev := &te.Event
	ev.Form, ev.WebPage, ev.Field, ev.New = vals["form"], vals["web page"], vals["field"], vals["value"]
	ev.List, ev.Program, ev.Status = vals["list"], vals["program"], vals["status"]
	ev.Email, ev.Link, ev.Campaign, ev.Workspace = vals["email"], vals["link"], vals["campaign"], vals["workspace"]
	if kind.kind == ir.TrigStatusChanged && !slices.Contains(n.statuses[ev.Program], ev.Status) {
		return fail(at["status"], "program %q has no status %q%s", ev.Program, ev.Status, quotedDidYouMean(ev.Status, n.statuses[ev.Program]))
	}
	if kind.kind == ir.TrigDataChanges || kind.kind == ir.TrigScoreChanged {
		if _, err := storage.ParseFieldValue(n.types[ev.Field], ev.New); err != nil {
			return fail(at["value"], "field %s: %v", ev.Field, err)
		}
	}
	if kind.kind == ir.TrigRequested {
		ev.Source = "api"
		for _, name := range slices.Sorted(maps.Keys(tokens)) {
			if err := storage.CheckText(tokens[name]); err != nil {
				return fail(at["tokens"], "token my.%s: %v", name, err)
			}
		}
		te.Tokens = tokens
	}
	for _, k := range []string{"form", "web page", "field", "value", "list", "program", "status", "email", "link", "campaign", "workspace"} {
		if err := storage.CheckText(vals[k]); err != nil {
			return fail(at[k], "%s: %v", k, err)
		}
	}
	return te, at["time"], nil
}

// quotedDidYouMean is didYouMean for names with spaces, quoted.
func quotedDidYouMean(name string, candidates []string) string {
	if best := textutil.Nearest(name, candidates); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}
