package console

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/project"
	"github.com/campc/campc/serve"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

var t0 = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

const hostile = `<script>alert("x")</script>`

var testUsers = []serve.User{{ID: "acme", Secret: "acme-secret", Workspace: "Acme"}, {ID: "beta", Secret: "beta-secret", Workspace: "Beta"}}

// env is a started service with its console over real HTTP.
type env struct {
	t     *testing.T
	svc   *serve.Service
	con   *Console
	srv   *httptest.Server
	clock *vm.ManualClock
	st    *store.Store
	prog  *ir.Program
}

func compileTestProject(t testing.TB) (*ir.Program, *serve.Project) {
	t.Helper()
	p, err := project.Load([]string{"testdata/project"})
	if err != nil {
		t.Fatal(err)
	}
	res := compiler.Compile(p.Sources, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	return prog, &serve.Project{Sources: p.Sources}
}

var schemaSeq atomic.Int64

// forStores runs a test on SQLite and on PostgreSQL (skipped only when
// CAMPC_TEST_POSTGRES is unset).
func forStores(t *testing.T, test func(t *testing.T, st *store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "console.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		test(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("CAMPC_TEST_POSTGRES")
		if base == "" {
			t.Skip("set CAMPC_TEST_POSTGRES=postgres://… to run on PostgreSQL")
		}
		ctx := context.Background()
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		schema := fmt.Sprintf("console%d_%d", os.Getpid(), schemaSeq.Add(1))
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
		st, err := store.OpenPostgres(ctx, base+sep+"search_path="+schema, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		test(t, st)
	})
}

func testPeople() []*storage.Person {
	mk := func(id, email, status, partition string) *storage.Person {
		p := &storage.Person{ID: id, Partition: partition, Fields: map[string]ir.Value{}}
		p.Fields["Email"] = ir.NewText(stdlib.Email, email)
		if status != "" {
			p.Fields["Status"] = ir.NewText(stdlib.Text, status)
		}
		return p
	}
	return []*storage.Person{
		mk("1", "ann@example.com", hostile, ""),
		mk("2", "bob@example.com", "", ""),
		mk("b1", "beth@beta.example", "", "Beta Part"),
	}
}

func newEnv(t *testing.T, st *store.Store, tls bool) *env {
	t.Helper()
	prog, proj := compileTestProject(t)
	ctx := context.Background()
	people := testPeople()
	storage.StampImport(people, t0)
	if err := st.Import(ctx, people, nil); err != nil {
		t.Fatal(err)
	}
	clock := vm.NewManualClock(t0)
	svc, err := serve.New(ctx, serve.Config{Program: prog, Store: st, Clock: clock, Users: testUsers, Project: proj})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	con, err := New(svc, Config{AdminPassword: "admin-pw"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix, con.Handler())
	mux.Handle(Prefix+"/", con.Handler())
	mux.Handle("/", svc.Handler())
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(mux)
	} else {
		srv = httptest.NewServer(mux)
	}
	t.Cleanup(srv.Close)
	return &env{t: t, svc: svc, con: con, srv: srv, clock: clock, st: st, prog: prog}
}

// browser is a client with its own cookies, as one browser.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := e.srv.Client()
	cc := *c
	cc.Jar = jar
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{e: e, c: &cc}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *browser) do(req *http.Request) (int, string, *http.Response) {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return res.StatusCode, string(body), res
}

func (b *browser) get(path string) (int, string) {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	code, body, _ := b.do(req)
	return code, body
}

func (b *browser) post(path string, form url.Values, header http.Header) (int, string, *http.Response) {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(req)
}

// login signs in and fails the test when it does not work.
func (b *browser) login(user, password string) *http.Response {
	b.e.t.Helper()
	if code, _ := b.get("/console/login"); code != 200 {
		b.e.t.Fatalf("login page: %d", code)
	}
	code, body, res := b.post("/console/login", url.Values{"csrf": {b.csrf}, "user": {user}, "password": {password}}, nil)
	if code != http.StatusSeeOther {
		b.e.t.Fatalf("login as %s: %d %s", user, code, body)
	}
	if code, _ := b.get("/console/"); code != 200 {
		b.e.t.Fatalf("campaigns after login: %d", code)
	}
	return res
}

