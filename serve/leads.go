package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// apiName is a field's name as the API writes it: Marketo's lower camel
// case ("FirstName" is "firstName"). Names are read ignoring case.
func apiName(f string) string {
	if f == "" {
		return f
	}
	return strings.ToLower(f[:1]) + f[1:]
}

// field finds a field of the user's workspace by name, ignoring case.
func (c *call) field(name string) *ir.Field {
	for _, f := range c.ws.Fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// lead finds the person of a lead id that the user's workspace sees (nil
// when there is none).
func (c *call) lead(id int64) (*storage.Person, error) {
	pid, ok := c.leadKeys[id]
	if !ok {
		keys, err := c.tx.KeysOf("lead", []int64{id})
		if err != nil {
			return nil, err
		}
		pid, ok = keys[id]
	}
	if !ok {
		// A person imported since the service gave ids: a whole-number Id
		// is its own lead id, once given.
		cand := strconv.FormatInt(id, 10)
		p, err := c.tx.LoadPerson(cand)
		if err != nil || p == nil {
			return nil, err
		}
		got, err := leadIDs(c.tx, []string{cand})
		if err != nil || got[cand] != id {
			return nil, err
		}
		pid = cand
	}
	p, err := c.tx.LoadPerson(pid)
	if err != nil || p == nil || !c.ws.Sees(p.Partition) {
		return nil, err
	}
	return p, nil
}

// readLeadKeys reads the person Ids of a call's lead ids in one query,
// for the c.lead calls that follow: a lead id never changes hands, so it
// can be read ahead. Ids it does not find are looked up again one by
// one (a person imported since the service gave ids).
func (c *call) readLeadKeys(ids []int64) error {
	keys, err := c.tx.KeysOf("lead", ids)
	if err != nil {
		return err
	}
	if c.leadKeys == nil {
		c.leadKeys = keys
		return nil
	}
	for id, k := range keys {
		c.leadKeys[id] = k
	}
	return nil
}

// prefetchLeads reads the people of the lead ids read ahead in a
// statement or two, for the loads that follow (the service's, then the
// engine's).
func (c *call) prefetchLeads() error {
	pids := make([]string, 0, len(c.leadKeys))
	for _, pid := range c.leadKeys {
		pids = append(pids, pid)
	}
	return c.tx.PrefetchSet(pids, c.s.prog.ReadsActivityLogs())
}

// visibleLeads finds the people of lead ids; every one must be a person
// the user's workspace sees (1004 otherwise).
func (c *call) visibleLeads(ids []int64) ([]string, error) {
	if err := c.readLeadKeys(ids); err != nil {
		return nil, err
	}
	if err := c.prefetchLeads(); err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		p, err := c.lead(id)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, errCode("1004", "Lead not found: %d", id)
		}
		out = append(out, p.ID)
	}
	return out, nil
}

// leadJSON writes a person with the fields asked for.
func (c *call) leadJSON(p *storage.Person, id int64, fields []*ir.Field) map[string]any {
	out := map[string]any{"id": id}
	for _, f := range fields {
		if f.Name == "Id" {
			continue
		}
		out[apiName(f.Name)] = jsonValue(p.Field(f.Name))
	}
	return out
}

func jsonValue(v ir.Value) any {
	switch {
	case v.Null || v.Type == "":
		return nil
	case v.Type.IsNumeric():
		return v.Num
	case v.Type == stdlib.Boolean:
		return v.Bool
	}
	return storage.FormatValue(v)
}

// fieldsParam reads "fields" (default: Marketo's email, firstName,
// lastName, updatedAt, createdAt).
func (c *call) fieldsParam() ([]*ir.Field, error) {
	names := splitList(c.req.param("fields"))
	if len(names) == 0 {
		names = []string{"email", "firstName", "lastName", "updatedAt", "createdAt"}
	}
	var out []*ir.Field
	for _, n := range names {
		if strings.EqualFold(n, "id") {
			continue
		}
		f := c.field(n)
		if f == nil {
			return nil, errCode("1006", "Field '%s' not found", clip(n))
		}
		out = append(out, f)
	}
	return out, nil
}

