package serve

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

type campaignJSON struct {
	ID            int64            `json:"id"`
	Name          string           `json:"name"`
	Description   string           `json:"description"`
	Type          string           `json:"type"`
	ProgramName   string           `json:"programName,omitempty"`
	ProgramID     int64            `json:"programId,omitempty"`
	WorkspaceName string           `json:"workspaceName"`
	IsRequestable bool             `json:"isRequestable"`
	IsActive      bool             `json:"isActive"`
	IsTriggerable bool             `json:"isTriggerable"`
	Executables   []executableJSON `json:"executables,omitempty"`
}

type executableJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

func (s *Service) campaignJSON(c *ir.Campaign) campaignJSON {
	j := campaignJSON{ID: s.campaignID[c], Name: c.Name, Description: c.Description, Type: c.Kind.String(),
		WorkspaceName: c.Workspace.Name, IsRequestable: c.Requestable("api"), IsActive: s.eng.Active(c) || c.Kind == ir.Batch}
	j.IsTriggerable = j.IsRequestable && s.eng.Active(c)
	if c.Kind == ir.Batch {
		j.IsActive = c.Run != nil
	}
	if c.Program != nil {
		j.ProgramName, j.ProgramID = c.Program.Name, s.programID[c.Program]
	}
	seen := map[*ir.Campaign]bool{}
	ir.WalkSteps(c.Flow, func(st ir.Step) {
		if st, ok := st.(*ir.Execute); ok && st.Target != nil && !seen[st.Target] {
			seen[st.Target] = true
			j.Executables = append(j.Executables, executableJSON{ID: s.campaignID[st.Target], Name: st.Target.Name, Type: st.Target.Kind.String()})
		}
	})
	return j
}

// pageToken and readPageToken make an opaque paging token of a number.
func pageToken(kind string, n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(n, 10)))
}

func readPageToken(kind, tok string) (int64, *apiError) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(tok, "="))
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), kind+":"); ok {
			if n, err := strconv.ParseInt(rest, 10, 64); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, errCode("1001", "Invalid value for nextPageToken: %q is not a paging token of this endpoint", clip(tok))
}

