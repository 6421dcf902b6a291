package notify

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

var (
	_ binding.SMS       = (*Outbox)(nil)
	_ binding.Email     = (*Outbox)(nil)
	_ binding.CodeSMS   = (*Outbox)(nil)
	_ binding.CodeEmail = (*Outbox)(nil)
)

// Channels a Message can go out on.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// Message is one message the Outbox took, in the JSON shape of
// GET /_local/outbox.
type Message struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Body    string `json:"body"`
	// Code is the verification code the message carries, as the service
	// handed it over (SendCodeSMS, SendCodeEmail), absent from messages
	// that carry none (alerts): what a user would type, so that a client
	// under test need not read it out of the words.
	Code   string    `json:"code,omitempty"`
	SentAt time.Time `json:"sent_at"`
}

// Outbox stands in for SNS and SES in local development: it keeps every
// message and optionally prints it. It is the one place where numbers and
// codes appear in plain text, which is why it is never deployed. Safe for
// concurrent use.
type Outbox struct {
	mu    sync.Mutex
	msgs  []Message
	w     io.Writer
	clock func() time.Time
}

// NewOutbox prints each message to w (nil: silent) and stamps it with clock
// (nil: time.Now).
func NewOutbox(w io.Writer, clock func() time.Time) *Outbox {
	if clock == nil {
		clock = time.Now
	}
	return &Outbox{w: w, clock: clock}
}

// SendSMS records a text message to the E.164 number to.
func (o *Outbox) SendSMS(ctx context.Context, to, body string) error {
	return o.add(ctx, Message{Channel: ChannelSMS, To: to, Body: body})
}

// SendCodeSMS records a text message that carries a verification code.
func (o *Outbox) SendCodeSMS(ctx context.Context, to, body, code string) error {
	return o.add(ctx, Message{Channel: ChannelSMS, To: to, Body: body, Code: code})
}

// SendEmail records an e-mail; its Body is the subject, a blank line and the
// body, as a mail client would show it.
func (o *Outbox) SendEmail(ctx context.Context, to, subject, body string) error {
	return o.add(ctx, Message{Channel: ChannelEmail, To: to, Body: subject + "\n\n" + body})
}

// SendCodeEmail records an e-mail that carries a verification code.
func (o *Outbox) SendCodeEmail(ctx context.Context, to, subject, body, code string) error {
	return o.add(ctx, Message{Channel: ChannelEmail, To: to, Body: subject + "\n\n" + body, Code: code})
}

func (o *Outbox) add(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("outbox %s: %w", m.Channel, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	// The clock is read under the lock so that order and SentAt agree.
	m.SentAt = o.clock()
	o.msgs = append(o.msgs, m)
	if o.w != nil {
		// Printing is best effort: a broken console must not fail a send.
		_, _ = fmt.Fprintf(o.w, "--- outbox %s to %s at %s\n%s\n---\n",
			m.Channel, m.To, m.SentAt.Format(time.RFC3339), m.Body)
	}
	return nil
}

// Messages returns a copy of everything sent so far, oldest first.
func (o *Outbox) Messages() []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Message, len(o.msgs))
	copy(out, o.msgs)
	return out
}

// MessagesTo returns, oldest first, the messages sent to one destination:
// an E.164 number as the service sends to it (the caller canonicalises what
// people type), or an e-mail address in any letter case.
func (o *Outbox) MessagesTo(to string) []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := []Message{}
	for _, m := range o.msgs {
		if m.To == to || (m.Channel == ChannelEmail && strings.EqualFold(m.To, to)) {
			out = append(out, m)
		}
	}
	return out
}

// Clear forgets every message sent so far.
func (o *Outbox) Clear() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = nil
}
