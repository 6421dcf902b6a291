// Where the account's phone stands.

package binding

import (
	"context"
	"fmt"
	"time"
)

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
	p := snap.Profile
	if p.Lapsed(now) {
		// The hold ran out: removed for every reader from UnbindAt on,
		// whether or not a write has completed it yet.
		st.History = append([]HistoryEntry{lapsedEntry(p, s.cfg.HistoryRetention)}, st.History...)
		p = Profile{AccountID: p.AccountID, Version: p.Version}
	}
	if p.Bound() {
		st.State = StateVerified
		st.Phone = p.Phone.Masked
		st.VerifiedAt = p.VerifiedAt
		if allowed := s.changeAllowedAfter(p); now.Before(allowed) {
			st.ChangeAllowedAfter = allowed
		}
		consent := p.Consent
		st.Consent = &consent
	}
	// A completed unbind request while the number is still bound and not
	// held is a removal that was cancelled: shown as "completed" it would
	// say the number is gone, so it is not shown.
	if v := snap.Verification; v != nil && !(v.Purpose == PurposeUnbind && p.Bound() && !p.Holding(now) && v.State == RequestCompleted) {
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
			// During a first bind the pending number is the request's
			// destination, never presented as the bound phone.
			st.State = StatePending
		}
	}
	if p.Holding(now) && (st.Request == nil || st.Request.State != RequestPending) {
		st.Request = &RequestView{
			Purpose: PurposeUnbind, Channel: ChannelEmail, State: RequestScheduled,
			Destination: p.Phone.Masked, EffectiveAt: p.UnbindAt,
		}
	}
	if len(st.History) > s.cfg.HistoryLimit {
		st.History = st.History[:s.cfg.HistoryLimit]
	}
	return show(st, snap.Settings.Applied())
}

// show words every masked number of a status in the account's display
// format (an e-mailed code's masked address is left as it is).
func show(st Status, set Settings) Status {
	st.Phone = set.Show(st.Phone)
	if r := st.Request; r != nil {
		shown := *r
		shown.Destination = set.Show(r.Destination)
		st.Request = &shown
	}
	history := make([]HistoryEntry, len(st.History))
	for i, h := range st.History {
		h.Phone = set.Show(h.Phone)
		history[i] = h
	}
	st.History = history
	return st
}
