// Removing the number on an operator's word.

package binding

import (
	"context"
	"errors"
	"fmt"
)

// SupportUnbind removes an account's number on an operator's word, after
// identity was checked in person; the ticket and the reason go into the
// history entry, and the old number is told. It is idempotent: with
// nothing bound it reports ErrNoPhoneBound and changes nothing.
func (s *Service) SupportUnbind(ctx context.Context, accountID, operator, reason, ticketID string) (Status, error) {
	for try := 0; ; try++ {
		snap, now, err := s.current(ctx, accountID)
		if err != nil {
			return Status{}, err
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
			Actor: "support:" + operator, Channel: ChannelSupport, TicketID: ticketID, Reason: reason,
			ExpiresAt: now.Add(s.cfg.HistoryRetention),
		}
		err = s.store.CompleteUnbind(ctx, Unbinding{Profile: snap.Profile, History: history, Now: now})
		if errors.Is(err, ErrStale) && try < 2 {
			continue
		}
		if err != nil {
			return Status{}, fmt.Errorf("support unbind: %w", err)
		}
		st, set, err := s.after(ctx, accountID)
		s.publish(ctx, accountID, history, "", set)
		s.alert(ctx, snap.Profile.Phone, unbindDoneText)
		// Nobody is signed in: the letter goes to the address the profile
		// keeps (SPEC §4.3: every removal alerts the verified e-mail).
		s.letter(ctx, s.addressOf(ctx, snap.Profile, ""), unbindDoneSubject, fmt.Sprintf(unbindDoneBody, snap.Profile.Phone.Masked, s.cfg.ProfileURL))
		return st, err
	}
}
