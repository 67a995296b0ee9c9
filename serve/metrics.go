package serve

import "github.com/prometheus/client_golang/prometheus"

// metrics are what /metrics serves.
type metrics struct {
	requests   *prometheus.CounterVec // by endpoint and result code
	passes     *prometheus.CounterVec // flow entries, by workspace and campaign
	activities *prometheus.CounterVec // by type
	waitsDue   prometheus.Gauge       // waits due at the scheduler's last look
	batchRuns  prometheus.Counter
	// The outbox: messages still to deliver at the last look, and
	// delivery attempts by result (delivered, bounced, retry, failed,
	// undelivered).
	outboxDepth prometheus.Gauge
	deliveries  *prometheus.CounterVec
	// Deploys by result (applied, switched: another service applied it,
	// refused), and the serve_deploys id of the project running.
	deploys *prometheus.CounterVec
	version prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "campc_api_requests_total",
			Help: "API requests, by endpoint and result code (\"0\": success)."}, []string{"endpoint", "code"}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "campc_passes_total",
			Help: "People who entered a campaign's flow."}, []string{"workspace", "campaign"}),
		activities: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "campc_activities_total",
			Help: "Activities written, by type."}, []string{"type"}),
		waitsDue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "campc_waits_due",
			Help: "Parked waits due when the scheduler last looked, before it resumed them."}),
		batchRuns: prometheus.NewCounter(prometheus.CounterOpts{Name: "campc_batch_runs_total",
			Help: "Scheduled batch runs the service ran."}),
		outboxDepth: prometheus.NewGauge(prometheus.GaugeOpts{Name: "campc_outbox_depth",
			Help: "Email and alerts in the outbox still to deliver, at the deliverer's last look."}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "campc_email_deliveries_total",
			Help: "Attempts to deliver email and alerts, by result: delivered, bounced (5xx), retry, failed (attempts exhausted), undelivered (no --smtp)."}, []string{"result"}),
		deploys: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "campc_deploys_total",
			Help: "Deploys, by result: applied (this service made the wait moves), switched (another service had), refused."}, []string{"result"}),
		version: prometheus.NewGauge(prometheus.GaugeOpts{Name: "campc_deploy_version",
			Help: "The serve_deploys id of the project the service runs (0: none recorded)."}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.passes, m.activities, m.waitsDue, m.batchRuns, m.outboxDepth, m.deliveries, m.deploys, m.version} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
