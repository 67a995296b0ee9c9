package bench

// The service benchmarks: campc serve (package serve) over real HTTP on
// 127.0.0.1, called as a Marketo client calls it, on SQLite and on
// PostgreSQL. The people are imported and given lead ids before the
// timer starts; the token is fetched once.

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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/ir"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/serve"
	"github.com/campc/campc/stdlib"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm/storage"
)

// serveProject is the service benchmarks' project: a campaign the API
// requests, whose flow changes a field, adds to a list and sends an email
// (into the outbox), and a campaign listening for additions to another
// list, whose flow writes an interesting moment and changes a field.
const serveProject = `workspace "Acme"

field Stage text

list "Welcomed"
list "Webinar Attendees"

program "Onboarding" {
  token "Offer" text "a free month"

  email "Welcome" {
    subject "Welcome, {{lead.FirstName}}"
    from "news@acme.example"
    text "Hi {{lead.FirstName}}, here is {{my.Offer}}."
  }

  trigger campaign "Welcome" {
    smart list {
      trigger campaign is requested from api
    }
    flow {
      change data value Stage to "Welcomed"
      add to list "Welcomed"
      send email "Welcome"
    }
    active
    qualify every time
  }

  trigger campaign "Attended" {
    smart list {
      trigger added to list "Webinar Attendees"
    }
    flow {
      interesting moment milestone "attended the webinar"
      change data value Stage to "Attended"
    }
    active
    qualify every time
  }
}
`

// servePeople is the population the service benchmarks start with: Ids
// "1" to n, each its own lead id.
func servePeople(from, to int) []*storage.Person {
	out := make([]*storage.Person, 0, to-from)
	for i := from; i < to; i++ {
		id := strconv.Itoa(i + 1)
		out = append(out, &storage.Person{ID: id, Fields: map[string]ir.Value{
			"Id":        ir.NewText(stdlib.Text, id),
			"FirstName": ir.NewText(stdlib.Text, fmt.Sprintf("Person %d", i+1)),
			"Email":     ir.NewText(stdlib.Email, fmt.Sprintf("person%d@mail.example", i+1)),
		}})
	}
	return out
}

// wallClock is the host's clock, as campc serve reads it.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// serveEnv is a started service over HTTP on 127.0.0.1 with an access
// token.
type serveEnv struct {
	st     *store.Store
	svc    *serve.Service
	srv    *httptest.Server
	client *http.Client
	token  string
}

// serveStores are the stores the service benchmarks run on; each open
// makes a new database (a SQLite file, a PostgreSQL schema), closed and
// dropped when the benchmark ends. PostgreSQL is skipped without
// CAMPC_TEST_POSTGRES.
var serveStores = []struct {
	name string
	open func(b *testing.B) *store.Store
}{
	{"sqlite", func(b *testing.B) *store.Store {
		st, err := store.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "serve.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(b *testing.B) *store.Store {
		base := os.Getenv(PostgresEnv)
		if base == "" {
			b.Skipf("set %s=postgres://… to run (.ci/postgres.sh start starts a private server)", PostgresEnv)
		}
		ctx := context.Background()
		admin, err := sql.Open("pgx", base)
		if err != nil {
			b.Fatal(err)
		}
		pgSchemas++
		schema := fmt.Sprintf("benchserve%d_%d", os.Getpid(), pgSchemas)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			admin.Close()
			b.Fatal(err)
		}
		b.Cleanup(func() {
			admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
			admin.Close()
		})
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		st, err := store.OpenPostgres(ctx, base+sep+"search_path="+schema, true)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() }) // before the schema is dropped
		return st
	}},
}