// visiblePeople loads every person the user's workspace sees, in Id
// order (read ahead in groups, as a batch run reads them).
func (c *call) visiblePeople() ([]*storage.Person, error) {
	ids, err := c.tx.PersonIDs()
	if err != nil {
		return nil, err
	}
	var out []*storage.Person
	for len(ids) > 0 {
		n := min(len(ids), 500)
		if err := c.tx.Prefetch(ids[:n], c.s.prog.ReadsActivityLogs()); err != nil {
			return nil, err
		}
		for _, id := range ids[:n] {
			p, err := c.tx.LoadPerson(id)
			if err != nil {
				return nil, err
			}
			if p != nil && c.ws.Sees(p.Partition) {
				out = append(out, p)
			}
		}
		ids = ids[n:]
	}
	return out, nil
}

// matchKey is a field value as lookups compare it: text ignoring case,
// numbers as numbers, times by the instant.
func matchKey(f *ir.Field, v ir.Value) string {
	if v.Null {
		return ""
	}
	s := storage.FormatValue(v)
	if f.Type.IsText() {
		return strings.ToLower(s)
	}
	return s
}

// findLeads is GET /rest/v1/leads.json?filterType&filterValues.
func findLeads(c *call) (*reply, error) {
	ft := c.req.param("filterType")
	if ft == "" {
		return nil, errCode("1003", "filterType is required")
	}
	vals := splitList(c.req.param("filterValues"))
	if len(vals) == 0 {
		return nil, errCode("1003", "filterValues is required")
	}
	if len(vals) > 300 {
		return nil, errCode("1003", "filterValues: at most 300 values, not %d", len(vals))
	}
	fields, err := c.fieldsParam()
	if err != nil {
		return nil, err
	}
	size, aerr := c.req.batchSize()
	if aerr != nil {
		return nil, aerr
	}
	var after int64
	if t := c.req.param("nextPageToken"); t != "" {
		if after, aerr = readPageToken("leads", t); aerr != nil {
			return nil, aerr
		}
	}
	var found []*storage.Person
	if strings.EqualFold(ft, "id") {
		want, aerr := ids("filterValues", strings.Join(vals, ","), 300)
		if aerr != nil {
			return nil, aerr
		}
		for _, id := range want {
			p, err := c.lead(id)
			if err != nil {
				return nil, err
			}
			if p != nil {
				found = append(found, p)
			}
		}
	} else {
		f := c.field(ft)
		if f == nil {
			return nil, errCode("1006", "Field '%s' not found", clip(ft))
		}
		want := map[string]bool{}
		for _, v := range vals {
			pv, err := storage.ParseFieldValue(f.Type, v)
			if err != nil {
				return nil, errCode("1001", "Invalid value '%s' for %s: %v", clip(v), apiName(f.Name), err)
			}
			want[matchKey(f, pv)] = true
		}
		people, err := c.visiblePeople()
		if err != nil {
			return nil, err
		}
		for _, p := range people {
			if v := p.Field(f.Name); !v.Null && v.Type != "" && want[matchKey(f, v)] {
				found = append(found, p)
			}
		}
	}
	idsOf, err := c.leadIDsOf(found)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(found, func(i, j int) bool { return idsOf[found[i].ID] < idsOf[found[j].ID] })
	out := []map[string]any{}
	more := false
	for _, p := range found {
		id := idsOf[p.ID]
		if id <= after {
			continue
		}
		if len(out) == size {
			more = true
			break
		}
		out = append(out, c.leadJSON(p, id, fields))
	}
	rep := &reply{Result: out}
	if more {
		rep.NextPageToken, rep.MoreResult = pageToken("leads", out[len(out)-1]["id"].(int64)), ptr(true)
	}
	return rep, nil
}

