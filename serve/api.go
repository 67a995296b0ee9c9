package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// apiError is a response-level error of Marketo's API: a code, sent as a
// JSON string, and a message that names the problem.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errCode(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// The envelope of every /rest response.
type envelope struct {
	RequestID     string      `json:"requestId"`
	Success       bool        `json:"success"`
	Result        any         `json:"result,omitempty"`
	Errors        []*apiError `json:"errors,omitempty"`
	Warnings      []string    `json:"warnings"`
	NextPageToken string      `json:"nextPageToken,omitempty"`
	MoreResult    *bool       `json:"moreResult,omitempty"`
}

// reply is what an endpoint answers when it succeeds.
type reply struct {
	Result        any
	NextPageToken string
	MoreResult    *bool
}

// request is a decoded API request: its method (GET for a POST with
// _method=GET), its parameters (the query string, and for _method=GET the
// body's), and a JSON body's members.
type request struct {
	Method string
	Params url.Values
	Body   map[string]json.RawMessage
}

// param is a parameter, "" when absent.
func (r *request) param(name string) string { return r.Params.Get(name) }

// decodeRequest decodes a request's method, query and body. A POST whose
// query or body says _method=GET is a GET whose parameters may be in the
// body (form-encoded or a JSON object), as Marketo allows for long
// queries. Any other POST body must be one JSON object (609 otherwise).
func decodeRequest(method, rawQuery, contentType string, body []byte) (*request, *apiError) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errCode("1001", "the query string is not valid: %v", err)
	}
	r := &request{Method: method, Params: q}
	for k, vs := range q {
		for _, v := range vs {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, errCode("1001", "the query string is not valid UTF-8")
			}
		}
	}
	if method != http.MethodPost && method != http.MethodDelete {
		r.Params.Del("_method") // only a POST is turned into a GET
		return r, nil
	}
	if q.Has("_method") && q.Get("_method") != "GET" {
		return nil, badMethod(q.Get("_method"))
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(body)
	if mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil || !utf8.Valid(body) {
			return nil, errCode("1001", "the form-encoded body is not valid")
		}
		if form.Has("_method") && form.Get("_method") != "GET" {
			return nil, badMethod(form.Get("_method"))
		}
		if form.Get("_method") != "GET" && q.Get("_method") != "GET" {
			return nil, errCode("609", "Invalid JSON: a %s body must be a JSON object (Content-Type: application/json)", method)
		}
		r.Method = http.MethodGet
		for k, vs := range form {
			if k != "_method" {
				r.Params[k] = append(r.Params[k], vs...)
			}
		}
		r.Params.Del("_method")
		return r, nil
	}
	if len(trimmed) == 0 {
		if q.Get("_method") == "GET" {
			r.Method = http.MethodGet
			r.Params.Del("_method")
		}
		return r, nil
	}
	if !utf8.Valid(trimmed) {
		return nil, errCode("609", "Invalid JSON: the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, errCode("609", "Invalid JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, errCode("609", "Invalid JSON: more than one value in the body")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errCode("609", "Invalid JSON: more than one value in the body")
	}
	r.Body = obj
	if m, ok := obj["_method"]; ok && string(m) != `"GET"` {
		return nil, badMethod(string(m))
	}
	if _, ok := obj["_method"]; ok || q.Get("_method") == "GET" {
		r.Method = http.MethodGet
		r.Params.Del("_method")
		for k, raw := range obj {
			if k == "_method" {
				continue
			}
			v, aerr := paramText(k, raw)
			if aerr != nil {
				return nil, aerr
			}
			r.Params.Set(k, v)
		}
		r.Body = nil
	}
	return r, nil
}

// badMethod refuses a _method other than GET: Marketo knows only
// _method=GET, and a request must not silently run as something else.
func badMethod(m string) *apiError {
	return errCode("1001", "_method %q is not supported: the only value is GET", m)
}

func jsonProblem(err error) string {
	if err == nil {
		return "the body must be a JSON object"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "the body must be a JSON object"
	}
	return err.Error()
}

