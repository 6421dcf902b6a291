package binding

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base32"
	"errors"
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
	keys   Keys
	now    Clock
	log    *slog.Logger
}

// Senders are where the service's messages go. SMS is required. Without
// Email an e-mailed code fails as undeliverable; without Events no domain
// events are published.
type Senders struct {
	SMS    SMS
	Email  Email
	Events Events
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
		cfg: cfg, store: store, sms: senders.SMS, email: senders.Email, events: senders.Events,
		keys: keys, now: clock, log: logger,
	}
}

// Texts of the messages the service sends. Codes never appear anywhere else.
const (
	codeText          = "Код подтверждения: %s. Никому не сообщайте его, даже сотрудникам Госуслуг. Действует %s."
	unbindCodeText    = "Код для отвязки номера от профиля Госуслуг: %s. Никому не сообщайте его. Действует %s."
	changeRequestText = "Запрошена смена номера телефона в профиле Госуслуг. Если это были не вы, смените пароль и обратитесь в поддержку."
	changeDoneText    = "Номер телефона в профиле Госуслуг изменён. Если это были не вы, срочно обратитесь в поддержку."

	unbindEmailSubject = "Код для отвязки номера телефона от профиля Госуслуг"
	unbindEmailBody    = "Здравствуйте!\n\n" +
		"Вы запросили отвязку номера %s от профиля Госуслуг. Код подтверждения: %s. Код действует %s.\n\n" +
		"Никому не сообщайте код, даже сотрудникам Госуслуг. Если вы не запрашивали отвязку, " +
		"не вводите код, смените пароль и обратитесь в поддержку."
)

// RequestCode sends a code to a new number for binding or changing it. It
// answers alike for a free and a taken number: whether a number is taken is
// revealed only once its code is confirmed.
func (s *Service) RequestCode(ctx context.Context, r CodeRequest) (CodeSent, error) {
	switch r.Purpose {
	case PurposeBind:
	case PurposeUnbind:
		return s.requestUnbind(ctx, r)
	default:
		return CodeSent{}, ErrInvalidPurpose
	}
	if !r.Consent {
		return CodeSent{}, ErrConsentRequired
	}
	e164 := r.Phone.E164()
	mac := s.keys.PhoneMAC(e164)
	// A concurrent commit can move the profile between the read and the
	// write; the write then fails with ErrStale and the rules are checked
	// again on fresh data.
	for try := 0; ; try++ {
		now := s.now().UTC()
		snap, err := s.store.Snapshot(ctx, r.AccountID, 0)
		if err != nil {
			return CodeSent{}, fmt.Errorf("read account: %w", err)
		}
		if err := s.checkBind(snap, mac, now); err != nil {
			return CodeSent{}, err
		}
		sent, err := s.startBind(ctx, r, snap, mac, now)
		if errors.Is(err, ErrStale) && try < 2 {
			continue
		}
		return sent, err
	}
}

// requestUnbind sends a code that confirms removing the bound number: by
// SMS to that number, or by e-mail to the account's address when the SIM is
// lost (SPEC §4.3).
func (s *Service) requestUnbind(ctx context.Context, r CodeRequest) (CodeSent, error) {
	if r.Channel != ChannelSMS && r.Channel != ChannelEmail {
		return CodeSent{}, ErrInvalidPurpose
	}
	for try := 0; ; try++ {
		now := s.now().UTC()
		snap, err := s.store.Snapshot(ctx, r.AccountID, 0)
		if err != nil {
			return CodeSent{}, fmt.Errorf("read account: %w", err)
		}
		p := snap.Profile
		if !p.Bound() {
			return CodeSent{}, ErrNoPhoneBound
		}
		if r.Channel == ChannelEmail && strings.TrimSpace(r.Email) == "" {
			return CodeSent{}, ErrEmailUnavailable
		}
		if v := snap.Verification; v != nil && now.Before(v.ResendAfter) {
			return CodeSent{}, &RateLimitError{Limit: LimitCooldown, RetryAfter: v.ResendAfter.Sub(now)}
		}
		var sent CodeSent
		if r.Channel == ChannelEmail {
			sent, err = s.unbindByEmail(ctx, r, snap, now)
		} else {
			sent, err = s.unbindBySMS(ctx, r, snap, now)
		}
		if errors.Is(err, ErrStale) && try < 2 {
			continue
		}
		return sent, err
	}
}

