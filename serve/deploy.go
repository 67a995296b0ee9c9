package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// Project is a project as a deploy records it: its .camp sources and the
// files its declarations name (read when it was checked), so that any
// process serving the database can compile it again, byte for byte.
type Project struct {
	Sources []lang.Source     `json:"sources"`
	Files   map[string]string `json:"files,omitempty"`
}

// Hash is the hex SHA-256 of the project's sources and files, in name
// order: two deploys of the same text have the same hash.
func (p *Project) Hash() string {
	h := sha256.New()
	srcs := slices.Clone(p.Sources)
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].Name < srcs[j].Name })
	for _, s := range srcs {
		fmt.Fprintf(h, "source %d %s\n%d\n%s\n", len(s.Name), s.Name, len(s.Text), s.Text)
	}
	names := make([]string, 0, len(p.Files))
	for n := range p.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "file %d %s\n%d\n%s\n", len(n), n, len(p.Files[n]), p.Files[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Compile checks and compiles the project. Its files are read from the
// project, never from disk; time zones from the host's database.
func (p *Project) Compile() *compiler.Result {
	return compiler.Compile(p.Sources, compiler.Options{MaxErrors: -1, Zones: time.LoadLocation,
		ReadFile: func(name string) (string, error) {
			if t, ok := p.Files[name]; ok {
				return t, nil
			}
			return "", fmt.Errorf("%s: not recorded with the deploy", name)
		}})
}

// Texts maps file names to their texts, for rendering diagnostics.
func (p *Project) Texts() map[string]string {
	out := make(map[string]string, len(p.Sources))
	for _, s := range p.Sources {
		out[s.Name] = s.Text
	}
	return out
}

// Program compiles the project into a runnable program; the error lists
// the diagnostics (file:line:col) when it has errors.
func (p *Project) Program() (*ir.Program, error) {
	res := p.Compile()
	prog, err := res.Runnable(false)
	if err != nil || res.HasErrors() {
		var b strings.Builder
		lang.RenderText(&b, res.Diagnostics, p.Texts())
		return nil, fmt.Errorf("the project has errors:\n%s", strings.TrimRight(b.String(), "\n"))
	}
	return prog, nil
}

func decodeProject(s string) (*Project, error) {
	p := &Project{}
	if err := json.Unmarshal([]byte(s), p); err != nil {
		return nil, fmt.Errorf("the deploy's project is damaged: %v", err)
	}
	return p, nil
}

// Plan is what a deploy does: where each parked wait goes, and which
// campaigns come and go.
type Plan struct {
	Moves   []vm.WaitMove // by workspace, campaign, person, wait
	Added   []string      // campaigns new in the project, "workspace/name", sorted
	Removed []string      // campaigns gone from it (their ids stay reserved)
}

// Kept and Dropped count the plan's waits.
func (p *Plan) Kept() int { return len(p.Moves) - p.Dropped() }
func (p *Plan) Dropped() int {
	return countFunc(p.Moves, func(m vm.WaitMove) bool { return m.Dropped })
}

func countFunc[T any](s []T, f func(T) bool) int {
	n := 0
	for _, v := range s {
		if f(v) {
			n++
		}
	}
	return n
}

// Summary is the plan in one line.
func (p *Plan) Summary() string {
	return fmt.Sprintf("%d waits: %d continue in the new flow, %d dropped; campaigns: %d added, %d removed",
		len(p.Moves), p.Kept(), p.Dropped(), len(p.Added), len(p.Removed))
}

// Write prints the plan, a line per wait then the campaigns, in a fixed
// order. Names and Ids are escaped for a terminal.
func (p *Plan) Write(w io.Writer) {
	for _, m := range p.Moves {
		wt := m.Wait
		to := m.To
		if m.Dropped {
			to = "dropped: " + m.Reason
		}
		fmt.Fprintf(w, "person %s in %s/%s: %s -> %s\n", lang.Escape(wt.Person), lang.Escape(wt.Workspace), lang.Escape(wt.Campaign),
			lang.Escape(m.From), lang.Escape(to))
	}
	for _, c := range p.Added {
		fmt.Fprintf(w, "campaign %s added\n", lang.Escape(c))
	}
	for _, c := range p.Removed {
		fmt.Fprintf(w, "campaign %s removed\n", lang.Escape(c))
	}
	fmt.Fprintln(w, p.Summary())
}

// plan compares old (nil: unknown) with new over the waits.
func plan(old, new *ir.Program, waits []*storage.Parked) *Plan {
	waits = slices.Clone(waits)
	vm.SortWaits(waits)
	p := &Plan{Moves: vm.PlanWaits(old, new, waits)}
	if old != nil {
		keys := func(prog *ir.Program) map[string]bool {
			m := map[string]bool{}
			for _, c := range prog.Campaigns {
				m[c.Workspace.Name+"/"+c.Name] = true
			}
			return m
		}
		o, n := keys(old), keys(new)
		for k := range n {
			if !o[k] {
				p.Added = append(p.Added, k)
			}
		}
		for k := range o {
			if !n[k] {
				p.Removed = append(p.Removed, k)
			}
		}
		sort.Strings(p.Added)
		sort.Strings(p.Removed)
	}
	return p
}

// PlanDeploy says what deploying prog would do, and changes nothing.
func (s *Service) PlanDeploy(ctx context.Context, prog *ir.Program) (*Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var waits []*storage.Parked
	err := s.inTxLocked(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		var err error
		waits, err = tx.AllWaits()
		if err == nil {
			err = errReadOnly
		}
		return err
	})
	if !errors.Is(err, errReadOnly) {
		return nil, err
	}
	return plan(s.prog, prog, waits), nil
}

