package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/campc/campc/internal/smtptest"
	"github.com/campc/campc/vm/storage"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Relay
		err  string
	}{
		{in: "smtp://mail.example.com", want: Relay{Host: "mail.example.com", Port: 587}},
		{in: "smtp://u:p%40ss@127.0.0.1:2525", want: Relay{Host: "127.0.0.1", Port: 2525, User: "u", Password: "p@ss"}},
		{in: "smtps://u@[::1]:4650/", want: Relay{Host: "::1", Port: 4650, User: "u", TLS: true}},
		{in: "http://x", err: "scheme"},
		{in: "smtp://", err: "no host"},
		{in: "smtp://h:0", err: "port"},
		{in: "smtp://h:99999", err: "port"},
		{in: "smtp://h/path", err: "no path"},
		{in: "smtp://h?x=1", err: "no path"},
		{in: "smtp://:secret@h", err: "without a user"},
		{in: "smtp://u:secret@h:%zz", err: "does not parse"},
	} {
		r, err := ParseURL(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: error %v, want one about %q without the password", c.in, err, c.err)
			}
			continue
		}
		if err != nil || *r != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.in, r, err, c.want)
		}
	}
	r, _ := ParseURL("smtp://me:hunter2@mail.example.com:25")
	if s := r.String(); s != "smtp://me:***@mail.example.com:25" {
		t.Errorf("redacted %q", s)
	}
}

// FuzzParseURL: any --smtp value parses or is refused without a panic,
// and a refusal never repeats the password.
func FuzzParseURL(f *testing.F) {
	f.Add("smtp://u:p@h:25")
	f.Add("smtps://h")
	f.Add("smtp://u:%zz@h")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseURL("smtp://user:Pw0rdX9@" + s)
		if err != nil {
			if strings.Contains(err.Error(), "Pw0rdX9") {
				t.Fatalf("error quotes the password: %v", err)
			}
			return
		}
		if strings.Contains(r.String(), "Pw0rdX9") {
			t.Fatalf("String() shows the password: %s", r)
		}
		if r.Port < 1 || r.Port > 65535 || r.Host == "" {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func relayOf(t *testing.T, s *smtptest.Server, user, pass string) *Relay {
	r, err := ParseURL(fmt.Sprintf("smtp://%s:%s@%s", user, pass, s.Addr))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A message reaches a real SMTP server whole, with its Message-ID; a 4xx
// is worth another try, a 5xx is permanent; a wrong password is refused
// without being quoted.
func TestSend(t *testing.T) {
	srv := smtptest.Start(t)
	srv.User, srv.Password = "me", "s3cret!"
	snd, err := NewSender(relayOf(t, srv, "me", "s3cret!"), "campc@example.com", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := &storage.Message{ID: "campc.7.00ff.abc@example.com", From: "news@example.com", To: "a@x.example", Subject: "Hé <you>",
		Text: "Hi Al & co\nline 2", HTML: "<p>Hi Al &amp; co</p>"}
	if err := snd.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	alert := &storage.Message{To: "sales@x.example", Subject: "Alert: x", Body: "look", Operational: true}
	if err := snd.Send(ctx, alert); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 2 {
		t.Fatalf("%d messages", len(got))
	}
	g := got[0]
	if g.MessageID != m.ID || g.From != "news@example.com" || g.To[0] != "a@x.example" || g.Subject != m.Subject ||
		g.Text != m.Text || g.HTML != m.HTML {
		t.Errorf("received %+v", g)
	}
	if g := got[1]; g.From != "campc@example.com" || g.Text != "look" || g.MessageID == "" {
		t.Errorf("alert received %+v", g)
	}

	// A field value cannot add a header: line breaks in the subject are
	// encoded, not sent.
	inj := &storage.Message{To: "a@x.example", Subject: "Hi\r\nBcc: evil@x.example", Text: "t"}
	if err := snd.Send(ctx, inj); err != nil {
		t.Fatal(err)
	}
	if g := srv.Messages()[2]; len(g.To) != 1 || g.Header.Get("Bcc") != "" || g.Subject != inj.Subject {
		t.Errorf("header injection: to %v, Bcc %q, subject %q", g.To, g.Header.Get("Bcc"), g.Subject)
	}

	srv.Refuse(func(to string, n int) *smtp.SMTPError {
		if to == "busy@x.example" {
			return &smtp.SMTPError{Code: 451, Message: "try later"}
		}
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	})
	var e *Error
	err = snd.Send(ctx, &storage.Message{To: "busy@x.example", Subject: "s", Text: "t"})
	if !errors.As(err, &e) || e.Permanent || e.Code != 451 {
		t.Errorf("4xx: %#v", err)
	}
	err = snd.Send(ctx, &storage.Message{To: "gone@x.example", Subject: "s", Text: "t"})
	if !errors.As(err, &e) || !e.Permanent || e.Code != 550 {
		t.Errorf("5xx: %#v", err)
	}
	bad, _ := NewSender(relayOf(t, srv, "me", "wrongpass"), "campc@example.com", 10*time.Second)
	err = bad.Send(ctx, &storage.Message{To: "a@x.example", Subject: "s", Text: "t"})
	if err == nil || strings.Contains(err.Error(), "wrongpass") {
		t.Errorf("a wrong password: %v", err)
	}
	if _, err := NewSender(relayOf(t, srv, "me", "x"), "not an address", 0); err == nil {
		t.Error("a bad --smtp-from was accepted")
	}
}
