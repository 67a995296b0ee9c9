package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/mail"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of a Config.
const (
	DefaultTokenTTL   = time.Hour
	DefaultRateLimit  = 100 // calls per API user per DefaultRateWindow, as Marketo
	DefaultRateWindow = 20 * time.Second
	DefaultMaxBody    = 1 << 20 // Marketo's 1 MB
	DefaultPoll       = time.Second
	maxURI            = 8 << 10 // Marketo's 8 KB
)

// Config configures a Service. Program, Store, Clock and Users are
// required.
type Config struct {
	Program  *ir.Program
	Store    *store.Store
	Clock    vm.Clock
	Users    []User
	TokenTTL time.Duration
	// RateLimit calls per RateWindow per API user; more get 606.
	RateLimit  int
	RateWindow time.Duration
	MaxBody    int64 // request bodies, in bytes; larger get HTTP 413
	// Poll is how often the scheduler looks at the clock (real time).
	Poll    time.Duration
	Effects vm.Effects // default: webhooks called over HTTP (Webhooks), host actions logged
	// Webhooks configures the default effects' webhook calls.
	Webhooks WebhookOptions
	// Mailer sends the outbox's email and alerts (mail.Sender, from
	// --smtp); nil: they are logged and marked not delivered.
	Mailer Mailer
	// MaxAttempts is how many times a message is tried before it is Send
	// Email Failed; RetryBase the wait after the first failed attempt,
	// doubled after each (at most an hour).
	MaxAttempts int
	RetryBase   time.Duration
	// ClaimTimeout is how long a deliverer holds a message it is sending;
	// a deliverer that dies leaves it to be tried again after that. It
	// must outlast one attempt: go-mail gives the dial and then the send
	// the relay timeout each, so three times it.
	ClaimTimeout time.Duration
	Logger       *slog.Logger
	Registry     prometheus.Registerer // where the metrics go; nil: a registry of its own
	// BatchChunk is how many people a chunk of a batch run shared
	// through River holds (default vm.DefaultBatchChunk).
	BatchChunk int
	// Project is Program's sources, when known: Start records it as a
	// deploy (serve_deploys) so that other services can load it.
	Project *Project
}

// Service is campc serve: the API and the scheduler over one engine.
type Service struct {
	cfg  Config
	prog *ir.Program
	st   *store.Store
	eng  *vm.Engine
	fx   vm.Effects // the engine's effects, kept for the engines of deploys
	// hooks calls the webhooks when the service's effects are its own
	// (nil when Config.Effects was given): with River, the webhook jobs
	// call through it.
	hooks   *webhookClient
	clock   vm.Clock
	log     *slog.Logger
	users   map[string]*User
	tokens  *tokens
	limiter *limiter
	m       *metrics
	gather  prometheus.Gatherer
	reg     prometheus.Registerer
	// river shares the work with other processes (UseRiver); nil: this
	// process schedules its own (SQLite, or one process).
	river *riverQueue

	// mu makes the service's work one at a time: an API call's
	// transaction spans several engine operations, and SQLite has one
	// connection. With River (PostgreSQL) the calls and jobs run at once
	// instead, under workMu's read side (see work), and mu keeps only the
	// ticks, starts and deploys one at a time.
	mu sync.Mutex
	// workMu is held for reading by each call and job in River mode, and
	// for writing by a deploy, so that none runs half on the old program
	// and half on the new.
	workMu sync.RWMutex
	ready  atomic.Bool
	kick   chan struct{} // a commit may have put mail in the outbox
	seq    atomic.Int64  // request ids

	// progMu guards the switch of a deploy (prog, eng, version, project
	// and the ids) for readers that do not hold mu: the console, which
	// must not wait for a batch run.
	progMu sync.RWMutex

	// The deploy the service runs (see deploy.go): its serve_deploys id
	// (0: none recorded yet), and the project's sources when known.
	version int64
	project *Project

	// The ids of the program's objects, given at start and at each
	// deploy (an object keeps its id across deploys).
	objectIDs
}

// User is an API user: its client id and secret, and the workspace it
// works in.
type User struct {
	ID, Secret, Workspace string
}

