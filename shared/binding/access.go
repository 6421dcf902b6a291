// Portal services read the number (SPEC §4.8): what a read asks, what
// partners' access requests and the access log hold, and the store's part
// in them. read.go is the read itself, access_requests.go the citizen's
// side: the pending requests, the decisions and the log.

package binding

import (
	"context"
	"errors"
	"time"
)

// ReadPurpose is what a portal service wants the number for; each purpose
// is allowed by its own setting (readAllowed).
type ReadPurpose string

// Purposes of a read.
const (
	// ReadNotification: a notice by SMS; needs notifications.sms.
	ReadNotification ReadPurpose = "notification"
	// ReadAutofill: prefilling an application; needs autofill.
	ReadAutofill ReadPurpose = "autofill"
	// ReadThirdParty: a partner service; follows third_party.
	ReadThirdParty ReadPurpose = "third_party"
)

// ReadPurposes lists the purposes a read may give.
var ReadPurposes = []ReadPurpose{ReadNotification, ReadAutofill, ReadThirdParty}

// Results of a read, as the access log and the reader see them: ReadAllowed,
// or the refusal's code.
const (
	ReadAllowed          = "allowed"
	ReadNoPhoneBound     = "no_phone_bound"
	ReadNotAllowed       = "not_allowed"
	ReadApprovalRequired = "approval_required"
)

// AccessState is where a partner's access request stands.
type AccessState string

// States of an access request.
const (
	AccessPending  AccessState = "pending"
	AccessApproved AccessState = "approved"
	AccessDeclined AccessState = "declined"
)

// AccessRequest is a partner's request to read the number under
// third_party: ask, one per partner and account. It holds the partner's
// place until ExpiresAt, whatever its state: a pending request until it
// lapses unanswered, an approval until ApprovedUntil, a decline for as long
// as an approval would have lasted (SHARE_APPROVAL_TTL), so that a
// declined partner cannot ask again at once. Past ExpiresAt the partner's
// next read asks anew.
type AccessRequest struct {
	// ID is random and URL-safe: the citizen's handle on the request.
	ID         string
	AccountID  string
	ClientID   string
	ClientName string
	Purpose    ReadPurpose
	State      AccessState
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// ApprovedUntil is the end of an approval (zero unless approved).
	ApprovedUntil time.Time
	// DecidedAt is when the citizen approved or declined (zero: pending).
	DecidedAt time.Time
}

// Open reports whether the request still holds the partner's place at now.
func (r AccessRequest) Open(now time.Time) bool { return now.Before(r.ExpiresAt) }

// Approved reports an approval in force at now.
func (r AccessRequest) Approved(now time.Time) bool {
	return r.State == AccessApproved && now.Before(r.ApprovedUntil)
}

// Pending reports a request waiting for the citizen at now.
func (r AccessRequest) Pending(now time.Time) bool {
	return r.State == AccessPending && r.Open(now)
}

// Undecidable says why the decision state cannot be taken at now, or nil
// when it can: a pending, unexpired request takes either; an approval in
// force can be declined (the citizen withdraws it). Otherwise
// ErrAccessRequestExpired for a request lapsed unanswered or an approval
// run out, ErrAccessRequestDecided for the rest.
func (r AccessRequest) Undecidable(state AccessState, now time.Time) error {
	switch {
	case r.Pending(now):
		return nil
	case state == AccessDeclined && r.Approved(now):
		return nil
	case r.State == AccessPending, state == AccessDeclined && r.State == AccessApproved:
		return ErrAccessRequestExpired
	}
	return ErrAccessRequestDecided
}

// AccessLogEntry is one read of the number, allowed or refused.
type AccessLogEntry struct {
	// ID is random; it keeps two entries of one millisecond apart.
	ID         string
	At         time.Time
	ClientID   string
	ClientName string
	Purpose    ReadPurpose
	// Result is ReadAllowed or the refusal's code.
	Result string
	// ExpiresAt is At plus ACCESS_LOG_RETENTION: the store may drop the
	// entry from then on.
	ExpiresAt time.Time
}

// ReadView is what a read decides on, read in one consistent round trip:
// the profile, the settings item's fields and version, and, for a
// partner's read, that partner's access request.
type ReadView struct {
	Profile  Profile
	Settings SettingsPatch
	// SettingsVersion counts the changes of the settings (0: never
	// changed since versions were kept).
	SettingsVersion int64
	// Request is the partner's access request, nil when there is none or
	// none was asked for.
	Request *AccessRequest
}

