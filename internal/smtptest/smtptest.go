// Package smtptest is a real SMTP server for tests (github.com/emersion/
// go-smtp as the receiving side) on 127.0.0.1: it keeps what it accepts,
// decoded (text and HTML parts), and can be told to refuse a recipient
// (4xx or 5xx) or to hold a transaction at RCPT TO until released, to
// crash a sender in the middle of a delivery.
package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is a message the server accepted. Text and HTML are decoded,
// with LF line ends and no final line end.
type Message struct {
	From      string
	To        []string
	MessageID string // without angle brackets
	Subject   string
	Header    mail.Header
	Text      string
	HTML      string
	Raw       []byte
}

// Server is a running SMTP server.
type Server struct {
	Addr string // host:port
	Host string
	Port int

	// User and Password, when set, are required (AUTH PLAIN).
	User, Password string

	mu sync.Mutex
	// Refuse, when set, is asked at each RCPT TO with the recipient and
	// the how-manieth time it is asked for that recipient (1 first); a
	// non-nil *smtp.SMTPError refuses it.
	refuse   func(to string, n int) *smtp.SMTPError
	rcpts    map[string]int
	received []Message
	hold     chan struct{} // when set, RCPT TO waits until it is closed
	held     chan string   // a recipient held, once per hold
	srv      *smtp.Server
}

// Start starts a server; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), rcpts: map[string]int{}}
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Refuse sets the refusal rule (nil: accept every recipient).
func (s *Server) Refuse(f func(to string, n int) *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = f
}

// Hold makes every RCPT TO wait until Release; each held recipient is
// sent on the returned channel.
func (s *Server) Hold() <-chan string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.held = make(chan struct{}), make(chan string, 100)
	return s.held
}

// Release lets held transactions go on (their sender may be gone).
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// Messages returns what the server accepted, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.received...)
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != ss.s.User || pass != ss.s.Password {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.s.User != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	s := ss.s
	s.mu.Lock()
	hold, held := s.hold, s.held
	s.mu.Unlock()
	if hold != nil {
		held <- to
		<-hold
	}
	s.mu.Lock()
	s.rcpts[to]++
	n, refuse := s.rcpts[to], s.refuse
	s.mu.Unlock()
	if refuse != nil {
		if e := refuse(to, n); e != nil {
			return e
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "cannot parse the message: " + err.Error()}
	}
	m.From, m.To = ss.from, ss.to
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, m)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parse decodes a message: headers, and its text and HTML parts.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, err
	}
	m := Message{Raw: raw, Header: msg.Header, Subject: subj,
		MessageID: strings.Trim(msg.Header.Get("Message-Id"), "<>")}
	err = part(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m, err
}

func part(m *Message, ctype, enc string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := part(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(enc) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	// Line ends as the text had them; the line end that closes a body
	// that is not multipart is the message's, not the text's.
	text := strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	switch mt {
	case "text/plain":
		m.Text = text
	case "text/html":
		m.HTML = text
	}
	return nil
}