// paramText is a JSON body member as a query parameter: text, a number,
// a boolean, or an array of them joined by commas.
func paramText(name string, raw json.RawMessage) (string, *apiError) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", errCode("609", "Invalid JSON in %q", name)
	}
	one := func(x any) (string, bool) {
		switch x := x.(type) {
		case string:
			return x, true
		case json.Number:
			return x.String(), true
		case bool:
			return strconv.FormatBool(x), true
		}
		return "", false
	}
	if arr, ok := v.([]any); ok {
		parts := make([]string, 0, len(arr))
		for _, x := range arr {
			s, ok := one(x)
			if !ok {
				return "", errCode("1001", "parameter %q: an array of text or numbers is expected", name)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	}
	s, ok := one(v)
	if !ok {
		return "", errCode("1001", "parameter %q: text, a number or an array is expected", name)
	}
	return s, nil
}

// call is one authenticated API call.
type call struct {
	s    *Service
	ctx  context.Context
	user *User
	ws   *ir.Workspace
	req  *request
	path []string // the path's captured parts
	tx   *store.ServeTx
	reps []*vm.Report
	// leadKeys are person Ids of lead ids read ahead (readLeadKeys).
	leadKeys map[int64]string
}

type endpoint struct {
	method string
	name   string // for metrics
	re     *regexp.Regexp
	fn     func(c *call) (*reply, error)
	write  bool // changes the store (else read-only: rolled back)
}

func (s *Service) endpoints() []endpoint {
	e := func(method, name, pattern string, write bool, fn func(c *call) (*reply, error)) endpoint {
		return endpoint{method, name, regexp.MustCompile("^" + pattern + "$"), fn, write}
	}
	return []endpoint{
		e("GET", "campaigns", `/rest/v1/campaigns\.json`, false, listCampaigns),
		e("GET", "campaign", `/rest/v1/campaigns/([0-9]+)\.json`, false, getCampaign),
		e("POST", "trigger", `/rest/v1/campaigns/([0-9]+)/trigger\.json`, true, triggerCampaign),
		e("POST", "schedule", `/rest/v1/campaigns/([0-9]+)/schedule\.json`, true, scheduleCampaign),
		e("GET", "leads", `/rest/v1/leads\.json`, true, findLeads),
		e("POST", "leads.push", `/rest/v1/leads\.json`, true, pushLeads),
		e("GET", "lead", `/rest/v1/lead/([0-9]+)\.json`, true, getLead),
		e("POST", "leads.delete", `/rest/v1/leads/delete\.json`, true, deleteLeads),
		e("GET", "leads.describe", `/rest/v1/leads/describe\.json`, false, describeLeads),
		e("POST", "leads.submitForm", `/rest/v1/leads/submitForm\.json`, true, submitForm),
		e("POST", "leads.programStatus", `/rest/v1/leads/programs/([0-9]+)/status\.json`, true, programStatus),
		e("GET", "lists", `/rest/v1/lists\.json`, false, listLists),
		e("GET", "list", `/rest/v1/lists/([0-9]+)\.json`, false, getList),
		e("GET", "list.leads", `/rest/v1/lists/([0-9]+)/leads\.json`, true, listMembers),
		e("POST", "list.add", `/rest/v1/lists/([0-9]+)/leads\.json`, true, addToList),
		e("DELETE", "list.remove", `/rest/v1/lists/([0-9]+)/leads\.json`, true, removeFromList),
		e("GET", "list.ismember", `/rest/v1/lists/([0-9]+)/leads/ismember\.json`, true, isMember),
		e("GET", "activities.types", `/rest/v1/activities/types\.json`, false, activityTypes),
		e("GET", "activities.pagingtoken", `/rest/v1/activities/pagingtoken\.json`, false, pagingToken),
		e("GET", "activities", `/rest/v1/activities\.json`, true, activities),
	}
}

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/identity/oauth/token", s.identity)
	eps := s.endpoints()
	mux.HandleFunc("/rest/", func(w http.ResponseWriter, r *http.Request) { s.rest(w, r, eps) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	if s.gather != nil {
		mux.Handle("/metrics", promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{}))
	}
	return mux
}

// identity is GET (or POST) /identity/oauth/token.
func (s *Service) identity(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	if r.Method == http.MethodPost {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range form {
				q[k] = append(q[k], vs...)
			}
		}
	} else if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	oauthErr := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
		s.m.requests.WithLabelValues("identity", strconv.Itoa(status)).Inc()
	}
	if q.Get("grant_type") != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
		return
	}
	u := s.authenticate(q.Get("client_id"), q.Get("client_secret"))
	if u == nil {
		// Neither the id nor the secret is logged.
		s.log.Warn("bad client credentials", "remote", r.RemoteAddr)
		oauthErr(http.StatusUnauthorized, "invalid_client", "Bad client credentials")
		return
	}
	now := s.clock.Now()
	tok := s.tokens.issue(u, now, s.cfg.TokenTTL)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "bearer",
		"expires_in": int(s.cfg.TokenTTL.Seconds()), "scope": u.ID})
	s.m.requests.WithLabelValues("identity", "0").Inc()
}