func (s *Service) unbindBySMS(ctx context.Context, r CodeRequest, snap Snapshot, now time.Time) (CodeSent, error) {
	p := snap.Profile
	e164, err := s.keys.Open(p.Phone.KeyID, p.Phone.Ciphertext)
	if err != nil {
		return CodeSent{}, fmt.Errorf("open bound number: %w", err)
	}
	v, err := s.issue(r.AccountID, PurposeUnbind, ChannelSMS, p.Phone, snap, now)
	if err != nil {
		return CodeSent{}, err
	}
	return s.deliver(ctx, v, s.smsPlan(r, e164, p.Phone.HMAC, unbindCodeText, now), now)
}

// unbindByEmail mails the code. The per-destination daily limit counts the
// address as it counts a number; the number-range cap is for SMS only.
func (s *Service) unbindByEmail(ctx context.Context, r CodeRequest, snap Snapshot, now time.Time) (CodeSent, error) {
	p := snap.Profile
	addr := strings.TrimSpace(r.Email)
	v, err := s.issue(r.AccountID, PurposeUnbind, ChannelEmail, p.Phone, snap, now)
	if err != nil {
		return CodeSent{}, err
	}
	v.SentTo = maskEmail(addr)
	mac := s.keys.PhoneMAC("mailto:" + strings.ToLower(addr))
	return s.deliver(ctx, v, plan{
		counters: s.counters(r, mac, "", now),
		checks:   s.failureCounters(r.AccountID, p.Phone.HMAC, now),
		send: func(ctx context.Context, code string) error {
			if s.email == nil {
				return errors.New("no e-mail sender configured")
			}
			body := fmt.Sprintf(unbindEmailBody, p.Phone.Masked, code, lifetime(s.cfg.CodeTTL))
			return s.email.SendEmail(ctx, addr, unbindEmailSubject, body)
		},
	}, now)
}

// plan is what sending one code involves: the counters it spends, the
// counters it must stay under, and how it goes out.
type plan struct {
	counters []Counter
	checks   []Counter
	// fixed is a fictional test number's code; empty means a random one.
	fixed string
	// send delivers the code; nil sends nothing (test numbers).
	send func(ctx context.Context, code string) error
	// prefix is the number range, named in the log line when its cap trips.
	prefix string
}

// smsPlan sends the code by SMS to e164 in the words of format. A fictional
// test number gets no SMS and its fixed code, under every other rule.
func (s *Service) smsPlan(r CodeRequest, e164, mac, format string, now time.Time) plan {
	prefix := numberRange(e164)
	p := plan{
		counters: s.counters(r, mac, s.keys.PhoneMAC("range:"+prefix), now),
		checks:   s.failureCounters(r.AccountID, mac, now),
		prefix:   prefix,
	}
	if code, test := s.cfg.TestNumbers[e164]; test {
		p.fixed = code
		return p
	}
	p.send = func(ctx context.Context, code string) error {
		return s.sms.SendSMS(ctx, e164, fmt.Sprintf(format, code, lifetime(s.cfg.CodeTTL)))
	}
	return p
}

// numberRange is the number without its last 4 digits: the block a carrier
// (or an SMS-pumping premium range) is allocated.
func numberRange(e164 string) string {
	if len(e164) <= 5 {
		return e164
	}
	return e164[:len(e164)-4]
}

