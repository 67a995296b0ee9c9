// Package mail sends the email and alerts of campc serve over SMTP, with
// github.com/wneessen/go-mail: the relay's URL (--smtp), a message built
// from a rendered vm.Message with its stable Message-ID, and the relay's
// answer sorted into delivered, refused for good (5xx) and worth another
// try (4xx, network).
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/campc/campc/vm/storage"
)

// Relay is an SMTP relay as --smtp names it.
type Relay struct {
	Host     string
	Port     int
	User     string
	Password string
	// TLS is implicit TLS (smtps://); otherwise STARTTLS is used when the
	// relay offers it.
	TLS bool
}

// ParseURL reads smtp://[user[:password]@]host[:port] (port 587 unless
// given; STARTTLS when the relay offers it) or smtps://… (implicit TLS,
// port 465). Errors never quote the password.
func ParseURL(raw string) (*Relay, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's errors quote the whole URL, password included.
		return nil, fmt.Errorf("--smtp: want smtp://user:password@host:port, not a URL that does not parse")
	}
	r := &Relay{}
	switch u.Scheme {
	case "smtp":
		r.Port = 587
	case "smtps":
		r.Port, r.TLS = 465, true
	default:
		return nil, fmt.Errorf("--smtp: the scheme must be smtp:// or smtps://, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("--smtp: no host: want smtp://user:password@host:port")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--smtp: want smtp://user:password@host:port, with no path, query or fragment")
	}
	r.Host = u.Hostname()
	if r.Host == "" {
		return nil, fmt.Errorf("--smtp: no host: want smtp://user:password@host:port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("--smtp: the port must be a number from 1 to 65535, not %q", p)
		}
		r.Port = n
	}
	if u.User != nil {
		r.User = u.User.Username()
		r.Password, _ = u.User.Password()
		if r.User == "" {
			return nil, fmt.Errorf("--smtp: a password without a user name")
		}
	}
	return r, nil
}

// String is the relay's URL with the password replaced by ***.
func (r *Relay) String() string {
	u := url.URL{Scheme: "smtp", Host: fmt.Sprintf("%s:%d", r.Host, r.Port)}
	if strings.Contains(r.Host, ":") {
		u.Host = fmt.Sprintf("[%s]:%d", r.Host, r.Port)
	}
	if r.TLS {
		u.Scheme = "smtps"
	}
	if r.User != "" {
		if r.Password != "" {
			u.User = url.UserPassword(r.User, "xxxxx")
		} else {
			u.User = url.User(r.User)
		}
	}
	return strings.Replace(u.String(), ":xxxxx@", ":***@", 1)
}

// Error is a failed attempt to send: Permanent when the relay refused the
// message for good (a 5xx reply), so that trying again cannot help.
type Error struct {
	Permanent bool
	Code      int // the relay's reply code; 0 when it gave none
	Err       error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Sender sends messages to one relay.
type Sender struct {
	relay   *Relay
	from    string
	timeout time.Duration
	// TLSConfig, when set, replaces the default (the relay's host name
	// checked against system roots); tests trust their own relay's
	// certificate with it.
	TLSConfig *tls.Config
}

// DefaultTimeout bounds one attempt's connection and replies.
const DefaultTimeout = 30 * time.Second

// NewSender sends through relay; from is the sender of messages that
// name none (alerts, and email without a from clause). A timeout of 0 is
// DefaultTimeout.
func NewSender(relay *Relay, from string, timeout time.Duration) (*Sender, error) {
	if _, err := netmail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("--smtp-from %q is not an email address: %v", from, err)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Sender{relay: relay, from: from, timeout: timeout}, nil
}

// Relay is where the sender sends.
func (s *Sender) Relay() *Relay { return s.relay }

// Send sends one message and returns nil once the relay has accepted it,
// or an *Error. The message carries m.ID as its Message-ID, so that the
// same message sent again (after a crash between the relay's acceptance
// and the outbox's mark) is recognisably the same.
func (s *Sender) Send(ctx context.Context, m *storage.Message) error {
	msg, err := s.build(m)
	if err != nil {
		return &Error{Permanent: true, Err: err}
	}
	opts := []gomail.Option{gomail.WithPort(s.relay.Port), gomail.WithTimeout(s.timeout)}
	if s.relay.TLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.TLSConfig))
	}
	if s.relay.User != "" {
		// The best mechanism the relay offers; over a connection without
		// TLS that excludes PLAIN and LOGIN, so the password never crosses
		// the network in the clear. A relay on this machine may take
		// PLAIN without TLS (go-mail allows it for localhost only).
		auth := gomail.SMTPAuthAutoDiscover
		if s.relay.Host == "localhost" || s.relay.Host == "127.0.0.1" || s.relay.Host == "::1" {
			auth = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.relay.User), gomail.WithPassword(s.relay.Password))
	}
	c, err := gomail.NewClient(s.relay.Host, opts...)
	if err != nil {
		return &Error{Err: err}
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(err, s.relay.Password)
	}
	return nil
}

// build makes the SMTP message: text and HTML as alternatives when both
// are there.
func (s *Sender) build(m *storage.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	from := m.From
	if from == "" {
		from = s.from
	}
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("from %q: %v", from, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("to %q: %v", m.To, err)
	}
	msg.Subject(m.Subject)
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID)
	} else {
		msg.SetMessageID()
	}
	msg.SetDate()
	text := m.Text
	if text == "" && m.HTML == "" {
		text = m.Body
	}
	switch {
	case m.HTML != "" && text != "":
		msg.SetBodyString(gomail.TypeTextPlain, text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, text)
	}
	return msg, nil
}

// classify sorts a failed send: a 5xx reply is permanent, the rest (4xx,
// no reply: the network, a timeout) is worth another try. The password
// never appears in the message.
func classify(err error, password string) *Error {
	e := &Error{Err: err}
	var se *gomail.SendError
	if errors.As(err, &se) {
		e.Code = se.ErrorCode()
	}
	var te *textproto.Error
	if e.Code == 0 && errors.As(err, &te) {
		e.Code = te.Code // a reply go-mail does not wrap in a SendError (AUTH, at dial time)
	}
	e.Permanent = e.Code >= 500 && e.Code < 600
	if password != "" && strings.Contains(err.Error(), password) {
		e.Err = errors.New(strings.ReplaceAll(err.Error(), password, "***"))
	}
	return e
}
