package serve

import (
	"encoding/json"
	"sort"
	"strconv"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/vm/storage"
)

type listJSON struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	ProgramName   string `json:"programName,omitempty"`
	WorkspaceName string `json:"workspaceName"`
}

func (s *Service) listJSON(l *ir.List) listJSON {
	j := listJSON{ID: s.listID[l], Name: l.Name, WorkspaceName: s.listWS[l].Name}
	// A program's list has the key "Workspace/Program/List".
	for _, p := range s.listWS[l].Programs {
		if l.Key == ir.Key(s.listWS[l].Name, p.Name, l.Name) {
			j.ProgramName = p.Name
		}
	}
	return j
}

// listLists is GET /rest/v1/lists.json.
func listLists(c *call) (*reply, error) {
	size, aerr := c.req.batchSize()
	if aerr != nil {
		return nil, aerr
	}
	want, aerr := ids("id", c.req.param("id"), 0)
	if aerr != nil {
		return nil, aerr
	}
	names, progs := splitList(c.req.param("name")), splitList(c.req.param("programName"))
	wss := splitList(c.req.param("workspaceName"))
	var after int64
	if t := c.req.param("nextPageToken"); t != "" {
		if after, aerr = readPageToken("list", t); aerr != nil {
			return nil, aerr
		}
	}
	lists := append([]*ir.List(nil), c.ws.Lists...)
	sort.Slice(lists, func(i, j int) bool { return c.s.listID[lists[i]] < c.s.listID[lists[j]] })
	out := []listJSON{}
	more := false
	for _, l := range lists {
		j := c.s.listJSON(l)
		if j.ID <= after || (len(want) > 0 && !containsID(want, j.ID)) || (len(names) > 0 && !contains(names, l.Name)) ||
			(len(progs) > 0 && !contains(progs, j.ProgramName)) || (len(wss) > 0 && !contains(wss, j.WorkspaceName)) {
			continue
		}
		if len(out) == size {
			more = true
			break
		}
		out = append(out, j)
	}
	rep := &reply{Result: out}
	if more {
		rep.NextPageToken, rep.MoreResult = pageToken("list", out[len(out)-1].ID), ptr(true)
	}
	return rep, nil
}

// list finds the static list of the path's id in the user's workspace.
func (c *call) list() (*ir.List, error) {
	id, _ := strconv.ParseInt(c.path[0], 10, 64)
	l := c.s.listBy[id]
	if l == nil {
		return nil, errCode("1013", "List not found: no list has id %d", id)
	}
	if c.s.listWS[l] != c.ws {
		return nil, errCode("603", "Access denied: list %d is not in workspace %q", id, c.ws.Name)
	}
	return l, nil
}

// getList is GET /rest/v1/lists/{id}.json.
func getList(c *call) (*reply, error) {
	l, err := c.list()
	if err != nil {
		return nil, err
	}
	return &reply{Result: []listJSON{c.s.listJSON(l)}}, nil
}

// listMembers is GET /rest/v1/lists/{id}/leads.json.
func listMembers(c *call) (*reply, error) {
	l, err := c.list()
	if err != nil {
		return nil, err
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
		if after, aerr = readPageToken("members", t); aerr != nil {
			return nil, aerr
		}
	}
	people, err := c.visiblePeople()
	if err != nil {
		return nil, err
	}
	var members []*storage.Person
	for _, p := range people {
		if p.InList(l.Key) {
			members = append(members, p)
		}
	}
	idsOf, err := c.leadIDsOf(members)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(members, func(i, j int) bool { return idsOf[members[i].ID] < idsOf[members[j].ID] })
	out := []map[string]any{}
	more := false
	for _, p := range members {
		if idsOf[p.ID] <= after {
			continue
		}
		if len(out) == size {
			more = true
			break
		}
		out = append(out, c.leadJSON(p, idsOf[p.ID], fields))
	}
	rep := &reply{Result: out}
	if more {
		rep.NextPageToken, rep.MoreResult = pageToken("members", out[len(out)-1]["id"].(int64)), ptr(true)
	}
	return rep, nil
}

// leadIDsParam reads the leads of a list call: the body's input
// [{id}], or the id parameter.
func (c *call) leadIDsParam() ([]int64, error) {
	var in []struct {
		ID json.Number `json:"id"`
	}
	if err := c.bodyInput(&in, false); err != nil {
		return nil, err
	}
	var out []int64
	for _, r := range in {
		n, err := strconv.ParseInt(r.ID.String(), 10, 64)
		if err != nil || n <= 0 {
			return nil, errCode("1001", "Invalid value '%s'. Required of type 'Integer' in input.id", clip(r.ID.String()))
		}
		out = append(out, n)
	}
	if len(in) == 0 {
		var aerr *apiError
		if out, aerr = ids("id", c.req.param("id"), 0); aerr != nil {
			return nil, aerr
		}
	}
	if len(out) == 0 || len(out) > 300 {
		return nil, errCode("1003", "1 to 300 lead ids, not %d", len(out))
	}
	if err := c.readLeadKeys(out); err != nil {
		return nil, err
	}
	return out, c.prefetchLeads()
}

