package serve

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/campc/campc/store"
	"github.com/campc/campc/vm/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"
)

// Work shared by several campc serve processes on one PostgreSQL, through
// River (github.com/riverqueue/river): each unit of work the service
// defers is a River job, inserted in the transaction of the state that
// caused it (store.JobHook), and any process may work it. See
// docs/river.md for the design.
//
// The client uses River's database/sql driver on the store's own pool:
// the store's transactions are database/sql ones, so InsertTx shares them
// as they are; the driver has no LISTEN, so the client polls (FetchPoll).

// Job kinds.
const (
	kindTick    = "campc_tick"    // the schedules and the API's scheduled runs
	kindWait    = "campc_wait"    // a parked wait, at its due time
	kindDeliver = "campc_deliver" // an outbox message
	kindRuns    = "campc_runs"    // the flow runs an API call or event queued
	// kindWebhook ("campc_webhook", webhookjob.go): a parked webhook call
	// kindBatch, a chunk of a shared batch run: riverbatch.go
)

// TickArgs is the periodic job that runs the schedules: River's leader
// inserts it every Poll, and it is unique while it is queued or running,
// so one process at a time runs the schedules and a scheduled batch
// starts once across all of them.
type TickArgs struct{}

func (TickArgs) Kind() string { return kindTick }
func (TickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// WaitArgs resumes the waits that one transaction parked with one due
// time (a batch group's people parked at one step, often hundreds),
// scheduled at that time: one job for them, not one each, so that River
// fetches and completes a few jobs where a batch parks thousands of
// waits. Person is the one person of jobs queued before People was.
type WaitArgs struct {
	People []string  `json:"people,omitempty"`
	Person string    `json:"person,omitempty"`
	Due    time.Time `json:"due"`
}

func (WaitArgs) Kind() string { return kindWait }

// people is whom the job resumes.
func (a WaitArgs) people() []string { return oneOrMany(a.People, a.Person) }

// oneOrMany is a job's list, or the one item of the older form of its
// arguments.
func oneOrMany(many []string, one string) []string {
	if len(many) == 0 && one != "" {
		return []string{one}
	}
	return many
}

// DeliverArgs is the outbox messages of one transaction, by Message-ID
// (MessageID: the one message of jobs queued before MessageIDs was).
type DeliverArgs struct {
	MessageIDs []string `json:"message_ids,omitempty"`
	MessageID  string   `json:"message_id,omitempty"`
}

func (DeliverArgs) Kind() string { return kindDeliver }

func (a DeliverArgs) messages() []string { return oneOrMany(a.MessageIDs, a.MessageID) }

// RunsArgs runs the flow runs that one transaction left queued: the
// campaigns an API call requested, the trigger campaigns that hear its
// events (vm.Options.DeferRuns), for each of its people in order. So a
// burst of calls to one process is worked by all of them.
type RunsArgs struct {
	People []string `json:"people"`
}

func (RunsArgs) Kind() string { return kindRuns }

// runsWorker runs the job's people's queued runs (vm.Engine.RunQueued):
// each person in a transaction that locks them and takes their runs off
// the queue, so a job run twice runs nothing twice.
type runsWorker struct {
	river.WorkerDefaults[RunsArgs]
	s *Service
}

func (w *runsWorker) Work(ctx context.Context, job *river.Job[RunsArgs]) error {
	s := w.s
	defer s.work()()
	rep, err := s.eng.RunQueued(ctx, job.Args.People)
	s.record(rep)
	return err
}

// FetchPoll is how often an idle River client looks for jobs.
const FetchPoll = 100 * time.Millisecond

// riverQueue is the service's River client.
type riverQueue struct {
	s      *Service
	client *river.Client[*sql.Tx]
	id     string
	start  time.Time
}

type tickWorker struct {
	river.WorkerDefaults[TickArgs]
	s *Service
}

func (w *tickWorker) Work(ctx context.Context, job *river.Job[TickArgs]) error { return w.s.Tick(ctx) }

// waitWorker resumes the job's people's waits due by the job's due time,
// each person's in due order. The parked row's delete is in the resuming transaction
// (store: take), so a wait resumes once however many jobs or processes
// reach it: a retried job, or a job whose wait the tick or another job
// already resumed, finds it gone.
type waitWorker struct {
	river.WorkerDefaults[WaitArgs]
	s *Service
}

func (w *waitWorker) Work(ctx context.Context, job *river.Job[WaitArgs]) error {
	s := w.s
	defer s.work()()
	eng := s.eng // the same for the whole job: a deploy waits for it
	due := job.Args.Due.UTC()
	if now := s.now(); due.After(now) {
		due = now
	}
	// The people in one transaction, in Id order (as batch groups lock
	// them); if that fails, each on their own, so one person's error
	// holds back no one else. A person resumed before a crash is not
	// resumed again when River retries the job (the parked row is gone).
	rep, err := eng.ResumePeople(ctx, job.Args.people(), due)
	s.record(rep)
	return err
}

// deliverWorker sends a transaction's outbox messages. The outbox row's
// claim and state make a retried job send nothing twice (DeliverOutboxes).
type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	var ids []int64
	if err := w.s.inTx(ctx, func(ctx context.Context, tx *store.ServeTx) error {
		ids = ids[:0]
		for _, m := range job.Args.messages() {
			id, err := tx.OutboxID(m)
			if err != nil {
				return err
			}
			if id != 0 {
				ids = append(ids, id)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// A message whose attempt fails waits for its next time in the
	// outbox (the deliverer's loop tries it then); an error here is the
	// database's, and River tries the job again, the sent ones skipped.
	_, err := w.s.DeliverOutboxes(ctx, ids)
	return err
}

// UseRiver makes the service share its work through River: call it after
// New and before Start, on a PostgreSQL store. Workers is how many jobs
// the process works at once.
func (s *Service) UseRiver(workers int) error {
	if !s.st.OnPostgres() {
		return errors.New("River needs PostgreSQL: on SQLite the service schedules its work in its own process")
	}
	if workers <= 0 {
		workers = 4
	}
	ws := river.NewWorkers()
	river.AddWorker(ws, &tickWorker{s: s})
	river.AddWorker(ws, &waitWorker{s: s})
	river.AddWorker(ws, &deliverWorker{s: s})
	river.AddWorker(ws, &runsWorker{s: s})
	river.AddWorker(ws, &webhookWorker{s: s})
	river.AddWorker(ws, &batchWorker{s: s}) // riverbatch.go
	river.AddWorker(ws, &requeueWorker{s: s})
	host, _ := os.Hostname()
	q := &riverQueue{s: s, start: time.Now()}
	q.id = fmt.Sprintf("%s-%d-%d", host, os.Getpid(), q.start.UnixNano())
	c, err := river.NewClient(riverdatabasesql.New(s.st.DB()), &river.Config{
		ID:                q.id,
		Logger:            s.log,
		FetchPollInterval: FetchPoll,
		FetchCooldown:     10 * time.Millisecond,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}, queueBatch: {MaxWorkers: chunkWorkers(workers)}},
		Workers:           ws,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(s.cfg.Poll),
			func() (river.JobArgs, *river.InsertOpts) { return TickArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(ProcessBeat),
				func() (river.JobArgs, *river.InsertOpts) { return RequeueArgs{}, nil }, nil)},
		// A tick may run a long batch: no timeout. A job whose process
		// died (SIGKILL) stays running until River's rescuer gives it to
		// another process after RescueAfter; the work it did is not
		// redone (the store's takes, run cursors and outbox claims).
		JobTimeout:           -1,
		RescueStuckJobsAfter: RescueAfter,
		// Jobs that keep failing are discarded after this many attempts,
		// and stay visible (campc status) until campc retry.
		MaxAttempts: 10,
	})
	if err != nil {
		return fmt.Errorf("river: %w", err)
	}
	q.client = c
	s.river = q
	s.st.SetJobHook(q)
	// Calls and jobs now run at once (see work), webhook calls are jobs
	// (webhookjob.go): the engine too.
	eng, err := s.newEngine(s.prog)
	if err != nil {
		return err
	}
	if err := s.applyOverrides(context.Background(), s.prog, eng); err != nil {
		return fmt.Errorf("read the console's campaign overrides: %w", err)
	}
	s.progMu.Lock()
	s.eng = eng
	s.progMu.Unlock()
	return s.reg.Register(newRiverCollector(s.st))
}

// chunkWorkers is how many chunks of batch runs a process runs at once:
// one per core (a chunk's groups keep a core and the database busy), at
// most workers.
func chunkWorkers(workers int) int {
	return max(1, min(workers, runtime.GOMAXPROCS(0)))
}

// InsertJobs implements store.JobHook: in the same transaction, a job for
// the waits parked with each due time (in the order first parked), one
// per webhook call parked (now), one for the messages put in the outbox,
// and one for the people whose flow runs an API call queued.
func (q *riverQueue) InsertJobs(ctx context.Context, tx *sql.Tx, waits []*storage.Parked, messages []string, queued []string) error {
	var params []river.InsertManyParams
	attempts := DefaultWebhookAttempts
	if q.s.hooks != nil {
		attempts = q.s.hooks.opts.Attempts
	}
	var byDue []*WaitArgs
	for _, w := range waits {
		if w.Webhook != nil {
			params = append(params, river.InsertManyParams{Args: WebhookArgs{ID: w.ID, Person: w.Person},
				InsertOpts: &river.InsertOpts{MaxAttempts: attempts}})
			continue
		}
		due := w.Due.UTC()
		i := slices.IndexFunc(byDue, func(a *WaitArgs) bool { return a.Due.Equal(due) })
		if i < 0 {
			byDue = append(byDue, &WaitArgs{Due: due})
			i = len(byDue) - 1
		}
		if a := byDue[i]; !slices.Contains(a.People, w.Person) {
			a.People = append(a.People, w.Person)
		}
	}
	for _, a := range byDue {
		params = append(params, river.InsertManyParams{Args: *a, InsertOpts: &river.InsertOpts{ScheduledAt: a.Due}})
	}
	if len(messages) > 0 {
		params = append(params, river.InsertManyParams{Args: DeliverArgs{MessageIDs: messages}})
	}
	if len(queued) > 0 {
		params = append(params, river.InsertManyParams{Args: RunsArgs{People: queued}})
	}
	if len(params) == 0 {
		return nil
	}
	_, err := q.client.InsertManyFastTx(ctx, tx, params)
	return err
}

// run works jobs until stop, and heartbeats the process's row in
// serve_processes for campc status.
func (q *riverQueue) run(ctx context.Context, stop <-chan struct{}) {
	if err := q.client.Start(ctx); err != nil {
		q.s.log.Error("river", "error", err.Error())
		return
	}
	host, _ := os.Hostname()
	beat := func() {
		if err := q.s.st.ProcessAlive(ctx, q.id, host, os.Getpid(), q.start, time.Now()); err != nil {
			q.s.log.Warn("heartbeat", "error", err.Error())
		}
	}
	beat()
	t := time.NewTicker(ProcessBeat)
	defer t.Stop()
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		case <-ctx.Done():
			done = true
		case <-t.C:
			beat()
		}
	}
	// Jobs in flight finish (bounded by stopWait); those cut are retried
	// by the other processes once River sees them as stuck.
	sctx, cancel := context.WithTimeout(context.Background(), stopWait)
	defer cancel()
	if err := q.client.Stop(sctx); err != nil {
		q.s.log.Warn("river stop", "error", err.Error())
	}
}