func (s *Service) checkBind(snap Snapshot, mac string, now time.Time) error {
	p := snap.Profile
	if p.Bound() {
		if p.Phone.HMAC == mac {
			return ErrSamePhone
		}
		if allowed := p.BoundAt.Add(s.cfg.ChangeCooldown); now.Before(allowed) {
			return &ChangeTooSoonError{AllowedAfter: allowed}
		}
	}
	if v := snap.Verification; v != nil && now.Before(v.ResendAfter) {
		return &RateLimitError{Limit: LimitCooldown, RetryAfter: v.ResendAfter.Sub(now)}
	}
	return nil
}

func (s *Service) startBind(ctx context.Context, r CodeRequest, snap Snapshot, mac string, now time.Time) (CodeSent, error) {
	p := snap.Profile
	e164 := r.Phone.E164()
	keyID, sealed, err := s.keys.Seal(e164)
	if err != nil {
		return CodeSent{}, fmt.Errorf("seal number: %w", err)
	}
	dest := SealedPhone{HMAC: mac, KeyID: keyID, Ciphertext: sealed, Masked: r.Phone.Masked()}
	v, err := s.issue(r.AccountID, PurposeBind, ChannelSMS, dest, snap, now)
	if err != nil {
		return CodeSent{}, err
	}
	v.Previous = p.Phone
	v.ConsentVersion = s.cfg.ConsentVersion
	sent, err := s.deliver(ctx, v, s.smsPlan(r, e164, mac, codeText, now), now)
	if err == nil && p.Bound() {
		s.alert(ctx, p.Phone, changeRequestText)
	}
	return sent, err
}

// maxResendDoublings caps the growth of the resend delay (60 s · 2^10 is
// about 17 hours, far past the hourly limit anyway).
const maxResendDoublings = 10

// issue makes a fresh verification about dest, whose code goes by channel;
// deliver gives it its code. Each code within an hour of the previous one
// waits twice as long before the next (60 s, 120 s, 240 s, …).
func (s *Service) issue(accountID string, purpose Purpose, channel Channel, dest SealedPhone, snap Snapshot, now time.Time) (Verification, error) {
	id, err := newID()
	if err != nil {
		return Verification{}, err
	}
	seq := 1
	if prev := snap.Verification; prev != nil && now.Sub(prev.CreatedAt) < time.Hour {
		seq = max(prev.Sequence, 1) + 1
	}
	wait := s.cfg.ResendCooldown << min(seq-1, maxResendDoublings)
	return Verification{
		ID:             id,
		AccountID:      accountID,
		Purpose:        purpose,
		Channel:        channel,
		Destination:    dest,
		CreatedAt:      now,
		ExpiresAt:      now.Add(s.cfg.CodeTTL),
		ResendAfter:    now.Add(wait),
		MaxAttempts:    s.cfg.MaxAttempts,
		State:          RequestPending,
		ProfileVersion: snap.Profile.Version,
		Sequence:       seq,
	}, nil
}

