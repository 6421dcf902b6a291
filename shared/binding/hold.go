// The hold on a removal by e-mail code (SPEC §4.3): scheduled at the
// confirmation, cancelled by the user or an operator, completed by the
// first write that finds it due or by the complete_due_unbinds job,
// whichever comes first. Readers treat a due hold as done.

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
// ever judged against a number that is no longer bound.
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
		err = s.lapse(ctx, snap, now)
		if err != nil && !(errors.Is(err, ErrStale) && try < 2) {
			return Snapshot{}, now, fmt.Errorf("complete due unbind: %w", err)
		}
		// Completed, by this call or (ErrStale) another writer: read again.
	}
}

// lapse completes the due hold of snap's profile (LapseUnbind) and, when
// this call wrote it, tells of it: the event, the SMS to the number and
// the letter to the address the profile keeps. Whoever completes a hold
// (the account's next write or the complete_due_unbinds job) tells of it
// once; a writer that lost the race gets ErrStale and tells nothing.
func (s *Service) lapse(ctx context.Context, snap Snapshot, now time.Time) error {
	p := snap.Profile
	entry := lapsedEntry(p, s.cfg.HistoryRetention)
	err := s.store.LapseUnbind(ctx, Unbinding{Profile: p, History: entry, Now: now})
	switch {
	case err == nil:
		s.publish(ctx, p.AccountID, entry, "", snap.Settings.Applied())
		s.alert(ctx, p.Phone, unbindDoneText)
		s.lapseLetter(ctx, p)
	case errors.Is(err, ErrNumberRebound):
		// The number is another account's already: it is not told, the
		// account's mailbox is.
		s.publish(ctx, p.AccountID, entry, "", snap.Settings.Applied())
		s.lapseLetter(ctx, p)
	default:
		return err
	}
	return nil
}

// dueBatch is how many due holds one run of CompleteDueUnbinds takes on:
// a run a minute keeps up with far more removals by e-mail than a day
// brings, and stays well inside a function's timeout.
const dueBatch = 100

// DueReport is what a run of CompleteDueUnbinds did.
type DueReport struct {
	// Listed is how many due holds the store listed.
	Listed int
	// Completed is how many this run completed (and told of).
	Completed int
	// Gone is how many were completed or taken back by another writer
	// before this run got to them (the index lags, writes race).
	Gone int
}

// CompleteDueUnbinds completes every removal whose hold has run out
// (the complete_due_unbinds ops action, run each minute by a schedule and
// by the local runner's ticker). Readers already treat a due hold as
// done, so the number was unbound at effective_at whatever happens here;
// this makes the event, the SMS and the letter go out on time even when
// the account never writes again. Each hold goes through lapse, so a
// cancel, the account's own write or another run racing it leaves exactly
// one outcome, told once. Errors of single accounts are joined; the others
// are still completed.
func (s *Service) CompleteDueUnbinds(ctx context.Context) (DueReport, error) {
	now := s.now().UTC()
	ids, err := s.store.DueUnbinds(ctx, now, dueBatch)
	if err != nil {
		return DueReport{}, fmt.Errorf("list due unbinds: %w", err)
	}
	r := DueReport{Listed: len(ids)}
	var errs []error
	for _, id := range ids {
		snap, err := s.store.Snapshot(ctx, id, 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("read account: %w", err))
			continue
		}
		if !snap.Profile.Lapsed(now) {
			r.Gone++
			continue
		}
		switch err := s.lapse(ctx, snap, now); {
		case err == nil:
			r.Completed++
		case errors.Is(err, ErrStale):
			r.Gone++
		default:
			errs = append(errs, fmt.Errorf("complete due unbind: %w", err))
		}
	}
	return r, errors.Join(errs...)
}

// lapseLetter tells the mailbox the profile kept that its held removal
// took effect: nobody may be signed in when it does.
func (s *Service) lapseLetter(ctx context.Context, p Profile) {
	s.letter(ctx, s.addressOf(ctx, p, ""), unbindDoneSubject, fmt.Sprintf(unbindDoneBody, p.Phone.Masked, s.cfg.ProfileURL))
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
