// Limits: the resend cooldown, the change cooldown and the counters every
// code spends.

package binding

import (
	"errors"
	"fmt"
	"time"
)

// numberRange is the number without its last 4 digits: the block a carrier
// (or an SMS-pumping premium range) is allocated.
func numberRange(e164 string) string {
	if len(e164) <= 5 {
		return e164
	}
	return e164[:len(e164)-4]
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
// until the day ends (to the number, except to the account it is bound to:
// failureChecks); a new code does not reset them, a success does.
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

// failureChecks are the failure counters a new code to the number mac must
// stay under, for the account whose profile is p. The number's count is not
// held against the account the number is bound to: wrong codes that other
// accounts enter for it (anyone may ask for a code to any number) must not
// lock its owner out of unbinding it. spared is that count when it was left
// out (nil otherwise), for the signal that tells operators it was over.
//
// The profile comes from the request's snapshot, but no stale read can
// spare a stranger: a number is claimed by one account only, so a stranger's
// profile never holds mac, and the one request that can match (an unbind:
// binding the bound number is same_phone) holds the bound number, which the
// store writes only at the profile version read (ErrStale otherwise).
func (s *Service) failureChecks(accountID, mac string, p Profile, now time.Time) (checks []Counter, spared *Counter) {
	for _, c := range s.failureCounters(accountID, mac, now) {
		if c.Name == LimitFailuresPhone && p.Bound() && p.Phone.HMAC == mac {
			spared = &c
			continue
		}
		checks = append(checks, c)
	}
	return checks, spared
}

// capChecks splits the counters a code to the number mac spends into those
// held to their Max and those only counted (tallies). The number's codes of
// the day (CODES_PER_PHONE_DAY) are not held against the account the
// number is bound to: anyone may ask for a bind code to any number, so
// other accounts could spend its day and leave its owner without an unbind
// code to their own number. The code is still counted, so the number's
// count stays true for everyone else. The owner's per-account and per-IP
// limits, and the range and global caps, still apply.
//
// As in failureChecks, no stale read can spare a stranger: only the
// account the number is claimed by has it in its profile, and the request
// that holds the bound number is stored only at the profile version read.
func capChecks(counters []Counter, mac string, owner Profile) (held, tallies []Counter) {
	for _, c := range counters {
		if c.Name == LimitPhoneDay && c.Subject == mac && owner.Bound() && owner.Phone.HMAC == mac {
			tallies = append(tallies, c)
			continue
		}
		held = append(held, c)
	}
	return held, tallies
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

// refused reports whether the store turned a start down on its conditions
// (nothing was written), as opposed to failing in an unknown state.
func refused(err error) bool {
	var cool *CooldownError
	var full *LimitError
	return errors.As(err, &cool) || errors.As(err, &full) || errors.Is(err, ErrStale)
}

// atLeastASecond keeps Retry-After meaningful when the store could not say
// exactly when the refusal ends.
func atLeastASecond(d time.Duration) time.Duration {
	return max(d, time.Second)
}

// resendWait is the resend cooldown, the one place it is decided: a new
// code for an account, whatever its purpose, only after the previous code's
// resend_after (RESEND_COOLDOWN, doubling within an hour; see issue). The
// store's conditional write holds the same instant, so concurrent requests
// cannot both pass it.
func resendWait(snap Snapshot, now time.Time) error {
	if v := snap.Verification; v != nil && now.Before(v.ResendAfter) {
		return &RateLimitError{Limit: LimitCooldown, RetryAfter: v.ResendAfter.Sub(now)}
	}
	return nil
}

// maxResendDoublings caps the growth of the resend delay (60 s · 2^10 is
// about 17 hours, far past the hourly limit anyway).
const maxResendDoublings = 10

// resendDelay is how long a new code waits before the next one may be
// sent, and its place in the run of codes: each code within an hour of the
// previous one waits twice as long before the next (60 s, 120 s, 240 s, …).
// resendWait holds the instant this sets.
func (s *Service) resendDelay(snap Snapshot, now time.Time) (seq int, wait time.Duration) {
	seq = 1
	if prev := snap.Verification; prev != nil && now.Sub(prev.CreatedAt) < time.Hour {
		seq = max(prev.Sequence, 1) + 1
	}
	return seq, s.cfg.ResendCooldown << min(seq-1, maxResendDoublings)
}

// changeAllowedAfter is when the bound number may next be changed
// (CHANGE_COOLDOWN after the last bind).
func (s *Service) changeAllowedAfter(p Profile) time.Time {
	return p.BoundAt.Add(s.cfg.ChangeCooldown)
}
