package privacy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
)

// Keys opens what the store keeps sealed; secure.Keyring is the real one.
type Keys interface {
	Open(keyID, ciphertext string) (string, error)
}

// StepUp checks that a session may read the report (binding.Service: the
// same check a settings change makes).
type StepUp interface {
	DemandStepUp(sess binding.Session) error
}

// Events tells other systems an account was erased (notify.AccountEvents).
type Events interface {
	AccountErased(ctx context.Context, e ErasedEvent) error
}

// EventNameAccountErased is the domain event of an erasure (SPEC §4.6).
const EventNameAccountErased = "account.erased"

// ErasedEvent is an erasure as other systems hear of it: the account id and
// when, never a number.
type ErasedEvent struct {
	ID        string
	AccountID string
	At        time.Time
}

// Service reports and erases what is held about an account.
type Service struct {
	store  Store
	keys   Keys
	stepUp StepUp
	events Events
	now    func() time.Time
	logger *slog.Logger
}

// New returns a service. events may be nil (nothing is published), now nil
// (time.Now), logger nil (no logs).
func New(st Store, keys Keys, stepUp StepUp, events Events, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, keys: keys, stepUp: stepUp, events: events, now: now, logger: logger}
}

// Report is everything held about an account, as its owner reads it: the
// bound number in full, every other number masked, the tickets' contacts
// opened. It never holds a code, a code's or a number's HMAC, a key id or
// a ciphertext.
type Report struct {
	AccountID   string
	GeneratedAt time.Time
	// Phone is nil when no number is bound (a removal that took effect
	// counts as done, as in status).
	Phone   *Phone
	Consent *binding.Consent
	// Settings are the settings as they apply (defaults included).
	Settings     binding.Settings
	History      []binding.HistoryEntry
	Verification *Request
	Tickets      []Ticket
	// AccessLog and AccessRequests are the reads of the number by portal
	// services and the partners' requests, newest first (SPEC §4.8).
	AccessLog      []binding.AccessLogEntry
	AccessRequests []binding.AccessRequest
	// Email is the verified address kept for removal letters, in full;
	// empty when none is kept.
	Email string
}

// Phone is the bound number.
type Phone struct {
	Number     string // E.164, opened from its ciphertext
	Masked     string // in the account's display format
	VerifiedAt time.Time
	BoundAt    time.Time
	// UnbindAt is when a removal by e-mail code takes effect; zero when
	// none is scheduled.
	UnbindAt time.Time
}

// Request is the latest verification request, without its code.
type Request struct {
	ID          string
	Purpose     binding.Purpose
	Channel     binding.Channel
	Destination string // masked
	State       binding.RequestState
	Reason      string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Ticket is a support ticket with its contact opened.
type Ticket struct {
	ID          string
	Category    feedback.Category
	Message     string
	ContactKind feedback.ContactKind
	// Contact is the address or number in full; empty when none was given.
	Contact    string
	Status     feedback.Status
	Answer     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	AnsweredAt time.Time
}

// Report reads everything held about accountID for its owner, after the
// step-up a settings change asks (*binding.StepUpError otherwise).
func (s *Service) Report(ctx context.Context, accountID string, sess binding.Session) (Report, error) {
	if err := s.stepUp.DemandStepUp(sess); err != nil {
		return Report{}, err
	}
	now := s.now().UTC()
	held, err := s.store.Held(ctx, accountID)
	if err != nil {
		return Report{}, fmt.Errorf("read account data: %w", err)
	}
	set := held.Settings.Applied()
	r := Report{
		AccountID: accountID, GeneratedAt: now, Settings: set,
		History: make([]binding.HistoryEntry, 0, len(held.History)), Tickets: make([]Ticket, 0, len(held.Tickets)),
		AccessLog: held.AccessLog, AccessRequests: held.AccessRequests,
	}
	if r.AccessLog == nil {
		r.AccessLog = []binding.AccessLogEntry{}
	}
	if r.AccessRequests == nil {
		r.AccessRequests = []binding.AccessRequest{}
	}
	p := held.Profile
	if p.Bound() && !p.Lapsed(now) {
		number, err := s.keys.Open(p.Phone.KeyID, p.Phone.Ciphertext)
		if err != nil {
			return Report{}, fmt.Errorf("open bound number: %w", err)
		}
		r.Phone = &Phone{Number: number, Masked: set.Show(p.Phone.Masked), VerifiedAt: p.VerifiedAt, BoundAt: p.BoundAt}
		if p.Holding(now) {
			r.Phone.UnbindAt = p.UnbindAt
		}
		consent := p.Consent
		r.Consent = &consent
	}
	if e := p.Email; !e.IsZero() {
		address, err := s.keys.Open(e.KeyID, e.Ciphertext)
		if err != nil {
			return Report{}, fmt.Errorf("open kept address: %w", err)
		}
		r.Email = address
	}
	for _, h := range held.History {
		h.Phone = set.Show(h.Phone)
		r.History = append(r.History, h)
	}
	if v := held.Verification; v != nil {
		state, reason := v.Effective(now)
		r.Verification = &Request{
			ID: v.ID, Purpose: v.Purpose, Channel: v.Channel, Destination: set.Show(v.Shown()),
			State: state, Reason: reason, CreatedAt: v.CreatedAt, ExpiresAt: v.ExpiresAt,
		}
	}
	for _, t := range held.Tickets {
		out := Ticket{
			ID: t.ID, Category: t.Category, Message: t.Message, Status: t.Status, Answer: t.Answer,
			CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, AnsweredAt: t.AnsweredAt,
		}
		if c := t.Contact; !c.IsZero() {
			contact, err := s.keys.Open(c.KeyID, c.Ciphertext)
			if err != nil {
				return Report{}, fmt.Errorf("open ticket contact: %w", err)
			}
			out.ContactKind, out.Contact = c.Kind, contact
		}
		r.Tickets = append(r.Tickets, out)
	}
	return r, nil
}

// Erase deletes everything held about accountID (Store.Erase) and then
// publishes account.erased. It publishes on every call, a rerun that found
// nothing left included: a run that failed after its last write but before
// its event is then still heard (delivery is at least once anyway, and a
// subscriber deduplicates on the account id). A failed publish is logged,
// never undone.
func (s *Service) Erase(ctx context.Context, accountID string) (Erased, error) {
	now := s.now().UTC()
	erased, err := s.store.Erase(ctx, accountID, now)
	if err != nil {
		return Erased{}, fmt.Errorf("erase account: %w", err)
	}
	if s.events != nil {
		id, err := eventID()
		if err == nil {
			err = s.events.AccountErased(context.WithoutCancel(ctx), ErasedEvent{ID: id, AccountID: accountID, At: now})
		}
		if err != nil {
			s.logger.ErrorContext(ctx, "publish event failed", "event", EventNameAccountErased, "error", err.Error())
		}
	}
	return erased, nil
}

func eventID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("event id: %w", err)
	}
	return hex.EncodeToString(b), nil
}
