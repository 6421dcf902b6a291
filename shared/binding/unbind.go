// Removing the number by a code: SMS to the number, or e-mail when the SIM is lost.

package binding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// requestUnbind sends a code that confirms removing the bound number: by
// SMS to that number, or by e-mail to the account's address when the SIM is
// lost (SPEC §4.3).
func (s *Service) requestUnbind(ctx context.Context, r CodeRequest) (CodeSent, error) {
	if r.Channel != ChannelSMS && r.Channel != ChannelEmail {
		return CodeSent{}, ErrInvalidPurpose
	}
	for try := 0; ; try++ {
		snap, now, err := s.current(ctx, r.AccountID)
		if err != nil {
			return CodeSent{}, err
		}
		p := snap.Profile
		if !p.Bound() {
			return CodeSent{}, ErrNoPhoneBound
		}
		// By SMS the second factor is at hand; by e-mail (the SIM is lost)
		// only a fresh sign-in is asked, and the hold makes up for it.
		if err := s.demand(r.Session, r.Channel == ChannelSMS, now); err != nil {
			return CodeSent{}, err
		}
		if r.Channel == ChannelEmail && p.Holding(now) {
			// One removal by e-mail is already waiting; an SMS code may
			// still end it at once.
			return CodeSent{}, ErrUnbindPending
		}
		if r.Channel == ChannelEmail && strings.TrimSpace(r.Email) == "" {
			return CodeSent{}, ErrEmailUnavailable
		}
		if err := resendWait(snap, now); err != nil {
			return CodeSent{}, err
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
		sent.Destination = snap.Settings.Applied().Show(sent.Destination)
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
	pl := s.smsPlan(r, p, e164, p.Phone.HMAC, unbindCodeText, now)
	if pl.email, err = s.emailUpdate(p, r.Email); err != nil {
		return CodeSent{}, err
	}
	return s.deliver(ctx, v, pl, now)
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
	mac := s.emailMAC(addr)
	checks, spared := s.failureChecks(r.AccountID, p.Phone.HMAC, p, now)
	email, err := s.emailUpdate(p, addr)
	if err != nil {
		return CodeSent{}, err
	}
	return s.deliver(ctx, v, plan{
		counters: s.counters(r, mac, "", now),
		checks:   checks,
		spared:   spared,
		email:    email,
		send: func(ctx context.Context, code string) error {
			if s.email == nil {
				return errors.New("no e-mail sender configured")
			}
			body := fmt.Sprintf(unbindEmailBody, p.Phone.Masked, code, lifetime(s.cfg.CodeTTL))
			return s.sendCodeEmail(ctx, addr, unbindEmailSubject, body, code)
		},
	}, now)
}

// Unbind checks an unbind code and, when it is right, removes the number
// and releases it for anyone (SPEC §4.3); a code sent by e-mail schedules
// the removal after UNBIND_EMAIL_HOLD instead (schedule). An SMS code
// ends a scheduled removal at once. A bind verification cannot unbind.
func (s *Service) Unbind(ctx context.Context, c Confirmation) (Status, error) {
	now := s.now().UTC()
	p, err := s.judge(ctx, c, PurposeUnbind, now)
	if err != nil {
		return Status{}, err
	}
	v := p.Verification
	if v.Channel == ChannelEmail && s.cfg.UnbindEmailHold > 0 {
		return s.schedule(ctx, c, v, now)
	}
	historyID, err := newID()
	if err != nil {
		return Status{}, err
	}
	// The profile as the code was asked for: a session without a verified
	// address sends the letter to the one it keeps (read before the
	// removal drops it), and a hold the code ends loses its HELD item with
	// the removal (UnbindID). Read at another version, the commit is
	// refused anyway.
	snap, err := s.store.Snapshot(ctx, c.AccountID, 0)
	if err != nil {
		return Status{}, fmt.Errorf("read account: %w", err)
	}
	var kept Profile
	if snap.Profile.Version == v.ProfileVersion {
		kept = snap.Profile
	}
	history := HistoryEntry{
		ID: historyID, At: now, Event: EventUnbound, Phone: v.Destination.Masked, Actor: "user",
		Channel: v.Channel, SourceIP: c.SourceIP, ExpiresAt: now.Add(s.cfg.HistoryRetention),
	}
	err = s.store.CompleteUnbind(ctx, Unbinding{
		Verification: &v,
		Profile:      Profile{AccountID: c.AccountID, Phone: v.Destination, Version: v.ProfileVersion, UnbindAt: kept.UnbindAt, UnbindID: kept.UnbindID},
		History:      history,
		Reset:        s.failureCounters(c.AccountID, v.Destination.HMAC, now),
		Now:          now,
	})
	if err != nil {
		err = s.commitError(ctx, v, err, "complete unbind", now)
		// A held removal that took effect meanwhile did what this code
		// asked: the number is gone, and the caller is told so.
		if errors.Is(err, ErrStale) {
			if snap, _, rerr := s.current(ctx, c.AccountID); rerr == nil && !snap.Profile.Bound() {
				return s.Status(ctx, c.AccountID)
			}
		}
		return Status{}, err
	}
	st, set, err := s.after(ctx, c.AccountID)
	s.publish(ctx, c.AccountID, history, "", set)
	// Every removal is told to the number removed, and to the account's
	// verified e-mail, so that a stolen session cannot remove it unnoticed.
	s.alert(ctx, v.Destination, unbindDoneText)
	s.letter(ctx, s.addressOf(ctx, kept, c.Email), unbindDoneSubject, fmt.Sprintf(unbindDoneBody, v.Destination.Masked, s.cfg.ProfileURL))
	return st, err
}
