package binding

import (
	"context"
	"time"
)

// Store keeps profiles, verifications, claims, counters and history. Every
// method is one atomic step; none reads and then writes on the caller's
// behalf. Adapters: store.Memory and store.Dynamo, held to one contract by
// storetest.Run.
type Store interface {
	// Snapshot reads the profile, the verification and up to historyLimit
	// newest history entries of an account. A missing profile is a zero
	// Profile with Version 0, not an error.
	Snapshot(ctx context.Context, accountID string, historyLimit int) (Snapshot, error)
	// StartVerification writes s.Verification over the account's previous
	// one and adds one to every counter, all or nothing. It fails with
	// *CooldownError while the previous verification's ResendAfter is after
	// s.Now, *LimitError when a counter or check is at its Max (never for
	// s.Tallies, which are counted only) and, for a request
	// that holds the bound number (Verification.HoldsBoundNumber), ErrStale
	// when the profile is no longer at s.Verification.ProfileVersion or
	// its hold is due at s.Now (the number is removed for every reader).
	// Other requests are not checked against the profile (a check costs every
	// request): one made against a version that is gone is refused by its
	// commit (CompleteBind).
	StartVerification(ctx context.Context, s Start) error
	// CancelVerification undoes a StartVerification whose message could not
	// be sent: the verification goes (if it is still the same one) and every
	// counter and tally gives its code back.
	CancelVerification(ctx context.Context, s Start) error
	// CountAttempt spends one attempt on a pending verification before its
	// code is judged and returns it as it is after the increment. It fails
	// with ErrVerificationNotFound when the account has no verification of
	// that id, ErrVerificationUsed when it is no longer pending,
	// ErrCodeExpired past ExpiresAt (now), ErrAttemptsExceeded when no
	// attempt is left and *PurposeMismatchError when the verification is
	// for another purpose; in those cases nothing is written.
	CountAttempt(ctx context.Context, accountID, verificationID string, purpose Purpose, now time.Time) (Verification, error)
	// CompleteBind commits a confirmed bind or change. It fails with
	// ErrPhoneTaken when another account holds the number (a claim whose
	// holder's removal is due at c.Now is free), ErrVerificationUsed
	// when the verification is no longer pending, and ErrStale when the
	// profile moved since the code was requested.
	CompleteBind(ctx context.Context, c Completion) error
	// CompleteUnbind commits an unbind, and ends a hold not yet due with
	// it (the HELD item of u.Profile.UnbindID goes). It fails with ErrVerificationUsed
	// when the verification is no longer pending and ErrStale when the
	// profile moved since it was read, no longer holds the number, or its
	// hold is due at u.Now (LapseUnbind completes that one).
	CompleteUnbind(ctx context.Context, u Unbinding) error
	// ScheduleUnbind commits an unbind by e-mail code as a hold
	// (SPEC §4.3). It fails with ErrVerificationUsed when the verification
	// is no longer pending and ErrStale when the profile moved since the
	// code was requested.
	// The hold's HELD item (its outbox) is put with it.
	ScheduleUnbind(ctx context.Context, h Hold) error
	// CancelUnbind takes back a hold and deletes its HELD item. It fails with ErrStale when the
	// profile moved since it was read or its hold is due at c.Now.
	CancelUnbind(ctx context.Context, c HoldCancel) error
	// LapseUnbind completes a hold that is due at u.Now: the profile (at
	// u.Profile.Version, only while its UnbindAt is not after u.Now) is
	// written without a number, any request in flight is voided, the
	// history entry (dated UnbindAt) written and the hold's HELD item
	// given the number and the address to tell (kept, for TakeNotice),
	// all or nothing; then the number's claim is released if this account
	// still holds it. Every claimant already treats a due claim as free,
	// so the release is cleanup. It fails with ErrStale when the profile
	// moved, and reports, the removal written, ErrNumberRebound when the
	// claim was already another account's and ErrClaimKept when the
	// release failed.
	LapseUnbind(ctx context.Context, u Unbinding) error
	// DueUnbinds lists up to limit held removals due at now (UnbindAt not
	// after now) that are not yet told of, oldest first: the HELD items
	// ScheduleUnbind puts, which CancelUnbind and CompleteUnbind delete
	// with the hold, LapseUnbind keeps (filling in the notice) and
	// NoticeSent deletes. The list may lag those writes by a moment
	// (DynamoDB reads it from a secondary index), so it says where to
	// look; the profile and TakeNotice decide. A DueHold without UnbindID
	// is a profile whose hold predates HELD items.
	DueUnbinds(ctx context.Context, now time.Time, limit int) ([]DueHold, error)
	// TakeNotice takes the telling of a lapsed hold until until and
	// returns what to tell, with Rebound set when the number's claim is
	// another account's. It fails with ErrStale when the hold is not
	// lapsed (not due, cancelled), already told, or another teller holds
	// it past now.
	TakeNotice(ctx context.Context, h DueHold, now, until time.Time) (HoldNotice, error)
	// NoticeSent deletes a told hold's HELD item, only while the telling
	// taken until until is still the caller's (else the one who took it
	// over deletes it).
	NoticeSent(ctx context.Context, h DueHold, until time.Time) error
	// CountFailures adds one to each counter, with no ceiling: the wrong
	// codes entered, which Start.Checks then hold against new codes.
	CountFailures(ctx context.Context, counters []Counter) error
	// ChangeSettings writes the fields c.Patch sets, and no other, onto the
	// account's settings and the history entry, all or nothing. It reads
	// nothing first: concurrent changes of different fields all land, of
	// the same field the last one wins.
	ChangeSettings(ctx context.Context, c SettingsChange) error
	// RejectVerification closes a pending verification with a reason.
	RejectVerification(ctx context.Context, accountID, verificationID, reason string, now time.Time) error
	// AccessStore keeps the reads of the number (access.go).
	AccessStore
}

