package serve

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/project"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
)

const postgresEnv = "CAMPC_TEST_POSTGRES"

var t0 = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

// compileProject compiles the test project, with edit applied to each
// file's text.
func compileProject(t testing.TB, edit func(string) string) *ir.Program {
	t.Helper()
	p, err := project.Load([]string{"testdata/project"})
	if err != nil {
		t.Fatal(err)
	}
	srcs := p.Sources
	if edit != nil {
		srcs = append([]lang.Source(nil), srcs...)
		for i := range srcs {
			srcs[i].Text = edit(srcs[i].Text)
		}
	}
	res := compiler.Compile(srcs, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	return prog
}

// opener opens the test's database (the same one each call).
type opener func(t *testing.T) *store.Store

var schemaSeq atomic.Int64

// forStores runs a test on SQLite and on PostgreSQL (skipped only when
// CAMPC_TEST_POSTGRES is unset).
func forStores(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "serve.db")
		test(t, func(t *testing.T) *store.Store {
			s, err := store.OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv(postgresEnv)
		if base == "" {
			t.Skipf("set %s=postgres://… to run on PostgreSQL", postgresEnv)
		}
		ctx := context.Background()
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		schema := fmt.Sprintf("serve%d_%d", os.Getpid(), schemaSeq.Add(1))
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		admin.Close()
		t.Cleanup(func() {
			if a, err := sql.Open("pgx", base); err == nil {
				a.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
				a.Close()
			}
		})
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		dsn := base + sep + "search_path=" + schema
		test(t, func(t *testing.T) *store.Store {
			s, err := store.OpenPostgres(ctx, dsn, true)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

var testUsers = []User{{ID: "acme", Secret: "acme-secret", Workspace: "Acme"}, {ID: "beta", Secret: "beta-secret", Workspace: "Beta"}}

// env is a started service over real HTTP on 127.0.0.1.
type env struct {
	t     *testing.T
	svc   *Service
	srv   *httptest.Server
	clock *vm.ManualClock
	st    *store.Store
}

func start(t *testing.T, st *store.Store, clock *vm.ManualClock, prog *ir.Program, tune func(*Config)) *env {
	t.Helper()
	if prog == nil {
		prog = compileProject(t, nil)
	}
	cfg := Config{Program: prog, Store: st, Clock: clock, Users: testUsers}
	if tune != nil {
		tune(&cfg)
	}
	svc, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, svc: svc, srv: srv, clock: clock, st: st}
}

// resp is an API response.
type resp struct {
	RequestID     string            `json:"requestId"`
	Success       bool              `json:"success"`
	Result        []json.RawMessage `json:"result"`
	Errors        []apiError        `json:"errors"`
	NextPageToken string            `json:"nextPageToken"`
	MoreResult    *bool             `json:"moreResult"`
}

func (r *resp) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code
}

// rows decodes the result as maps.
func (r *resp) rows() []map[string]any {
	var out []map[string]any
	for _, raw := range r.Result {
		var m map[string]any
		json.Unmarshal(raw, &m)
		out = append(out, m)
	}
	return out
}

// token gets an access token for a user.
func (e *env) token(user, secret string) string {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + "/identity/oauth/token?" + url.Values{"grant_type": {"client_credentials"}, "client_id": {user}, "client_secret": {secret}}.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != 200 {
		e.t.Fatalf("token for %s: %d %v", user, res.StatusCode, out)
	}
	return out["access_token"].(string)
}

// call makes an API call with a token; body is JSON-encoded unless it is
// a string (sent as it is).
func (e *env) call(tok, method, path string, query url.Values, body any) *resp {
	e.t.Helper()
	if query == nil {
		query = url.Values{}
	}
	if tok != "" {
		query.Set("access_token", tok)
	}
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path+"?"+query.Encode(), rd)
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out resp
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("%s %s: HTTP %d, not JSON: %s", method, path, res.StatusCode, raw)
	}
	if res.StatusCode != 200 {
		e.t.Fatalf("%s %s: HTTP %d: %s", method, path, res.StatusCode, raw)
	}
	return &out
}

func (e *env) ok(tok, method, path string, query url.Values, body any) *resp {
	e.t.Helper()
	r := e.call(tok, method, path, query, body)
	if !r.Success {
		e.t.Fatalf("%s %s: %+v", method, path, r.Errors)
	}
	return r
}

func (e *env) fail(code, tok, method, path string, query url.Values, body any) *resp {
	e.t.Helper()
	r := e.call(tok, method, path, query, body)
	if r.Success || r.code() != code {
		e.t.Fatalf("%s %s: want error %s, got success %v %+v", method, path, code, r.Success, r.Errors)
	}
	if r.Errors[0].Message == "" {
		e.t.Fatalf("%s %s: error %s without a message", method, path, code)
	}
	return r
}

// campaignID finds a campaign's id by name through the API.
func (e *env) campaignID(tok, name string) int64 {
	e.t.Helper()
	r := e.ok(tok, "GET", "/rest/v1/campaigns.json", url.Values{"name": {name}}, nil)
	rows := r.rows()
	if len(rows) != 1 {
		e.t.Fatalf("campaign %q: %d rows", name, len(rows))
	}
	return int64(rows[0]["id"].(float64))
}

// createLead creates a lead by email and returns its id.
func (e *env) createLead(tok, email string, more map[string]any) int64 {
	e.t.Helper()
	rec := map[string]any{"email": email}
	for k, v := range more {
		rec[k] = v
	}
	r := e.ok(tok, "POST", "/rest/v1/leads.json", nil, map[string]any{"action": "createOnly", "input": []any{rec}})
	row := r.rows()[0]
	if row["status"] != "created" {
		e.t.Fatalf("create %s: %v", email, row)
	}
	return int64(row["id"].(float64))
}

// log is the database's activity log as "Type:Primary" lines of a person
// ("" for everyone).
func (e *env) log(person string) []string {
	e.t.Helper()
	acts, err := e.st.Activities(context.Background(), person)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range acts {
		out = append(out, a.Type+":"+a.Primary)
	}
	return out
}

func has(lines []string, want string) int {
	n := 0
	for _, l := range lines {
		if l == want {
			n++
		}
	}
	return n
}

func trigger(leads []int64, tokens map[string]string) map[string]any {
	var ls []map[string]int64
	for _, id := range leads {
		ls = append(ls, map[string]int64{"id": id})
	}
	var ts []map[string]string
	for k, v := range tokens {
		ts = append(ts, map[string]string{"name": "{{my." + k + "}}", "value": v})
	}
	return map[string]any{"input": map[string]any{"leads": ls, "tokens": ts}}
}

func newServer(t *testing.T, svc *Service) *httptest.Server {
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return srv
}
