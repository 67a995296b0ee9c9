package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/internal/smtptest"
	"github.com/campc/campc/mail"
	"github.com/campc/campc/project"
	"github.com/campc/campc/store"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/storage"
)

// mailEnv starts the service on the email project (testdata/mail, its
// HTML body read from the file beside it) with a real SMTP relay.
func mailEnv(t *testing.T, open opener, relay *smtptest.Server, tune func(*Config)) *env {
	t.Helper()
	p, err := project.Load([]string{"testdata/mail"})
	if err != nil {
		t.Fatal(err)
	}
	res := compiler.Compile(p.Sources, compiler.Options{ReadFile: project.ReadFile})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	return start(t, open(t), vm.NewManualClock(t0), prog, func(c *Config) {
		c.Users = []User{{ID: "acme", Secret: "acme-secret", Workspace: "Acme"}}
		c.RetryBase, c.MaxAttempts = time.Minute, 3
		if relay != nil {
			r, err := mail.ParseURL(fmt.Sprintf("smtp://campc:relay-pw@%s", relay.Addr))
			if err != nil {
				t.Fatal(err)
			}
			snd, err := mail.NewSender(r, "campc@acme.example", 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.Mailer = snd
		}
		if tune != nil {
			tune(c)
		}
	})
}

func startRelay(t *testing.T) *smtptest.Server {
	relay := smtptest.Start(t)
	relay.User, relay.Password = "campc", "relay-pw"
	return relay
}

// request requests a campaign for leads through the API.
func (e *env) request(tok, campaign string, leads ...int64) {
	e.t.Helper()
	e.ok(tok, "POST", fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", e.campaignID(tok, campaign)), nil, trigger(leads, nil))
}

func (e *env) deliver() int {
	e.t.Helper()
	n, err := e.svc.DeliverDue(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) outbox() []*store.OutboxRow {
	e.t.Helper()
	tx, err := e.st.BeginServe(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.OutboxRows()
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func (e *env) metrics() string {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// A requested campaign's email reaches a real SMTP server with its sender,
// subject, text and HTML rendered in the person's frame, the values
// escaped in the HTML; the unsubscribed get no marketing email but do get
// an operational one; an alert goes to its address; each message once,
// with the outbox's Message-ID, and Email Delivered is logged and heard.
func TestEmailDelivery(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		relay := startRelay(t)
		e := mailEnv(t, open, relay, nil)
		tok := e.token("acme", "acme-secret")
		ada := e.createLead(tok, "ada@x.example", map[string]any{"firstName": "<Ada> & Bob"})
		unsub := e.createLead(tok, "unsub@x.example", map[string]any{"firstName": "Una", "unsubscribed": true})
		e.request(tok, "Send Welcome", ada, unsub)
		e.request(tok, "Send Receipt", unsub)
		if got := len(relay.Messages()); got != 0 {
			t.Fatalf("%d messages sent before the deliverer ran", got)
		}
		if n := e.deliver(); n != 3 {
			t.Fatalf("delivered %d, want 3 (Welcome to Ada, Receipt and its alert)", n)
		}
		got := relay.Messages()
		if len(got) != 3 {
			t.Fatalf("the relay got %d messages, want 3: %+v", len(got), got)
		}
		w := got[0]
		if w.From != "news@acme.example" || !slices.Equal(w.To, []string{"ada@x.example"}) || w.Subject != "Welcome, <Ada> & Bob" ||
			w.Text != "Hi <Ada> & Bob, 10% <off> & more" ||
			w.HTML != "<h1>Welcome, &lt;Ada&gt; &amp; Bob</h1>\n<p>10% &lt;off&gt; &amp; more</p>" {
			t.Errorf("Welcome as received:\n%+v", w)
		}
		if r := got[1]; r.Subject != "Your receipt" || r.To[0] != "unsub@x.example" || r.Text != "Receipt for Una" || r.From != "campc@acme.example" {
			t.Errorf("Receipt as received: %+v", r)
		}
		if a := got[2]; a.To[0] != "sales@acme.example" || a.Text != "Receipt sent to unsub@x.example" {
			t.Errorf("alert as received: %+v", a)
		}
		rows := e.outbox()
		if len(rows) != 3 {
			t.Fatalf("%d outbox rows, want 3", len(rows))
		}
		for i, r := range rows {
			if r.State != store.OutboxSent || r.Attempts != 1 || r.Message.ID != got[i].MessageID {
				t.Errorf("row %d: %s after %d attempts, Message-ID %q, received %q", r.ID, r.State, r.Attempts, r.Message.ID, got[i].MessageID)
			}
		}
		adaLog, unsubLog := e.log(fmt.Sprint(ada)), e.log(fmt.Sprint(unsub))
		if has(adaLog, "Email Delivered:Welcome") != 1 || has(adaLog, "Interesting Moment:delivered Welcome") != 1 {
			t.Errorf("Ada's log:\n%s", strings.Join(adaLog, "\n"))
		}
		if has(unsubLog, "Send Email:Welcome") != 1 || has(unsubLog, "Email Delivered:Welcome") != 0 || has(unsubLog, "Email Delivered:Receipt") != 1 {
			t.Errorf("the unsubscribed person's log:\n%s", strings.Join(unsubLog, "\n"))
		}
		// Nothing is sent twice.
		if n := e.deliver(); n != 0 || len(relay.Messages()) != 3 {
			t.Errorf("a second round sent %d more", len(relay.Messages())-3)
		}
		m := e.metrics()
		for _, want := range []string{`campc_email_deliveries_total{result="delivered"} 3`, "campc_outbox_depth 0"} {
			if !strings.Contains(m, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		// The API lists the outcome with Marketo's type id.
		r := e.ok(tok, "GET", "/rest/v1/activities.json", map[string][]string{"nextPageToken": {e.pagingToken(tok)}, "activityTypeIds": {"7"}}, nil)
		if rows := r.rows(); len(rows) != 2 {
			t.Errorf("%d Email Delivered activities through the API, want 2: %v", len(rows), rows)
		}
	})
}

// A relay that answers 4xx gets the message again after the backoff and
// it is delivered once; a 5xx is Email Bounced at once; a message that
// fails every attempt is Send Email Failed.
func TestEmailRetryBounceFail(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		relay := startRelay(t)
		relay.Refuse(func(to string, n int) *smtp.SMTPError {
			switch {
			case to == "busy@x.example" && n == 1, to == "down@x.example":
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
			case to == "gone@x.example":
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		})
		e := mailEnv(t, open, relay, nil)
		tok := e.token("acme", "acme-secret")
		busy := e.createLead(tok, "busy@x.example", nil)
		gone := e.createLead(tok, "gone@x.example", nil)
		down := e.createLead(tok, "down@x.example", nil)
		e.request(tok, "Send Welcome", busy, gone, down)
		if n := e.deliver(); n != 3 {
			t.Fatalf("attempted %d, want 3", n)
		}
		if len(relay.Messages()) != 0 {
			t.Fatal("a refused message was received")
		}
		if l := e.log(fmt.Sprint(gone)); has(l, "Email Bounced:Welcome") != 1 || has(l, "Email Delivered:Welcome") != 0 {
			t.Errorf("gone's log:\n%s", strings.Join(l, "\n"))
		}
		// Not due again before the backoff.
		if n := e.deliver(); n != 0 {
			t.Errorf("%d attempts before the backoff", n)
		}
		e.clock.Set(t0.Add(time.Minute))
		if n := e.deliver(); n != 2 {
			t.Fatalf("attempted %d after the first backoff, want 2 (busy, down)", n)
		}
		got := relay.Messages()
		if len(got) != 1 || got[0].To[0] != "busy@x.example" {
			t.Fatalf("after the retry the relay has %+v", got)
		}
		if l := e.log(fmt.Sprint(busy)); has(l, "Email Delivered:Welcome") != 1 {
			t.Errorf("busy's log:\n%s", strings.Join(l, "\n"))
		}
		// down: attempt 2 failed at t0+1m, waits 2 minutes; attempt 3 is the last.
		e.clock.Set(t0.Add(2 * time.Minute))
		if n := e.deliver(); n != 0 {
			t.Errorf("%d attempts before the second backoff (doubled)", n)
		}
		e.clock.Set(t0.Add(3 * time.Minute))
		if n := e.deliver(); n != 1 {
			t.Fatalf("attempted %d after the second backoff, want 1", n)
		}
		acts, err := e.st.Activities(context.Background(), fmt.Sprint(down))
		if err != nil {
			t.Fatal(err)
		}
		var failed *storage.Activity
		for _, a := range acts {
			if a.Type == "Send Email Failed" {
				failed = a
			}
		}
		if failed == nil || failed.Primary != "Welcome" || failed.Campaign != "Send Welcome" {
			t.Fatalf("down's log has no Send Email Failed: %v", e.log(fmt.Sprint(down)))
		}
		if v, _ := failed.Attributes.Get("Attempts"); v.String() != "3" {
			t.Errorf("Attempts = %v", v)
		}
		if v, _ := failed.Attributes.Get("Reason"); !strings.Contains(v.String(), "451") {
			t.Errorf("Reason = %v", v)
		}
		states := map[string]string{}
		for _, r := range e.outbox() {
			states[r.Message.To] = r.State
		}
		want := map[string]string{"busy@x.example": store.OutboxSent, "gone@x.example": store.OutboxBounced, "down@x.example": store.OutboxFailed}
		for k, v := range want {
			if states[k] != v {
				t.Errorf("%s: %s, want %s", k, states[k], v)
			}
		}
		e.clock.Set(t0.Add(24 * time.Hour))
		if n := e.deliver(); n != 0 || len(relay.Messages()) != 1 {
			t.Errorf("final messages were tried again")
		}
		m := e.metrics()
		for _, want := range []string{`campc_email_deliveries_total{result="bounced"} 1`, `campc_email_deliveries_total{result="retry"} 3`,
			`campc_email_deliveries_total{result="failed"} 1`, `campc_email_deliveries_total{result="delivered"} 1`} {
			if !strings.Contains(m, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

// Without a relay the messages are kept, marked not delivered, and log
// no outcome.
func TestEmailWithoutRelay(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		e := mailEnv(t, open, nil, nil)
		tok := e.token("acme", "acme-secret")
		ada := e.createLead(tok, "ada@x.example", nil)
		e.request(tok, "Send Welcome", ada)
		if n := e.deliver(); n != 1 {
			t.Fatalf("handled %d, want 1", n)
		}
		rows := e.outbox()
		if len(rows) != 1 || rows[0].State != store.OutboxFailed || rows[0].LastError != noRelay {
			t.Fatalf("rows %+v", rows[0])
		}
		if l := e.log(fmt.Sprint(ada)); has(l, "Send Email:Welcome") != 1 || has(l, "Email Delivered:Welcome")+has(l, "Send Email Failed:Welcome") != 0 {
			t.Errorf("log:\n%s", strings.Join(l, "\n"))
		}
	})
}

func (e *env) pagingToken(tok string) string {
	e.t.Helper()
	return e.ok(tok, "GET", "/rest/v1/activities/pagingtoken.json", map[string][]string{"sinceDatetime": {"2020-01-01"}}, nil).NextPageToken
}

// slowMailer moves the clock on by step at each message, as a slow relay
// does.
type slowMailer struct {
	Mailer
	clock *vm.ManualClock
	step  time.Duration
}

func (m slowMailer) Send(ctx context.Context, msg *storage.Message) error {
	m.clock.Set(m.clock.Now().Add(m.step))
	return m.Mailer.Send(ctx, msg)
}

// The deliverer claims several messages in one transaction, but sends
// none whose claim could run out before the relay answers: with a relay
// that takes half the claim per message, the third of three is left for
// its claim to run out and is sent by the next round, once. Each message
// reaches the relay once and is marked sent.
func TestDeliverChunkKeepsClaims(t *testing.T) {
	forStores(t, func(t *testing.T, open opener) {
		relay := startRelay(t)
		var e *env
		e = mailEnv(t, open, relay, func(c *Config) {
			c.ClaimTimeout = 30 * time.Second // the relay's timeout is a third of it
			c.Mailer = slowMailer{Mailer: c.Mailer, clock: c.Clock.(*vm.ManualClock), step: 15 * time.Second}
		})
		tok := e.token("acme", "acme-secret")
		var leads []int64
		for i := range 3 {
			leads = append(leads, e.createLead(tok, fmt.Sprintf("p%d@x.example", i), nil))
		}
		e.request(tok, "Send Welcome", leads...)
		if n := e.deliver(); n != 2 {
			t.Fatalf("first round attempted %d, want 2 (the third's claim would run out during its send)", n)
		}
		if got := len(relay.Messages()); got != 2 {
			t.Fatalf("relay got %d messages, want 2", got)
		}
		if n := e.deliver(); n != 1 {
			t.Fatalf("second round attempted %d, want 1 (the third, its claim run out)", n)
		}
		seen := map[string]int{}
		for _, m := range relay.Messages() {
			seen[strings.Join(m.To, ",")]++
		}
		if len(seen) != 3 {
			t.Errorf("relay got messages for %v, want 3 people once each", seen)
		}
		for to, k := range seen {
			if k != 1 {
				t.Errorf("%s got %d messages", to, k)
			}
		}
		for _, r := range e.outbox() {
			if r.State != store.OutboxSent {
				t.Errorf("message %s is %s, want sent", r.Message.ID, r.State)
			}
		}
	})
}
