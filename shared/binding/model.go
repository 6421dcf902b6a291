// Package binding holds the rules for saving, confirming and changing an
// account's mobile number. It knows nothing of Lambda, HTTP, JSON bodies or
// the AWS SDK: adapters reach it through the ports in ports.go.
package binding

import "time"

// Purpose says what a verification will do once its code is confirmed.
type Purpose string

// Purposes a verification can have.
const (
	PurposeBind   Purpose = "bind"
	PurposeUnbind Purpose = "unbind"
)

// Channel says where a code was sent.
type Channel string

// Channels a code can travel by.
const (
	ChannelSMS     Channel = "sms"
	ChannelEmail   Channel = "email"
	ChannelSupport Channel = "support"
)

// State is where an account's phone stands, as SPEC §4.4 names it.
type State string

// States of an account's phone.
const (
	StateNone     State = "none"
	StatePending  State = "pending"
	StateVerified State = "verified"
)

// RequestState is where the latest verification request stands.
type RequestState string

// States of a verification request.
const (
	RequestPending   RequestState = "pending"
	RequestCompleted RequestState = "completed"
	RequestRejected  RequestState = "rejected"
	// RequestScheduled is a removal by e-mail code waiting out its hold
	// (UNBIND_EMAIL_HOLD); the number stays bound until EffectiveAt.
	RequestScheduled RequestState = "scheduled"
)

// Reasons a request was rejected, shown in status.
const (
	ReasonExpired          = "expired"
	ReasonAttemptsExceeded = "attempts_exceeded"
	ReasonPhoneTaken       = "phone_taken"
	ReasonSuperseded       = "superseded"
)

// History events.
const (
	EventBound           = "bound"
	EventChanged         = "changed"
	EventUnbound         = "unbound"
	EventSupportUnbound  = "support_unbound"
	EventUnbindScheduled = "unbind_scheduled"
	EventUnbindCancelled = "unbind_cancelled"
	// EventSettingsChanged: the citizen changed their settings (§4.7).
	EventSettingsChanged = "settings_changed"
)

// SealedPhone is how a number is kept at rest: a keyed hash for equality and
// limits, a ciphertext for the rare moment the number must be dialled, and
// the masked form for display. The plain number is never stored.
type SealedPhone struct {
	HMAC       string
	KeyID      string
	Ciphertext string
	Masked     string
}

// IsZero reports whether no number is sealed here.
func (p SealedPhone) IsZero() bool { return p.HMAC == "" }

// Consent records the personal-data consent given with a binding.
type Consent struct {
	Version string
	GivenAt time.Time
}

// Profile is the account's binding. Version grows by one with every change so
// that a commit can insist nothing moved since it read; 0 means no item yet.
type Profile struct {
	AccountID  string
	Phone      SealedPhone
	VerifiedAt time.Time
	// BoundAt is the last bind or change; CHANGE_COOLDOWN counts from it.
	BoundAt time.Time
	Consent Consent
	Version int64
	// UnbindAt is when a removal by e-mail code takes effect (zero: none
	// scheduled). From that instant the number is unbound for every
	// reader, whether or not a write has completed the removal yet.
	UnbindAt time.Time
	// UnbindID is the id of the history entry the removal is recorded
	// under, dated UnbindAt, whoever completes it.
	UnbindID string
	// Email is the verified address of the latest session that wrote the
	// profile with one (zero: none known); removals nobody signed in for
	// are told to it. It goes with the number.
	Email SealedEmail
}

// Bound reports whether the profile holds a verified number.
func (p Profile) Bound() bool { return !p.Phone.IsZero() }

// Holding reports a removal scheduled and not yet due at now.
func (p Profile) Holding(now time.Time) bool {
	return p.Bound() && !p.UnbindAt.IsZero() && now.Before(p.UnbindAt)
}

// Lapsed reports a scheduled removal whose time has come: the number is
// no longer bound, though the item may still hold it until a write
// completes the removal (LapseUnbind).
func (p Profile) Lapsed(now time.Time) bool {
	return p.Bound() && !p.UnbindAt.IsZero() && !now.Before(p.UnbindAt)
}

