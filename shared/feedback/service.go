package feedback

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Config holds the rules' numbers.
type Config struct {
	// TicketsPerDay is how many tickets one account may file per UTC day
	// (default 10).
	TicketsPerDay int
}

// DefaultTicketsPerDay is SPEC §4.5's daily limit.
const DefaultTicketsPerDay = 10

// Page sizes of an author's list.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// maxIDDraws bounds how often a new id is drawn when the one drawn is
// taken: with 31^8 ids a single collision is already most unlikely.
const maxIDDraws = 5

// maxStaleRetries bounds how often a status change that lost a race with
// another one is judged again on fresh data.
const maxStaleRetries = 2

// Service carries out the ticket rules over a Store, a key ring and an
// events publisher. It is safe for concurrent use: all coordination happens
// in the store's conditional writes.
type Service struct {
	cfg    Config
	store  Store
	keys   Keys
	events Events
	now    Clock
	log    *slog.Logger
}

// New wires a Service. A nil clock means time.Now, a nil logger discards,
// nil events publishes nothing.
func New(cfg Config, store Store, keys Keys, events Events, clock Clock, logger *slog.Logger) *Service {
	if cfg.TicketsPerDay <= 0 {
		cfg.TicketsPerDay = DefaultTicketsPerDay
	}
	if clock == nil {
		clock = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, store: store, keys: keys, events: events, now: clock, log: logger}
}

// NewTicket is a ticket as its author files it; the HTTP layer has already
// parsed the contact.
type NewTicket struct {
	AccountID string
	Category  Category
	// Message is as typed: the service trims it and counts characters.
	Message string
	Contact ContactInput
}

// Create files a ticket (SPEC §4.5). The ticket, its id and the author's
// daily count are written in one step, so a refused ticket counts nothing.
func (s *Service) Create(ctx context.Context, r NewTicket) (Ticket, error) {
	if r.AccountID == "" {
		return Ticket{}, errors.New("create ticket: no account")
	}
	if !r.Category.Valid() {
		return Ticket{}, &FieldError{Field: "category", Reason: ReasonUnsupported, Allowed: names(Categories)}
	}
	message, err := text("message", r.Message, MaxMessageChars)
	if err != nil {
		return Ticket{}, err
	}
	contact, err := s.seal(r.Contact)
	if err != nil {
		return Ticket{}, err
	}
	now := s.clock()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	limit := Limit{WindowStart: day, Period: 24 * time.Hour, Max: s.cfg.TicketsPerDay}
	for draw := 1; ; draw++ {
		id, err := NewTicketID()
		if err != nil {
			return Ticket{}, err
		}
		t := Ticket{
			ID:        id,
			AccountID: r.AccountID,
			Category:  r.Category,
			Message:   message,
			Contact:   contact,
			Status:    StatusNew,
			CreatedAt: now,
			UpdatedAt: now,
		}
		err = s.store.CreateTicket(ctx, Creation{Ticket: t, Limit: limit})
		switch {
		case errors.Is(err, ErrDuplicateID) && draw < maxIDDraws:
			continue
		case errors.Is(err, ErrDailyLimit):
			end := limit.WindowEnd()
			return Ticket{}, &RateLimitError{Max: limit.Max, Until: end, RetryAfter: max(end.Sub(now), time.Second)}
		case err != nil:
			return Ticket{}, fmt.Errorf("create ticket: %w", err)
		}
		s.publish(ctx, EventCreated, t, "", now)
		return t, nil
	}
}

// seal turns a validated contact into what may be stored.
func (s *Service) seal(c ContactInput) (Contact, error) {
	switch {
	case !c.Phone.IsZero():
		e164 := c.Phone.E164()
		keyID, sealed, err := s.keys.Seal(e164)
		if err != nil {
			return Contact{}, fmt.Errorf("seal contact: %w", err)
		}
		return Contact{Kind: ContactPhone, HMAC: s.keys.PhoneMAC(e164), KeyID: keyID, Ciphertext: sealed, Masked: c.Phone.Masked()}, nil
	case !c.Email.IsZero():
		keyID, sealed, err := s.keys.Seal(c.Email.Address())
		if err != nil {
			return Contact{}, fmt.Errorf("seal contact: %w", err)
		}
		return Contact{Kind: ContactEmail, KeyID: keyID, Ciphertext: sealed, Masked: c.Email.Masked()}, nil
	}
	return Contact{}, nil
}

// Get shows one of the caller's tickets. Another account's ticket, a
// missing one and an id of the wrong shape are all ErrTicketNotFound.
func (s *Service) Get(ctx context.Context, accountID, ticketID string) (Ticket, error) {
	id, ok := NormalizeTicketID(ticketID)
	if !ok {
		return Ticket{}, ErrTicketNotFound
	}
	t, err := s.store.Ticket(ctx, accountID, id)
	if err != nil {
		if errors.Is(err, ErrTicketNotFound) {
			return Ticket{}, err
		}
		return Ticket{}, fmt.Errorf("read ticket: %w", err)
	}
	return t, nil
}