func (c *call) leadIDsOf(people []*storage.Person) (map[string]int64, error) {
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = p.ID
	}
	return leadIDs(c.tx, ids)
}

// getLead is GET /rest/v1/lead/{id}.json.
func getLead(c *call) (*reply, error) {
	id, _ := strconv.ParseInt(c.path[0], 10, 64)
	fields, err := c.fieldsParam()
	if err != nil {
		return nil, err
	}
	p, err := c.lead(id)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return &reply{Result: []any{}}, nil // Marketo: an empty result
	}
	return &reply{Result: []map[string]any{c.leadJSON(p, id, fields)}}, nil
}

// rowResult is one row of a write's result.
type rowResult struct {
	ID      int64       `json:"id,omitempty"`
	Status  string      `json:"status"`
	Reasons []*apiError `json:"reasons,omitempty"`
}

func skipped(code, format string, args ...any) rowResult {
	return rowResult{Status: "skipped", Reasons: []*apiError{errCode(code, format, args...)}}
}

// lookup finds people by a field's value for one call, remembering the
// people the call creates.
type lookup struct {
	field   *ir.Field
	byValue map[string][]string // matchKey -> person Ids
}

func (c *call) newLookup(f *ir.Field) (*lookup, error) {
	l := &lookup{field: f, byValue: map[string][]string{}}
	if f == nil {
		return l, nil
	}
	people, err := c.visiblePeople()
	if err != nil {
		return nil, err
	}
	for _, p := range people {
		if v := p.Field(f.Name); !v.Null && v.Type != "" {
			k := matchKey(f, v)
			l.byValue[k] = append(l.byValue[k], p.ID)
		}
	}
	return l, nil
}

// record is one input record of a lead write, checked.
type record struct {
	lookupText string // the lookup field's value as given
	fields     []vm.FieldText
	id         int64 // the record's "id", if any
}

// readRecord checks one input record: every key a field of the
// workspace (or "id"), every value text, a number, a boolean or null, of
// the field's type.
func (c *call) readRecord(raw json.RawMessage, lookupField string) (*record, *rowResult) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		r := skipped("1003", "a record must be a JSON object of field names and values")
		return nil, &r
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rec := &record{}
	seen := map[string]string{}
	for _, k := range keys {
		var text string
		switch v := obj[k].(type) {
		case string:
			text = v
		case json.Number:
			text = v.String()
		case bool:
			text = strconv.FormatBool(v)
		case nil:
		default:
			r := skipped("1003", "Invalid value for field '%s': text, a number, a boolean or null is expected", clip(k))
			return nil, &r
		}
		if err := storage.CheckText(text); err != nil {
			r := skipped("1003", "field '%s': %v", clip(k), err)
			return nil, &r
		}
		if strings.EqualFold(k, "id") {
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil || n <= 0 {
				r := skipped("1003", "Invalid value '%s' for id: a lead id is a whole number", clip(text))
				return nil, &r
			}
			rec.id = n
			if strings.EqualFold(lookupField, "id") {
				rec.lookupText = text
			}
			continue
		}
		f := c.field(k)
		if f == nil {
			r := skipped("1006", "Field '%s' not found", clip(k))
			return nil, &r
		}
		if prev, dup := seen[f.Name]; dup {
			r := skipped("1003", "field '%s' is given twice (also as '%s')", clip(k), clip(prev))
			return nil, &r
		}
		seen[f.Name] = k
		if f.Builtin && stdlib.ReadOnlyField(f.Name) {
			r := skipped("1003", "field '%s' is kept by campc and cannot be set", apiName(f.Name))
			return nil, &r
		}
		if _, err := storage.ParseFieldValue(f.Type, text); err != nil {
			r := skipped("1003", "Invalid value for field '%s': %v", apiName(f.Name), err)
			return nil, &r
		}
		if strings.EqualFold(f.Name, lookupField) {
			rec.lookupText = text
		}
		rec.fields = append(rec.fields, vm.FieldText{Field: f.Name, Value: text})
	}
	return rec, nil
}