// ProcessBeat is how often a process records that it is alive; campc
// status counts a process alive for three beats after its last.
const ProcessBeat = 5 * time.Second

const stopWait = 30 * time.Second

// RescueAfter is how long a job may stay running before River takes it as
// its process's death and runs it again elsewhere.
const RescueAfter = 2 * time.Minute

// riverCollector exports campc status's numbers on /metrics, read from
// the database at each scrape.
type riverCollector struct {
	st                               *store.Store
	jobs, alive, waitsDue, oldestAge *prometheus.Desc
}

func newRiverCollector(st *store.Store) *riverCollector {
	return &riverCollector{st: st,
		jobs:      prometheus.NewDesc("campc_jobs", "River jobs, by kind and state.", []string{"kind", "state"}, nil),
		alive:     prometheus.NewDesc("campc_processes_alive", "campc serve processes alive on the database.", nil, nil),
		waitsDue:  prometheus.NewDesc("campc_waits_due_next_hour", "Parked waits due within the next hour (or overdue).", nil, nil),
		oldestAge: prometheus.NewDesc("campc_oldest_job_age_seconds", "Age of the oldest job waiting to run (available or retryable and due).", nil, nil),
	}
}

func (c *riverCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.alive
	ch <- c.waitsDue
	ch <- c.oldestAge
}

