package console

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/explain"
	"github.com/campc/campc/graph"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/serve"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"path":  url.PathEscape,
	"query": url.QueryEscape,
	"attrs": func(a storage.Attrs) string { return strings.TrimSpace(explain.FormatAttrs(a)) },
}

// pageSize is the rows of a page of activities.
const pageSize = 25

// campaignRow is a campaign in the campaigns list.
type campaignRow struct {
	ID                 int64
	Name, Kind, State  string
	Override           bool
	Next, Last         time.Time
	Day, Week, Month   int
	Requestable, Batch bool
}

type programGroup struct {
	Folder, Program string
	Campaigns       []campaignRow
}

type workspaceGroup struct {
	Name     string
	Programs []*programGroup
}

// state says whether a campaign runs: a trigger campaign's activation
// (with the console's override), a batch campaign's schedule.
func (c *Console) state(cp *ir.Campaign) (string, bool) {
	switch cp.Kind {
	case ir.Trigger:
		active := c.svc.Engine().Active(cp)
		s := "inactive"
		if active {
			s = "active"
		}
		return s, active != cp.Active
	case ir.Batch:
		if cp.Run != nil {
			return "scheduled", false
		}
		return "not scheduled", false
	}
	return "executable", false
}

func folderPath(f *ir.Folder) string {
	var parts []string
	for ; f != nil; f = f.Parent {
		parts = append([]string{f.Name}, parts...)
	}
	return strings.Join(parts, " / ")
}

func (c *Console) campaigns(w http.ResponseWriter, r *http.Request, u *user) {
	v := c.view()
	ctx := r.Context()
	now := c.svc.Now()
	entries, err := c.svc.Store().Entries(ctx, u.workspace, now)
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	counts := map[[2]string]store.EntryCounts{}
	for _, e := range entries {
		counts[[2]string{e.Workspace, e.Campaign}] = e
	}
	runs, err := c.svc.Store().LastRuns(ctx, u.workspace)
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	var groups []*workspaceGroup
	for _, ws := range v.prog.Workspaces {
		if !u.sees(ws) {
			continue
		}
		g := &workspaceGroup{Name: ws.Name}
		byProg := map[*ir.ProgramDef]*programGroup{}
		for _, cp := range c.svc.Campaigns(ws) {
			pg := byProg[cp.Program]
			if pg == nil {
				pg = &programGroup{Program: "(no program)"}
				if cp.Program != nil {
					pg.Program, pg.Folder = cp.Program.Name, folderPath(cp.Program.Folder)
				}
				byProg[cp.Program] = pg
				g.Programs = append(g.Programs, pg)
			}
			k := [2]string{ws.Name, cp.Name}
			e := counts[k]
			st, ov := c.state(cp)
			last := runs[k]
			if e.Last.After(last) {
				last = e.Last
			}
			pg.Campaigns = append(pg.Campaigns, campaignRow{ID: c.svc.CampaignID(cp), Name: cp.Name, Kind: cp.Kind.String(), State: st, Override: ov,
				Next: c.svc.NextRun(cp, now), Last: last, Day: e.Day, Week: e.Week, Month: e.Month})
		}
		sort.SliceStable(g.Programs, func(i, j int) bool {
			if g.Programs[i].Folder != g.Programs[j].Folder {
				return g.Programs[i].Folder < g.Programs[j].Folder
			}
			return g.Programs[i].Program < g.Programs[j].Program
		})
		groups = append(groups, g)
	}
	c.render(w, r, http.StatusOK, "campaigns", u, groups)
}

// campaignOf finds the campaign of the request's {id} (or form value
// "campaign"), nil when there is none the user sees.
func (c *Console) campaignOf(r *http.Request, u *user, raw string) *ir.Campaign {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil
	}
	cp := c.svc.CampaignByID(id)
	if cp == nil || !u.sees(cp.Workspace) {
		return nil
	}
	return cp
}

type stepRow struct {
	File           string
	Line, Depth    int
	Source         string
	People         int
	Waiting        int
	IsWait, Counts bool
}

type link struct {
	ID       int64
	Name     string
	Op       string
	Problems string
	Bad      bool
}

type sourceLine struct {
	N    int
	Text string
}

