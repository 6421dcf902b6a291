// Confirming a bind or change code.

package binding

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"time"
)

// Confirm checks a code and, when it is right, binds the number. The
// attempt is counted before the code is judged, so concurrent guesses can
// never get more than MaxAttempts evaluations.
func (s *Service) Confirm(ctx context.Context, c Confirmation) (Status, error) {
	now := s.now().UTC()
	p, err := s.judge(ctx, c, PurposeBind, now)
	if err != nil {
		return Status{}, err
	}
	v := p.Verification
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
		return Status{}, s.revealTaken(ctx, p, now)
	case err != nil:
		return Status{}, s.commitError(ctx, v, err, "complete bind", now)
	}
	st, set, err := s.after(ctx, c.AccountID)
	s.publish(ctx, c.AccountID, completion.History, v.Previous.Masked, set)
	if event == EventChanged {
		// A change is a security alert: the old number and the verified
		// e-mail hear of it whatever the settings say.
		s.alert(ctx, v.Previous, changeDoneText)
		s.letter(ctx, c.Email, changeDoneSubject, fmt.Sprintf(changeDoneBody, v.Destination.Masked, s.cfg.ProfileURL))
	} else if set.Notifications.Email {
		// A first bind is a service notice: only with e-mail notices on.
		s.letter(ctx, c.Email, boundSubject, fmt.Sprintf(boundBody, v.Destination.Masked, s.cfg.ProfileURL))
	}
	return st, err
}

// proof is a verification whose right code the caller has sent: the
// caller has shown that it holds the number the code went to. Only judge
// makes one.
type proof struct{ Verification }

// revealTaken is the one place the service tells a caller that a number
// is bound to another account, and it needs a proof: whether a number is
// taken is revealed only after proof of possession. Until then a taken
// number is answered like a free one (RequestCode sends it a code; a wrong
// code is code_invalid), so nobody can learn whose number is bound by
// trying numbers (TestPhoneTakenOnlyAfterProof). The request is closed as
// phone_taken.
func (s *Service) revealTaken(ctx context.Context, p proof, now time.Time) error {
	s.reject(ctx, p.Verification, ReasonPhoneTaken, now)
	return ErrPhoneTaken
}

// judge spends one attempt on the verification and then compares the
// code in constant time; only a right code for purpose returns a proof.
func (s *Service) judge(ctx context.Context, c Confirmation, purpose Purpose, now time.Time) (proof, error) {
	v, err := s.store.CountAttempt(ctx, c.AccountID, c.VerificationID, purpose, now)
	if err != nil {
		return proof{}, err
	}
	if err := s.demandAtConfirm(c.Session, v, now); err != nil {
		return proof{}, err
	}
	want := s.keys.CodeMAC(v.ID, c.Code)
	if !hmac.Equal([]byte(want), []byte(v.CodeHMAC)) {
		if err := s.store.CountFailures(context.WithoutCancel(ctx), s.failureCounters(c.AccountID, v.Destination.HMAC, now)); err != nil {
			s.log.ErrorContext(ctx, "count wrong code", "error", err.Error())
		}
		return proof{}, &CodeInvalidError{AttemptsLeft: v.AttemptsLeft()}
	}
	return proof{v}, nil
}

// commitError is what a failed commit of verification v tells the
// caller: a profile that moved since the code was asked for rejects v as
// superseded (ErrStale); a code already used says so; anything else is
// ours, named by what.
func (s *Service) commitError(ctx context.Context, v Verification, err error, what string, now time.Time) error {
	switch {
	case errors.Is(err, ErrStale):
		s.reject(ctx, v, ReasonSuperseded, now)
		return ErrStale
	case errors.Is(err, ErrVerificationUsed):
		return err
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

func (s *Service) reject(ctx context.Context, v Verification, reason string, now time.Time) {
	if err := s.store.RejectVerification(context.WithoutCancel(ctx), v.AccountID, v.ID, reason, now); err != nil {
		s.log.ErrorContext(ctx, "reject verification", "error", err.Error(), "reason", reason)
	}
}
