package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of WebhookOptions.
const (
	DefaultWebhookTimeout  = 10 * time.Second
	DefaultWebhookAttempts = 4
	DefaultWebhookBackoff  = 500 * time.Millisecond
	maxWebhookBackoff      = 30 * time.Second
	maxWebhookResponse     = 1 << 20 // bytes of a response body read
	maxWebhookRedirects    = 5
)

// WebhookOptions configures the service's webhook calls.
type WebhookOptions struct {
	// Timeout bounds each attempt (connecting, sending, reading the
	// response).
	Timeout time.Duration
	// Allow lists host patterns that may be called even at private,
	// loopback, link-local, unspecified or multicast addresses: a host
	// name ("hooks.example.com"), "*." and a domain ("*.corp.internal":
	// its subdomains), an IP address ("127.0.0.1", "::1") or a network
	// ("10.1.0.0/16"). Public addresses need no pattern.
	Allow []string
	// Attempts is how many times a call is tried in all: a 5xx answer or
	// a network error is tried again, after Backoff, then twice as long
	// each time; a 4xx answer is not.
	Attempts int
	Backoff  time.Duration
}

// ParseWebhookAllow reads --webhook-allow: host patterns separated by
// commas; it names the first that is not one.
func ParseWebhookAllow(list string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := parsePattern(p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// pattern is one allowlist entry.
type pattern struct {
	host   string       // an exact host name, lower case
	suffix string       // "*.corp.internal": ".corp.internal"
	prefix netip.Prefix // an address (a /32 or /128) or a network
}

func parsePattern(p string) (pattern, error) {
	low := strings.ToLower(strings.TrimSuffix(p, "."))
	if a, err := netip.ParseAddr(strings.Trim(low, "[]")); err == nil {
		a = a.Unmap()
		return pattern{prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if n, err := netip.ParsePrefix(low); err == nil {
		return pattern{prefix: n.Masked()}, nil
	}
	name := low
	if strings.HasPrefix(name, "*.") {
		name = name[2:]
	}
	if name == "" || strings.ContainsAny(name, "*/:@ ") || !validHost(name) {
		return pattern{}, fmt.Errorf("%q is not a host pattern (a host name, *.domain, an IP address or a network such as 10.0.0.0/8)", p)
	}
	if strings.HasPrefix(low, "*.") {
		return pattern{suffix: "." + name}, nil
	}
	return pattern{host: name}, nil
}

func validHost(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return len(s) <= 253
}

// allowlist is the parsed --webhook-allow.
type allowlist []pattern

// names reports whether the list names host (a name or an address
// literal) itself.
func (l allowlist) names(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return l.covers(a)
	}
	for _, p := range l {
		if p.host != "" && p.host == host || p.suffix != "" && strings.HasSuffix(host, p.suffix) {
			return true
		}
	}
	return false
}

// covers reports whether an address or network of the list holds a.
func (l allowlist) covers(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range l {
		if p.prefix.IsValid() && p.prefix.Contains(a) {
			return true
		}
	}
	return false
}

// Networks that are not the public internet, beyond what netip's
// predicates say: "this network", shared address space (carrier NAT),
// IETF protocol assignments, benchmarking, reserved and broadcast, and
// NAT64 (which reaches IPv4 addresses through IPv6).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// restricted says why a webhook may not reach address a unless the
// allowlist names it, or "" when a is a public address.
func restricted(a netip.Addr) string {
	a = a.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate():
		return "a private address"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "a link-local address"
	case a.IsUnspecified():
		return "the unspecified address"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return "not a public address"
		}
	}
	return ""
}

// refused is a call the policy stopped; it is not tried again.
type refused struct{ why string }

func (r *refused) Error() string { return "refused: " + r.why }

// webhookClient makes the service's webhook calls over HTTP.
type webhookClient struct {
	opts   WebhookOptions
	allow  allowlist
	client *http.Client
	log    *slog.Logger
	m      *webhookMetrics
	sleep  func(ctx context.Context, d time.Duration) error
}

// webhookMetrics are the webhook calls' metrics.
type webhookMetrics struct {
	latency *prometheus.HistogramVec // seconds per attempt, by result
	results *prometheus.CounterVec   // calls, by how they ended
}

func newWebhookMetrics(reg prometheus.Registerer) (*webhookMetrics, error) {
	m := &webhookMetrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "campc_webhook_duration_seconds",
			Help:    "Time of one webhook attempt, from dialing to the end of the response, by result.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"result"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "campc_webhook_calls_total",
			Help: "Webhook calls, by how they ended after their retries: 2xx, 3xx, 4xx, 5xx, error (no response), refused (by --webhook-allow)."}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.latency, m.results} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// newWebhookClient makes the HTTP client: no proxy (a proxy would dial