// List pages through the caller's tickets, newest first. cursor is "" for
// the first page or a Page's Next as EncodeCursor gave it; size is clamped
// to 1..MaxPageSize, 0 meaning DefaultPageSize.
func (s *Service) List(ctx context.Context, accountID, cursor string, size int) (Page, error) {
	var after *Position
	if cursor != "" {
		p, err := DecodeCursor(cursor)
		if err != nil {
			return Page{}, err
		}
		after = &p
	}
	switch {
	case size <= 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	tickets, next, err := s.store.Tickets(ctx, accountID, after, size)
	if err != nil {
		return Page{}, fmt.Errorf("list tickets: %w", err)
	}
	if tickets == nil {
		tickets = []Ticket{}
	}
	return Page{Tickets: tickets, Next: next}, nil
}

// Update is an operator's status change, as the ops event carries it.
type Update struct {
	TicketID string
	Status   Status
	Answer   string
	Operator string
}

// Change is what an Update did.
type Change struct {
	Ticket   Ticket
	Previous Status
	// Unchanged is true when the ticket already was where the update
	// wanted it (the same status and answer): a repeated event changes
	// nothing and publishes nothing.
	Unchanged bool
}

// UpdateTicket moves a ticket on an operator's word: forward only (CanMove),
// an answer required for and only allowed with answered, the operator
// recorded. The write insists the ticket is still at the status it was
// judged on, so two operators can never both move it from the same place.
func (s *Service) UpdateTicket(ctx context.Context, u Update) (Change, error) {
	id, ok := NormalizeTicketID(u.TicketID)
	if !ok {
		return Change{}, ErrTicketNotFound
	}
	if !u.Status.Valid() {
		return Change{}, &FieldError{Field: "status", Reason: ReasonUnsupported, Allowed: names(Statuses)}
	}
	operator, err := text("operator", u.Operator, MaxOperatorChars)
	if err != nil {
		return Change{}, err
	}
	answer := strings.TrimSpace(u.Answer)
	if u.Status == StatusAnswered {
		if answer, err = text("answer", u.Answer, MaxAnswerChars); err != nil {
			return Change{}, err
		}
	} else if answer != "" {
		return Change{}, &FieldError{Field: "answer", Reason: ReasonNotAllowed}
	}
	for try := 0; ; try++ {
		t, err := s.store.TicketByID(ctx, id)
		if err != nil {
			if errors.Is(err, ErrTicketNotFound) {
				return Change{}, err
			}
			return Change{}, fmt.Errorf("read ticket: %w", err)
		}
		if t.Status == u.Status && (u.Status != StatusAnswered || t.Answer == answer) {
			return Change{Ticket: t, Previous: t.Status, Unchanged: true}, nil
		}
		if !CanMove(t.Status, u.Status) {
			return Change{}, &TransitionError{From: t.Status, To: u.Status}
		}
		now := s.clock()
		updated, err := s.store.UpdateTicket(ctx, StatusChange{Ticket: t, To: u.Status, Answer: answer, Operator: operator, Now: now})
		if errors.Is(err, ErrStale) && try < maxStaleRetries {
			continue
		}
		if err != nil {
			if errors.Is(err, ErrTicketNotFound) || errors.Is(err, ErrStale) {
				return Change{}, err
			}
			return Change{}, fmt.Errorf("update ticket: %w", err)
		}
		s.publish(ctx, EventUpdated, updated, t.Status, now)
		return Change{Ticket: updated, Previous: t.Status}, nil
	}
}

// publish tells other systems about a committed change. The change stands
// whatever happens here: a failure is logged (ids only, never the message
// or the contact) and the request still succeeds.
func (s *Service) publish(ctx context.Context, name string, t Ticket, previous Status, at time.Time) {
	if s.events == nil {
		return
	}
	id, err := eventID()
	if err != nil {
		s.log.ErrorContext(ctx, "event not published", "event", name, "ticket_id", t.ID, "error", err.Error())
		return
	}
	if err := s.events.Publish(context.WithoutCancel(ctx), name, eventOf(name, t, previous, at, id)); err != nil {
		s.log.ErrorContext(ctx, "event not published", "event", name, "event_id", id, "ticket_id", t.ID, "error", err.Error())
	}
}

// clock is now in UTC to the millisecond, the precision the store keeps,
// so a ticket reads back exactly as it was written.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// text trims a required text field and checks its length in characters.
func text(field, raw string, maxChars int) (string, error) {
	v := strings.TrimSpace(raw)
	switch n := utf8.RuneCountInString(v); {
	case n == 0:
		return "", &FieldError{Field: field, Reason: ReasonRequired}
	case n > maxChars:
		return "", &FieldError{Field: field, Reason: ReasonTooLong, Max: maxChars}
	}
	return v, nil
}

func names[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func eventID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random event id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
