package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
)

// What the web console (package console) reads and does through the
// service: its actions run in the service's transactions, one at a time
// with the API and the scheduler, and each writes its audit row in the
// same transaction as its effect.

// Authenticate finds the API user of a client id and secret (nil when
// they do not match), comparing the secret in constant time.
func (s *Service) Authenticate(id, secret string) *User { return s.authenticate(id, secret) }

// Store is the service's store.
func (s *Service) Store() *store.Store { return s.st }

// Now is the service's clock, in UTC.
func (s *Service) Now() time.Time { return s.now() }

// CampaignByID finds a campaign of the program the service runs by its
// API id (nil: none).
func (s *Service) CampaignByID(id int64) *ir.Campaign {
	s.progMu.RLock()
	defer s.progMu.RUnlock()
	return s.campaignBy[id]
}

// Campaigns lists the campaigns of a workspace (nil: every workspace) of
// the program the service runs, by id.
func (s *Service) Campaigns(ws *ir.Workspace) []*ir.Campaign {
	s.progMu.RLock()
	defer s.progMu.RUnlock()
	if ws != nil {
		return s.sortedCampaigns(ws)
	}
	out := append([]*ir.Campaign(nil), s.prog.Campaigns...)
	sort.Slice(out, func(i, j int) bool { return s.campaignID[out[i]] < s.campaignID[out[j]] })
	return out
}

// Sources are the files of the project the service runs, by name (nil
// when the service was not given its sources, Config.Project).
func (s *Service) Sources() map[string]string {
	s.progMu.RLock()
	defer s.progMu.RUnlock()
	if s.project == nil {
		return nil
	}
	return s.project.Texts()
}

// NextRun is when a batch campaign's schedule runs it next after now
// (zero: never).
func (s *Service) NextRun(c *ir.Campaign, now time.Time) time.Time {
	if c.Kind != ir.Batch || c.Run == nil {
		return time.Time{}
	}
	// As vm.Engine.Schedules places runs: every Every from At (or the
	// epoch), or once at At.
	sc := c.Run
	switch {
	case sc.Every > 0:
		start := sc.At
		if start.IsZero() {
			start = time.Unix(0, 0).UTC()
		}
		if start.After(now) {
			return start.UTC()
		}
		n := now.Sub(start)/sc.Every + 1
		return start.Add(n * sc.Every).UTC()
	case sc.At.After(now):
		return sc.At.UTC()
	}
	return time.Time{}
}

// Deployed is the deploy the service runs (nil when none is recorded:
// a service started without its sources).
func (s *Service) Deployed(ctx context.Context) (*store.Deploy, error) {
	s.progMu.RLock()
	version := s.version
	s.progMu.RUnlock()
	if version == 0 {
		return nil, nil
	}
	tx, err := s.st.BeginServe(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	all, err := tx.Deploys()
	if err != nil {
		return nil, err
	}
	for _, d := range all {
		if d.ID == version {
			return d, nil
		}
	}
	return nil, nil
}

// applyOverrides gives the engine the activate/deactivate overrides kept
// by the console; an override of a campaign the project no longer has,
// or that is no longer a trigger campaign, is ignored.
func (s *Service) applyOverrides(ctx context.Context, prog *ir.Program, eng *vm.Engine) error {
	os, err := s.st.Overrides(ctx)
	if err != nil {
		return err
	}
	for _, o := range os {
		if c := prog.Campaign(o.Workspace, o.Campaign); c != nil && c.Kind == ir.Trigger {
			if err := eng.SetActive(c, o.Active); err != nil {
				return err
			}
		}
	}
	return nil
}

// ActionError is an action refused for its input (shown to the user).
type ActionError struct{ Msg string }

func (e *ActionError) Error() string { return e.Msg }

func refuse(format string, args ...any) error { return &ActionError{Msg: fmt.Sprintf(format, args...)} }

// RequestCampaign requests a campaign for people (Request Campaign from
// the API), with My Token overrides, and logs who did it.
func (s *Service) RequestCampaign(ctx context.Context, who string, c *ir.Campaign, people []string, tokens map[string]string) (*vm.Report, error) {
	if c.Kind != ir.Trigger || !c.Requestable("api") {
		return nil, refuse("campaign %q does not listen for API requests: it needs \"campaign is requested from api\"", c.Name)
	}
	if !s.eng.Active(c) {
		return nil, refuse("campaign %q is not active", c.Name)
	}
	var raw []tokenJSON
	for _, name := range sortedKeys(tokens) {
		raw = append(raw, tokenJSON{Name: "{{my." + name + "}}", Value: tokens[name]})
	}
	tk, err := overrides(c, raw)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, refuse("%s", ae.Message)
		}
		return nil, err
	}
	var rep *vm.Report
	err = s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		for _, id := range people {
			p, err := tx.LoadPerson(id)
			if err != nil {
				return err
			}
			if p == nil || p.Deleted || !c.Workspace.Sees(p.Partition) {
				return refuse("person %q is not in workspace %q", id, c.Workspace.Name)
			}
		}
		var err error
		rep, err = s.eng.Request(ctx, c.Name, people, vm.RunOptions{Workspace: c.Workspace.Name, Tokens: tk})
		if err != nil {
			return err
		}
		tj, _ := json.Marshal(tk)
		return tx.Audit(&store.AuditEntry{Time: s.now(), Who: who, Workspace: c.Workspace.Name, Action: "request", Target: c.Name,
			Detail: "people " + strings.Join(people, ", ") + "; tokens " + string(tj)})
	})
	if err != nil {
		return nil, err
	}
	s.record(rep)
	return rep, nil
}