// flowSteps lists a flow's steps in order, with their depth in if
// branches.
func flowSteps(steps []ir.Step, depth int, out []stepRow, people, waiting map[string]int) []stepRow {
	for _, st := range steps {
		b := st.Base()
		row := stepRow{File: b.Pos.Filename, Line: b.Pos.Line, Depth: depth, Source: b.Source, People: people[b.ID], Waiting: waiting[b.ID], Counts: true}
		if _, ok := st.(*ir.Wait); ok {
			row.IsWait = true
		}
		if iff, ok := st.(*ir.If); ok {
			row.Source, row.Counts = "if …", false
			out = append(out, row)
			for _, br := range iff.Branches {
				out = flowSteps(br.Steps, depth+1, out, people, waiting)
			}
			out = flowSteps(iff.Else, depth+1, out, people, waiting)
			continue
		}
		out = append(out, row)
	}
	return out
}

func (c *Console) campaign(w http.ResponseWriter, r *http.Request, u *user) {
	cp := c.campaignOf(r, u, r.PathValue("id"))
	if cp == nil {
		c.fail(w, r, u, http.StatusNotFound, "No such campaign.")
		return
	}
	data, err := c.campaignData(r, u, cp)
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	c.render(w, r, http.StatusOK, "campaign", u, data)
}

// campaignData gathers a campaign page: its state, entries, funnel, source,
// callers and callees, and last activities.
func (c *Console) campaignData(r *http.Request, u *user, cp *ir.Campaign) (map[string]any, error) {
	v := c.view()
	ctx := r.Context()
	st := c.svc.Store()
	now := c.svc.Now()
	ws := cp.Workspace.Name
	people, entries, err := c.campaignCounts(ctx, cp)
	if err != nil {
		return nil, err
	}
	waiting, err := st.Waiting(ctx, ws, cp.Name)
	if err != nil {
		return nil, err
	}
	last, err := st.LastRun(ctx, ws, cp.Name)
	if err != nil {
		return nil, err
	}
	if entries.Last.After(last) {
		last = entries.Last
	}
	acts, err := st.ConsoleActivities(ctx, store.ActivityQuery{Workspace: ws, Campaign: cp.Name, Limit: pageSize})
	if err != nil {
		return nil, err
	}
	var override *store.Override
	if cp.Kind == ir.Trigger {
		os, err := st.Overrides(ctx)
		if err != nil {
			return nil, err
		}
		for i := range os {
			if os[i].Workspace == ws && os[i].Campaign == cp.Name {
				override = &os[i]
			}
		}
	}
	var src []sourceLine
	if text, ok := v.sources[cp.Pos.Filename]; ok {
		lines := strings.Split(text, "\n")
		for n := cp.Pos.Line; n >= 1 && n <= cp.End.Line && n <= len(lines); n++ {
			src = append(src, sourceLine{N: n, Text: lines[n-1]})
		}
	}
	var callers, callees []link
	node := v.nodes[cp]
	for _, e := range v.graph.Edges {
		if e.To != node && e.From != node {
			continue
		}
		l := link{Op: "execute", Problems: strings.Join(e.Problems, ", "), Bad: e.Bad()}
		if e.Op == graph.Request {
			l.Op = "request"
		}
		other := e.To
		if e.To == node {
			other = e.From
		}
		oc := v.byNode[other]
		l.Name = oc.Name
		if u.sees(oc.Workspace) {
			l.ID = c.svc.CampaignID(oc)
		} else {
			l.Name = "(another workspace)"
		}
		if e.To == node {
			callers = append(callers, l)
		}
		if e.From == node {
			callees = append(callees, l)
		}
	}
	state, ov := c.state(cp)
	prog, folder := "", ""
	if cp.Program != nil {
		prog, folder = cp.Program.Name, folderPath(cp.Program.Folder)
	}
	return map[string]any{
		"ID": c.svc.CampaignID(cp), "Name": cp.Name, "Kind": cp.Kind.String(), "Workspace": ws, "Program": prog, "Folder": folder,
		"Description": cp.Description, "State": state, "Overridden": ov, "Override": override, "ProjectActive": cp.Active,
		"Next": c.svc.NextRun(cp, now), "Last": last, "Entries": entries,
		"File": cp.Pos.Filename, "Line": cp.Pos.Line, "Source": src,
		"Steps":   flowSteps(cp.Flow, 0, nil, people, waiting),
		"Callers": callers, "Callees": callees, "Depth": node.Depth, "TooDeep": node.TooDeep, "InCycle": node.InCycle,
		"Activities": acts, "Graph": template.HTML(c.drawGraph(v, cp, u)), // every text in it is escaped
		"Requestable": cp.Kind == ir.Trigger && cp.Requestable("api"), "Batch": cp.Kind == ir.Batch, "Trigger": cp.Kind == ir.Trigger,
		"Active": c.svc.Engine().Active(cp), "Done": r.URL.Query().Get("done"),
	}, nil
}