// upsert creates or updates one record's person, as action says.
func (c *call) upsert(rec *record, action string, lk *lookup, partition string) (rowResult, error) {
	var matches []string
	if lk.field == nil { // lookup by id
		if rec.id > 0 {
			p, err := c.lead(rec.id)
			if err != nil {
				return rowResult{}, err
			}
			if p != nil {
				matches = []string{p.ID}
			}
		}
	} else if rec.lookupText != "" {
		v, _ := storage.ParseFieldValue(lk.field.Type, rec.lookupText)
		matches = lk.byValue[matchKey(lk.field, v)]
	}
	if len(matches) > 1 {
		return skipped("1007", "Multiple leads match the lookup criteria (%d leads)", len(matches)), nil
	}
	if len(matches) == 1 {
		if action == "createOnly" {
			return skipped("1005", "Lead already exists"), nil
		}
		rep, err := c.s.eng.ChangePerson(c.ctx, vm.PersonChange{Person: matches[0], Workspace: c.ws.Name, Fields: rec.fields})
		c.reps = append(c.reps, rep)
		if err != nil {
			return rowResult{}, err
		}
		got, err := leadIDs(c.tx, matches)
		if err != nil {
			return rowResult{}, err
		}
		return rowResult{ID: got[matches[0]], Status: "updated"}, nil
	}
	if action == "updateOnly" {
		return skipped("1004", "Lead not found"), nil
	}
	if lk.field == nil && rec.id > 0 {
		return skipped("1004", "Lead not found: %d (a new lead gets its id from campc)", rec.id), nil
	}
	pid, err := c.newPersonID()
	if err != nil {
		return rowResult{}, err
	}
	rep, err := c.s.eng.ChangePerson(c.ctx, vm.PersonChange{Person: pid, Workspace: c.ws.Name, Create: true, Partition: partition, Fields: rec.fields})
	c.reps = append(c.reps, rep)
	if err != nil {
		return rowResult{}, err
	}
	got, err := leadIDs(c.tx, []string{pid})
	if err != nil {
		return rowResult{}, err
	}
	if lk.field != nil && rec.lookupText != "" {
		v, _ := storage.ParseFieldValue(lk.field.Type, rec.lookupText)
		k := matchKey(lk.field, v)
		lk.byValue[k] = append(lk.byValue[k], pid)
	}
	return rowResult{ID: got[pid], Status: "created"}, nil
}

// newPersonID is the Id of a person the API creates: its lead id,
// written out, so that the log's person and the API's lead are one
// number. An Id held by a person without a lead id yet (imported since)
// is given its lead id first, and the next number tried.
func (c *call) newPersonID() (string, error) {
	for {
		n, err := c.tx.NextID("lead")
		if err != nil {
			return "", err
		}
		id := strconv.FormatInt(n, 10)
		taken, err := c.tx.Exists(id)
		if err != nil {
			return "", err
		}
		if !taken {
			return id, nil
		}
		if _, err := leadIDs(c.tx, []string{id}); err != nil {
			return "", err
		}
	}
}