// RunNow schedules a batch campaign to run at once (the scheduler's next
// tick runs it), and logs who did it.
func (s *Service) RunNow(ctx context.Context, who string, c *ir.Campaign) error {
	if c.Kind != ir.Batch {
		return refuse("campaign %q is a %s campaign: only batch campaigns run now", c.Name, c.Kind)
	}
	now := s.now()
	return s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		if err := tx.AddSchedule(&store.APISchedule{Workspace: c.Workspace.Name, Campaign: c.Name, RunAt: now, Tokens: "null"}); err != nil {
			return err
		}
		return tx.Audit(&store.AuditEntry{Time: now, Who: who, Workspace: c.Workspace.Name, Action: "run-now", Target: c.Name,
			Detail: "scheduled at " + now.Format(time.RFC3339)})
	})
}

// SetActive activates or deactivates a trigger campaign: a deploy-time
// override kept in the database, given to the engine, and logged with
// who did it.
func (s *Service) SetActive(ctx context.Context, who string, c *ir.Campaign, active bool) error {
	if c.Kind != ir.Trigger {
		return refuse("campaign %q is a %s campaign: only trigger campaigns are activated or deactivated", c.Name, c.Kind)
	}
	action := "deactivate"
	if active {
		action = "activate"
	}
	now := s.now()
	err := s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		if err := tx.SetOverride(store.Override{Workspace: c.Workspace.Name, Campaign: c.Name, Active: active, Who: who, Time: now}); err != nil {
			return err
		}
		if err := tx.Audit(&store.AuditEntry{Time: now, Who: who, Workspace: c.Workspace.Name, Action: action, Target: c.Name,
			Detail: "the project says active: " + strconv.FormatBool(c.Active)}); err != nil {
			return err
		}
		// Under the service's lock: no pass runs between the commit and
		// the engine hearing of it.
		return s.eng.SetActive(c, active)
	})
	return err
}

// RetryDelivery makes a failed or bounced message of the outbox due
// again (workspace "": any workspace's), and logs who did it.
func (s *Service) RetryDelivery(ctx context.Context, who, workspace string, id int64) error {
	now := s.now()
	err := s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		row, err := tx.OutboxRow(id)
		if err != nil {
			return err
		}
		if row == nil || (workspace != "" && row.Message.Workspace != workspace) {
			return refuse("no failed message %d", id)
		}
		if err := tx.RetryDelivery(id, workspace, now); err != nil {
			if errors.Is(err, store.ErrNotRetryable) {
				return refuse("message %d is %s, not failed or bounced", id, row.State)
			}
			return err
		}
		return tx.Audit(&store.AuditEntry{Time: now, Who: who, Workspace: row.Message.Workspace, Action: "retry", Target: "message " + strconv.FormatInt(id, 10),
			Detail: "was " + row.State + ": " + row.LastError})
	})
	if err != nil {
		return err
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