func (c *Console) graphSVG(w http.ResponseWriter, r *http.Request, u *user) {
	cp := c.campaignOf(r, u, r.PathValue("id"))
	if cp == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Write(c.drawGraph(c.view(), cp, u))
}

// source shows a project file with numbered lines, for the links of the
// campaign page: only a file that declares a campaign the user sees.
func (c *Console) source(w http.ResponseWriter, r *http.Request, u *user) {
	v := c.view()
	file := r.URL.Query().Get("file")
	text, ok := v.sources[file]
	if ok && !u.allWorkspaces() {
		ok = slices.ContainsFunc(v.prog.Campaigns, func(cp *ir.Campaign) bool { return cp.Pos.Filename == file && u.sees(cp.Workspace) })
	}
	if !ok {
		c.fail(w, r, u, http.StatusNotFound, "No such source file.")
		return
	}
	var lines []sourceLine
	for i, l := range strings.Split(text, "\n") {
		lines = append(lines, sourceLine{N: i + 1, Text: l})
	}
	c.render(w, r, http.StatusOK, "source", u, map[string]any{"File": file, "Lines": lines})
}

// visible reports whether the user sees a person: one of the user's
// workspaces sees their partition.
func (c *Console) visible(u *user, p *storage.Person) bool {
	v := c.view()
	if p == nil || p.Deleted {
		return false
	}
	for _, ws := range v.prog.Workspaces {
		if u.sees(ws) && ws.Sees(p.Partition) {
			return true
		}
	}
	return false
}

type personRow struct {
	ID, Email, Partition string
}

func (c *Console) people(w http.ResponseWriter, r *http.Request, u *user) {
	raw := r.URL.Query().Get("q")
	data := map[string]any{"Q": raw}
	if strings.TrimSpace(raw) != "" {
		q, err := ParseQuery(raw)
		if err != nil {
			data["Problem"] = err.Error()
		} else {
			found, err := c.svc.Store().SearchPeople(r.Context(), func(p *storage.Person) bool { return c.visible(u, p) && q.Match(p) }, 50)
			if err != nil {
				c.internal(w, r, u, err)
				return
			}
			var rows []personRow
			for _, p := range found {
				rows = append(rows, personRow{ID: p.ID, Email: storage.FormatValue(p.Field("Email")), Partition: p.PartitionName()})
			}
			data["Results"], data["Searched"] = rows, true
		}
	}
	c.render(w, r, http.StatusOK, "people", u, data)
}

type fieldRow struct{ Name, Value string }

type waitRow struct {
	CampaignID int64
	Campaign   string
	Due        time.Time
	Step       string
}

func (c *Console) person(w http.ResponseWriter, r *http.Request, u *user) {
	v := c.view()
	id := r.PathValue("id")
	ctx := r.Context()
	p, waits, err := c.svc.Store().ReadPerson(ctx, id)
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	if !c.visible(u, p) {
		c.fail(w, r, u, http.StatusNotFound, "No such person.")
		return
	}
	var fields []fieldRow
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range p.Fields {
			if !yield(k) {
				return
			}
		}
	}) {
		fields = append(fields, fieldRow{k, storage.FormatValue(p.Fields[k])})
	}
	var lists []string
	var programs []fieldRow
	var explainable []link
	for _, ws := range v.prog.Workspaces {
		if !u.sees(ws) {
			continue
		}
		for _, l := range ws.Lists {
			if p.InList(l.Key) {
				lists = append(lists, l.Name)
			}
		}
		for _, pd := range ws.Programs {
			if s, ok := p.ProgramStatus(pd.Key); ok {
				programs = append(programs, fieldRow{pd.Name, s})
			}
		}
		for _, cp := range c.svc.Campaigns(ws) {
			if cp.Kind != ir.Executable {
				explainable = append(explainable, link{ID: c.svc.CampaignID(cp), Name: cp.Name})
			}
		}
	}
	var wrows []waitRow
	for _, wt := range waits {
		cp := v.prog.Campaign(wt.Workspace, wt.Campaign)
		if cp == nil || !u.sees(cp.Workspace) {
			continue
		}
		step := wt.Step
		ir.WalkSteps(cp.Flow, func(st ir.Step) {
			if st.Base().ID == wt.Step {
				step = fmt.Sprintf("%s: %s", st.Base().Pos, st.Base().Source)
			}
		})
		wrows = append(wrows, waitRow{CampaignID: c.svc.CampaignID(cp), Campaign: cp.Name, Due: wt.Due, Step: step})
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	acts, err := c.svc.Store().ConsoleActivities(ctx, store.ActivityQuery{Workspace: u.workspace, Person: p.ID, Before: before, Limit: pageSize})
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	data := map[string]any{"ID": p.ID, "Partition": p.PartitionName(), "Fields": fields, "Lists": lists, "Programs": programs,
		"Waits": wrows, "Activities": acts, "Campaigns": explainable}
	if len(acts) == pageSize {
		data["Older"] = acts[len(acts)-1].Seq
	}
	if raw := r.URL.Query().Get("explain"); raw != "" {
		data["ExplainID"] = raw
		cp := c.campaignOf(r, u, raw)
		if cp == nil {
			data["ExplainError"] = "No such campaign."
		} else {
			var b strings.Builder
			if err := explain.Person(ctx, v.prog, p, waits, cp, nil, c.svc.Now(), &b); err != nil {
				data["ExplainError"] = err.Error()
			}
			data["Explain"], data["ExplainCampaign"] = b.String(), cp.Name
		}
	}
	c.render(w, r, http.StatusOK, "person", u, data)
}