// rest serves one /rest call: decode, authenticate, limit, route, run in
// one transaction, answer in the envelope.
func (s *Service) rest(w http.ResponseWriter, r *http.Request, eps []endpoint) {
	env := &envelope{RequestID: fmt.Sprintf("%x#%x", s.seq.Add(1), s.clock.Now().UnixMilli()), Warnings: []string{}}
	name := "unknown"
	write := func(status int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(env)
		code := "0"
		if len(env.Errors) > 0 {
			code = env.Errors[0].Code
		}
		s.m.requests.WithLabelValues(name, code).Inc()
	}
	fail := func(e *apiError) {
		s.log.Info("API call refused", "endpoint", name, "code", e.Code, "requestId", env.RequestID)
		env.Success, env.Errors = false, []*apiError{e}
		write(http.StatusOK)
	}
	if len(r.URL.RawQuery) > maxURI {
		env.Errors = []*apiError{errCode("414", "Request-URI Too Long: send the query as a POST body with _method=GET")}
		write(http.StatusRequestURITooLong)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		env.Errors = []*apiError{errCode("413", "Request Entity Too Large: the body is over %d bytes", s.cfg.MaxBody)}
		write(http.StatusRequestEntityTooLarge)
		return
	}
	// Authenticate first: nothing about the API is told to a caller
	// without a valid token.
	tok := r.URL.Query().Get("access_token")
	if h := r.Header.Get("Authorization"); tok == "" && len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		tok = strings.TrimSpace(h[7:])
	}
	if tok == "" {
		fail(errCode("600", "Access token not specified"))
		return
	}
	user, aerr := s.tokens.check(tok, s.clock.Now())
	if aerr != nil {
		fail(aerr)
		return
	}
	if !s.limiter.allow(user.ID, s.clock.Now()) {
		fail(errCode("606", "Max rate limit '%d' exceeded with in '%d' secs", s.cfg.RateLimit, int(s.cfg.RateWindow.Seconds())))
		return
	}
	req, aerr := decodeRequest(r.Method, r.URL.RawQuery, r.Header.Get("Content-Type"), body)
	if aerr != nil {
		fail(aerr)
		return
	}
	req.Params.Del("access_token")
	var ep *endpoint
	var parts []string
	pathKnown := false
	for i := range eps {
		if m := eps[i].re.FindStringSubmatch(r.URL.Path); m != nil {
			pathKnown = true
			if eps[i].method == req.Method {
				ep, parts = &eps[i], m[1:]
				break
			}
		}
	}
	if ep == nil {
		if pathKnown {
			fail(errCode("610", "Requested resource not found: %s %s is not an endpoint", req.Method, r.URL.Path))
		} else {
			fail(errCode("610", "Requested resource not found: %s", r.URL.Path))
		}
		return
	}
	name = ep.name
	var c *call
	var rep *reply
	for attempt := 1; ; attempt++ {
		c = &call{s: s, user: user, req: req, path: parts}
		err = s.inTx(r.Context(), func(ctx context.Context, tx *store.ServeTx) error {
			// Under the service's lock: a deploy swaps the program between calls.
			c.ctx, c.tx, c.ws = ctx, tx, s.workspace(user.Workspace)
			var err error
			rep, err = ep.fn(c)
			if err == nil && !ep.write {
				// A read changes nothing: nothing to commit.
				return errReadOnly
			}
			return err
		})
		// Calls run at once in River mode (and on several processes):
		// two that lock the same people in different orders may
		// deadlock, and PostgreSQL rolls one back whole. It is done
		// again, as if it had come a moment later.
		if !store.IsRetryable(err) || attempt == maxCallAttempts {
			break
		}
		s.log.Info("API call rolled back by the database, done again", "endpoint", name, "attempt", attempt, "error", err.Error())
	}
	if errors.Is(err, errReadOnly) {
		err = nil
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.log.Error("API call failed", "endpoint", name, "user", user.ID, "error", err.Error())
			ae = errCode("611", "System error: %v", err)
		}
		fail(ae)
		return
	}
	s.record(c.reps...)
	s.log.Info("API call", "endpoint", name, "user", user.ID, "requestId", env.RequestID)
	env.Success = true
	env.Result, env.NextPageToken, env.MoreResult = rep.Result, rep.NextPageToken, rep.MoreResult
	if env.Result == nil {
		env.Result = []any{}
	}
	write(http.StatusOK)
}

var errReadOnly = errors.New("read-only call")

// maxCallAttempts bounds how often a call the database rolled back for a
// deadlock is done again.
const maxCallAttempts = 3

// ids reads a comma-separated list of integer ids.
func ids(name, s string, most int) ([]int64, *apiError) {
	var out []int64
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return nil, errCode("1001", "Invalid value '%s'. Required of type 'Integer' in %s", clip(p), name)
		}
		out = append(out, n)
	}
	if most > 0 && len(out) > most {
		return nil, errCode("1003", "%s: at most %d ids, not %d", name, most, len(out))
	}
	return out, nil
}

// batchSize reads batchSize: 1 to 300, default 300.
func (r *request) batchSize() (int, *apiError) {
	v := r.param("batchSize")
	if v == "" {
		return 300, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 300 {
		return 0, errCode("1001", "Invalid value '%s'. batchSize is a whole number from 1 to 300", clip(v))
	}
	return n, nil
}

// clip shortens text quoted back in a message.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// bodyInput decodes the body's "input" member into v.
func (c *call) bodyInput(v any, required bool) error {
	raw, ok := c.req.Body["input"]
	if !ok {
		if required {
			return errCode("1003", "the body needs \"input\"")
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errCode("1003", "\"input\": %s", jsonShape(err))
	}
	return nil
}

// bodyString reads a text member of the body ("" when absent).
func (c *call) bodyString(name string) (string, error) {
	raw, ok := c.req.Body[name]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errCode("1003", "%q must be text", name)
	}
	return s, nil
}

func jsonShape(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s must not be %s", te.Field, te.Value)
		}
		return fmt.Sprintf("unexpected %s", te.Value)
	}
	return err.Error()
}

func ptr[T any](v T) *T { return &v }