// Verification is one outstanding or finished code request. An account has
// at most one: a new request overwrites the old one, whose code then no
// longer matches anything.
type Verification struct {
	ID          string
	AccountID   string
	Purpose     Purpose
	Channel     Channel
	Destination SealedPhone
	// CodeHMAC is HMAC(verification id, code); the code itself is never kept.
	CodeHMAC    string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	ResendAfter time.Time
	Attempts    int
	MaxAttempts int
	State       RequestState
	Reason      string
	// ProfileVersion is the profile version the request was made against;
	// the commit fails if the profile moved since.
	ProfileVersion int64
	// Previous is the number bound when a change was requested, so the
	// commit can release it and alert it without another read.
	Previous       SealedPhone
	ConsentVersion string
	// SentTo is the masked address an e-mailed code went to; empty when the
	// code went by SMS to Destination.
	SentTo string
	// Sequence counts the codes of an unbroken run (each within an hour of
	// the last); the resend delay doubles with each one.
	Sequence int
}

// HoldsBoundNumber reports whether the request carries the number the
// profile holds now (an unbind's destination, a change's previous number):
// stored against a profile that moved, it would keep the ciphertext of a
// number that is no longer bound, so it is stored only at ProfileVersion.
func (v Verification) HoldsBoundNumber() bool {
	return v.Purpose == PurposeUnbind || !v.Previous.IsZero()
}

// Shown is the masked place the code went to, as the user should see it.
func (v Verification) Shown() string {
	if v.SentTo != "" {
		return v.SentTo
	}
	return v.Destination.Masked
}

// Effective returns the request state as a user should see it at now:
// a pending request past its expiry or out of attempts is rejected.
func (v Verification) Effective(now time.Time) (RequestState, string) {
	if v.State != RequestPending {
		return v.State, v.Reason
	}
	if !now.Before(v.ExpiresAt) {
		return RequestRejected, ReasonExpired
	}
	if v.Attempts >= v.MaxAttempts {
		return RequestRejected, ReasonAttemptsExceeded
	}
	return RequestPending, ""
}

// AttemptsLeft is how many wrong entries the verification still allows.
func (v Verification) AttemptsLeft() int {
	if n := v.MaxAttempts - v.Attempts; n > 0 {
		return n
	}
	return 0
}

// HistoryEntry is one change to the account's binding, newest first in status.
type HistoryEntry struct {
	// ID is unique; the event published for the change carries the same id.
	ID       string
	At       time.Time
	Event    string
	Phone    string // masked
	Actor    string // "user" or "support:NAME"
	Channel  Channel
	SourceIP string
	// TicketID and Reason are what an operator gave for a support action.
	TicketID string
	Reason   string
	// Fields are the settings a settings_changed entry set, as the API
	// names them (notifications.sms, display_format, …).
	Fields []string
	// ClientID is the partner an access_approved or access_declined entry
	// decided on.
	ClientID string
	// ExpiresAt is when retention ends and the store may drop the entry.
	ExpiresAt time.Time
}

// Snapshot is everything status needs, read in one go.
type Snapshot struct {
	Profile      Profile
	Verification *Verification
	History      []HistoryEntry
	// Settings are the fields of the settings ever set; Applied gives the
	// settings with the defaults for the rest.
	Settings SettingsPatch
}

// Counter is one rate-limit window: Name and Subject identify what is
// counted, WindowStart and Period the fixed window, Max the ceiling.
type Counter struct {
	Name        string
	Subject     string
	WindowStart time.Time
	Period      time.Duration
	Max         int
}

// WindowEnd is when the counter's window closes.
func (c Counter) WindowEnd() time.Time { return c.WindowStart.Add(c.Period) }

