package feedback

import (
	"context"
	"time"

	"github.com/gosuslugi/phonebind/shared/phone"
)

// Store keeps tickets. Every method is one atomic step; none reads and then
// writes on the caller's behalf. Adapters: store.FeedbackMemory and
// store.Dynamo, held to one contract by storetest.RunFeedback.
type Store interface {
	// CreateTicket writes c.Ticket and adds one to its author's counter for
	// c.Limit's window, all or nothing. It fails with ErrDuplicateID when a
	// ticket with that id exists (whoever wrote it) and ErrDailyLimit when
	// the counter is at c.Limit.Max; then nothing is written.
	CreateTicket(ctx context.Context, c Creation) error
	// Ticket reads one of accountID's tickets. Another account's ticket is
	// ErrTicketNotFound, exactly like one that does not exist.
	Ticket(ctx context.Context, accountID, ticketID string) (Ticket, error)
	// Tickets lists accountID's tickets newest first, at most limit of them,
	// starting after the position after (nil: from the newest). The
	// returned Position is where the next page starts, nil when no ticket
	// is left.
	Tickets(ctx context.Context, accountID string, after *Position, limit int) ([]Ticket, *Position, error)
	// TicketByID reads a ticket whoever wrote it, for operators. A missing
	// one is ErrTicketNotFound.
	TicketByID(ctx context.Context, ticketID string) (Ticket, error)
	// UpdateTicket applies a status change and returns the ticket as it is
	// after it. It fails with ErrStale when the ticket is no longer at
	// c.Ticket.Status, and ErrTicketNotFound when it is gone.
	UpdateTicket(ctx context.Context, c StatusChange) (Ticket, error)
}

// Keys seals contacts for storage; secure.Keyring is the real one. Key
// material stays inside it.
type Keys interface {
	// PhoneMAC is the HMAC-SHA256 of an E.164 number, hex-encoded.
	PhoneMAC(e164 string) string
	// Seal encrypts with the newest key and says which key it used.
	Seal(plaintext string) (keyID, ciphertext string, err error)
}

// Events publishes a named event for other systems (SPEC §4.6);
// notify.EventTopic and notify.EventLog have exactly this method.
type Events interface {
	Publish(ctx context.Context, name string, event any) error
}

// PhoneParser turns what a user typed into a validated mobile number,
// failing with *phone.InvalidError; phone.Parser is the real one.
type PhoneParser interface {
	Parse(raw string) (phone.Number, error)
}

// Clock tells the time; tests inject a fake one.
type Clock func() time.Time