// act posts an action, confirms it, and returns the confirmation page and
// the result.
func (b *browser) act(action string, form url.Values) (confirm string, code int, body string) {
	b.e.t.Helper()
	form.Set("csrf", b.csrf)
	c, confirm, _ := b.post("/console/actions/"+action, form, nil)
	if c != 200 || !strings.Contains(confirm, "Yes, do it") {
		b.e.t.Fatalf("%s: no confirmation: %d %s", action, c, confirm)
	}
	form.Set("confirm", "yes")
	form.Set("csrf", b.csrf)
	code, body, _ = b.post("/console/actions/"+action, form, nil)
	return confirm, code, body
}

func (e *env) campaign(ws, name string) *ir.Campaign {
	c := e.prog.Campaign(ws, name)
	if c == nil {
		e.t.Fatalf("no campaign %s/%s", ws, name)
	}
	return c
}

func (e *env) campaignPath(ws, name string) string {
	return fmt.Sprintf("/console/campaigns/%d", e.svc.CampaignID(e.campaign(ws, name)))
}

func TestLoginSessionCookie(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tls := range []bool{false, true} {
		e := newEnv(t, st, tls)
		b := e.browser()
		if code, _ := b.get("/console/"); code != http.StatusSeeOther {
			t.Fatalf("the console without a session: %d, want a redirect to sign in", code)
		}
		res := b.login("admin", "admin-pw")
		var ck *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == cookieName && c.Value != "" {
				ck = c
			}
		}
		if ck == nil {
			t.Fatal("no session cookie")
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure != tls || ck.Path != Prefix {
			t.Errorf("tls %v: cookie HttpOnly %v SameSite %v Secure %v Path %q", tls, ck.HttpOnly, ck.SameSite, ck.Secure, ck.Path)
		}
		// Signed out, the cookie is worth nothing.
		if code, _, _ := b.post("/console/logout", url.Values{"csrf": {b.csrf}}, nil); code != http.StatusSeeOther {
			t.Fatalf("logout: %d", code)
		}
		if code, _ := b.get("/console/"); code != http.StatusSeeOther {
			t.Errorf("after logout: %d", code)
		}
		e.srv.Close()
	}
}

func TestLoginRefused(t *testing.T) {
	forStores(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		for _, c := range [][2]string{{"admin", "wrong"}, {"acme", "beta-secret"}, {"nobody", "x"}, {"admin", ""}} {
			b := e.browser()
			b.get("/console/login")
			code, body, _ := b.post("/console/login", url.Values{"csrf": {b.csrf}, "user": {c[0]}, "password": {c[1]}}, nil)
			if code != http.StatusUnauthorized || !strings.Contains(body, "Wrong user or password") {
				t.Errorf("%s/%s: %d", c[0], c[1], code)
			}
			if code, _ := b.get("/console/"); code != http.StatusSeeOther {
				t.Errorf("%s: signed in after a refusal", c[0])
			}
		}
		// The sign-in form's token is tied to the browser's sign-in cookie:
		// another site cannot sign a browser in.
		b := e.browser()
		code, _, _ := b.post("/console/login", url.Values{"csrf": {"00"}, "user": {"admin"}, "password": {"admin-pw"}}, nil)
		if code != http.StatusForbidden {
			t.Errorf("login without the form's token: %d", code)
		}
		other := e.browser()
		other.get("/console/login")
		b.get("/console/login")
		code, _, _ = b.post("/console/login", url.Values{"csrf": {other.csrf}, "user": {"admin"}, "password": {"admin-pw"}}, nil)
		if code != http.StatusForbidden {
			t.Errorf("login with another browser's token: %d", code)
		}
	})
}

