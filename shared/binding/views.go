package binding

import (
	"time"

	"github.com/gosuslugi/phonebind/shared/phone"
)

// CodeRequest asks for a code; the HTTP layer has already parsed the number.
type CodeRequest struct {
	AccountID string
	Purpose   Purpose
	// Channel is where an unbind code goes; a bind code always goes by SMS
	// to the new number.
	Channel  Channel
	Phone    phone.Number
	Consent  bool
	SourceIP string
	// Email is the account's verified e-mail (the token's email claim),
	// where an unbind code goes when the SIM is lost; empty when unknown.
	Email string
	// Session is how the caller signed in: a change and an unbind need
	// step-up.
	Session Session
}

// CodeSent tells the caller a code is on its way and how long it lives.
type CodeSent struct {
	VerificationID string
	Purpose        Purpose
	Channel        Channel
	Destination    string // masked
	ExpiresAt      time.Time
	ResendAfter    time.Time
	AttemptsLeft   int
}

// Confirmation is a code entered by the user.
type Confirmation struct {
	AccountID      string
	VerificationID string
	Code           string
	SourceIP       string
	// Email is the account's verified e-mail, told when a removal is
	// scheduled; empty when unknown.
	Email string
	// Session is how the caller signed in: confirming a change or an
	// unbind needs the same step-up as asking for its code.
	Session Session
}

// Status is what GET /v1/phone shows (SPEC §4.4). Zero times mean "not set".
type Status struct {
	State              State
	Phone              string // masked; empty when nothing is bound
	VerifiedAt         time.Time
	ChangeAllowedAfter time.Time
	Consent            *Consent
	Request            *RequestView
	History            []HistoryEntry
}

// RequestView describes the latest verification request.
type RequestView struct {
	VerificationID string
	Purpose        Purpose
	// Channel is where the code went; shown for a scheduled removal.
	Channel      Channel
	State        RequestState
	Reason       string
	Destination  string // masked
	ExpiresAt    time.Time
	ResendAfter  time.Time
	AttemptsLeft int
	// EffectiveAt is when a scheduled removal takes effect.
	EffectiveAt time.Time
}