// ReadCommit is an allowed read's log entry, written only while everything
// the read decided on is as it was read: the profile at ProfileVersion,
// the settings at SettingsVersion and, when Approval is set, that request
// still approved (the same request id) and unexpired at Entry.At.
type ReadCommit struct {
	AccountID       string
	Entry           AccessLogEntry
	ProfileVersion  int64
	SettingsVersion int64
	Approval        *AccessRequest
}

// Refusal is a refused read's log entry and, when the partner has no open
// request, the access request the read creates.
type Refusal struct {
	AccountID string
	Entry     AccessLogEntry
	// NewRequest is created only where the partner has no open request
	// (AccessRequest.Open at Entry.At); otherwise it is left out and the
	// entry written alone.
	NewRequest *AccessRequest
}

// AccessDecisionWrite is the citizen's decision on a request, written with
// its history entry in one atomic step, only while the request (found by
// RequestID) can take it at Now (AccessRequest.Undecidable is nil): pending
// and unexpired, or, for a decline, an approval in force, which it
// withdraws. ApprovedUntil is zero for a decline (an approval's end is
// removed).
type AccessDecisionWrite struct {
	AccountID     string
	RequestID     string
	State         AccessState
	ApprovedUntil time.Time
	ExpiresAt     time.Time
	Now           time.Time
	History       HistoryEntry
}

// AccessLogPosition is where a page of the access log ended: the next page
// starts after it.
type AccessLogPosition struct {
	At time.Time
	ID string
}

// AccessLogPage is one page of the access log, newest first; Next is nil
// on the last page.
type AccessLogPage struct {
	Entries []AccessLogEntry
	Next    *AccessLogPosition
}

// AccessStore keeps the reads of the number: the access log and partners'
// access requests, all in the account's own partition.
type AccessStore interface {
	// ReadView reads the profile, the settings and (clientID not empty) the
	// partner's access request in one consistent round trip. A missing
	// profile is a zero Profile with Version 0.
	ReadView(ctx context.Context, accountID, clientID string) (ReadView, error)
	// CommitRead writes an allowed read's log entry while what it was
	// decided on still holds; it fails with ErrStale, writing nothing,
	// when anything moved.
	CommitRead(ctx context.Context, c ReadCommit) error
	// LogRefusal writes a refused read's log entry and, when r.NewRequest
	// is set and the partner has no open request, creates it. It reports
	// whether the request was created; a request that could not be created
	// (one is open) never stops the entry. Where the account has no
	// profile item (nothing is held about it: unknown, or erased) it
	// writes nothing, so a read never puts data under such an account.
	LogRefusal(ctx context.Context, r Refusal) (created bool, err error)
	// AccessRequests lists the account's access requests, whatever their
	// state.
	AccessRequests(ctx context.Context, accountID string) ([]AccessRequest, error)
	// DecideAccessRequest writes a decision and returns the request as it
	// is then. It fails with ErrAccessRequestNotFound when the account has
	// no request of that id, and otherwise with what
	// AccessRequest.Undecidable says (ErrAccessRequestDecided,
	// ErrAccessRequestExpired); then nothing is written.
	DecideAccessRequest(ctx context.Context, d AccessDecisionWrite) (AccessRequest, error)
	// AccessLog reads up to size entries dated after since, newest first,
	// starting after the position given (nil: the newest).
	AccessLog(ctx context.Context, accountID string, since time.Time, after *AccessLogPosition, size int) (AccessLogPage, error)
}

// Errors of the access requests.
var (
	// ErrAccessRequestNotFound: no request of that id on this account
	// (another account's id included).
	ErrAccessRequestNotFound = errors.New("access request not found")
	// ErrAccessRequestDecided: the request was already approved or
	// declined.
	ErrAccessRequestDecided = errors.New("access request already decided")
	// ErrAccessRequestExpired: the request lapsed unanswered.
	ErrAccessRequestExpired = errors.New("access request expired")
	// ErrReadConflict: what a read decided on moved twice under it; it
	// returned no number and may be tried again.
	ErrReadConflict = errors.New("the account changed during the read; try again")
)

// AccessDecision is the citizen's answer to a partner's request.
type AccessDecision struct {
	AccountID string
	RequestID string
	Approve   bool
	// Session must show step-up, as a change of the settings does.
	Session  Session
	SourceIP string
}

// History events of the decisions.
const (
	EventAccessApproved = "access_approved"
	EventAccessDeclined = "access_declined"
)

// Domain events of the partner approvals.
const (
	// EventNameAccessRequested: a partner's read created a request; the
	// portal may push a notice to the citizen.
	EventNameAccessRequested = "phone.access_requested"
	EventNameAccessApproved  = "phone.access_approved"
	EventNameAccessDeclined  = "phone.access_declined"
)