func TestCSRFAndCrossSite(t *testing.T) {
	forStores(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		b := e.browser()
		b.login("acme", "acme-secret")
		camp := fmt.Sprint(e.svc.CampaignID(e.campaign("Acme", "Welcome <b>")))
		form := func(csrf string) url.Values {
			return url.Values{"csrf": {csrf}, "campaign": {camp}, "people": {"1"}, "confirm": {"yes"}}
		}
		cases := []struct {
			name   string
			form   url.Values
			header http.Header
		}{
			{"no token", url.Values{"campaign": {camp}, "people": {"1"}, "confirm": {"yes"}}, nil},
			{"forged token", form(strings.Repeat("ab", 24)), nil},
			{"cross-site fetch", form(b.csrf), http.Header{"Sec-Fetch-Site": {"cross-site"}}},
			{"another origin", form(b.csrf), http.Header{"Origin": {"https://evil.example"}}},
		}
		for _, c := range cases {
			code, _, _ := b.post("/console/actions/request", c.form, c.header)
			if code != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", c.name, code)
			}
		}
		// Another session's token does not work either.
		other := e.browser()
		other.login("acme", "acme-secret")
		if code, _, _ := b.post("/console/actions/request", form(other.csrf), nil); code != http.StatusForbidden {
			t.Errorf("another session's token: %d", code)
		}
		if acts, _ := st.ConsoleActivities(context.Background(), store.ActivityQuery{}); len(acts) != 0 {
			t.Errorf("refused requests wrote %d activities", len(acts))
		}
		// A same-origin post with the session's token goes through.
		if code, _, _ := b.post("/console/actions/request", form(b.csrf), http.Header{"Sec-Fetch-Site": {"same-origin"}}); code != http.StatusSeeOther {
			t.Errorf("a proper request: %d", code)
		}
	})
}

func TestWorkspaceIsolation(t *testing.T) {
	forStores(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		b := e.browser()
		b.login("beta", "beta-secret")
		_, body := b.get("/console/")
		if !strings.Contains(body, "Beta Request") || strings.Contains(body, "Nightly") || strings.Contains(body, "Acme") {
			t.Errorf("beta's campaigns page shows another workspace:\n%s", body)
		}
		acme := e.campaignPath("Acme", "Welcome <b>")
		id := fmt.Sprint(e.svc.CampaignID(e.campaign("Acme", "Welcome <b>")))
		for _, path := range []string{acme, acme + "/graph.svg", "/console/people/1", "/console/activity?campaign=" + id, "/console/source?file=" + url.QueryEscape("testdata/project/acme.camp")} {
			if code, body := b.get(path); code != http.StatusNotFound {
				t.Errorf("beta GET %s: %d\n%s", path, code, body)
			}
		}
		for _, action := range []string{"request", "run-now", "deactivate"} {
			code, _, _ := b.post("/console/actions/"+action, url.Values{"csrf": {b.csrf}, "campaign": {id}, "people": {"b1"}, "confirm": {"yes"}}, nil)
			if code != http.StatusNotFound {
				t.Errorf("beta %s on Acme's campaign: %d", action, code)
			}
		}
		// Beta's own campaign cannot be requested for Acme's people.
		betaID := fmt.Sprint(e.svc.CampaignID(e.campaign("Beta", "Beta Request")))
		_, code, body := b.act("request", url.Values{"campaign": {betaID}, "people": {"1"}})
		if code != http.StatusBadRequest || !strings.Contains(body, "not in workspace") {
			t.Errorf("beta requesting for an Acme person: %d %s", code, body)
		}
		if _, body := b.get("/console/people?q=ann"); strings.Contains(body, "ann@example.com") {
			t.Error("beta's search finds an Acme person")
		}
		if _, body := b.get("/console/activity"); strings.Contains(body, "welcome") {
			t.Error("beta's activity shows Acme's")
		}
		if code, _ := b.get("/console/people/b1"); code != 200 {
			t.Errorf("beta's own person: %d", code)
		}
	})
}

