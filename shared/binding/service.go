// Package binding's Service: its configuration, wiring, ids and codes, and
// the domain events every committed change publishes.

package binding

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"
)

// Config holds the rules' numbers (SPEC §3, §4.2); shared/config fills it
// from the environment.
type Config struct {
	CodeLength          int
	CodeTTL             time.Duration
	MaxAttempts         int
	ResendCooldown      time.Duration
	CodesPerAccountHour int
	CodesPerPhoneDay    int
	CodesPerIPHour      int
	ChangeCooldown      time.Duration
	MaxFailuresDay      int
	CodesPerPrefixDay   int
	CodesGlobalDay      int
	// TestNumbers maps fictional E.164 numbers to their fixed codes: no SMS
	// is sent to them, every other rule applies.
	TestNumbers      map[string]string
	ConsentVersion   string
	HistoryRetention time.Duration
	HistoryLimit     int
	// StepUp is what a change and an unbind ask of the session.
	StepUp StepUp
	// UnbindEmailHold is how long a removal by e-mail code waits before it
	// takes effect (UNBIND_EMAIL_HOLD); zero removes at once.
	UnbindEmailHold time.Duration
	// ProfileURL is the portal's profile page, linked from the letters
	// (PROFILE_URL).
	ProfileURL string
	// ShareApprovalTTL is how long a partner's approval lasts, and how
	// long a request waits for an answer or a decline holds
	// (SHARE_APPROVAL_TTL).
	ShareApprovalTTL time.Duration
	// AccessLogRetention is how long a read stays in the access log
	// (ACCESS_LOG_RETENTION).
	AccessLogRetention time.Duration
}

// DeliveryRetryAfter is what a caller is told to wait after a failed send.
const DeliveryRetryAfter = 30 * time.Second

// Service carries out the binding rules over a Store, an SMS sender and a
// key ring. It is safe for concurrent use: all coordination happens in the
// store's conditional writes.
type Service struct {
	cfg    Config
	store  Store
	sms    SMS
	email  Email
	events Events
	sigs   Signals
	keys   Keys
	now    Clock
	log    *slog.Logger
}

// Senders are where the service's messages go. SMS is required. Without
// Email an e-mailed code fails as undeliverable; without Events no domain
// events are published; without Signals no operator hears of a defence at
// work.
type Senders struct {
	SMS     SMS
	Email   Email
	Events  Events
	Signals Signals
}

// New wires a Service. A nil clock means time.Now; a nil logger discards.
func New(cfg Config, store Store, senders Senders, keys Keys, clock Clock, logger *slog.Logger) *Service {
	if clock == nil {
		clock = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = 20
	}
	return &Service{
		cfg: cfg, store: store, sms: senders.SMS, email: senders.Email, events: senders.Events, sigs: senders.Signals,
		keys: keys, now: clock, log: logger,
	}
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns 128 random bits, lower-case base32: unguessable, URL-safe.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return strings.ToLower(idEncoding.EncodeToString(b[:])), nil
}

// newCode returns n uniformly random decimal digits from crypto/rand.
func newCode(n int) (string, error) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return "", fmt.Errorf("random code: %w", err)
	}
	return fmt.Sprintf("%0*d", n, v.Int64()), nil
}

// publish tells other systems about a committed change. The change stands
// whatever happens here: the SDK has already retried, so a failure is only
// logged (with the event id, to republish by hand from the history entry).
//
// The event carries the account's push setting (set, as read after the
// commit) for a push service to honour.
func (s *Service) publish(ctx context.Context, accountID string, h HistoryEntry, previous string, set Settings) {
	if s.events == nil {
		return
	}
	e := PhoneEvent{
		ID: h.ID, Name: eventNames[h.Event], AccountID: accountID, Phone: h.Phone,
		Previous: previous, Actor: h.Actor, Channel: h.Channel, At: h.At,
		Push: set.Notifications.Push, Fields: h.Fields,
	}
	if err := s.events.PhoneEvent(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "event not published", "event", e.Name, "event_id", e.ID, "error", err.Error())
	}
}

// after reads the account once a change is committed: the status to
// answer with and the settings the notices follow. When the read fails
// the notices still go out, under the defaults (every notice on): one
// wrongly sent is better than a security notice lost.
func (s *Service) after(ctx context.Context, accountID string) (Status, Settings, error) {
	snap, err := s.store.Snapshot(ctx, accountID, s.cfg.HistoryLimit)
	if err != nil {
		return Status{}, DefaultSettings(), fmt.Errorf("read account: %w", err)
	}
	return s.status(snap, s.now().UTC()), snap.Settings.Applied(), nil
}

// signal tells operators of a defence at work (nothing without Signals).
func (s *Service) signal(ctx context.Context, sig Signal) {
	if s.sigs != nil {
		s.sigs.Signal(ctx, sig)
	}
}