// SMS sends a text message to an E.164 number.
type SMS interface {
	SendSMS(ctx context.Context, to, body string) error
}

// Email sends an e-mail to an address.
type Email interface {
	SendEmail(ctx context.Context, to, subject, body string) error
}

// CodeSMS is an SMS sender that is also told which code a text carries.
// The service sends its codes through SendCodeSMS when the SMS sender has
// it: the local outbox does, and keeps the code beside the text, so that a
// test or a front end under development need not read it out of the words.
// A deployed sender needs only SendSMS.
type CodeSMS interface {
	SendCodeSMS(ctx context.Context, to, body, code string) error
}

// CodeEmail is to Email what CodeSMS is to SMS.
type CodeEmail interface {
	SendCodeEmail(ctx context.Context, to, subject, body, code string) error
}

// Events tells other systems about a committed change. Delivery is at least
// once; a failure after a commit is logged, never undone.
type Events interface {
	PhoneEvent(ctx context.Context, e PhoneEvent) error
}

// Signal is a defence at work that operators should hear of; the alarms in
// template.yaml read it as a metric (metrics.Signals).
type Signal string

// The signals the service gives.
const (
	// SignalNumberLockRefused: a code to a number was refused because of
	// its wrong codes of the day (across accounts).
	SignalNumberLockRefused Signal = "number_lock_refused"
	// SignalNumberLockOwnerSpared: a number's wrong codes of the day are
	// over the limit, and its owner got a code anyway (failureChecks).
	SignalNumberLockOwnerSpared Signal = "number_lock_owner_spared"
	// SignalNumberCapOwnerSpared: a number's codes of the day are at
	// CODES_PER_PHONE_DAY, and the account it is bound to got a code to it
	// anyway (capChecks): others spent its codes, or its owner is busy.
	SignalNumberCapOwnerSpared Signal = "number_cap_owner_spared"
	// SignalDueUnbindFailed: the complete_due_unbinds job could not see
	// one account's due hold through (read, write or telling failed); the
	// next run tries again.
	SignalDueUnbindFailed Signal = "due_unbind_failed"
	// SignalRangeHalfCap: a number range has used half or more of its
	// daily cap (CODES_PER_PREFIX_DAY), given with every code past half.
	SignalRangeHalfCap Signal = "range_half_cap"
)

// Signals hears the service's signals. It must not block or fail: a signal
// is an observation, never a reason to refuse a request.
type Signals interface {
	Signal(ctx context.Context, s Signal)
}

// Keys turns numbers and codes into what may be stored. Key material stays
// inside the adapter (secure.Keyring).
type Keys interface {
	// PhoneMAC is the HMAC-SHA256 of an E.164 number, hex-encoded.
	PhoneMAC(e164 string) string
	// SourceMAC is the HMAC-SHA256 of a client IP address, hex-encoded.
	SourceMAC(ip string) string
	// CodeMAC is the HMAC-SHA256 of a verification id and its code.
	CodeMAC(verificationID, code string) string
	// Seal encrypts with the newest key and says which key it used.
	Seal(plaintext string) (keyID, ciphertext string, err error)
	// Open decrypts what Seal produced under any key still in the ring.
	Open(keyID, ciphertext string) (string, error)
}

// Clock tells the time; tests inject a fake one.
type Clock func() time.Time