// Version is the serve_deploys id of the project the service runs (0:
// none recorded).
func (s *Service) Version() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// Program is the program the service runs.
func (s *Service) Program() *ir.Program {
	s.progMu.RLock()
	defer s.progMu.RUnlock()
	return s.prog
}

// Deploy replaces the service's program with prog (whose sources are proj,
// nil when unknown), recorded in serve_deploys as applied, who asking. It
// holds the service's lock (and in River mode workMu, exclusively), so
// passes in flight finish on the old program and none sees half of each.
// In one transaction the waits whose step is gone are dropped (a Wait
// Dropped activity says why), waits stored by path are stored by their
// step's identity, new objects get ids and the deploy is recorded; only when that commits does the service switch. A
// project that does not fit the service (an API user's workspace is
// gone) is refused whole.
func (s *Service) Deploy(ctx context.Context, prog *ir.Program, proj *Project, who string) (*Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if proj != nil && s.project != nil && proj.Hash() == s.project.Hash() {
		return &Plan{}, ErrUnchanged
	}
	p, err := s.deployLocked(ctx, prog, proj, who, nil)
	if err != nil {
		s.m.deploys.WithLabelValues("refused").Inc()
	}
	return p, err
}

// ErrUnchanged is Deploy's answer to the project the service runs already:
// nothing is done or recorded.
var ErrUnchanged = errors.New("the project is unchanged")