// countSteps is the funnel as the database has it: people per step
// identity of a campaign's activities.
func countSteps(t *testing.T, st *store.Store, ws, campaign string) map[string]int {
	t.Helper()
	m, _, err := st.StepPeople(context.Background(), ws, campaign)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRequestFunnelAuditAndEscaping(t *testing.T) {
	forStores(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		b := e.browser()
		b.login("acme", "acme-secret")
		cp := e.campaign("Acme", "Welcome <b>")
		id := fmt.Sprint(e.svc.CampaignID(cp))
		confirm, code, body := b.act("request", url.Values{"campaign": {id}, "people": {"1, 2"}, "tokens": {"Event Name=" + hostile}})
		if strings.Contains(confirm, "<script>") || !strings.Contains(confirm, "&lt;script&gt;") {
			t.Errorf("the confirmation does not escape the token value:\n%s", confirm)
		}
		if code != http.StatusSeeOther {
			t.Fatalf("request: %d %s", code, body)
		}
		code, page := b.get(e.campaignPath("Acme", "Welcome <b>") + "?done=request")
		if code != 200 {
			t.Fatalf("campaign page: %d", code)
		}
		if strings.Contains(page, "Welcome <b>") || !strings.Contains(page, "Welcome &lt;b&gt;") {
			t.Error("the campaign name is not escaped")
		}
		if strings.Contains(page, "<script>") {
			t.Error("a token value reached the page unescaped")
		}
		// The funnel shows the database's counts.
		db := countSteps(t, st, "Acme", cp.Name)
		rows := regexp.MustCompile(`(?s)<tr data-line="(\d+)">.*?<td class="n people">(\d*)</td>\s*<td class="n waiting">(\d*)</td>`).FindAllStringSubmatch(page, -1)
		if len(rows) != 4 {
			t.Fatalf("funnel rows: %d\n%s", len(rows), page)
		}
		byLine := map[int]string{}
		for _, st := range cp.Flow {
			byLine[st.Base().Pos.Line] = st.Base().ID
		}
		for _, r := range rows {
			var line int
			fmt.Sscan(r[1], &line)
			want := fmt.Sprint(db[byLine[line]])
			if r[2] != want {
				t.Errorf("line %d: funnel shows %q people, the database %s", line, r[2], want)
			}
		}
		if db[cp.Flow[0].Base().ID] != 2 || db[cp.Flow[3].Base().ID] != 0 {
			t.Errorf("database funnel %v: want 2 at the first step and none after the wait", db)
		}
		if !strings.Contains(rows[2][3], "2") {
			t.Errorf("the wait shows %q waiting, want 2", rows[2][3])
		}
		if !strings.Contains(page, "24 h: <b>2</b>") {
			t.Error("entered in 24 h is not 2")
		}
		if !strings.Contains(page, "Child") || !strings.Contains(page, "<svg") {
			t.Error("no callee or call graph")
		}
		// The new activities are in the stream, and the action in the audit.
		_, act := b.get("/console/activity?campaign=" + id)
		if !strings.Contains(act, "welcome &lt;script&gt;") {
			t.Errorf("the activity stream lacks the escaped milestone:\n%s", act)
		}
		_, ops := b.get("/console/operations")
		if !strings.Contains(ops, "request") || !strings.Contains(ops, "acme") || !strings.Contains(ops, `<dd id="version">deploy 1 · <code>`) {
			t.Errorf("operations lacks the audit row or the version:\n%s", ops)
		}
		// A day later the wait is over.
		e.clock.Set(t0.Add(25 * time.Hour))
		if _, err := e.svc.Engine().Advance(context.Background()); err != nil {
			t.Fatal(err)
		}
		// The session has expired meanwhile (SessionTTL, on the service's clock).
		if code, _ := b.get("/console/"); code != http.StatusSeeOther {
			t.Errorf("a session older than SessionTTL still works: %d", code)
		}
		b.login("acme", "acme-secret")
		_, page = b.get(e.campaignPath("Acme", "Welcome <b>"))
		if db := countSteps(t, st, "Acme", cp.Name); db[cp.Flow[3].Base().ID] != 2 {
			t.Errorf("after the wait: %v", db)
		}
		if !strings.Contains(page, "24 h: <b>0</b>") || !strings.Contains(page, "7 d: <b>2</b>") {
			t.Errorf("entries do not move from the last 24 hours to the last 7 days: %s", regexp.MustCompile(`<dd id="entered">.*</dd>`).FindString(page))
		}
	})
}

