// Telling of held removals (SPEC §4.3): the outbox of a hold is its own
// HELD item, put by the schedule, filled by the lapse and deleted only
// after the complete_due_unbinds job has published phone.unbound, sent
// the number its SMS and the kept address its letter. Whoever writes the
// lapse, only the job tells, at least once.

package binding

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DueHold names a held removal the job has to see to: the account and the
// id the removal was scheduled under (UnbindID, also the id of its
// history entry and of its phone.unbound event).
type DueHold struct {
	AccountID string
	UnbindID  string
}

// HoldNotice is what telling of a lapsed hold needs, kept on the hold's
// HELD item from the lapse until the telling is done: the profile itself
// has lost the number and the address by then, and a later bind may put
// a new profile over it.
type HoldNotice struct {
	AccountID string
	UnbindID  string
	// UnbindAt is when the removal took effect.
	UnbindAt time.Time
	// Phone and Email are the number removed and the address the profile
	// kept at the lapse, sealed.
	Phone SealedPhone
	Email SealedEmail
	// Rebound: the number's claim is another account's by now (it bound
	// the number after UnbindAt), so the number is not told.
	Rebound bool
}

// dueBatch is how many due holds one run of CompleteDueUnbinds takes on:
// a run a minute keeps up with far more removals by e-mail than a day
// brings, and stays well inside a function's timeout.
const dueBatch = 100

// noticeLease is how long a run that took a hold's telling has it to
// itself (TakeNotice): longer than a function's timeout (10 s), so two
// runs never tell at once, and short enough that a run that died after
// taking it leaves the telling to a run a few minutes later.
const noticeLease = 2 * time.Minute

// dueMargin is how much of its deadline a run keeps in hand: it takes on
// no further hold with less left, and leaves the rest to the next run.
const dueMargin = 2 * time.Second

// DueReport is what a run of CompleteDueUnbinds did.
type DueReport struct {
	// Listed is how many due holds the store listed.
	Listed int
	// Completed is how many this run told of (writing the removal first
	// when no write had).
	Completed int
	// Gone is how many another run told of, or is telling, before this
	// run got to them (the index lags, runs overlap).
	Gone int
	// Failed is how many this run could not see to (logged, counted as
	// SignalDueUnbindFailed); the next run tries them again.
	Failed int
	// Left is how many this run did not take on, its deadline near.
	Left int
}

// CompleteDueUnbinds completes and tells of every removal whose hold has
// run out (the complete_due_unbinds ops action, run each minute by a
// schedule and by the local runner's ticker). Readers already treat a due
// hold as done, so the number was unbound at effective_at whatever
// happens here; this makes the event, the SMS and the letter go out, at
// least once, even when the account never writes again or a write that
// completed the hold could not tell. A failing account is logged and
// signalled and the others are still seen to; the errors are joined. Near
// its deadline a run stops and leaves the rest to the next one.
func (s *Service) CompleteDueUnbinds(ctx context.Context) (DueReport, error) {
	now := s.now().UTC()
	due, err := s.store.DueUnbinds(ctx, now, dueBatch)
	if err != nil {
		return DueReport{}, fmt.Errorf("list due unbinds: %w", err)
	}
	r := DueReport{Listed: len(due)}
	var errs []error
	for i, h := range due {
		if late(ctx) {
			r.Left = len(due) - i
			break
		}
		switch told, err := s.tellDue(ctx, h, now); {
		case err != nil:
			r.Failed++
			s.log.ErrorContext(ctx, "due unbind not told", "error", err.Error(), "account_id", h.AccountID, "unbind_id", h.UnbindID)
			s.signal(ctx, SignalDueUnbindFailed)
			errs = append(errs, err)
		case told:
			r.Completed++
		default:
			r.Gone++
		}
	}
	return r, errors.Join(errs...)
}

// late reports whether ctx ends within dueMargin.
func late(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < dueMargin
}

// tellDue sees one due hold through: the removal written when no write
// has written it yet (lapse, conditional on the profile), then the
// telling taken (TakeNotice: one run at a time), done, and only then the
// HELD item deleted (NoticeSent). A failure anywhere before that leaves
// the item for the next run. It reports whether this call told.
func (s *Service) tellDue(ctx context.Context, h DueHold, now time.Time) (bool, error) {
	var settings Settings
	for try := 0; ; try++ {
		snap, err := s.store.Snapshot(ctx, h.AccountID, 0)
		if err != nil {
			return false, fmt.Errorf("read account: %w", err)
		}
		settings = snap.Settings.Applied()
		p := snap.Profile
		if !p.Lapsed(now) || (h.UnbindID != "" && p.UnbindID != h.UnbindID) {
			break // written already (or, a moment ago, cancelled)
		}
		err = s.lapse(ctx, p, now)
		if errors.Is(err, ErrStale) && try < 2 {
			continue // the account wrote meanwhile: judge again
		}
		if err != nil {
			return false, fmt.Errorf("complete due unbind: %w", err)
		}
		break
	}
	if h.UnbindID == "" {
		// A hold listed by its profile (scheduled before holds had HELD
		// items): the lapse just wrote its item, which the next run tells.
		return false, nil
	}
	until := now.Add(noticeLease)
	n, err := s.store.TakeNotice(ctx, h, now, until)
	if errors.Is(err, ErrStale) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take notice: %w", err)
	}
	s.tell(ctx, n, settings)
	if err := s.store.NoticeSent(ctx, h, until); err != nil {
		// Told; the item stays, and a run after the lease tells again
		// (consumers drop the event by its id).
		return true, fmt.Errorf("notice sent: %w", err)
	}
	return true, nil
}

// tell publishes phone.unbound (its id the hold's UnbindID, the same
// however often it is told), sends the number its removal SMS unless
// another account holds it now, and the kept address its letter.
func (s *Service) tell(ctx context.Context, n HoldNotice, set Settings) {
	entry := HistoryEntry{
		ID: n.UnbindID, At: n.UnbindAt, Event: EventUnbound, Phone: n.Phone.Masked, Actor: "user", Channel: ChannelEmail,
	}
	s.publish(ctx, n.AccountID, entry, "", set)
	if !n.Rebound {
		s.alert(ctx, n.Phone, unbindDoneText)
	}
	addr := s.addressOf(ctx, Profile{Email: n.Email}, "")
	s.letter(ctx, addr, unbindDoneSubject, fmt.Sprintf(unbindDoneBody, n.Phone.Masked, s.cfg.ProfileURL))
}