// for it, past the policy), the policy checked on every connection at
// dial time (after name resolution, so that DNS rebinding cannot pass),
// and on every redirect.
func newWebhookClient(opts WebhookOptions, log *slog.Logger, m *webhookMetrics) (*webhookClient, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultWebhookTimeout
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultWebhookAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultWebhookBackoff
	}
	w := &webhookClient{opts: opts, log: log, m: m, sleep: sleepCtx}
	for _, p := range opts.Allow {
		pt, err := parsePattern(p)
		if err != nil {
			return nil, fmt.Errorf("--webhook-allow: %w", err)
		}
		w.allow = append(w.allow, pt)
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           w.dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	w.client = &http.Client{Transport: tr, CheckRedirect: w.checkRedirect}
	return w, nil
}

// dial connects to addr ("host:port", before name resolution) unless the
// policy refuses the address it resolves to: the check runs in the
// dialer's Control, on the very address each connection goes to.
func (w *webhookClient) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	named := w.allow.names(host)
	d := &net.Dialer{Timeout: w.opts.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &refused{fmt.Sprintf("cannot tell the address of %q", address)}
		}
		a := ap.Addr().Unmap()
		if why := restricted(a); why != "" && !named && !w.allow.covers(a) {
			return &refused{fmt.Sprintf("%s resolves to %s, %s; name the host in --webhook-allow to call it", host, a, why)}
		}
		return nil
	}}
	return d.DialContext(ctx, network, addr)
}

func (w *webhookClient) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxWebhookRedirects {
		return &refused{fmt.Sprintf("more than %d redirects", maxWebhookRedirects)}
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return &refused{fmt.Sprintf("a redirect to a %s: URL", req.URL.Scheme)}
	}
	return nil // the dialer checks the new host's addresses
}

// CallWebhook implements vm.Effects: the call is tried up to Attempts
// times, with the same Idempotency-Key each time.
func (w *webhookClient) CallWebhook(ctx context.Context, req storage.WebhookRequest) (storage.WebhookResponse, error) {
	start := time.Now()
	var resp storage.WebhookResponse
	attempts := 0
	for n := 1; ; n++ {
		attempts = n
		var again bool
		resp, again = w.attempt(ctx, req, n)
		if !again || n >= w.opts.Attempts {
			break
		}
		if err := w.sleep(ctx, w.backoff(n)); err != nil {
			return resp, err // the service is stopping: the pass is not committed
		}
	}
	w.ended(ctx, req, resp, attempts, time.Since(start))
	if err := ctx.Err(); err != nil {
		return resp, err
	}
	return resp, nil
}

// ended counts and logs how a call ended after its attempts, its secret
// headers and query values hidden.
func (w *webhookClient) ended(ctx context.Context, req storage.WebhookRequest, resp storage.WebhookResponse, attempts int, took time.Duration) {
	result := resultOf(resp)
	w.m.results.WithLabelValues(result).Inc()
	level := slog.LevelInfo
	if result != "2xx" {
		level = slog.LevelWarn
	}
	w.log.Log(ctx, level, "webhook called", "webhook", req.Webhook, "campaign", req.Campaign, "person", req.Person,
		"method", req.Method, "url", redactURL(req.URL), "headers", redactHeaders(req.Headers), "status", resp.Status,
		"attempts", attempts, "error", resp.Error, "duration", took.String())
}