func TestPersonPageEscapesAndExplains(t *testing.T) {
	forStores(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		b := e.browser()
		b.login("acme", "acme-secret")
		code, page := b.get("/console/people/1")
		if code != 200 {
			t.Fatalf("person: %d", code)
		}
		if strings.Contains(page, hostile) || !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("the field value is not shown as text:\n%s", page)
		}
		id := fmt.Sprint(e.svc.CampaignID(e.campaign("Acme", "Welcome <b>")))
		_, page = b.get("/console/people/1?explain=" + id)
		if !strings.Contains(page, `person 1, campaign &#34;Welcome &lt;b&gt;&#34; (trigger)`) || !strings.Contains(page, "flow") {
			t.Errorf("no explanation:\n%s", page)
		}
		// Explaining writes nothing.
		if acts, _ := st.ConsoleActivities(context.Background(), store.ActivityQuery{}); len(acts) != 0 {
			t.Errorf("explain wrote %d activities", len(acts))
		}
		_, page = b.get("/console/people?q=" + url.QueryEscape("Status="+hostile))
		if !strings.Contains(page, `href="/console/people/1"`) || strings.Contains(page, hostile) {
			t.Errorf("search by field:\n%s", page)
		}
		_, page = b.get("/console/people?q=" + url.QueryEscape("=x"))
		if !strings.Contains(page, "needs a field name") {
			t.Error("a bad search is not explained")
		}
		// An Id with a slash and markup is a path segment, escaped.
		if code, _ := b.get("/console/people/" + url.PathEscape("../1")); code != http.StatusNotFound {
			t.Errorf("a made-up Id: %d", code)
		}
	})
}

func TestActivateRunNowRetry(t *testing.T) {
	forStores(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		b := e.browser()
		b.login("admin", "admin-pw")
		hot := e.campaign("Acme", "On Hot")
		id := fmt.Sprint(e.svc.CampaignID(hot))
		if _, code, body := b.act("deactivate", url.Values{"campaign": {id}}); code != http.StatusSeeOther {
			t.Fatalf("deactivate: %d %s", code, body)
		}
		if e.svc.Engine().Active(hot) {
			t.Fatal("the engine still runs the deactivated campaign")
		}
		_, page := b.get(e.campaignPath("Acme", "On Hot"))
		if !strings.Contains(page, "override: deactivated by admin") {
			t.Errorf("the override is not shown:\n%s", page)
		}
		// Requesting Welcome adds to Hot: On Hot, deactivated, does not run.
		welcome := fmt.Sprint(e.svc.CampaignID(e.campaign("Acme", "Welcome <b>")))
		if _, code, body := b.act("request", url.Values{"campaign": {welcome}, "people": {"1"}}); code != http.StatusSeeOther {
			t.Fatalf("request: %d %s", code, body)
		}
		if n := len(countSteps(t, st, "Acme", "On Hot")); n != 0 {
			t.Errorf("a deactivated campaign ran")
		}
		// The override outlives the process.
		svc2, err := serve.New(context.Background(), serve.Config{Program: e.prog, Store: st, Clock: e.clock, Users: testUsers})
		if err != nil {
			t.Fatal(err)
		}
		if svc2.Engine().Active(hot) {
			t.Error("a restarted service forgot the override")
		}
		if _, code, _ := b.act("activate", url.Values{"campaign": {id}}); code != http.StatusSeeOther || !e.svc.Engine().Active(hot) {
			t.Errorf("activate: %d", code)
		}
		// Run now: the scheduler's next tick runs it.
		nightly := fmt.Sprint(e.svc.CampaignID(e.campaign("Acme", "Nightly")))
		if _, code, body := b.act("run-now", url.Values{"campaign": {nightly}}); code != http.StatusSeeOther {
			t.Fatalf("run now: %d %s", code, body)
		}
		e.clock.Set(t0.Add(time.Second))
		if err := e.svc.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		acts, _ := st.ConsoleActivities(context.Background(), store.ActivityQuery{Workspace: "Acme", Campaign: "Nightly"})
		if len(acts) != 2 {
			t.Errorf("run now: %d activities, want 2 (ann and bob)", len(acts))
		}
		// Only batch campaigns run now; only failed messages are retried.
		if _, code, body := b.act("run-now", url.Values{"campaign": {id}}); code != http.StatusBadRequest || !strings.Contains(body, "only batch") {
			t.Errorf("run now of a trigger campaign: %d", code)
		}
		if _, code, body := b.act("retry", url.Values{"message": {"99"}}); code != http.StatusBadRequest || !strings.Contains(body, "no failed message") {
			t.Errorf("retry of no message: %d %s", code, body)
		}
		audit, _ := st.AuditLog(context.Background(), "", 10)
		var got []string
		for _, a := range audit {
			got = append(got, a.Who+" "+a.Action+" "+a.Target)
		}
		want := "admin run-now Nightly|admin activate On Hot|admin request Welcome <b>|admin deactivate On Hot"
		if strings.Join(got, "|") != want {
			t.Errorf("audit:\n%s\nwant\n%s", strings.Join(got, "|"), want)
		}
	})
}