// deployLocked deploys prog; pending is the database's pending deploy it
// applies (nil: a new one is recorded). When another service applied
// pending first, its moves are not made again: the service only switches.
func (s *Service) deployLocked(ctx context.Context, prog *ir.Program, proj *Project, who string, pending *store.Deploy) (*Plan, error) {
	if err := s.fits(prog); err != nil {
		return nil, err
	}
	defer s.exclusive()()
	eng, err := s.newEngine(prog)
	if err != nil {
		return nil, err
	}
	var p *Plan
	var ids *objectIDs
	var reps []*vm.Report
	var version int64
	hash := ""
	if proj != nil {
		hash = proj.Hash()
	}
	err = s.inTxLocked(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		reps = nil
		waits, err := tx.AllWaits()
		if err != nil {
			return err
		}
		p = plan(s.prog, prog, waits)
		if pending != nil {
			ok, err := tx.FinishDeploy(pending.ID, store.DeployApplied, p.Summary())
			if err != nil {
				return err
			}
			if !ok {
				p = nil // another service applied it: only switch
				version = pending.ID
			}
		}
		if p != nil {
			for _, m := range p.Moves {
				switch {
				case m.Dropped:
					rep, err := eng.DropWait(ctx, m.Wait, m.Reason)
					if err != nil {
						return fmt.Errorf("drop the wait of %s in %q: %w", m.Wait.Person, m.Wait.Campaign, err)
					}
					reps = append(reps, rep)
				case m.Wait.Step == "":
					if err := tx.SetWaitStep(m.Wait, m.Step); err != nil {
						return err
					}
				}
			}
			if pending != nil {
				version = pending.ID
			} else {
				doc, err := json.Marshal(projOrEmpty(proj))
				if err != nil {
					return err
				}
				d := &store.Deploy{At: s.now(), Who: who, Hash: hash, State: store.DeployApplied, Project: string(doc), Summary: p.Summary()}
				if proj == nil {
					d.Project = "" // not known: other services cannot load it
				}
				if err := tx.AddDeploy(d); err != nil {
					return err
				}
				version = d.ID
			}
			// Older pending deploys never run: this one replaces them.
			if err := supersede(tx, version); err != nil {
				return err
			}
		}
		ids, err = programIDs(tx, prog)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.record(reps...)
	// The console's activate/deactivate overrides hold across deploys.
	if err := s.applyOverrides(ctx, prog, eng); err != nil {
		s.log.Error("deploy: the console's campaign overrides were not applied", "error", err.Error())
	}
	s.progMu.Lock()
	s.prog, s.eng, s.version, s.project = prog, eng, version, proj
	s.setIDs(ids)
	s.progMu.Unlock()
	s.m.version.Set(float64(version))
	if p == nil {
		s.m.deploys.WithLabelValues("switched").Inc()
		s.log.Info("deploy: switched to the project another service applied", "deploy", version, "who", who)
		return &Plan{}, nil
	}
	s.m.deploys.WithLabelValues("applied").Inc()
	s.log.Info("deploy applied", "deploy", version, "who", who, "hash", shortHash(hash), "summary", p.Summary())
	for _, m := range p.Moves {
		if m.Dropped {
			s.log.Warn("deploy: wait dropped", "person", m.Wait.Person, "workspace", m.Wait.Workspace, "campaign", m.Wait.Campaign, "reason", m.Reason)
		}
	}
	if !s.ready.Load() {
		return p, nil // Start runs the run now campaigns after catching up
	}
	return p, s.runNow(ctx, s.now())
}

func projOrEmpty(p *Project) *Project {
	if p == nil {
		return &Project{}
	}
	return p
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// supersede refuses the pending deploys older than id: a newer project
// replaced them before any service ran them.
func supersede(tx *store.ServeTx, id int64) error {
	all, err := tx.Deploys()
	if err != nil {
		return err
	}
	for _, d := range all {
		if d.ID < id && d.State == store.DeployPending {
			if _, err := tx.FinishDeploy(d.ID, store.DeployRefused, fmt.Sprintf("superseded by deploy %d", id)); err != nil {
				return err
			}
		}
	}
	return nil
}

// fits checks that the service can run prog: every API user's workspace
// is in it.
func (s *Service) fits(prog *ir.Program) error {
	ids := make([]string, 0, len(s.users))
	for id := range s.users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		u := s.users[id]
		if !slices.ContainsFunc(prog.Workspaces, func(ws *ir.Workspace) bool { return ws.Name == u.Workspace }) {
			return fmt.Errorf("API user %q works in workspace %q, which the project no longer has", u.ID, u.Workspace)
		}
	}
	return nil
}

// syncDeploy brings the service to the database's deploys, at start and
// at each tick: a pending deploy newer than what it runs is applied (its
// wait moves made once, whichever service gets there first), an applied
// one is switched to. A deploy that cannot run here is refused, with the
// reason in its summary, and the service keeps its program. At start
// (who is "campc serve start") a project that differs from the
// database's latest is deployed itself: the operator started it so.
func (s *Service) syncDeploy(ctx context.Context, start bool) error {
	var latest *store.Deploy
	if err := s.inTxLocked(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		var err error
		latest, err = tx.LatestDeploy()
		return err
	}); err != nil {
		return err
	}
	if latest == nil || latest.ID <= s.version {
		if start && s.project != nil {
			_, err := s.deployLocked(ctx, s.prog, s.project, "campc serve start", nil)
			return err
		}
		return nil
	}
	if start && latest.State == store.DeployApplied && s.project != nil {
		if latest.Hash == s.project.Hash() {
			s.version = latest.ID
			s.m.version.Set(float64(latest.ID))
			return nil
		}
		_, err := s.deployLocked(ctx, s.prog, s.project, "campc serve start", nil)
		return err
	}
	if latest.Project == "" {
		// Recorded by a service that did not know its sources: nothing to load.
		s.version = latest.ID
		return nil
	}
	refuse := func(why error) error {
		s.m.deploys.WithLabelValues("refused").Inc()
		s.log.Error("deploy refused: the service keeps running its project", "deploy", latest.ID, "who", latest.Who, "error", why.Error())
		if latest.State != store.DeployPending {
			s.version = latest.ID // do not try it again every tick
			return nil
		}
		return s.inTxLocked(ctx, func(ctx context.Context, tx *store.ServeTx) error {
			_, err := tx.FinishDeploy(latest.ID, store.DeployRefused, why.Error())
			return err
		})
	}
	proj, err := decodeProject(latest.Project)
	if err != nil {
		return refuse(err)
	}
	prog, err := proj.Program()
	if err != nil {
		return refuse(err)
	}
	if err := s.fits(prog); err != nil {
		return refuse(err)
	}
	if latest.State == store.DeployPending {
		_, err = s.deployLocked(ctx, prog, proj, latest.Who, latest)
		return err
	}
	// Applied by another service: switch without moving waits again.
	ids, err := s.idsFor(ctx, prog)
	if err != nil {
		return err
	}
	eng, err := s.newEngine(prog)
	if err != nil {
		return err
	}
	if err := s.applyOverrides(ctx, prog, eng); err != nil {
		s.log.Error("deploy: the console's campaign overrides were not applied", "error", err.Error())
	}
	defer s.exclusive()()
	s.progMu.Lock()
	s.prog, s.eng, s.version, s.project = prog, eng, latest.ID, proj
	s.setIDs(ids)
	s.progMu.Unlock()
	s.m.version.Set(float64(latest.ID))
	s.m.deploys.WithLabelValues("switched").Inc()
	s.log.Info("deploy: switched to the project another service applied", "deploy", latest.ID, "who", latest.Who, "hash", shortHash(latest.Hash))
	return nil
}