// pushLeads is POST /rest/v1/leads.json: createOrUpdate, createOnly or
// updateOnly, by lookupField (default email).
func pushLeads(c *call) (*reply, error) {
	action, err := c.bodyString("action")
	if err != nil {
		return nil, err
	}
	if action == "" {
		action = "createOrUpdate"
	}
	switch action {
	case "createOrUpdate", "createOnly", "updateOnly":
	default:
		return nil, errCode("1003", "Invalid action '%s': createOrUpdate, createOnly or updateOnly", clip(action))
	}
	lookupField, err := c.bodyString("lookupField")
	if err != nil {
		return nil, err
	}
	if lookupField == "" {
		lookupField = "email"
	}
	var lf *ir.Field
	if !strings.EqualFold(lookupField, "id") {
		if lf = c.field(lookupField); lf == nil {
			return nil, errCode("1006", "Field '%s' not found (lookupField)", clip(lookupField))
		}
		lookupField = lf.Name
	} else if action != "updateOnly" {
		return nil, errCode("1003", "lookupField id needs action updateOnly: a new lead gets its id from campc")
	}
	partition, err := c.bodyString("partitionName")
	if err != nil {
		return nil, err
	}
	if partition == "" {
		partition = c.ws.Partitions[0]
	} else if !c.ws.Sees(partition) {
		return nil, errCode("1003", "partitionName '%s' is not a partition of workspace %q", clip(partition), c.ws.Name)
	}
	var input []json.RawMessage
	if err := c.bodyInput(&input, true); err != nil {
		return nil, err
	}
	if len(input) == 0 || len(input) > 300 {
		return nil, errCode("1003", "input: 1 to 300 records, not %d", len(input))
	}
	lk, err := c.newLookup(lf)
	if err != nil {
		return nil, err
	}
	out := make([]rowResult, 0, len(input))
	for _, raw := range input {
		rec, bad := c.readRecord(raw, lookupField)
		if bad != nil {
			out = append(out, *bad)
			continue
		}
		if lf != nil && rec.lookupText == "" && action != "createOnly" {
			out = append(out, skipped("1003", "the record has no %s (the lookupField)", apiName(lookupField)))
			continue
		}
		res, err := c.upsert(rec, action, lk, partition)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return &reply{Result: out}, nil
}

// deleteLeads is POST /rest/v1/leads/delete.json: people are deleted
// ("Delete Person" is logged); their lead ids are never given again.
func deleteLeads(c *call) (*reply, error) {
	var in []struct {
		ID json.Number `json:"id"`
	}
	if err := c.bodyInput(&in, false); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		for _, s := range splitList(c.req.param("id")) {
			in = append(in, struct {
				ID json.Number `json:"id"`
			}{json.Number(s)})
		}
	}
	if len(in) == 0 || len(in) > 300 {
		return nil, errCode("1003", "input: 1 to 300 leads, not %d", len(in))
	}
	out := make([]rowResult, 0, len(in))
	now := c.s.clock.Now().UTC().Truncate(time.Microsecond)
	for _, r := range in {
		id, err := strconv.ParseInt(r.ID.String(), 10, 64)
		if err != nil || id <= 0 {
			out = append(out, skipped("1003", "Invalid value '%s' for id", clip(r.ID.String())))
			continue
		}
		p, err := c.lead(id)
		if err != nil {
			return nil, err
		}
		if p == nil {
			out = append(out, leadNotFound(id))
			continue
		}
		p.Deleted = true
		act := &storage.Activity{Time: now, Person: p.ID, Type: stdlib.ActDeletePerson, Workspace: c.ws.Name, Primary: p.ID,
			Attributes: storage.Attrs{{Key: "Source", Value: storage.AttrStr("api")}}}
		if err := c.tx.Apply(&storage.Commit{Person: p, Activities: []*storage.Activity{act}}); err != nil {
			return nil, err
		}
		c.reps = append(c.reps, &vm.Report{Activities: []*storage.Activity{act}})
		out = append(out, rowResult{ID: id, Status: "deleted"})
	}
	return &reply{Result: out}, nil
}

// describeLeads is GET /rest/v1/leads/describe.json.
func describeLeads(c *call) (*reply, error) {
	out := make([]map[string]any, 0, len(c.ws.Fields))
	for i, f := range c.ws.Fields {
		disp := f.Display
		if disp == "" {
			disp = stdlib.FieldDisplayName(f.Name)
		}
		if disp == "" {
			disp = f.Name
		}
		ro := f.Builtin && stdlib.ReadOnlyField(f.Name)
		name := apiName(f.Name)
		dt := dataType(f.Type)
		if f.Name == "Id" {
			dt = "integer"
		}
		out = append(out, map[string]any{"id": i + 1, "displayName": disp, "dataType": dt,
			"rest": map[string]any{"name": name, "readOnly": ro}, "soap": map[string]any{"name": f.Name, "readOnly": ro}})
	}
	return &reply{Result: out}, nil
}