// deliver gives v a code, stores it with one more code on every counter of
// the plan (and the plan's checks held), then sends it; a failed send takes
// both back.
func (s *Service) deliver(ctx context.Context, v Verification, p plan, now time.Time) (CodeSent, error) {
	code := p.fixed
	if code == "" {
		var err error
		if code, err = newCode(s.cfg.CodeLength); err != nil {
			return CodeSent{}, err
		}
	}
	v.CodeHMAC = s.keys.CodeMAC(v.ID, code)
	start := Start{Verification: v, Counters: p.counters, Checks: p.checks, Now: now}
	if err := s.store.StartVerification(ctx, start); err != nil {
		if !refused(err) {
			// The write may have happened (a timeout after the call): make
			// sure no code is left that no message carries. Counters stay
			// spent; that errs on the safe side.
			if cerr := s.store.CancelVerification(context.WithoutCancel(ctx), Start{Verification: v, Now: now}); cerr != nil {
				s.log.ErrorContext(ctx, "cancel unconfirmed verification", "error", cerr.Error())
			}
		}
		var full *LimitError
		if errors.As(err, &full) && full.Counter.Name == LimitPrefixDay {
			// An SMS-pumping campaign against a premium range looks like this.
			s.log.WarnContext(ctx, "codes per number range cap reached", "range", p.prefix+"XXXX", "max", full.Counter.Max)
		}
		return CodeSent{}, limitError(err, now)
	}
	if p.send != nil {
		if err := p.send(ctx, code); err != nil {
			if ambiguous(err) {
				// The message may have gone out: the code stays valid (a
				// message must never carry a dead code) and is not sent
				// again (a retry could send a second SMS); the user may ask
				// for a new one after the resend delay.
				s.log.WarnContext(ctx, "send outcome unknown; code kept", "channel", string(v.Channel), "error", err.Error())
				return CodeSent{}, &DeliveryError{Channel: v.Channel, RetryAfter: atLeastASecond(v.ResendAfter.Sub(now)), Err: err}
			}
			// The code never reached anyone: take it back, and the counters
			// with it, so the user may try again at once.
			s.log.WarnContext(ctx, "send failed", "channel", string(v.Channel), "error", err.Error())
			if cerr := s.store.CancelVerification(context.WithoutCancel(ctx), start); cerr != nil {
				s.log.ErrorContext(ctx, "cancel unsent verification", "error", cerr.Error())
			}
			return CodeSent{}, deliveryError(v.Channel, err)
		}
	}
	return CodeSent{
		VerificationID: v.ID,
		Purpose:        v.Purpose,
		Channel:        v.Channel,
		Destination:    v.Shown(),
		ExpiresAt:      v.ExpiresAt,
		ResendAfter:    v.ResendAfter,
		AttemptsLeft:   v.AttemptsLeft(),
	}, nil
}

// refused reports whether the store turned a start down on its conditions
// (nothing was written), as opposed to failing in an unknown state.
func refused(err error) bool {
	var cool *CooldownError
	var full *LimitError
	return errors.As(err, &cool) || errors.As(err, &full) || errors.Is(err, ErrStale)
}