func TestPagesRender(t *testing.T) {
	forStores(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		b := e.browser()
		b.login("admin", "admin-pw")
		for _, path := range []string{"/console/", "/console/people", "/console/activity", "/console/operations", e.campaignPath("Acme", "Child"),
			e.campaignPath("Acme", "Nightly"), e.campaignPath("Beta", "Beta Request"), "/console/source?file=" + url.QueryEscape("testdata/project/acme.camp"),
			"/console/static/style.css", "/console/activity?type=Wait&person=1"} {
			if code, body := b.get(path); code != 200 {
				t.Errorf("%s: %d\n%s", path, code, body)
			}
		}
		_, list := b.get("/console/")
		for _, want := range []string{"Workspace Acme", "Workspace Beta", "Events /", "Webinar", "scheduled", "2026-12-02 00:00:00Z"} {
			if !strings.Contains(list, want) {
				t.Errorf("the campaigns list lacks %q", want)
			}
		}
		if code, _ := b.get("/console/campaigns/999"); code != http.StatusNotFound {
			t.Errorf("no such campaign: %d", code)
		}
	})
}

// failMessage puts a message of a workspace in the outbox, claims it and
// marks it failed, as the deliverer does after its last attempt; and logs
// a webhook call that failed. It returns the message's outbox number.
func failMessage(t *testing.T, st *store.Store, ws, subject string) int64 {
	t.Helper()
	ctx := context.Background()
	tx, err := st.BeginServe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := &storage.Activity{Time: t0, Person: "1", Type: "Send Email", Campaign: "Welcome <b>", Workspace: ws, Primary: "News"}
	hook := &storage.Activity{Time: t0, Person: "1", Type: "Call Webhook", Campaign: "Welcome <b>", Workspace: ws, Primary: "CRM",
		Attributes: storage.Attrs{{Key: "Status", Value: storage.AttrNum(0)}, {Key: "Error", Value: storage.AttrStr("dial: " + hostile)}}}
	m := &storage.Message{Person: "1", Workspace: ws, Campaign: "Welcome <b>", Name: "News", To: "ann@example.com", Subject: subject, Text: "T", Activity: a}
	if err := tx.Apply(&storage.Commit{Activities: []*storage.Activity{a, hook}, Outbox: []*storage.Message{m}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err = st.BeginServe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ids, err := tx.DueOutbox(t0, 10)
	if err != nil || len(ids) == 0 {
		t.Fatalf("due: %v %v", ids, err)
	}
	id := ids[len(ids)-1]
	if _, err := tx.ClaimOutbox(id, t0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := tx.FinishOutbox(id, store.OutboxFailed, t0, "550 no such user "+hostile); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRetryFailedDelivery(t *testing.T) {
	forStores(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		id := failMessage(t, st, "Acme", "Hello "+hostile)
		beta := e.browser()
		beta.login("beta", "beta-secret")
		if _, body := beta.get("/console/operations"); strings.Contains(body, "550 no such user") || strings.Contains(body, "CRM") {
			t.Error("beta sees Acme's failed message or webhook")
		}
		if _, code, _ := beta.act("retry", url.Values{"message": {fmt.Sprint(id)}}); code != http.StatusBadRequest {
			t.Errorf("beta retried Acme's message: %d", code)
		}
		b := e.browser()
		b.login("acme", "acme-secret")
		_, ops := b.get("/console/operations")
		if !strings.Contains(ops, "550 no such user &lt;script&gt;") || strings.Contains(ops, hostile) {
			t.Errorf("the failed message is not listed, escaped:\n%s", ops)
		}
		if !strings.Contains(ops, "dial: &lt;script&gt;") {
			t.Errorf("the failed webhook is not listed:\n%s", ops)
		}
		if _, code, body := b.act("retry", url.Values{"message": {fmt.Sprint(id)}}); code != http.StatusSeeOther {
			t.Fatalf("retry: %d %s", code, body)
		}
		tx, err := st.BeginServe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		row, err := tx.OutboxRow(id)
		tx.Rollback()
		if err != nil || row.State != store.OutboxPending || row.Attempts != 0 {
			t.Fatalf("after retry: %+v %v", row, err)
		}
		// Pending now: a second retry is refused.
		if _, code, body := b.act("retry", url.Values{"message": {fmt.Sprint(id)}}); code != http.StatusBadRequest || !strings.Contains(body, "pending, not failed") {
			t.Errorf("retry of a pending message: %d %s", code, body)
		}
		audit, _ := st.AuditLog(context.Background(), "Acme", 10)
		if len(audit) != 1 || audit[0].Who != "acme" || audit[0].Action != "retry" {
			t.Errorf("audit: %+v", audit)
		}
	})
}

// The funnel is kept between views and brought up to date from the new
// activities alone: a person counted once per step however often they
// pass it.
func TestFunnelKeptUpToDate(t *testing.T) {
	forStores(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, false)
		b := e.browser()
		b.login("beta", "beta-secret")
		cp := e.campaign("Beta", "Beta Request")
		id := fmt.Sprint(e.svc.CampaignID(cp))
		step := cp.Flow[0].Base().ID
		shown := func() string {
			t.Helper()
			_, page := b.get(e.campaignPath("Beta", "Beta Request"))
			m := regexp.MustCompile(`<td class="n people">(\d*)</td>`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no funnel:\n%s", page)
			}
			return m[1]
		}
		if got := shown(); got != "0" {
			t.Fatalf("before: %s", got)
		}
		for i := range 3 {
			e.clock.Set(t0.Add(time.Duration(i+1) * time.Second))
			if _, code, body := b.act("request", url.Values{"campaign": {id}, "people": {"b1"}}); code != http.StatusSeeOther {
				t.Fatalf("request: %d %s", code, body)
			}
			db := countSteps(t, st, "Beta", cp.Name)[step]
			if got := shown(); got != "1" || db != 1 {
				t.Errorf("after request %d: the page shows %s, the database %d, want 1", i+1, got, db)
			}
		}
		if _, body := b.get(e.campaignPath("Beta", "Beta Request")); !strings.Contains(body, "24 h: <b>1</b>") {
			t.Error("entries: one person, entered three times, is one")
		}
	})
}

// The activity stream follows live (a reload every 5 s, no script) on
// its first page only.
func TestActivityLive(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := newEnv(t, st, false)
	b := e.browser()
	b.login("admin", "admin-pw")
	refresh := `<meta http-equiv="refresh" content="5">`
	if _, page := b.get("/console/activity?live=1"); !strings.Contains(page, refresh) {
		t.Error("live: no refresh")
	}
	if _, page := b.get("/console/activity"); strings.Contains(page, refresh) {
		t.Error("not live: a refresh")
	}
	if _, page := b.get("/console/activity?live=1&before=5"); strings.Contains(page, refresh) {
		t.Error("an older page reloads")
	}
}

// A form larger than the API's body limit is refused before it is read
// whole.
func TestFormTooLarge(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := newEnv(t, st, false)
	b := e.browser()
	b.login("admin", "admin-pw")
	big := url.Values{"csrf": {b.csrf}, "people": {strings.Repeat("1,", maxForm)}}
	for _, path := range []string{"/console/login", "/console/actions/request"} {
		if code, _, _ := b.post(path, big, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", path, code)
		}
	}
}

// After a deploy the console shows the new program, and a campaign
// deactivated from the console stays deactivated in the new engine.
func TestConsoleAfterDeploy(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := newEnv(t, st, false)
	b := e.browser()
	b.login("admin", "admin-pw")
	id := fmt.Sprint(e.svc.CampaignID(e.campaign("Acme", "On Hot")))
	if _, code, _ := b.act("deactivate", url.Values{"campaign": {id}}); code != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", code)
	}
	p, err := project.Load([]string{"testdata/project"})
	if err != nil {
		t.Fatal(err)
	}
	srcs := append([]lang.Source(nil), p.Sources...)
	srcs = append(srcs, lang.Source{Name: "testdata/project/more.camp", Text: "workspace \"Acme\"\n\nprogram \"Later\" {\n  batch campaign \"Deployed Later\" {\n    smart list {\n      filter Email is not empty\n    }\n    flow {\n      interesting moment milestone \"later\"\n    }\n  }\n}\n"})
	res := compiler.Compile(srcs, compiler.Options{})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	if _, err := e.svc.Deploy(context.Background(), prog, &serve.Project{Sources: srcs}, "test"); err != nil {
		t.Fatal(err)
	}
	_, list := b.get("/console/")
	if !strings.Contains(list, "Deployed Later") {
		t.Error("the campaigns list does not show the deployed campaign")
	}
	hot := prog.Campaign("Acme", "On Hot")
	if e.svc.Engine().Active(hot) {
		t.Error("the deploy's engine forgot the console's override")
	}
	later := prog.Campaign("Acme", "Deployed Later")
	code, page := b.get(fmt.Sprintf("/console/campaigns/%d", e.svc.CampaignID(later)))
	if code != 200 || !strings.Contains(page, "more.camp") || !strings.Contains(page, `interesting moment milestone &#34;later&#34;`) {
		t.Errorf("the deployed campaign's page (%d) lacks its source:\n%s", code, page)
	}
	if _, ops := b.get("/console/operations"); !strings.Contains(ops, `<dd id="version">deploy 2 · <code>`) {
		t.Errorf("operations does not show deploy 2:\n%s", ops)
	}
}

// Five failed sign-ins for a name in 15 minutes refuse the next, even
// with the right password, until the window passes.
func TestLoginThrottled(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := newEnv(t, st, false)
	try := func(password string) int {
		b := e.browser()
		b.get("/console/login")
		code, _, _ := b.post("/console/login", url.Values{"csrf": {b.csrf}, "user": {"admin"}, "password": {password}}, nil)
		return code
	}
	for i := range 5 {
		if code := try("guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, code)
		}
	}
	if code := try("admin-pw"); code != http.StatusTooManyRequests {
		t.Errorf("after five failures: %d, want 429", code)
	}
	// Another user is not held up.
	e.browser().login("acme", "acme-secret")
	e.clock.Set(t0.Add(16 * time.Minute))
	if code := try("admin-pw"); code != http.StatusSeeOther {
		t.Errorf("after the window: %d", code)
	}
}
