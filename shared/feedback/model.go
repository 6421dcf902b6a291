// Package feedback holds the rules for support tickets (SPEC §4.5): a
// signed-in citizen writes to support, sees only their own tickets and the
// answers to them, and operators move tickets through their statuses. It
// knows nothing of Lambda, HTTP, JSON bodies or the AWS SDK: adapters reach
// it through the ports in ports.go.
package feedback

import (
	"slices"
	"time"
)

// Category is what a ticket is about.
type Category string

// Categories a ticket can have.
const (
	CategoryQuestion   Category = "question"
	CategoryProblem    Category = "problem"
	CategorySuggestion Category = "suggestion"
)

// Categories lists every category, in the order forms show them.
var Categories = []Category{CategoryQuestion, CategoryProblem, CategorySuggestion}

// Valid reports whether c is one of Categories.
func (c Category) Valid() bool { return slices.Contains(Categories, c) }

// Status is where a ticket stands. A ticket only moves forward through
// Statuses: new → in_progress → answered → closed, steps may be skipped
// (an operator may answer a new ticket at once, or close spam unanswered),
// and a closed ticket never moves again.
type Status string

// Statuses of a ticket, in the order a ticket goes through them.
const (
	StatusNew        Status = "new"
	StatusInProgress Status = "in_progress"
	StatusAnswered   Status = "answered"
	StatusClosed     Status = "closed"
)

// Statuses lists every status in the order a ticket goes through them.
var Statuses = []Status{StatusNew, StatusInProgress, StatusAnswered, StatusClosed}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// CanMove reports whether a ticket at from may be moved to to: forward only,
// never to the same status, never out of closed.
func CanMove(from, to Status) bool {
	f, t := slices.Index(Statuses, from), slices.Index(Statuses, to)
	return f >= 0 && t > f
}

// Next lists the statuses a ticket at from may be moved to.
func Next(from Status) []Status {
	var out []Status
	for _, s := range Statuses {
		if CanMove(from, s) {
			out = append(out, s)
		}
	}
	return out
}

// Limits of what a ticket holds, in characters (Unicode code points, so a
// Cyrillic letter counts once although UTF-8 spends two bytes on it).
const (
	MaxMessageChars  = 4000
	MaxAnswerChars   = 4000
	MaxOperatorChars = 100
)

// ContactKind says what kind of address a contact is.
type ContactKind string

// Kinds of contact.
const (
	ContactEmail ContactKind = "email"
	ContactPhone ContactKind = "phone"
)

// Contact is how the author asked to be reached, kept the way every number
// is kept (binding.SealedPhone): a keyed hash (numbers only, for lookups
// and limits), an AES-GCM ciphertext tagged with its key id, and the masked
// form, which alone is ever shown. The plain value is never stored.
type Contact struct {
	Kind       ContactKind
	HMAC       string
	KeyID      string
	Ciphertext string
	Masked     string
}

// IsZero reports whether no contact was given.
func (c Contact) IsZero() bool { return c.Kind == "" }

// Ticket is one support request. Times are UTC, to the millisecond (what
// the store keeps).
type Ticket struct {
	ID        string
	AccountID string
	Category  Category
	// Message is the author's text, trimmed. It is shown to its author and
	// to operators, and never written to a log or an event.
	Message   string
	Contact   Contact
	Status    Status
	Answer    string
	CreatedAt time.Time
	UpdatedAt time.Time
	// UpdatedBy is the operator who made the last status change; empty
	// while the ticket is new.
	UpdatedBy  string
	AnsweredBy string
	AnsweredAt time.Time
}

// Position is where a ticket sits in its author's list, newest first: by
// creation time, then by id. A page continues after a Position.
type Position struct {
	CreatedAt time.Time
	ID        string
}

// PositionOf is the place of t in its author's list.
func PositionOf(t Ticket) Position { return Position{CreatedAt: t.CreatedAt, ID: t.ID} }

// Limit is the fixed window in which an account may file at most Max
// tickets.
type Limit struct {
	WindowStart time.Time
	Period      time.Duration
	Max         int
}

// WindowEnd is when the window closes and the count starts again.
func (l Limit) WindowEnd() time.Time { return l.WindowStart.Add(l.Period) }

// Creation is everything filing a ticket writes in one atomic step: the
// ticket, its id reserved for good, and one more ticket on its author's
// counter for the window.
type Creation struct {
	Ticket Ticket
	Limit  Limit
}

// StatusChange moves Ticket (as read) to To, in one step that holds only if
// the ticket is still at Ticket.Status.
type StatusChange struct {
	Ticket   Ticket
	To       Status
	Answer   string // set only when To is answered
	Operator string
	Now      time.Time
}

// Page is one page of an author's tickets, newest first. Next is where the
// following page starts; nil when this is the last one.
type Page struct {
	Tickets []Ticket
	Next    *Position
}