// backoff is the wait before attempt n+1: Backoff, doubling, at most 30s.
func (w *webhookClient) backoff(n int) time.Duration {
	d := w.opts.Backoff
	for i := 1; i < n && d < maxWebhookBackoff; i++ {
		d *= 2
	}
	return min(d, maxWebhookBackoff)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt makes attempt n of a call and says whether another may follow:
// after a 5xx answer or a network error, not after any other answer or a
// refusal. It is the one place a call is made, so that a queue of jobs can
// make each attempt in a job of its own.
func (w *webhookClient) attempt(ctx context.Context, req storage.WebhookRequest, n int) (storage.WebhookResponse, bool) {
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, again := w.do(ctx, req)
	w.m.latency.WithLabelValues(resultOf(resp)).Observe(time.Since(start).Seconds())
	if again {
		w.log.Debug("webhook attempt failed", "webhook", req.Webhook, "person", req.Person, "attempt", n, "status", resp.Status, "error", resp.Error)
	}
	return resp, again
}

func (w *webhookClient) do(ctx context.Context, req storage.WebhookRequest) (storage.WebhookResponse, bool) {
	if req.URL == "" {
		return storage.WebhookResponse{Error: fmt.Sprintf("refused: webhook %q has no url", req.Webhook)}, false
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return storage.WebhookResponse{Error: fmt.Sprintf("refused: %q is not an http or https URL", redactURL(req.URL))}, false
	}
	var body io.Reader
	if req.Body != "" {
		body = strings.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return storage.WebhookResponse{Error: "refused: " + err.Error()}, false
	}
	hr.Header.Set("User-Agent", "campc")
	if req.ContentType != "" {
		hr.Header.Set("Content-Type", req.ContentType)
	}
	for _, h := range req.Headers {
		hr.Header.Set(h.Name, h.Value) // the webhook's own Content-Type wins
	}
	hr.Header.Set("Idempotency-Key", req.IdempotencyKey)
	r, err := w.client.Do(hr)
	if err != nil {
		var no *refused
		if errors.As(err, &no) {
			return storage.WebhookResponse{Error: no.Error()}, false
		}
		return storage.WebhookResponse{Error: netError(err)}, true
	}
	defer r.Body.Close()
	b, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookResponse))
	out := storage.WebhookResponse{Status: r.StatusCode, Body: string(b), Headers: headersOf(r.Header)}
	if err != nil {
		// The answer came; its body broke off. A 5xx is tried again anyway.
		out.Error = "reading the response: " + netError(err)
	}
	return out, r.StatusCode >= 500
}

// netError is a network error without Go's "Put \"url\": " prefix, which
// would repeat the URL (and its query) in the log.
func netError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

func resultOf(r storage.WebhookResponse) string {
	switch {
	case strings.HasPrefix(r.Error, "refused:"):
		return "refused"
	case r.Status == 0:
		return "error"
	}
	return strconv.Itoa(r.Status/100) + "xx"
}

// headersOf lists a response's headers in name order, values joined.
func headersOf(h http.Header) []storage.Header {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]storage.Header, len(names))
	for i, k := range names {
		out[i] = storage.Header{Name: k, Value: strings.Join(h[k], ", ")}
	}
	return out
}

// secretHeader reports whether a header's value is likely a secret, and
// must not be logged.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	if slices.Contains([]string{"authorization", "proxy-authorization", "cookie", "set-cookie"}, n) {
		return true
	}
	for _, w := range []string{"auth", "token", "secret", "key", "password", "passwd", "signature", "session", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// redactHeaders is a request's headers for the log, secret values hidden.
func redactHeaders(hs []storage.Header) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		v := h.Value
		if secretHeader(h.Name) {
			v = "[redacted]"
		}
		out[i] = h.Name + ": " + v
	}
	return out
}

// redactURL hides a URL's user info and the values of query parameters
// whose names look secret (api_key=…, token=…).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[an unparsable URL]"
	}
	if u.User != nil {
		u.User = url.User("[redacted]")
	}
	q := u.Query()
	changed := false
	for k := range q {
		if secretHeader(k) {
			q[k] = []string{"[redacted]"}
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// hostEffects are the service's effects: webhooks are called over HTTP,
// the rest goes to the effects underneath.
type hostEffects struct {
	vm.Effects
	hooks *webhookClient
}

func (h hostEffects) CallWebhook(ctx context.Context, req storage.WebhookRequest) (storage.WebhookResponse, error) {
	return h.hooks.CallWebhook(ctx, req)
}