func (s *Service) idsFor(ctx context.Context, prog *ir.Program) (*objectIDs, error) {
	var ids *objectIDs
	err := s.inTxLocked(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		var err error
		ids, err = programIDs(tx, prog)
		return err
	})
	return ids, err
}

// RecordDeploy records proj as the project every campc serve on the
// database runs next (pending: the first to see it makes its wait moves).
// It is what campc deploy does; no service needs to run.
func RecordDeploy(ctx context.Context, st *store.Store, proj *Project, who string, now time.Time) (*store.Deploy, error) {
	doc, err := json.Marshal(proj)
	if err != nil {
		return nil, err
	}
	tx, err := st.BeginServe(ctx)
	if err != nil {
		return nil, err
	}
	d := &store.Deploy{At: now.UTC().Truncate(time.Microsecond), Who: who, Hash: proj.Hash(), State: store.DeployPending, Project: string(doc)}
	if err := tx.AddDeploy(d); err != nil {
		tx.Rollback()
		return nil, err
	}
	return d, tx.Commit()
}

// PlanStored says what deploying prog would do to the database's waits,
// against the latest deploy's project (the one running, or about to), and
// changes nothing: campc deploy --dry-run.
func PlanStored(ctx context.Context, st *store.Store, prog *ir.Program) (*Plan, error) {
	tx, err := st.BeginServe(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	latest, err := tx.LatestDeploy()
	if err != nil {
		return nil, err
	}
	var old *ir.Program
	if latest != nil && latest.Project != "" {
		if proj, err := decodeProject(latest.Project); err == nil {
			old, _ = proj.Program() // a project that no longer compiles here: compare with nothing
		}
	}
	waits, err := tx.AllWaits()
	if err != nil {
		return nil, err
	}
	return plan(old, prog, waits), nil
}

// runNow runs each run now batch campaign that has not run yet: at start,
// and for the ones a deploy adds.
func (s *Service) runNow(ctx context.Context, now time.Time) error {
	for _, c := range s.prog.Campaigns {
		if c.Kind != ir.Batch || c.Run == nil || !c.Run.At.IsZero() || c.Run.Every != 0 {
			continue
		}
		key := "run now:" + c.Key
		done, err := s.state(ctx, key)
		if err != nil {
			return err
		}
		if done != "" {
			continue
		}
		s.log.Info("run now: running the batch campaign", "campaign", c.Name, "workspace", c.Workspace.Name)
		rep, shared, err := s.startBatch(ctx, c, now, vm.RunOptions{Workspace: c.Workspace.Name})
		s.record(rep)
		if errors.Is(err, errRunInProgress) {
			// Not marked run: the next start or deploy runs it.
			s.log.Warn("run now: not run, the campaign's previous run is still in progress", "campaign", c.Name, "workspace", c.Workspace.Name)
			continue
		}
		if err != nil {
			return fmt.Errorf("run now %q: %w", c.Name, err)
		}
		if !shared {
			s.m.batchRuns.Inc()
		}
		if err := s.setState(ctx, key, now.Format(time.RFC3339Nano)); err != nil {
			return err
		}
	}
	return nil
}