// startServe imports people leads into st, starts the service on the
// benchmark project and gets a token. The rate limit is lifted: the
// benchmark measures the service, not Marketo's quota.
func startServe(b *testing.B, st *store.Store, people int) *serveEnv {
	b.Helper()
	ctx := context.Background()
	for i := 0; i < people; i += 10_000 {
		if err := st.Import(ctx, servePeople(i, min(i+10_000, people)), nil); err != nil {
			b.Fatal(err)
		}
	}
	prog := mustCompile(b, []lang.Source{{Name: "serve.camp", Text: serveProject}})
	svc, err := serve.New(ctx, serve.Config{Program: prog, Store: st, Clock: wallClock{},
		Users: []serve.User{{ID: "bench", Secret: "bench-secret", Workspace: "Acme"}}, RateLimit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	return startService(b, st, svc)
}

// startService starts svc over HTTP and gets a token.
func startService(b *testing.B, st *store.Store, svc *serve.Service) *serveEnv {
	b.Helper()
	if err := svc.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	b.Cleanup(srv.Close)
	e := &serveEnv{st: st, svc: svc, srv: srv, client: srv.Client()}
	res, err := e.client.Get(srv.URL + "/identity/oauth/token?grant_type=client_credentials&client_id=bench&client_secret=bench-secret")
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || tok.AccessToken == "" {
		b.Fatalf("token: HTTP %d, %v", res.StatusCode, err)
	}
	e.token = tok.AccessToken
	return e
}

// idOf finds the id of a campaign or list by name through the API
// (GET /rest/v1/campaigns.json or lists.json?name=…).
func (e *serveEnv) idOf(b *testing.B, kind, name string) int64 {
	res, err := e.client.Get(e.srv.URL + "/rest/v1/" + kind + ".json?" + url.Values{"name": {name}, "access_token": {e.token}}.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Result []struct {
			ID int64 `json:"id"`
		} `json:"result"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Result) != 1 {
		b.Fatalf("%s %q: %v, %d results", kind, name, err, len(out.Result))
	}
	return out.Result[0].ID
}

// post makes one API call and fails the benchmark unless it succeeded
// for every row it names.
func (e *serveEnv) post(b *testing.B, path string, body []byte) {
	res, err := e.client.Post(e.srv.URL+path+"?access_token="+url.QueryEscape(e.token), "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	var out struct {
		Success bool `json:"success"`
		Result  []struct {
			Status string `json:"status"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || res.StatusCode != 200 || !out.Success {
		b.Fatalf("POST %s: HTTP %d: %s", path, res.StatusCode, raw)
	}
	for _, r := range out.Result {
		if r.Status != "" && r.Status != "added" {
			b.Fatalf("POST %s: %s", path, raw)
		}
	}
}

// leadsBody is {"input": …} with leads from..to-1's ids, as trigger.json
// ({"leads": [{"id"}]}) or a list call ([{"id"}]) takes them.
func leadsBody(from, to int, trigger bool) []byte {
	ids := make([]map[string]int, 0, to-from)
	for i := from; i < to; i++ {
		ids = append(ids, map[string]int{"id": i + 1})
	}
	var in any = ids
	if trigger {
		in = map[string]any{"leads": ids}
	}
	j, _ := json.Marshal(map[string]any{"input": in})
	return j
}

// activities counts the activities of a type in the store.
func activities(b *testing.B, st *store.Store, typ string) int {
	acts, err := st.Activities(context.Background(), "")
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, a := range acts {
		if a.Type == typ {
			n++
		}
	}
	return n
}

// BenchmarkServeTrigger requests the "Welcome" campaign (change a field,
// add to a list, send an email into the outbox) through POST
// /rest/v1/campaigns/{id}/trigger.json. One op is one lead requested:
// batch100 sends 100 leads a call, single one lead a call and reports the
// median and 99th percentile of the calls' latency (p50_ms, p99_ms, as the
// client sees it). Each lead is requested once; the outbox's deliverer
// does not run (sending is the relay's cost, not the API's).
func BenchmarkServeTrigger(b *testing.B) {
	for _, sto := range serveStores {
		b.Run(sto.name, func(b *testing.B) {
			for _, size := range []struct {
				name string
				per  int
			}{{"batch100", 100}, {"single", 1}} {
				b.Run(size.name, func(b *testing.B) {
					st := sto.open(b)
					e := startServe(b, st, b.N)
					path := fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", e.idOf(b, "campaigns", "Welcome"))
					bodies := make([][]byte, 0, b.N/size.per+1)
					for i := 0; i < b.N; i += size.per {
						bodies = append(bodies, leadsBody(i, min(i+size.per, b.N), true))
					}
					lat := make([]time.Duration, 0, len(bodies))
					settle(b)
					for _, body := range bodies {
						t := time.Now()
						e.post(b, path, body)
						lat = append(lat, time.Since(t))
					}
					b.StopTimer()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "leads/s")
					if size.per == 1 {
						slices.Sort(lat)
						b.ReportMetric(ms(lat[len(lat)*50/100]), "p50_ms")
						b.ReportMetric(ms(lat[min(len(lat)*99/100, len(lat)-1)]), "p99_ms")
					}
					if n := activities(b, st, stdlib.ActRequestCampaign); n != b.N {
						b.Fatalf("%d Request Campaign activities for %d leads", n, b.N)
					}
					if n := activities(b, st, stdlib.ActSendEmail); n != b.N {
						b.Fatalf("%d Send Email activities for %d leads", n, b.N)
					}
				})
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkServeEvents adds leads to the list "Webinar Attendees" through
// POST /rest/v1/lists/{id}/leads.json, 100 leads a call; each addition
// fires the "Attended" trigger campaign, which writes an interesting
// moment and changes a field, all committed with the call. One op is one
// list-add event; events/s counts them from the client's first call to
// its last answer.
func BenchmarkServeEvents(b *testing.B) {
	for _, sto := range serveStores {
		b.Run(sto.name, func(b *testing.B) {
			st := sto.open(b)
			e := startServe(b, st, b.N)
			path := fmt.Sprintf("/rest/v1/lists/%d/leads.json", e.idOf(b, "lists", "Webinar Attendees"))
			var bodies [][]byte
			for i := 0; i < b.N; i += 100 {
				bodies = append(bodies, leadsBody(i, min(i+100, b.N), false))
			}
			settle(b)
			for _, body := range bodies {
				e.post(b, path, body)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if n := activities(b, st, stdlib.ActInterestingMoment); n != b.N {
				b.Fatalf("%d Interesting Moment activities for %d list additions", n, b.N)
			}
		})
	}
}