func (c *riverCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := ReadStatus(ctx, c.st, time.Now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.jobs, err)
		return
	}
	for _, j := range st.Jobs {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(j.Count), j.Kind, j.State)
	}
	ch <- prometheus.MustNewConstMetric(c.alive, prometheus.GaugeValue, float64(len(st.Processes)))
	ch <- prometheus.MustNewConstMetric(c.waitsDue, prometheus.GaugeValue, float64(st.WaitsDueNextHour))
	ch <- prometheus.MustNewConstMetric(c.oldestAge, prometheus.GaugeValue, st.OldestJobAge.Seconds())
}

// Status is what campc status shows (and /metrics exports).
type Status struct {
	Processes        []store.Process
	Jobs             []JobCount // by kind, then state
	WaitsDueNextHour int
	OldestJobAge     time.Duration // of the oldest job due and not running; 0: none
	Dead             []DeadJob     // discarded: retries exhausted
}

// JobCount is how many jobs of a kind are in a state.
type JobCount struct {
	Kind, State string
	Count       int
}

// DeadJob is a job River discarded, with its last error.
type DeadJob struct {
	ID       int64
	Kind     string
	Attempts int
	Error    string
	At       time.Time
}

// ReadStatus reads the numbers of campc status at now.
func ReadStatus(ctx context.Context, st *store.Store, now time.Time) (*Status, error) {
	out := &Status{}
	var err error
	if out.Processes, err = st.Processes(ctx, now.Add(-3*ProcessBeat)); err != nil {
		return nil, fmt.Errorf("processes: %w", err)
	}
	if out.WaitsDueNextHour, err = st.WaitsDueBy(ctx, now.Add(time.Hour)); err != nil {
		return nil, fmt.Errorf("waits: %w", err)
	}
	if !st.OnPostgres() {
		return out, nil
	}
	db := st.DB()
	rows, err := db.QueryContext(ctx, `SELECT kind, state::text, count(*) FROM river_job
WHERE state IN ('available', 'pending', 'scheduled', 'running', 'retryable', 'discarded') GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var j JobCount
		if err := rows.Scan(&j.Kind, &j.State, &j.Count); err != nil {
			return nil, err
		}
		out.Jobs = append(out.Jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var oldest sql.NullTime
	if err := db.QueryRowContext(ctx, `SELECT min(scheduled_at) FROM river_job WHERE state IN ('available', 'retryable') AND scheduled_at <= $1`, now).Scan(&oldest); err != nil {
		return nil, fmt.Errorf("oldest job: %w", err)
	}
	if oldest.Valid && oldest.Time.Before(now) {
		out.OldestJobAge = now.Sub(oldest.Time)
	}
	dead, err := db.QueryContext(ctx, `SELECT id, kind, attempt, COALESCE(errors[array_length(errors, 1)]->>'error', ''), COALESCE(finalized_at, created_at)
FROM river_job WHERE state = 'discarded' ORDER BY id LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("dead jobs: %w", err)
	}
	defer dead.Close()
	for dead.Next() {
		var d DeadJob
		if err := dead.Scan(&d.ID, &d.Kind, &d.Attempts, &d.Error, &d.At); err != nil {
			return nil, err
		}
		out.Dead = append(out.Dead, d)
	}
	return out, dead.Err()
}

// RetryJobs makes discarded jobs run again (all of them when ids is
// empty), through River's JobRetry; it reports how many.
func RetryJobs(ctx context.Context, st *store.Store, ids []int64) (int, error) {
	if !st.OnPostgres() {
		return 0, errors.New("campc retry needs PostgreSQL (River's jobs): on SQLite failed work is retried by the service itself")
	}
	c, err := river.NewClient(riverdatabasesql.New(st.DB()), &river.Config{})
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		rows, err := st.DB().QueryContext(ctx, `SELECT id FROM river_job WHERE state = 'discarded' ORDER BY id`)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return 0, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, id := range ids {
		if _, err := c.JobRetry(ctx, id); err != nil {
			if errors.Is(err, river.ErrNotFound) {
				return n, fmt.Errorf("job %d: no such job", id)
			}
			return n, fmt.Errorf("job %d: %w", id, err)
		}
		n++
	}
	return n, nil
}