// New makes a service: it checks the users against the program and gives
// the program's campaigns, lists, programs and forms their ids (ids
// given before are kept).
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Program == nil || cfg.Store == nil || cfg.Clock == nil {
		return nil, errors.New("serve: a program, a store and a clock are required")
	}
	if len(cfg.Users) == 0 {
		return nil, errors.New("no API users: set CAMPC_CLIENT_ID and CAMPC_CLIENT_SECRET, or give --users FILE")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.ClaimTimeout <= 0 {
		cfg.ClaimTimeout = 3 * mail.DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, prog: cfg.Program, project: cfg.Project, st: cfg.Store, clock: cfg.Clock, log: cfg.Logger,
		users: map[string]*User{}, tokens: newTokens(), kick: make(chan struct{}, 1), limiter: newLimiter(cfg.RateLimit, cfg.RateWindow)}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		if u.ID == "" || u.Secret == "" {
			return nil, fmt.Errorf("API user %d: a client id and a secret are required", i+1)
		}
		if _, dup := s.users[u.ID]; dup {
			return nil, fmt.Errorf("API user %q is given twice", u.ID)
		}
		if s.workspace(u.Workspace) == nil {
			return nil, fmt.Errorf("API user %q: the project has no workspace %q", u.ID, u.Workspace)
		}
		s.users[u.ID] = u
	}
	reg := cfg.Registry
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, s.gather = r, r
	} else if g, ok := reg.(prometheus.Gatherer); ok {
		s.gather = g
	}
	s.reg = reg
	var err error
	if s.m, err = newMetrics(reg); err != nil {
		return nil, err
	}
	hm, err := newWebhookMetrics(reg)
	if err != nil {
		return nil, err
	}
	if cfg.Effects == nil {
		hooks, err := newWebhookClient(cfg.Webhooks, cfg.Logger, hm)
		if err != nil {
			return nil, err
		}
		cfg.Effects = hostEffects{Effects: logEffects{cfg.Logger}, hooks: hooks}
		s.hooks = hooks
	}
	s.fx = cfg.Effects
	s.eng, err = s.newEngine(cfg.Program)
	if err != nil {
		return nil, err
	}
	if err := s.giveIDs(ctx); err != nil {
		return nil, fmt.Errorf("give the program's objects their ids: %w", err)
	}
	if err := s.applyOverrides(ctx, s.prog, s.eng); err != nil {
		return nil, fmt.Errorf("read the console's campaign overrides: %w", err)
	}
	return s, nil
}

func (s *Service) workspace(name string) *ir.Workspace {
	for _, ws := range s.prog.Workspaces {
		if ws.Name == name {
			return ws
		}
	}
	return nil
}

// objectIDs are the API ids of a program's campaigns, lists, programs
// and forms, and the workspaces of the last three.
type objectIDs struct {
	campaignID map[*ir.Campaign]int64
	campaignBy map[int64]*ir.Campaign
	listID     map[*ir.List]int64
	listBy     map[int64]*ir.List
	listWS     map[*ir.List]*ir.Workspace
	programID  map[*ir.ProgramDef]int64
	programBy  map[int64]*ir.ProgramDef
	programWS  map[*ir.ProgramDef]*ir.Workspace
	formID     map[*ir.Form]int64
	formBy     map[int64]*ir.Form
	formWS     map[*ir.Form]*ir.Workspace
}

// giveIDs gives every campaign, list, program and form of the program
// its id, and every person the database holds a lead id (reading only
// the people who have none: a start costs nothing per person).
func (s *Service) giveIDs(ctx context.Context) error {
	return s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		o, err := programIDs(tx, s.prog)
		if err != nil {
			return err
		}
		s.setIDs(o)
		people, err := tx.PeopleWithoutLeadID()
		if err != nil {
			return err
		}
		_, err = leadIDs(tx, people)
		return err
	})
}

func (s *Service) setIDs(o *objectIDs) { s.objectIDs = *o }

// programIDs reads the ids of prog's objects, giving new objects new ids
// (those of removed objects stay reserved: serve_ids keeps every row).
func programIDs(tx *store.ServeTx, prog *ir.Program) (*objectIDs, error) {
	var keys []string
	for _, c := range prog.Campaigns {
		keys = append(keys, c.Key)
	}
	ids, err := tx.IDs("campaign", keys, nil)
	if err != nil {
		return nil, err
	}
	o := &objectIDs{}
	o.campaignID, o.campaignBy = map[*ir.Campaign]int64{}, map[int64]*ir.Campaign{}
	for _, c := range prog.Campaigns {
		o.campaignID[c], o.campaignBy[ids[c.Key]] = ids[c.Key], c
	}
	o.listID, o.listBy, o.listWS = map[*ir.List]int64{}, map[int64]*ir.List{}, map[*ir.List]*ir.Workspace{}
	o.programID, o.programBy, o.programWS = map[*ir.ProgramDef]int64{}, map[int64]*ir.ProgramDef{}, map[*ir.ProgramDef]*ir.Workspace{}
	o.formID, o.formBy, o.formWS = map[*ir.Form]int64{}, map[int64]*ir.Form{}, map[*ir.Form]*ir.Workspace{}
	var lists, progs, forms []string
	for _, ws := range prog.Workspaces {
		for _, l := range ws.Lists {
			lists = append(lists, l.Key)
		}
		for _, p := range ws.Programs {
			progs = append(progs, p.Key)
		}
		for _, f := range ws.Forms {
			forms = append(forms, ir.Key(ws.Name, f.Name))
		}
	}
	lids, err := tx.IDs("list", lists, nil)
	if err != nil {
		return nil, err
	}
	pids, err := tx.IDs("program", progs, nil)
	if err != nil {
		return nil, err
	}
	fids, err := tx.IDs("form", forms, nil)
	if err != nil {
		return nil, err
	}
	for _, ws := range prog.Workspaces {
		for _, l := range ws.Lists {
			o.listID[l], o.listBy[lids[l.Key]], o.listWS[l] = lids[l.Key], l, ws
		}
		for _, p := range ws.Programs {
			o.programID[p], o.programBy[pids[p.Key]], o.programWS[p] = pids[p.Key], p, ws
		}
		for _, f := range ws.Forms {
			k := ir.Key(ws.Name, f.Name)
			o.formID[f], o.formBy[fids[k]], o.formWS[f] = fids[k], f, ws
		}
	}
	return o, nil
}

