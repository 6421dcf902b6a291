// Requesting a code to bind or change a number, and delivering any code.

package binding

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
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
		snap, now, err := s.current(ctx, r.AccountID)
		if err != nil {
			return CodeSent{}, err
		}
		if err := s.checkBind(snap, r.Session, mac, now); err != nil {
			return CodeSent{}, err
		}
		sent, err := s.startBind(ctx, r, snap, mac, now)
		if errors.Is(err, ErrStale) && try < 2 {
			continue
		}
		sent.Destination = snap.Settings.Applied().Show(sent.Destination)
		return sent, err
	}
}

// checkBind applies the rules of a bind or change before any code is
// sent. A change needs step-up first. Inside the change cooldown every
// number is change_too_soon, the bound one included, so no answer tells a
// session holder which number is bound; same_phone is told only when a
// change would be allowed now. While a removal is scheduled every number
// is unbind_pending: the hold is cancelled first.
func (s *Service) checkBind(snap Snapshot, sess Session, mac string, now time.Time) error {
	p := snap.Profile
	if p.Bound() {
		if err := s.demand(sess, true, now); err != nil {
			return err
		}
		if p.Holding(now) {
			return ErrUnbindPending
		}
		if allowed := s.changeAllowedAfter(p); now.Before(allowed) {
			return &ChangeTooSoonError{AllowedAfter: allowed}
		}
		if p.Phone.HMAC == mac {
			return ErrSamePhone
		}
	}
	return resendWait(snap, now)
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
	pl := s.smsPlan(r, p, e164, mac, codeText, now)
	if p.Bound() {
		// A change holds the bound number: its request checks the profile,
		// and keeps a new verified address with that check.
		if pl.email, err = s.emailUpdate(p, r.Email); err != nil {
			return CodeSent{}, err
		}
	}
	sent, err := s.deliver(ctx, v, pl, now)
	if err == nil && p.Bound() {
		s.alert(ctx, p.Phone, changeRequestText)
	}
	return sent, err
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
	// spared is the number's wrong-code count its owner is not held to
	// (failureChecks), nil when every count is checked.
	spared *Counter
	// tallies are counters spent but not held to their Max: the number's
	// codes of the day, for its owner (capChecks).
	tallies []Counter
	// email is a verified address to keep on the profile with a request
	// that holds the bound number (emailUpdate), nil when it is kept.
	email *SealedEmail
}

// smsPlan sends the code by SMS to e164 in the words of format, for the
// account whose profile is owner. A fictional test number gets no SMS and
// its fixed code, under every other rule.
func (s *Service) smsPlan(r CodeRequest, owner Profile, e164, mac, format string, now time.Time) plan {
	prefix := numberRange(e164)
	checks, spared := s.failureChecks(r.AccountID, mac, owner, now)
	counters, tallies := capChecks(s.counters(r, mac, s.keys.PhoneMAC("range:"+prefix), now), mac, owner)
	p := plan{
		counters: counters,
		checks:   checks,
		prefix:   prefix,
		spared:   spared,
		tallies:  tallies,
	}
	if code, test := s.cfg.TestNumbers[e164]; test {
		p.fixed = code
		return p
	}
	p.send = func(ctx context.Context, code string) error {
		return s.sendCodeSMS(ctx, e164, fmt.Sprintf(format, code, lifetime(s.cfg.CodeTTL)), code)
	}
	return p
}

// issue makes a fresh verification about dest, whose code goes by channel;
// deliver gives it its code. Its resend delay comes from resendDelay.
func (s *Service) issue(accountID string, purpose Purpose, channel Channel, dest SealedPhone, snap Snapshot, now time.Time) (Verification, error) {
	id, err := newID()
	if err != nil {
		return Verification{}, err
	}
	seq, wait := s.resendDelay(snap, now)
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
	start := Start{Verification: v, Counters: p.counters, Checks: p.checks, Tallies: p.tallies, Email: p.email, Now: now}
	if err := s.startWatched(ctx, start, p); err != nil {
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
		if errors.As(err, &full) && full.Counter.Name == LimitFailuresPhone {
			// Wrong codes from several accounts, or one account's guessing.
			s.log.WarnContext(ctx, "wrong codes per number over the limit; code refused", "max", full.Counter.Max)
			s.signal(ctx, SignalNumberLockRefused)
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

// startWatched stores the code as StartVerification does, but first
// against three tripwires that tell operators of trouble before anyone is
// refused: the number range's cap at half (SignalRangeHalfCap, so that a
// pumping campaign is heard of before the cap blocks the range), the
// number's wrong codes its owner is spared (SignalNumberLockOwnerSpared)
// and the number's codes of the day its owner is spared
// (SignalNumberCapOwnerSpared: armed as a counter held to its Max, then
// only counted).
// A wire that trips is signalled and dropped, and the write tried again: a
// code under every wire costs nothing extra, one over a wire one refused
// conditional write.
func (s *Service) startWatched(ctx context.Context, start Start, p plan) error {
	if s.sigs == nil {
		return s.store.StartVerification(ctx, start)
	}
	armed := start
	armed.Counters = slices.Clone(start.Counters)
	halfRange := -1
	for i, c := range armed.Counters {
		// Armed at one below half the cap (rounded up): the code that
		// brings the range to half, and every one after, trips it.
		if half := (c.Max+1)/2 - 1; c.Name == LimitPrefixDay && half < c.Max {
			armed.Counters[i].Max, halfRange = half, i
		}
	}
	spared := p.spared != nil
	if spared {
		armed.Checks = append(slices.Clone(start.Checks), *p.spared)
	}
	capped := len(start.Tallies) > 0
	if capped {
		armed.Counters, armed.Tallies = append(armed.Counters, start.Tallies...), nil
	}
	for {
		err := s.store.StartVerification(ctx, armed)
		var full *LimitError
		switch {
		case !errors.As(err, &full):
			return err
		case halfRange >= 0 && full.Counter.Name == LimitPrefixDay && full.Counter.Max == armed.Counters[halfRange].Max:
			s.log.WarnContext(ctx, "number range past half its daily cap", "range", p.prefix+"XXXX", "max", start.Counters[halfRange].Max)
			s.signal(ctx, SignalRangeHalfCap)
			armed.Counters[halfRange], halfRange = start.Counters[halfRange], -1
		case spared && full.Counter.Name == LimitFailuresPhone:
			s.log.WarnContext(ctx, "wrong codes per number over the limit; its owner gets a code", "max", full.Counter.Max)
			s.signal(ctx, SignalNumberLockOwnerSpared)
			armed.Checks, spared = start.Checks, false
		case capped && full.Counter.Name == LimitPhoneDay && slices.Contains(start.Tallies, full.Counter):
			s.log.WarnContext(ctx, "codes per number of the day used up; its owner gets a code", "max", full.Counter.Max)
			s.signal(ctx, SignalNumberCapOwnerSpared)
			armed.Counters = slices.Delete(armed.Counters, len(armed.Counters)-len(start.Tallies), len(armed.Counters))
			armed.Tallies, capped = start.Tallies, false
		default:
			return err
		}
	}
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
