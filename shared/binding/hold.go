// The hold on a removal by e-mail code (SPEC §4.3): scheduled at the
// confirmation, cancelled by the user or an operator, completed by the
// first write that finds it due or by the complete_due_unbinds job,
// whichever comes first, and told of by that job alone (due.go). Readers
// treat a due hold as done.

package binding

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// schedule commits a confirmed unbind by e-mail code as a hold: the number
// stays bound until UNBIND_EMAIL_HOLD has passed, the number is told by
// SMS and the verified e-mail by a letter, so that a stolen session and a
// mailbox cannot remove the number unnoticed.
func (s *Service) schedule(ctx context.Context, c Confirmation, v Verification, now time.Time) (Status, error) {
	// Whole milliseconds, as the store's times are: the same instant is
	// due for every reader and every condition.
	at := now.Add(s.cfg.UnbindEmailHold).Truncate(time.Millisecond)
	unbindID, err := newID()
	if err != nil {
		return Status{}, err
	}
	historyID, err := newID()
	if err != nil {
		return Status{}, err
	}
	history := HistoryEntry{
		ID: historyID, At: now, Event: EventUnbindScheduled, Phone: v.Destination.Masked, Actor: "user",
		Channel: ChannelEmail, SourceIP: c.SourceIP, ExpiresAt: now.Add(s.cfg.HistoryRetention),
	}
	email, err := s.emailUpdate(Profile{}, c.Email)
	if err != nil {
		return Status{}, err
	}
	err = s.store.ScheduleUnbind(ctx, Hold{
		Verification: v, UnbindAt: at, UnbindID: unbindID, History: history, Email: email,
		Reset: s.failureCounters(c.AccountID, v.Destination.HMAC, now), Now: now,
	})
	if err != nil {
		return Status{}, s.commitError(ctx, v, err, "schedule unbind", now)
	}
	st, set, err := s.after(ctx, c.AccountID)
	s.publish(ctx, c.AccountID, history, "", set)
	when := moscowTime(at)
	s.alert(ctx, v.Destination, fmt.Sprintf(unbindScheduledText, when))
	s.letter(ctx, c.Email, unbindScheduledSubject, fmt.Sprintf(unbindScheduledBody, v.Destination.Masked, when))
	return st, err
}

// CancelUnbind takes back the caller's scheduled removal (DELETE
// /v1/phone/unbind). A plain session may: keeping the number is never the
// attacker's aim. With none scheduled it is ErrNoUnbindPending.
func (s *Service) CancelUnbind(ctx context.Context, accountID, sourceIP string) (Status, error) {
	return s.cancelHold(ctx, accountID, HistoryEntry{Actor: "user", Channel: ChannelEmail, SourceIP: sourceIP})
}

// SupportCancelUnbind takes back a scheduled removal on an operator's word
// (the cancel_unbind ops event); the reason goes into the history entry.
func (s *Service) SupportCancelUnbind(ctx context.Context, accountID, operator, reason string) (Status, error) {
	return s.cancelHold(ctx, accountID, HistoryEntry{Actor: "support:" + operator, Channel: ChannelSupport, Reason: reason})
}

func (s *Service) cancelHold(ctx context.Context, accountID string, entry HistoryEntry) (Status, error) {
	for try := 0; ; try++ {
		snap, now, err := s.current(ctx, accountID)
		if err != nil {
			return Status{}, err
		}
		p := snap.Profile
		if !p.Holding(now) {
			return Status{}, ErrNoUnbindPending
		}
		history := entry
		if history.ID, err = newID(); err != nil {
			return Status{}, err
		}
		history.At, history.Event, history.Phone = now, EventUnbindCancelled, p.Phone.Masked
		history.ExpiresAt = now.Add(s.cfg.HistoryRetention)
		err = s.store.CancelUnbind(ctx, HoldCancel{Profile: p, History: history, Now: now})
		if errors.Is(err, ErrStale) && try < 2 {
			// Moved meanwhile (or came due): judge again on fresh data.
			continue
		}
		if err != nil {
			return Status{}, fmt.Errorf("cancel unbind: %w", err)
		}
		st, set, err := s.after(ctx, accountID)
		s.publish(ctx, accountID, history, "", set)
		s.alert(ctx, p.Phone, unbindCancelledText)
		return st, err
	}
}

// current reads the account as a write must see it: a hold that is due is
// completed first (lapse, conditional on the profile read), so no write is
// ever judged against a number that is no longer bound. It tells nobody:
// the function at hand may have no events publisher (request-code has
// none), and the complete_due_unbinds job tells every lapsed hold from its
// HELD item, whoever wrote the lapse.
func (s *Service) current(ctx context.Context, accountID string) (Snapshot, time.Time, error) {
	for try := 0; ; try++ {
		now := s.now().UTC()
		snap, err := s.store.Snapshot(ctx, accountID, 0)
		if err != nil {
			return Snapshot{}, now, fmt.Errorf("read account: %w", err)
		}
		if !snap.Profile.Lapsed(now) {
			return snap, now, nil
		}
		err = s.lapse(ctx, snap.Profile, now)
		if err != nil && !(errors.Is(err, ErrStale) && try < 2) {
			return Snapshot{}, now, fmt.Errorf("complete due unbind: %w", err)
		}
		// Completed, by this call or (ErrStale) another writer: read again.
	}
}

// lapse writes the removal of p's due hold (LapseUnbind) and tells
// nobody: the hold's HELD item, which the lapse fills with the number and
// the address to tell, stays until the complete_due_unbinds job has told
// of it (tellDue). A claim left unreleased after the removal is written
// (ErrClaimKept) is logged and is no failure: every claimant treats a due
// claim as free; a number another account took meanwhile (ErrNumberRebound)
// is what TakeNotice reports to the teller.
func (s *Service) lapse(ctx context.Context, p Profile, now time.Time) error {
	err := s.store.LapseUnbind(ctx, Unbinding{Profile: p, History: lapsedEntry(p, s.cfg.HistoryRetention), Now: now})
	switch {
	case errors.Is(err, ErrClaimKept):
		s.log.WarnContext(ctx, "lapsed hold's claim not released", "error", err.Error(), "unbind_id", p.UnbindID)
		return nil
	case errors.Is(err, ErrNumberRebound):
		return nil
	}
	return err
}

// lapsedEntry is the history entry of a removal whose hold ran out: dated
// the instant it took effect, under the id fixed when it was scheduled, so
// that status shows the same entry before and after a write completes it.
func lapsedEntry(p Profile, retention time.Duration) HistoryEntry {
	return HistoryEntry{
		ID: p.UnbindID, At: p.UnbindAt, Event: EventUnbound, Phone: p.Phone.Masked, Actor: "user",
		Channel: ChannelEmail, ExpiresAt: p.UnbindAt.Add(retention),
	}
}

// moscow is the time zone the portal's letters speak in.
var moscow = time.FixedZone("MSK", 3*60*60)

// moscowTime words an instant for an SMS or a letter.
func moscowTime(t time.Time) string {
	return t.In(moscow).Format("02.01.2006 15:04") + " (МСК)"
}
