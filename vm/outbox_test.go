package vm_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/campc/campc/compiler"
	"github.com/campc/campc/lang"
	"github.com/campc/campc/people"
	"github.com/campc/campc/vm"
	"github.com/campc/campc/vm/memstore"
)

// TestOutbox: with Options.Outbox the engine asks the host for nothing
// during the pass; it commits whole rendered messages (from, subject,
// text, HTML with token values escaped), each with a Message-ID made from
// its activity's number, and none to the unsubscribed unless operational.
func TestOutbox(t *testing.T) {
	src := `workspace "W"
field Nickname text
program "P" {
  token "Offer" text "10% <off>"
  email "News" {
    subject "News for {{lead.Nickname}}"
    from "news@example.com"
    text "Hi {{lead.Nickname}}, {{my.Offer}}"
    html "<p>Hi {{lead.Nickname}}, {{my.Offer}}</p>"
  }
  email "Receipt" {
    subject "Receipt"
    text file "receipt.txt"
    operational
  }
  batch campaign "Send" {
    smart list { filter Id is not empty }
    flow {
      send email "News"
      send email "Receipt"
      send alert "Look at {{lead.Nickname}}" to "sales@example.com"
    }
  }
}
`
	files := map[string]string{"receipt.txt": "Thanks {{lead.Nickname:default=friend}}.\n"}
	read := func(name string) (string, error) { return files[name], nil }
	res := compiler.Compile([]lang.Source{{Name: "p.camp", Text: src}}, compiler.Options{ReadFile: read})
	prog, err := res.Runnable(false)
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	schema, err := people.NewSchema(prog)
	if err != nil {
		t.Fatal(err)
	}
	people, err := people.ParseJSONL("people.jsonl", []byte(`{"Id": "a", "Email": "a@x.example", "Nickname": "<b>Al</b> & co"}
{"Id": "u", "Email": "u@x.example", "Unsubscribed": true}
`), schema)
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	ctx := context.Background()
	if err := store.Import(ctx, people, nil); err != nil {
		t.Fatal(err)
	}
	rec := &vm.Recorder{}
	eng, err := vm.New(prog, vm.Options{Store: store, Effects: rec, Outbox: true, Clock: vm.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.RunBatch(ctx, "Send", vm.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(rec.Emails)+len(rec.Alerts) != 0 {
		t.Errorf("the host was called during the pass: %v %v", rec.Emails, rec.Alerts)
	}
	box := store.Outbox()
	var got []string
	ids := map[string]bool{}
	for _, m := range box {
		got = append(got, m.Person+" "+m.Name)
		if m.ID == "" || ids[m.ID] || m.Activity == nil || m.Activity.Seq == 0 || !strings.HasPrefix(m.ID, "campc.") {
			t.Errorf("message %+v: bad or repeated ID %q", m, m.ID)
		}
		ids[m.ID] = true
		if m.Workspace != "W" || m.Campaign != "Send" || m.Step == "" {
			t.Errorf("message %+v: wrong workspace, campaign or step", m)
		}
	}
	want := []string{"a News", "a Receipt", "a ", "u Receipt", "u "}
	if !slices.Equal(got, want) {
		t.Fatalf("outbox %q, want %q", got, want)
	}
	news := box[0]
	if news.From != "news@example.com" || news.To != "a@x.example" || news.Subject != "News for <b>Al</b> & co" ||
		news.Text != "Hi <b>Al</b> & co, 10% <off>" || news.HTML != "<p>Hi &lt;b&gt;Al&lt;/b&gt; &amp; co, 10% &lt;off&gt;</p>" || news.Operational {
		t.Errorf("News = %+v", news)
	}
	if !strings.HasSuffix(news.ID, "@example.com") {
		t.Errorf("News Message-ID %q is not at the sender's domain", news.ID)
	}
	if r := box[3]; r.Text != "Thanks friend.\n" || !r.Operational || r.From != "" {
		t.Errorf("Receipt to u = %+v", r)
	}
	if al := box[2]; al.To != "sales@example.com" || al.Subject != "Alert: Look at <b>Al</b> & co" || al.Text != "Look at <b>Al</b> & co" || !al.Operational {
		t.Errorf("alert = %+v", al)
	}
	// The log is the same as without an outbox: one Send Email each, and
	// the unsubscribed person's News logged as not sent.
	n := 0
	for _, id := range []string{"a", "u"} {
		log, err := store.Activities(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range log {
			if a.Type == "Send Email" {
				n++
				if v, ok := a.Attributes.Get("Sent"); ok && a.Person != "u" {
					t.Errorf("%s: Sent = %v", a.Person, v)
				}
			}
		}
	}
	if n != 4 {
		t.Errorf("%d Send Email activities, want 4", n)
	}
}