// ambiguous reports a send that may or may not have been delivered: the
// call timed out or was cut off after it was made.
func ambiguous(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// deliveryError words a failed send: an opted-out number is the user's to
// fix (ErrOptedOut), anything else is ours, worth a retry later.
func deliveryError(channel Channel, err error) error {
	if errors.Is(err, ErrOptedOut) {
		return ErrOptedOut
	}
	retry := DeliveryRetryAfter
	var throttled interface{ RetryAfter() time.Duration }
	if errors.As(err, &throttled) && throttled.RetryAfter() > 0 {
		retry = throttled.RetryAfter()
	}
	return &DeliveryError{Channel: channel, RetryAfter: retry, Err: err}
}

// lifetime says how long a code lives in the words of the SMS: whole
// minutes, or seconds for the short TTLs used in tests.
func lifetime(ttl time.Duration) string {
	if ttl < time.Minute {
		return fmt.Sprintf("%d сек", int(ttl.Seconds()))
	}
	return fmt.Sprintf("%d мин", int(ttl/time.Minute))
}

// counters are the limits one more code spends (SPEC §3): per account an
// hour, per destination a day, per source IP an hour, per number range a day
// (SMS only: prefixMAC is empty otherwise) and for everyone a day.
func (s *Service) counters(r CodeRequest, mac, prefixMAC string, now time.Time) []Counter {
	hour := now.Truncate(time.Hour)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	cs := []Counter{
		{Name: LimitAccountHour, Subject: r.AccountID, WindowStart: hour, Period: time.Hour, Max: s.cfg.CodesPerAccountHour},
		{Name: LimitPhoneDay, Subject: mac, WindowStart: day, Period: 24 * time.Hour, Max: s.cfg.CodesPerPhoneDay},
	}
	if r.SourceIP != "" {
		cs = append(cs, Counter{Name: LimitIPHour, Subject: s.keys.SourceMAC(r.SourceIP), WindowStart: hour, Period: time.Hour, Max: s.cfg.CodesPerIPHour})
	}
	if prefixMAC != "" && s.cfg.CodesPerPrefixDay > 0 {
		cs = append(cs, Counter{Name: LimitPrefixDay, Subject: prefixMAC, WindowStart: day, Period: 24 * time.Hour, Max: s.cfg.CodesPerPrefixDay})
	}
	if s.cfg.CodesGlobalDay > 0 {
		cs = append(cs, Counter{Name: LimitGlobalDay, Subject: "all", WindowStart: day, Period: 24 * time.Hour, Max: s.cfg.CodesGlobalDay})
	}
	return cs
}

// failureCounters count wrong codes per account and per destination number
// over the UTC day. Past MaxFailuresDay no new code is issued to either
// until the day ends; a new code does not reset them, a success does.
func (s *Service) failureCounters(accountID, mac string, now time.Time) []Counter {
	if s.cfg.MaxFailuresDay <= 0 {
		return nil
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return []Counter{
		{Name: LimitFailuresAccount, Subject: accountID, WindowStart: day, Period: 24 * time.Hour, Max: s.cfg.MaxFailuresDay},
		{Name: LimitFailuresPhone, Subject: mac, WindowStart: day, Period: 24 * time.Hour, Max: s.cfg.MaxFailuresDay},
	}
}

// limitError turns the store's refusals into what the caller is told.
func limitError(err error, now time.Time) error {
	var cool *CooldownError
	if errors.As(err, &cool) {
		return &RateLimitError{Limit: LimitCooldown, RetryAfter: atLeastASecond(cool.ResendAfter.Sub(now))}
	}
	var full *LimitError
	if errors.As(err, &full) {
		return &RateLimitError{Limit: full.Counter.Name, RetryAfter: atLeastASecond(full.Counter.WindowEnd().Sub(now))}
	}
	if errors.Is(err, ErrStale) {
		return err
	}
	return fmt.Errorf("start verification: %w", err)
}

// atLeastASecond keeps Retry-After meaningful when the store could not say
// exactly when the refusal ends.
func atLeastASecond(d time.Duration) time.Duration {
	return max(d, time.Second)
}

// alert tells a number about a change on its account. A lost alert must not
// fail the user's request, so failures are only logged.
func (s *Service) alert(ctx context.Context, to SealedPhone, text string) {
	e164, err := s.keys.Open(to.KeyID, to.Ciphertext)
	if err != nil {
		s.log.ErrorContext(ctx, "open number for alert", "error", err.Error(), "phone", to.Masked)
		return
	}
	if _, test := s.cfg.TestNumbers[e164]; test {
		return
	}
	if err := s.sms.SendSMS(ctx, e164, text); err != nil {
		s.log.WarnContext(ctx, "alert not sent", "error", err.Error(), "phone", to.Masked)
	}
}

// Confirm checks a code and, when it is right, binds the number. The
// attempt is counted before the code is judged, so concurrent guesses can
// never get more than MaxAttempts evaluations.
func (s *Service) Confirm(ctx context.Context, c Confirmation) (Status, error) {
	now := s.now().UTC()
	v, err := s.judge(ctx, c, PurposeBind, now)
	if err != nil {
		return Status{}, err
	}
	event := EventBound
	if !v.Previous.IsZero() {
		event = EventChanged
	}
	historyID, err := newID()
	if err != nil {
		return Status{}, err
	}
	completion := Completion{
		Verification: v,
		Profile: Profile{
			AccountID:  c.AccountID,
			Phone:      v.Destination,
			VerifiedAt: now,
			BoundAt:    now,
			Consent:    Consent{Version: v.ConsentVersion, GivenAt: now},
			Version:    v.ProfileVersion + 1,
		},
		Release: v.Previous,
		Reset:   s.failureCounters(c.AccountID, v.Destination.HMAC, now),
		History: HistoryEntry{
			ID:        historyID,
			At:        now,
			Event:     event,
			Phone:     v.Destination.Masked,
			Actor:     "user",
			Channel:   v.Channel,
			SourceIP:  c.SourceIP,
			ExpiresAt: now.Add(s.cfg.HistoryRetention),
		},
		Now: now,
	}
	switch err := s.store.CompleteBind(ctx, completion); {
	case errors.Is(err, ErrPhoneTaken):
		s.reject(ctx, v, ReasonPhoneTaken, now)
		return Status{}, ErrPhoneTaken
	case errors.Is(err, ErrStale):
		s.reject(ctx, v, ReasonSuperseded, now)
		return Status{}, ErrStale
	case errors.Is(err, ErrVerificationUsed):
		return Status{}, err
	case err != nil:
		return Status{}, fmt.Errorf("complete bind: %w", err)
	}
	s.publish(ctx, c.AccountID, completion.History, v.Previous.Masked)
	if event == EventChanged {
		s.alert(ctx, v.Previous, changeDoneText)
	}
	return s.Status(ctx, c.AccountID)
}

// judge spends one attempt on the verification and then compares the
// code in constant time; only a right code for purpose returns no error.
func (s *Service) judge(ctx context.Context, c Confirmation, purpose Purpose, now time.Time) (Verification, error) {
	v, err := s.store.CountAttempt(ctx, c.AccountID, c.VerificationID, now)
	if err != nil {
		return Verification{}, err
	}
	want := s.keys.CodeMAC(v.ID, c.Code)
	if !hmac.Equal([]byte(want), []byte(v.CodeHMAC)) {
		if err := s.store.CountFailures(context.WithoutCancel(ctx), s.failureCounters(c.AccountID, v.Destination.HMAC, now)); err != nil {
			s.log.ErrorContext(ctx, "count wrong code", "error", err.Error())
		}
		return Verification{}, &CodeInvalidError{AttemptsLeft: v.AttemptsLeft()}
	}
	if v.Purpose != purpose {
		return Verification{}, ErrInvalidPurpose
	}
	return v, nil
}

func (s *Service) reject(ctx context.Context, v Verification, reason string, now time.Time) {
	if err := s.store.RejectVerification(context.WithoutCancel(ctx), v.AccountID, v.ID, reason, now); err != nil {
		s.log.ErrorContext(ctx, "reject verification", "error", err.Error(), "reason", reason)
	}
}

// Status tells where the account's phone stands (SPEC §4.4).
func (s *Service) Status(ctx context.Context, accountID string) (Status, error) {
	snap, err := s.store.Snapshot(ctx, accountID, s.cfg.HistoryLimit)
	if err != nil {
		return Status{}, fmt.Errorf("read account: %w", err)
	}
	return s.status(snap, s.now().UTC()), nil
}

func (s *Service) status(snap Snapshot, now time.Time) Status {
	st := Status{State: StateNone, History: snap.History}
	if p := snap.Profile; p.Bound() {
		st.State = StateVerified
		st.Phone = p.Phone.Masked
		st.VerifiedAt = p.VerifiedAt
		st.ChangeAllowedAfter = p.BoundAt.Add(s.cfg.ChangeCooldown)
		consent := p.Consent
		st.Consent = &consent
	}
	if v := snap.Verification; v != nil {
		state, reason := v.Effective(now)
		st.Request = &RequestView{
			VerificationID: v.ID,
			Purpose:        v.Purpose,
			State:          state,
			Reason:         reason,
			Destination:    v.Shown(),
			ExpiresAt:      v.ExpiresAt,
			ResendAfter:    v.ResendAfter,
			AttemptsLeft:   v.AttemptsLeft(),
		}
		if state == RequestPending {
			st.State = StatePending
			if st.Phone == "" {
				st.Phone = v.Destination.Masked
			}
		}
	}
	if len(st.History) > s.cfg.HistoryLimit {
		st.History = st.History[:s.cfg.HistoryLimit]
	}
	return st
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

// Unbind checks an unbind code and, when it is right, removes the number
// and releases it for anyone (SPEC §4.3). A bind verification cannot unbind.
func (s *Service) Unbind(ctx context.Context, c Confirmation) (Status, error) {
	now := s.now().UTC()
	v, err := s.judge(ctx, c, PurposeUnbind, now)
	if err != nil {
		return Status{}, err
	}
	historyID, err := newID()
	if err != nil {
		return Status{}, err
	}
	history := HistoryEntry{
		ID: historyID, At: now, Event: EventUnbound, Phone: v.Destination.Masked, Actor: "user",
		Channel: v.Channel, SourceIP: c.SourceIP, ExpiresAt: now.Add(s.cfg.HistoryRetention),
	}
	err = s.store.CompleteUnbind(ctx, Unbinding{
		Verification: &v,
		Profile:      Profile{AccountID: c.AccountID, Phone: v.Destination, Version: v.ProfileVersion},
		History:      history,
		Reset:        s.failureCounters(c.AccountID, v.Destination.HMAC, now),
		Now:          now,
	})
	switch {
	case errors.Is(err, ErrStale):
		s.reject(ctx, v, ReasonSuperseded, now)
		return Status{}, ErrStale
	case errors.Is(err, ErrVerificationUsed):
		return Status{}, err
	case err != nil:
		return Status{}, fmt.Errorf("complete unbind: %w", err)
	}
	s.publish(ctx, c.AccountID, history, "")
	return s.Status(ctx, c.AccountID)
}

// SupportUnbind removes an account's number on an operator's word, after
// identity was checked in person. It is idempotent: with nothing bound it
// reports ErrNoPhoneBound and changes nothing.
func (s *Service) SupportUnbind(ctx context.Context, accountID, operator string) (Status, error) {
	for try := 0; ; try++ {
		now := s.now().UTC()
		snap, err := s.store.Snapshot(ctx, accountID, 0)
		if err != nil {
			return Status{}, fmt.Errorf("read account: %w", err)
		}
		if !snap.Profile.Bound() {
			return Status{}, ErrNoPhoneBound
		}
		historyID, err := newID()
		if err != nil {
			return Status{}, err
		}
		history := HistoryEntry{
			ID: historyID, At: now, Event: EventSupportUnbound, Phone: snap.Profile.Phone.Masked,
			Actor: "support:" + operator, Channel: ChannelSupport, ExpiresAt: now.Add(s.cfg.HistoryRetention),
		}
		err = s.store.CompleteUnbind(ctx, Unbinding{Profile: snap.Profile, History: history, Now: now})
		if errors.Is(err, ErrStale) && try < 2 {
			continue
		}
		if err != nil {
			return Status{}, fmt.Errorf("support unbind: %w", err)
		}
		s.publish(ctx, accountID, history, "")
		return s.Status(ctx, accountID)
	}
}

// publish tells other systems about a committed change. The change stands
// whatever happens here: the SDK has already retried, so a failure is only
// logged (with the event id, to republish by hand from the history entry).
func (s *Service) publish(ctx context.Context, accountID string, h HistoryEntry, previous string) {
	if s.events == nil {
		return
	}
	e := PhoneEvent{
		ID: h.ID, Name: eventNames[h.Event], AccountID: accountID, Phone: h.Phone,
		Previous: previous, Actor: h.Actor, Channel: h.Channel, At: h.At,
	}
	if err := s.events.PhoneEvent(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "event not published", "event", e.Name, "event_id", e.ID, "error", err.Error())
	}
}
