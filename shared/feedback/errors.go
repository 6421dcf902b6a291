package feedback

import (
	"errors"
	"fmt"
	"time"
)

// Business outcomes. The HTTP layer and the ops action map each to what
// their caller reads.
var (
	// ErrTicketNotFound is a ticket that does not exist or is another
	// account's: the two are never told apart.
	ErrTicketNotFound = errors.New("ticket not found")
	// ErrInvalidCursor is a page cursor this service did not hand out.
	ErrInvalidCursor = errors.New("invalid page cursor")
	// ErrDuplicateID is the store's word that a ticket id is taken; the
	// service draws another.
	ErrDuplicateID = errors.New("ticket id already used")
	// ErrDailyLimit is the store's word that the author's counter is full.
	ErrDailyLimit = errors.New("daily ticket limit reached")
	// ErrStale is the store's word that a ticket moved since it was read.
	ErrStale = errors.New("ticket changed since it was read")
)

// Reasons a field is refused, in FieldError.
const (
	ReasonRequired    = "required"    // missing, or blank after trimming
	ReasonTooLong     = "too_long"    // over Max characters
	ReasonUnsupported = "unsupported" // not one of Allowed
	ReasonNotAllowed  = "not_allowed" // given where it has no place
)

// FieldError refuses one field of a request.
type FieldError struct {
	Field   string
	Reason  string
	Max     int      // for too_long
	Allowed []string // for unsupported
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// ContactInvalidEmail is ContactError's reason for an address that is not
// a valid e-mail address; the other reasons are phone.Reason values.
const ContactInvalidEmail = "invalid_email"

// ContactError refuses a contact. Reason is ContactInvalidEmail for
// something with an "@" in it, else the phone.Reason the number failed on.
type ContactError struct{ Reason string }

// Error names only the reason: the contact itself must never reach a log.
func (e *ContactError) Error() string { return "invalid contact: " + e.Reason }

// TransitionError refuses a status change the rules do not allow.
type TransitionError struct{ From, To Status }

func (e *TransitionError) Error() string {
	return fmt.Sprintf("a ticket cannot move from %s to %s", e.From, e.To)
}

// LimitDaily names the per-account daily ticket limit, in counters, logs
// and the rate_limited problem's "limit".
const LimitDaily = "feedback_day"

// RateLimitError refuses a new ticket until the window ends.
type RateLimitError struct {
	Max        int
	Until      time.Time
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("at most %d tickets a day, retry after %s", e.Max, e.RetryAfter)
}