func (c *Console) activity(w http.ResponseWriter, r *http.Request, u *user) {
	qv := r.URL.Query()
	q := store.ActivityQuery{Workspace: u.workspace, Person: qv.Get("person"), Type: qv.Get("type"), Limit: pageSize}
	q.Before, _ = strconv.ParseInt(qv.Get("before"), 10, 64)
	data := map[string]any{"Person": q.Person, "Type": q.Type, "Campaign": qv.Get("campaign"), "Live": qv.Get("live") == "1", "Before": q.Before}
	if raw := qv.Get("campaign"); raw != "" {
		cp := c.campaignOf(r, u, raw)
		if cp == nil {
			c.fail(w, r, u, http.StatusNotFound, "No such campaign.")
			return
		}
		q.Workspace, q.Campaign = cp.Workspace.Name, cp.Name
		data["CampaignName"] = cp.Name
	}
	acts, err := c.svc.Store().ConsoleActivities(r.Context(), q)
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	data["Activities"] = acts
	if len(acts) == pageSize {
		data["Older"] = acts[len(acts)-1].Seq
	}
	var types []string
	for _, st := range []string{"Send Email", "Email Delivered", "Email Bounced", "Send Email Failed", "Call Webhook", "Change Data Value", "Change Program Status",
		"Add to List", "Remove from List", "Interesting Moment", "Wait", "Request Campaign", "Executed Campaign", "Change Score"} {
		types = append(types, st)
	}
	data["Types"] = types
	var cs []link
	for _, cp := range c.svc.Campaigns(nil) {
		if u.sees(cp.Workspace) {
			cs = append(cs, link{ID: c.svc.CampaignID(cp), Name: cp.Workspace.Name + " / " + cp.Name})
		}
	}
	data["Campaigns"] = cs
	c.render(w, r, http.StatusOK, "activity", u, data)
}

// failedHook is a webhook call that failed, from the activity log.
type failedHook struct {
	Seq                    int64
	Time                   time.Time
	Person, Campaign, Hook string
	Status, Error          string
}

func (c *Console) operations(w http.ResponseWriter, r *http.Request, u *user) {
	ctx := r.Context()
	st := c.svc.Store()
	now := c.svc.Now()
	ops, err := st.OperationsAt(ctx, u.workspace, now)
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	failed, err := st.FailedDeliveries(ctx, u.workspace, 50)
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	calls, err := st.ConsoleActivities(ctx, store.ActivityQuery{Workspace: u.workspace, Type: "Call Webhook", Limit: 500})
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	var hooks []failedHook
	for _, a := range calls {
		var status, msg string
		bad := false
		for _, at := range a.Attributes {
			switch at.Key {
			case "Status":
				status = at.Value.String()
				if n, err := strconv.ParseFloat(status, 64); err == nil && (n >= 400 || n == 0) {
					bad = true
				}
			case "Error":
				msg, bad = at.Value.String(), true
			}
		}
		if bad && len(hooks) < 50 {
			hooks = append(hooks, failedHook{Seq: a.Seq, Time: a.Time, Person: a.Person, Campaign: a.Campaign, Hook: a.Primary, Status: status, Error: msg})
		}
	}
	deployed, err := c.svc.Deployed(ctx)
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	audit, err := st.AuditLog(ctx, u.workspace, 50)
	if err != nil {
		c.internal(w, r, u, err)
		return
	}
	states := []fieldRow{}
	for _, s := range []string{store.OutboxPending, store.OutboxSending, store.OutboxSent, store.OutboxBounced, store.OutboxFailed} {
		states = append(states, fieldRow{s, strconv.Itoa(ops.Outbox[s])})
	}
	c.render(w, r, http.StatusOK, "operations", u, map[string]any{"Ops": ops, "Outbox": states, "Failed": failed, "Hooks": hooks,
		"Deployed": deployed, "Audit": audit, "Done": r.URL.Query().Get("done")})
}