func dataType(t stdlib.FieldType) string {
	switch t {
	case stdlib.Email:
		return "email"
	case stdlib.Number:
		return "float"
	case stdlib.Score:
		return "score"
	case stdlib.Boolean:
		return "boolean"
	case stdlib.Date:
		return "date"
	case stdlib.DateTime:
		return "datetime"
	}
	return "string"
}

// submitForm is POST /rest/v1/leads/submitForm.json: each input's
// leadFormFields create or update its person by email, then the person
// fills out the form ("fills out form" triggers listen).
func submitForm(c *call) (*reply, error) {
	raw, ok := c.req.Body["formId"]
	if !ok {
		return nil, errCode("1003", "formId is required")
	}
	var form *ir.Form
	var fid json.Number
	var fname string
	if json.Unmarshal(raw, &fid) == nil {
		n, err := strconv.ParseInt(fid.String(), 10, 64)
		if err != nil {
			return nil, errCode("1001", "Invalid value '%s' for formId", clip(fid.String()))
		}
		if form = c.s.formBy[n]; form == nil {
			return nil, errCode("1013", "Form not found: no form has id %d", n)
		}
		if c.s.formWS[form] != c.ws {
			return nil, errCode("603", "Access denied: form %d is not in workspace %q", n, c.ws.Name)
		}
	} else if json.Unmarshal(raw, &fname) == nil {
		for _, f := range c.ws.Forms {
			if f.Name == fname {
				form = f
			}
		}
		if form == nil {
			return nil, errCode("1013", "Form not found: workspace %q has no form %q", c.ws.Name, clip(fname))
		}
	} else {
		return nil, errCode("1003", "formId must be a form's id (or its name)")
	}
	var in []struct {
		LeadFormFields json.RawMessage `json:"leadFormFields"`
		VisitorData    struct {
			PageURL string `json:"pageURL"`
		} `json:"visitorData"`
	}
	if err := c.bodyInput(&in, true); err != nil {
		return nil, err
	}
	if len(in) == 0 || len(in) > 100 {
		return nil, errCode("1003", "input: 1 to 100 form fills, not %d", len(in))
	}
	email := c.field("Email")
	lk, err := c.newLookup(email)
	if err != nil {
		return nil, err
	}
	out := make([]rowResult, 0, len(in))
	for _, fill := range in {
		rec, bad := c.readRecord(fill.LeadFormFields, "Email")
		if bad != nil {
			out = append(out, *bad)
			continue
		}
		if rec.lookupText == "" {
			out = append(out, skipped("1003", "leadFormFields needs email"))
			continue
		}
		res, err := c.upsert(rec, "createOrUpdate", lk, c.ws.Partitions[0])
		if err != nil {
			return nil, err
		}
		if res.Status == "skipped" {
			out = append(out, res)
			continue
		}
		v, _ := storage.ParseFieldValue(email.Type, rec.lookupText)
		pid := lk.byValue[matchKey(email, v)][0]
		ev := storage.Event{Kind: ir.TrigFillsOutForm, Person: pid, Form: form.Name, Workspace: c.ws.Name}
		for _, wp := range c.ws.WebPages {
			if fill.VisitorData.PageURL != "" && wp.Name == fill.VisitorData.PageURL {
				ev.WebPage = wp.Name
			}
		}
		rep, err := c.s.eng.Deliver(c.ctx, ev)
		c.reps = append(c.reps, rep)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return &reply{Result: out}, nil
}

var _ = fmt.Sprintf