// listCampaigns is GET /rest/v1/campaigns.json.
func listCampaigns(c *call) (*reply, error) {
	size, aerr := c.req.batchSize()
	if aerr != nil {
		return nil, aerr
	}
	want, aerr := ids("id", c.req.param("id"), 0)
	if aerr != nil {
		return nil, aerr
	}
	names := splitList(c.req.param("name"))
	progs := splitList(c.req.param("programName"))
	wss := splitList(c.req.param("workspaceName"))
	var after int64
	if t := c.req.param("nextPageToken"); t != "" {
		if after, aerr = readPageToken("campaign", t); aerr != nil {
			return nil, aerr
		}
	}
	var out []campaignJSON
	more := false
	for _, cp := range c.s.sortedCampaigns(c.ws) {
		id := c.s.campaignID[cp]
		if id <= after || (len(want) > 0 && !containsID(want, id)) || (len(names) > 0 && !contains(names, cp.Name)) ||
			(len(wss) > 0 && !contains(wss, cp.Workspace.Name)) || (len(progs) > 0 && (cp.Program == nil || !contains(progs, cp.Program.Name))) {
			continue
		}
		if len(out) == size {
			more = true
			break
		}
		out = append(out, c.s.campaignJSON(cp))
	}
	rep := &reply{Result: out}
	if more {
		rep.NextPageToken, rep.MoreResult = pageToken("campaign", out[len(out)-1].ID), ptr(true)
	}
	return rep, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func containsID(xs []int64, x int64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// campaign finds the campaign of the path's id, in the user's workspace:
// 1013 when there is none, 603 when it is another workspace's.
func (c *call) campaign() (*ir.Campaign, error) {
	id, _ := strconv.ParseInt(c.path[0], 10, 64)
	cp := c.s.campaignBy[id]
	if cp == nil {
		return nil, errCode("1013", "Campaign not found: no campaign has id %d", id)
	}
	if cp.Workspace != c.ws {
		return nil, errCode("603", "Access denied: campaign %d is not in workspace %q", id, c.ws.Name)
	}
	return cp, nil
}

// getCampaign is GET /rest/v1/campaigns/{id}.json.
func getCampaign(c *call) (*reply, error) {
	cp, err := c.campaign()
	if err != nil {
		return nil, err
	}
	return &reply{Result: []campaignJSON{c.s.campaignJSON(cp)}}, nil
}

type tokenJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// overrides reads My Token overrides, [{name: "{{my.X}}", value}], for a
// campaign.
func overrides(cp *ir.Campaign, raw []tokenJSON) (map[string]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, t := range raw {
		name := strings.TrimSpace(t.Name)
		name = strings.TrimSuffix(strings.TrimPrefix(name, "{{"), "}}")
		name, ok := strings.CutPrefix(strings.TrimSpace(name), "my.")
		if !ok || name == "" {
			return nil, errCode("1003", "token %q: a token is named {{my.Name}}", clip(t.Name))
		}
		if _, dup := out[name]; dup {
			return nil, errCode("1003", "token {{my.%s}} is given twice", clip(name))
		}
		if err := storage.CheckText(t.Value); err != nil {
			return nil, errCode("1003", "token {{my.%s}}: %v", clip(name), err)
		}
		out[name] = t.Value
	}
	if err := vm.CheckTokens(cp, out); err != nil {
		return nil, errCode("1003", "%v", err)
	}
	return out, nil
}

// triggerCampaign is POST /rest/v1/campaigns/{id}/trigger.json: Request
// Campaign for up to 100 leads, with token overrides for the run.
func triggerCampaign(c *call) (*reply, error) {
	cp, err := c.campaign()
	if err != nil {
		return nil, err
	}
	var in struct {
		Leads []struct {
			ID json.Number `json:"id"`
		} `json:"leads"`
		Tokens []tokenJSON `json:"tokens"`
	}
	if err := c.bodyInput(&in, true); err != nil {
		return nil, err
	}
	if cp.Kind != ir.Trigger || !cp.Requestable("api") {
		return nil, errCode("1003", "Campaign %d (%q) does not listen for API requests: it needs \"campaign is requested from api\"", c.s.campaignID[cp], cp.Name)
	}
	if !c.s.eng.Active(cp) {
		return nil, errCode("1003", "Campaign %d (%q) is not active", c.s.campaignID[cp], cp.Name)
	}
	if len(in.Leads) == 0 {
		return nil, errCode("1003", "input.leads: at least one lead is needed")
	}
	if len(in.Leads) > 100 {
		return nil, errCode("1003", "input.leads: at most 100 leads per call, not %d", len(in.Leads))
	}
	tokens, err := overrides(cp, in.Tokens)
	if err != nil {
		return nil, err
	}
	var leadIDs []int64
	for _, l := range in.Leads {
		n, err := strconv.ParseInt(l.ID.String(), 10, 64)
		if err != nil || n <= 0 {
			return nil, errCode("1001", "Invalid value '%s'. Required of type 'Integer' in input.leads.id", clip(l.ID.String()))
		}
		leadIDs = append(leadIDs, n)
	}
	people, err := c.visibleLeads(leadIDs)
	if err != nil {
		return nil, err
	}
	rep, err := c.s.eng.Request(c.ctx, cp.Name, people, vm.RunOptions{Workspace: cp.Workspace.Name, Tokens: tokens})
	c.reps = append(c.reps, rep)
	if err != nil {
		return nil, err
	}
	return &reply{Result: []map[string]int64{{"id": c.s.campaignID[cp]}}}, nil
}

// scheduleCampaign is POST /rest/v1/campaigns/{id}/schedule.json: a batch
// run at runAt (default: in five minutes), with token overrides.
func scheduleCampaign(c *call) (*reply, error) {
	cp, err := c.campaign()
	if err != nil {
		return nil, err
	}
	var in struct {
		RunAt              string      `json:"runAt"`
		Tokens             []tokenJSON `json:"tokens"`
		CloneToProgramName string      `json:"cloneToProgramName"`
	}
	if err := c.bodyInput(&in, false); err != nil {
		return nil, err
	}
	if cp.Kind != ir.Batch {
		return nil, errCode("1003", "Campaign %d (%q) is a %s campaign: only batch campaigns are scheduled", c.s.campaignID[cp], cp.Name, cp.Kind)
	}
	if in.CloneToProgramName != "" {
		return nil, errCode("1003", "cloneToProgramName: campc does not clone programs from the API; declare the clone in the project")
	}
	now := c.s.clock.Now().UTC()
	at := now.Add(5 * time.Minute)
	if in.RunAt != "" {
		t, err := time.Parse(time.RFC3339, in.RunAt)
		if err != nil {
			return nil, errCode("1001", "Invalid value '%s'. runAt is an ISO 8601 date-time such as 2026-12-01T09:00:00Z", clip(in.RunAt))
		}
		if t.Before(now) {
			return nil, errCode("1003", "runAt %s is in the past", in.RunAt)
		}
		at = t.UTC()
	}
	tokens, err := overrides(cp, in.Tokens)
	if err != nil {
		return nil, err
	}
	tj, _ := json.Marshal(tokens)
	if err := c.tx.AddSchedule(&store.APISchedule{Workspace: cp.Workspace.Name, Campaign: cp.Name, RunAt: at.Truncate(time.Microsecond), Tokens: string(tj)}); err != nil {
		return nil, err
	}
	c.s.log.Info("batch run scheduled", "campaign", cp.Name, "workspace", cp.Workspace.Name, "at", at.Format(time.RFC3339), "user", c.user.ID)
	return &reply{Result: []map[string]int64{{"id": c.s.campaignID[cp]}}}, nil
}