// action asks for confirmation of an action, then does it: the first
// post shows what will happen with a form that posts again with
// confirm=yes.
func (c *Console) action(w http.ResponseWriter, r *http.Request, u *user) {
	ctx := r.Context()
	f := r.PostForm
	act := r.PathValue("action")
	confirmed := f.Get("confirm") == "yes"
	var cp *ir.Campaign
	if act != "retry" {
		if cp = c.campaignOf(r, u, f.Get("campaign")); cp == nil {
			c.fail(w, r, u, http.StatusNotFound, "No such campaign.")
			return
		}
	}
	back := Prefix + "/operations"
	if cp != nil {
		back = fmt.Sprintf("%s/campaigns/%d", Prefix, c.svc.CampaignID(cp))
	}
	var summary string
	var do func() error
	switch act {
	case "request":
		people, err := ParsePeople(f.Get("people"))
		if err == nil {
			var tokens map[string]string
			if tokens, err = ParseTokens(f.Get("tokens")); err == nil {
				summary = fmt.Sprintf("Request campaign %q (workspace %q) for %s", cp.Name, cp.Workspace.Name, strings.Join(people, ", "))
				if len(tokens) > 0 {
					var parts []string
					for _, k := range slices.Sorted(func(yield func(string) bool) {
						for k := range tokens {
							if !yield(k) {
								return
							}
						}
					}) {
						parts = append(parts, fmt.Sprintf("my.%s = %q", k, tokens[k]))
					}
					summary += ", with " + strings.Join(parts, ", ")
				}
				do = func() error { _, err := c.svc.RequestCampaign(ctx, u.user, cp, people, tokens); return err }
			}
		}
		if err != nil {
			c.fail(w, r, u, http.StatusBadRequest, err.Error())
			return
		}
	case "run-now":
		summary = fmt.Sprintf("Run batch campaign %q (workspace %q) now", cp.Name, cp.Workspace.Name)
		do = func() error { return c.svc.RunNow(ctx, u.user, cp) }
	case "activate", "deactivate":
		on := act == "activate"
		summary = fmt.Sprintf("%s trigger campaign %q (workspace %q), overriding the project until changed here again", strings.ToUpper(act[:1])+act[1:], cp.Name, cp.Workspace.Name)
		do = func() error { return c.svc.SetActive(ctx, u.user, cp, on) }
	case "retry":
		id, err := strconv.ParseInt(f.Get("message"), 10, 64)
		if err != nil || id <= 0 {
			c.fail(w, r, u, http.StatusBadRequest, "message: want the number of an outbox message")
			return
		}
		summary = fmt.Sprintf("Retry delivering outbox message %d", id)
		do = func() error { return c.svc.RetryDelivery(ctx, u.user, u.workspace, id) }
	default:
		c.fail(w, r, u, http.StatusNotFound, "No such action.")
		return
	}
	if !confirmed {
		var hidden []fieldRow
		for _, k := range []string{"campaign", "people", "tokens", "message"} {
			if v := f.Get(k); v != "" {
				hidden = append(hidden, fieldRow{k, v})
			}
		}
		c.render(w, r, http.StatusOK, "confirm", u, map[string]any{"Action": act, "Summary": summary, "Hidden": hidden, "Back": back})
		return
	}
	if err := do(); err != nil {
		var ae *serve.ActionError
		var ve *vm.Error
		switch {
		case errors.As(err, &ae):
			c.fail(w, r, u, http.StatusBadRequest, ae.Msg)
		case errors.As(err, &ve):
			// A pass failed (a budget, a webhook): nothing was committed.
			c.fail(w, r, u, http.StatusBadRequest, "Nothing was done: "+err.Error())
		default:
			c.internal(w, r, u, err)
		}
		return
	}
	c.log.Info("console action", "user", u.user, "action", act, "summary", summary)
	http.Redirect(w, r, back+"?done="+url.QueryEscape(act), http.StatusSeeOther)
}
