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
	// s.Now, *LimitError when a counter is at its Max and, for a request
	// that holds the bound number (Verification.HoldsBoundNumber), ErrStale
	// when the profile is no longer at s.Verification.ProfileVersion. Other
	// requests are not checked against the profile (a check costs every
	// request): one made against a version that is gone is refused by its
	// commit (CompleteBind).
	StartVerification(ctx context.Context, s Start) error
	// CancelVerification undoes a StartVerification whose message could not
	// be sent: the verification goes (if it is still the same one) and every
	// counter gives its code back.
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
	// CompleteUnbind commits an unbind. It fails with ErrVerificationUsed
	// when the verification is no longer pending and ErrStale when the
	// profile moved since it was read, no longer holds the number, or its
	// hold is due at u.Now (LapseUnbind completes that one).
	CompleteUnbind(ctx context.Context, u Unbinding) error
	// ScheduleUnbind commits an unbind by e-mail code as a hold
	// (SPEC §4.3). It fails with ErrVerificationUsed when the verification
	// is no longer pending and ErrStale when the profile moved since the
	// code was requested.
	ScheduleUnbind(ctx context.Context, h Hold) error
	// CancelUnbind takes back a hold. It fails with ErrStale when the
	// profile moved since it was read or its hold is due at c.Now.
	CancelUnbind(ctx context.Context, c HoldCancel) error
	// LapseUnbind completes a hold that is due at u.Now: the profile (at
	// u.Profile.Version, only while its UnbindAt is not after u.Now) is
	// written without a number, any request in flight is voided and the
	// history entry (dated UnbindAt) written, all or nothing; then the
	// number's claim is released if this account still holds it. Every
	// claimant already treats a due claim as free, so the release is
	// cleanup. It fails with ErrStale when the profile moved, and reports
	// ErrNumberRebound (the removal written) when the claim was already
	// another account's.
	LapseUnbind(ctx context.Context, u Unbinding) error
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
