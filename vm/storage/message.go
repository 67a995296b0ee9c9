package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Message is an email or alert the engine decided to send, rendered
// whole: the host only delivers it.
type Message struct {
	Person    string
	Workspace string // the workspace of the campaign that sent it
	Campaign  string
	Step      string // the sending step's identity (ir.StepBase.ID)
	Name      string // the email's name; "" for an alert
	From      string // rendered; "" means the host's default sender
	To        string
	Subject   string // rendered
	Text      string // the text body, rendered
	HTML      string // the HTML body, rendered with token values HTML-escaped
	Body      string // the alert text, rendered
	// Operational is set for an operational email and for alerts: they go
	// even to people who unsubscribed.
	Operational bool
	// ID is the message's stable Message-ID (without angle brackets),
	// given by the store when it keeps the message in its outbox
	// (Commit.Outbox) and never changed afterwards: a resend after a crash
	// carries the same one. Effects called directly get "".
	ID string
	// Activity is the Send Email or Send Alert activity the message goes
	// with; the store numbers it at commit, and the ID is made from its
	// number, which is never given twice.
	Activity *Activity
}

// MessageID is the stable Message-ID a store gives a message it keeps in
// its outbox, once its activity is numbered: the activity's number (never
// given twice by a store), the sending step's identity and a digest of the
// person's id (not the id itself, which may be an address), at the
// sender's domain. The store keeps it with the message, so a message sent
// again after a crash carries the same one.
func MessageID(m *Message) string {
	var seq int64
	if m.Activity != nil {
		seq = m.Activity.Seq
	}
	h := sha256.Sum256([]byte(m.Workspace + "\x00" + m.Person))
	domain := "localhost"
	if at := strings.LastIndexByte(m.From, '@'); at >= 0 {
		d := strings.TrimRight(m.From[at+1:], ">")
		if d != "" && !strings.ContainsAny(d, " <>()[]\\,;:\"\r\n\t") {
			domain = d
		}
	}
	step := m.Step
	if step == "" {
		step = "0"
	}
	return fmt.Sprintf("campc.%d.%s.%s@%s", seq, step, hex.EncodeToString(h[:6]), domain)
}