// leadIDs gives people their lead ids: a person whose Id is a whole
// number has it as its lead id, unless another person took it first;
// others get the next free number.
func leadIDs(tx *store.ServeTx, people []string) (map[string]int64, error) {
	return tx.IDs("lead", people, numericID)
}

// numericID is the lead id a person Id asks for: itself, when it is a
// whole number written plainly; 0 otherwise.
func numericID(id string) int64 {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return 0
	}
	return n
}

// inTx runs fn in one service transaction, one at a time: committed when
// fn succeeds, rolled back otherwise. Engine operations called with the
// context fn gets run in the same transaction.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx *store.ServeTx) error) error {
	defer s.work()()
	return s.inTxLocked(ctx, fn)
}

// work begins a unit of the service's work (an API call, a job) and
// returns its end. On a service of its own (SQLite, one process) units
// run one at a time. In River mode they run at once, as they do across
// processes: each person's passes stay in order by the store's row
// locks, and only a deploy (exclusive) waits for them all.
func (s *Service) work() func() {
	if s.river != nil {
		s.workMu.RLock()
		return s.workMu.RUnlock
	}
	s.mu.Lock()
	return s.mu.Unlock
}

// exclusive is held by a deploy, under mu: in River mode it waits for the
// calls and jobs in flight and holds new ones back until the switch.
func (s *Service) exclusive() func() {
	if s.river != nil {
		s.workMu.Lock()
		return s.workMu.Unlock
	}
	return func() {}
}

// newEngine makes the engine of a program: in River mode concurrent, its
// webhook calls parked for their jobs, the flow runs that calls set off
// queued for theirs.
func (s *Service) newEngine(prog *ir.Program) (*vm.Engine, error) {
	return vm.New(prog, vm.Options{Store: txStore{s.st}, Clock: s.clock, Effects: s.fx, Outbox: true, Concurrent: s.river != nil,
		DeferWebhooks: s.deferWebhooks(), DeferRuns: s.river != nil})
}

func (s *Service) inTxLocked(ctx context.Context, fn func(ctx context.Context, tx *store.ServeTx) error) error {
	tx, err := s.st.BeginServe(ctx)
	if err != nil {
		return err
	}
	if err := fn(withTx(ctx, tx), tx); err != nil {
		tx.Rollback()
		return err
	}
	posted := tx.PendingOutbox() > 0
	if err := tx.Commit(); err != nil {
		return err
	}
	if posted {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Handler is the service's HTTP handler: /identity, /rest, /healthz and
// /metrics.
func (s *Service) Handler() http.Handler { return s.routes() }

// Engine is the service's engine (a deploy makes another).
func (s *Service) Engine() *vm.Engine {
	s.progMu.RLock()
	defer s.progMu.RUnlock()
	return s.eng
}

// CampaignID is the API's id of a campaign.
func (s *Service) CampaignID(c *ir.Campaign) int64 {
	s.progMu.RLock()
	defer s.progMu.RUnlock()
	return s.campaignID[c]
}

// sortedCampaigns lists the campaigns a workspace sees, by id.
func (s *Service) sortedCampaigns(ws *ir.Workspace) []*ir.Campaign {
	var out []*ir.Campaign
	for _, c := range s.prog.Campaigns {
		if c.Workspace == ws {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return s.campaignID[out[i]] < s.campaignID[out[j]] })
	return out
}

// record counts what an operation's reports did, once committed.
func (s *Service) record(reps ...*vm.Report) {
	for _, r := range reps {
		if r == nil {
			continue
		}
		for _, a := range r.Activities {
			s.m.activities.WithLabelValues(a.Type).Inc()
		}
		for _, e := range r.Entered {
			s.m.passes.WithLabelValues(e.Campaign.Workspace.Name, e.Campaign.Name).Inc()
		}
	}
}
