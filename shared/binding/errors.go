package binding

import (
	"errors"
	"fmt"
	"time"
)

// Business outcomes. The HTTP layer maps each to a status and a stable code.
var (
	ErrConsentRequired      = errors.New("consent required")
	ErrSamePhone            = errors.New("number already bound to this account")
	ErrPhoneTaken           = errors.New("number bound to another account")
	ErrVerificationNotFound = errors.New("verification not found")
	ErrVerificationUsed     = errors.New("verification already used or closed")
	ErrCodeExpired          = errors.New("code expired")
	ErrAttemptsExceeded     = errors.New("code attempts exceeded")
	ErrStale                = errors.New("profile changed since the code was requested")
	ErrNoPhoneBound         = errors.New("no phone bound")
	ErrInvalidPurpose       = errors.New("unsupported purpose")
	ErrEmailUnavailable     = errors.New("no e-mail address on the account")
	// ErrUnbindPending refuses a bind, a change or another e-mailed unbind
	// code while a removal is scheduled: cancel it first.
	ErrUnbindPending = errors.New("a removal of the number is scheduled")
	// ErrNoUnbindPending is a cancel with no removal scheduled.
	ErrNoUnbindPending = errors.New("no removal of the number is scheduled")
	// ErrNumberRebound is LapseUnbind's report that the removal was
	// written but the number's claim already belonged to another account
	// (it bound the number after effective_at): the removed number is now
	// someone else's and must not be told of this account's removal.
	ErrNumberRebound = errors.New("removal completed; the number is another account's now")
	// ErrClaimKept is LapseUnbind's report that the removal was written
	// but the number's claim could not be released after it (a failed
	// DeleteItem): a leftover every claimant treats as free, logged, never
	// a reason to skip telling of the removal.
	ErrClaimKept = errors.New("removal completed; the number's claim was not released")
	// ErrOptedOut is a number whose owner told the carrier to stop SMS from
	// the service; sending again would fail the same way.
	ErrOptedOut = errors.New("number opted out of SMS")
)

// CodeInvalidError is a wrong code; AttemptsLeft more may be tried.
type CodeInvalidError struct{ AttemptsLeft int }

// PurposeMismatchError is a code sent to the route of another purpose: an
// unbind code to confirm, a bind code to unbind. No attempt is spent; the
// code still works on its own route. Purpose is what the code is for.
type PurposeMismatchError struct{ Purpose Purpose }

func (e *PurposeMismatchError) Error() string {
	return "the code is for " + string(e.Purpose)
}

func (e *CodeInvalidError) Error() string {
	return fmt.Sprintf("code invalid, %d attempts left", e.AttemptsLeft)
}

// Limit names, as they appear in RateLimitError and logs.
const (
	LimitCooldown    = "resend_cooldown"
	LimitAccountHour = "account_hour"
	LimitPhoneDay    = "phone_day"
	LimitIPHour      = "ip_hour"
	// Wrong codes entered in a day, by account and by destination.
	LimitFailuresAccount = "failures_account_day"
	LimitFailuresPhone   = "failures_phone_day"
	// Codes in a day to one number range, and to everyone.
	LimitPrefixDay = "prefix_day"
	LimitGlobalDay = "global_day"
)

// RateLimitError is a request refused by a limit until RetryAfter passes.
type RateLimitError struct {
	Limit      string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited by %s, retry after %s", e.Limit, e.RetryAfter)
}

// ChangeTooSoonError refuses a change before CHANGE_COOLDOWN has passed.
type ChangeTooSoonError struct{ AllowedAfter time.Time }

func (e *ChangeTooSoonError) Error() string {
	return "change allowed after " + e.AllowedAfter.Format(time.RFC3339)
}

// DeliveryError means the message with the code could not be sent; nothing
// was left behind and the request may be retried after RetryAfter.
type DeliveryError struct {
	Channel    Channel
	RetryAfter time.Duration
	Err        error
}

func (e *DeliveryError) Error() string { return fmt.Sprintf("send %s: %v", e.Channel, e.Err) }

func (e *DeliveryError) Unwrap() error { return e.Err }

// CooldownError is the store's word that the previous code is too recent.
type CooldownError struct{ ResendAfter time.Time }

func (e *CooldownError) Error() string {
	return "resend cooldown until " + e.ResendAfter.Format(time.RFC3339)
}

// LimitError is the store's word that a counter is full.
type LimitError struct{ Counter Counter }

func (e *LimitError) Error() string { return "limit reached: " + e.Counter.Name }