// Start is everything a new verification writes in one atomic step: the
// verification (replacing any earlier one whose cooldown has passed), one
// more code on each counter, and the insistence that the profile is still at
// ProfileVersion.
type Start struct {
	Verification Verification
	Counters     []Counter
	// Checks are counters that must be below their Max but are not
	// spent (the wrong-code counters).
	Checks []Counter
	// Tallies are counters spent one more but not held to their Max: the
	// number's codes of the day when the code goes to the number the
	// account has bound (capChecks), so the count stays true for everyone
	// else while the owner is not refused by it.
	Tallies []Counter
	// Email is a verified address to keep on the profile, written with
	// the request's profile check when the request holds the bound number
	// (HoldsBoundNumber); nil writes nothing.
	Email *SealedEmail
	Now   time.Time
}

// Completion commits a confirmed bind or change in one atomic step: the
// verification is consumed, the new number is claimed, the profile updated,
// the previous number released and a history entry written.
type Completion struct {
	Verification Verification
	Profile      Profile // the new profile; Version is the old version + 1
	Release      SealedPhone
	History      HistoryEntry
	// Reset are counters a success clears (the wrong-code counters).
	Reset []Counter
	Now   time.Time
}

// Unbinding removes the number from an account in one atomic step: the
// verification (nil for a support unbind) is consumed, the profile is written
// without a number at the version after Profile.Version, the claim on the
// number is released and a history entry written.
type Unbinding struct {
	Verification *Verification
	Profile      Profile // as read: its Version is the one insisted on
	History      HistoryEntry
	Reset        []Counter
	Now          time.Time
}

// Hold commits an unbind by e-mail code as a scheduled removal, in one
// atomic step: the verification is consumed, the profile (at
// Verification.ProfileVersion, one version on) and the number's claim are
// marked with UnbindAt, and a history entry is written.
type Hold struct {
	Verification Verification
	UnbindAt     time.Time
	// UnbindID is the id of the history entry the removal will be
	// recorded under.
	UnbindID string
	// Email is a verified address to keep on the profile (nil: as is),
	// for the letter when the hold runs out.
	Email   *SealedEmail
	History HistoryEntry
	Reset   []Counter
	Now     time.Time
}

// HoldCancel takes back a scheduled removal not yet due, in one atomic
// step: the profile (at Profile.Version, one version on) and the claim
// lose UnbindAt and a history entry is written.
type HoldCancel struct {
	Profile Profile // as read
	History HistoryEntry
	Now     time.Time
}

// Domain event names on the events topic (SPEC §4.6).
const (
	EventNamePhoneBound          = "phone.bound"
	EventNamePhoneChanged        = "phone.changed"
	EventNamePhoneUnbound        = "phone.unbound"
	EventNamePhoneSupportUnbound = "phone.support_unbound"
	EventNameUnbindScheduled     = "phone.unbind_scheduled"
	EventNameUnbindCancelled     = "phone.unbind_cancelled"
	EventNameSettingsChanged     = "settings.changed"
)

// eventNames maps a history event to the domain event published for it.
var eventNames = map[string]string{
	EventBound:           EventNamePhoneBound,
	EventChanged:         EventNamePhoneChanged,
	EventUnbound:         EventNamePhoneUnbound,
	EventSupportUnbound:  EventNamePhoneSupportUnbound,
	EventUnbindScheduled: EventNameUnbindScheduled,
	EventUnbindCancelled: EventNameUnbindCancelled,
	EventSettingsChanged: EventNameSettingsChanged,
	EventAccessApproved:  EventNameAccessApproved,
	EventAccessDeclined:  EventNameAccessDeclined,
}

// PhoneEvent is a committed change as other systems hear of it: masked
// numbers only.
type PhoneEvent struct {
	ID        string // the history entry's id
	Name      string // phone.bound, phone.changed, phone.unbound, phone.support_unbound
	AccountID string
	Phone     string // masked: the number bound, or the one removed
	Previous  string // masked: the number a change replaced
	Actor     string
	Channel   Channel
	At        time.Time
	// Push is the account's push-notice setting when the event was
	// published, for a push service to honour; it never holds back a
	// security alert.
	Push bool
	// Fields are the settings a settings.changed event set.
	Fields []string
	// Access is the partner's request a phone.access_* event is about.
	Access *AccessRequest
}
