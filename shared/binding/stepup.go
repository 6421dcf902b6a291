// Step-up authentication (RFC 9470): the actions that can hand the number
// to someone else ask for a strong and recent sign-in.

package binding

import (
	"fmt"
	"slices"
	"time"
)

// Session is how the caller signed in, as the identity provider's token
// says (SPEC §1).
type Session struct {
	// AMR are the authentication methods of the sign-in (RFC 8176 names).
	AMR []string
	// ACR is the authentication context class of the sign-in.
	ACR string
	// AuthTime is when the person last signed in; zero when the token does
	// not say, which is never fresh.
	AuthTime time.Time
}

// StepUp is what a change of the number and an unbind ask of the session
// (STEP_UP_AMR, STEP_UP_ACR, STEP_UP_MAX_AGE).
type StepUp struct {
	// AMR: any of these methods in the token's amr shows a second factor.
	AMR []string
	// ACR: or the token's acr is one of these.
	ACR []string
	// MaxAge is how long ago the sign-in may have been.
	MaxAge time.Duration
}

// StepUpError says the session has to sign in again before the action: with
// a second factor when SecondFactor, and within MaxAge in any case. Nothing
// was sent or written.
type StepUpError struct {
	SecondFactor bool
	MaxAge       time.Duration
	// ACR are the classes that would do, for the challenge's acr_values.
	ACR []string
}

func (e *StepUpError) Error() string {
	if e.SecondFactor {
		return fmt.Sprintf("step-up needed: a second factor, signed in within %s", e.MaxAge)
	}
	return fmt.Sprintf("step-up needed: signed in within %s", e.MaxAge)
}

// secondFactor reports whether the session's amr or acr shows a second
// factor.
func (u StepUp) secondFactor(s Session) bool {
	for _, m := range s.AMR {
		if slices.Contains(u.AMR, m) {
			return true
		}
	}
	return s.ACR != "" && slices.Contains(u.ACR, s.ACR)
}

// demand checks the session before an action that needs step-up: a recent
// sign-in always, a second factor when secondFactor. It runs before any
// code is sent or anything written.
func (s *Service) demand(sess Session, secondFactor bool, now time.Time) error {
	u := s.cfg.StepUp
	if u.fresh(sess, now) && (!secondFactor || u.secondFactor(sess)) {
		return nil
	}
	return &StepUpError{SecondFactor: secondFactor, MaxAge: u.MaxAge, ACR: u.ACR}
}

// fresh reports whether the sign-in is recent enough (a minute of clock
// skew allowed into the future).
func (u StepUp) fresh(s Session, now time.Time) bool {
	return !s.AuthTime.IsZero() && !s.AuthTime.After(now.Add(time.Minute)) && now.Sub(s.AuthTime) <= u.MaxAge
}

// demandAtConfirm holds the confirmation of code v to the step-up its
// request needed, so that a session weaker than the one that asked for the
// code (an old one, or one without a second factor) cannot complete a
// change or a removal. It runs once the attempt is counted (a weak session
// guessing codes spends attempts like any other) and before the code is
// compared, so its answer tells nothing about the code.
func (s *Service) demandAtConfirm(sess Session, v Verification, now time.Time) error {
	switch {
	case v.Purpose == PurposeBind && v.Previous.HMAC != "":
		return s.demand(sess, true, now) // a change
	case v.Purpose == PurposeUnbind:
		return s.demand(sess, v.Channel == ChannelSMS, now)
	}
	return nil // a first bind needs a plain session
}