// changeList adds or removes leads, firing the list triggers.
func changeList(c *call, add bool) (*reply, error) {
	l, err := c.list()
	if err != nil {
		return nil, err
	}
	leads, err := c.leadIDsParam()
	if err != nil {
		return nil, err
	}
	kind, done := ir.TrigRemovedFromList, "removed"
	if add {
		kind, done = ir.TrigAddedToList, "added"
	}
	out := make([]rowResult, 0, len(leads))
	for _, id := range leads {
		p, err := c.lead(id)
		if err != nil {
			return nil, err
		}
		if p == nil {
			out = append(out, leadNotFound(id))
			continue
		}
		if p.InList(l.Key) == add {
			msg := "Lead already in list"
			if !add {
				msg = "Lead not in list"
			}
			out = append(out, rowResult{ID: id, Status: "skipped", Reasons: []*apiError{errCode("1015", "%s", msg)}})
			continue
		}
		rep, err := c.s.eng.Deliver(c.ctx, storage.Event{Kind: kind, Person: p.ID, List: l.Name, ListKey: l.Key, Workspace: c.ws.Name})
		c.reps = append(c.reps, rep)
		if err != nil {
			return nil, err
		}
		out = append(out, rowResult{ID: id, Status: done})
	}
	return &reply{Result: out}, nil
}

func addToList(c *call) (*reply, error)      { return changeList(c, true) }
func removeFromList(c *call) (*reply, error) { return changeList(c, false) }

// isMember is GET /rest/v1/lists/{id}/leads/ismember.json?id=….
func isMember(c *call) (*reply, error) {
	l, err := c.list()
	if err != nil {
		return nil, err
	}
	leads, err := c.leadIDsParam()
	if err != nil {
		return nil, err
	}
	out := make([]rowResult, 0, len(leads))
	for _, id := range leads {
		p, err := c.lead(id)
		if err != nil {
			return nil, err
		}
		switch {
		case p == nil:
			out = append(out, leadNotFound(id))
		case p.InList(l.Key):
			out = append(out, rowResult{ID: id, Status: "memberof"})
		default:
			out = append(out, rowResult{ID: id, Status: "notmemberof"})
		}
	}
	return &reply{Result: out}, nil
}

// programStatus is POST /rest/v1/leads/programs/{id}/status.json: the
// status change fires "program status is changed". A status does not
// move back (except into a status marked back), as in a flow.
func programStatus(c *call) (*reply, error) {
	id, _ := strconv.ParseInt(c.path[0], 10, 64)
	prog := c.s.programBy[id]
	if prog == nil {
		return nil, errCode("1013", "Program not found: no program has id %d", id)
	}
	if c.s.programWS[prog] != c.ws {
		return nil, errCode("603", "Access denied: program %d is not in workspace %q", id, c.ws.Name)
	}
	status, err := c.bodyString("status")
	if err != nil {
		return nil, err
	}
	if status == "" {
		return nil, errCode("1003", "status is required")
	}
	if prog.StatusIndex(status) < 0 {
		return nil, errCode("1003", "Invalid status '%s' for program %q", clip(status), prog.Name)
	}
	leads, err := c.leadIDsParam()
	if err != nil {
		return nil, err
	}
	out := make([]rowResult, 0, len(leads))
	for _, lid := range leads {
		p, err := c.lead(lid)
		if err != nil {
			return nil, err
		}
		if p == nil {
			out = append(out, leadNotFound(lid))
			continue
		}
		rep, err := c.s.eng.Deliver(c.ctx, storage.Event{Kind: ir.TrigStatusChanged, Person: p.ID, Program: prog.Name, Status: status, Workspace: c.ws.Name})
		c.reps = append(c.reps, rep)
		if err != nil {
			return nil, err
		}
		if len(rep.Activities) == 0 {
			out = append(out, rowResult{ID: lid, Status: "skipped", Reasons: []*apiError{errCode("1003", "the status does not move from %q to %q", statusIn(p, prog.Key), status)}})
			continue
		}
		out = append(out, rowResult{ID: lid, Status: "updated"})
	}
	return &reply{Result: out}, nil
}

// statusIn is the person's status in a program, "" when not a member.
func statusIn(p *storage.Person, key string) string {
	st, _ := p.ProgramStatus(key)
	return st
}

// leadNotFound is the result row of a lead id that names no lead the
// caller's workspace sees.
func leadNotFound(id int64) rowResult {
	return rowResult{ID: id, Status: "skipped", Reasons: []*apiError{errCode("1004", "Lead not found")}}
}
