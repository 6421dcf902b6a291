// A portal service reads the number (SPEC §4.8): the settings decide, the
// read is logged, and the number goes out only with its log entry written.

package binding

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ReadRequest is a portal service's read of an account's number. The
// caller is trusted to be a portal service (IAM lets only those invoke the
// read); ClientID and ClientName are what it says it is, and what the
// citizen sees in the access log.
type ReadRequest struct {
	AccountID  string
	Purpose    ReadPurpose
	ClientID   string
	ClientName string
}

// ReadResult is what the reader gets: the full number when allowed,
// otherwise the refusal's code (ReadNoPhoneBound, ReadNotAllowed,
// ReadApprovalRequired).
type ReadResult struct {
	Phone      string
	VerifiedAt time.Time
	Refusal    string
	// RequestCreated is set when this read created the partner's access
	// request (approval_required the first time).
	RequestCreated bool
}

// Allowed reports whether the number was read.
func (r ReadResult) Allowed() bool { return r.Refusal == "" }

// ReadPhone reads the account's number for a portal service, as the
// settings allow for the purpose (readAllowed), and logs the read.
//
// What it decides on (the profile, the settings and the partner's request)
// comes from one consistent round trip; the number goes out only when the
// log entry is written by a transaction that checks all of that is still as
// read at the read's instant. So a read never returns the number after a
// change that forbids it (a deny, an unbind, an approval run out) has
// committed, and never without its log entry. When the check fails the read
// is decided once more on a fresh view; a second failure is
// ErrReadConflict, with no number.
func (s *Service) ReadPhone(ctx context.Context, r ReadRequest) (ReadResult, error) {
	for range 2 {
		now := s.now().UTC()
		view, err := s.store.ReadView(ctx, r.AccountID, partnerOf(r))
		if err != nil {
			return ReadResult{}, fmt.Errorf("read account: %w", err)
		}
		id, err := newID()
		if err != nil {
			return ReadResult{}, err
		}
		entry := AccessLogEntry{
			ID: id, At: now, ClientID: r.ClientID, ClientName: r.ClientName, Purpose: r.Purpose,
			ExpiresAt: now.Add(s.cfg.AccessLogRetention),
		}
		verdict := readAllowed(view, r.Purpose, now)
		if verdict == ReadNoPhoneBound && view.Profile.Version == 0 {
			// No profile item: nothing is held about the account (never
			// bound, or erased), and the read is not logged: there is no
			// citizen to show it to, and an erased account stays erased.
			// The store's LogRefusal writes nothing there either.
			return ReadResult{Refusal: verdict}, nil
		}
		if verdict != ReadAllowed {
			entry.Result = verdict
			return s.refuse(ctx, r, view, entry)
		}
		number, err := s.keys.Open(view.Profile.Phone.KeyID, view.Profile.Phone.Ciphertext)
		if err != nil {
			return ReadResult{}, fmt.Errorf("open number: %w", err)
		}
		entry.Result = ReadAllowed
		c := ReadCommit{
			AccountID: r.AccountID, Entry: entry,
			ProfileVersion: view.Profile.Version, SettingsVersion: view.SettingsVersion,
		}
		if r.Purpose == ReadThirdParty && view.Settings.Applied().ThirdParty == ThirdPartyAsk {
			c.Approval = view.Request
		}
		switch err := s.store.CommitRead(ctx, c); {
		case errors.Is(err, ErrStale):
			continue
		case err != nil:
			return ReadResult{}, fmt.Errorf("log read: %w", err)
		}
		return ReadResult{Phone: number, VerifiedAt: view.Profile.VerifiedAt}, nil
	}
	return ReadResult{}, ErrReadConflict
}

// partnerOf is the client whose access request a read needs: a partner's,
// for a third_party read; no other read looks at one.
func partnerOf(r ReadRequest) string {
	if r.Purpose == ReadThirdParty {
		return r.ClientID
	}
	return ""
}

// readAllowed is the one rule of who may read the number: ReadAllowed, or
// why not. A removal whose time has come leaves no number, written yet or
// not.
func readAllowed(v ReadView, purpose ReadPurpose, now time.Time) string {
	if !v.Profile.Bound() || v.Profile.Lapsed(now) {
		return ReadNoPhoneBound
	}
	set := v.Settings.Applied()
	switch purpose {
	case ReadNotification:
		if set.Notifications.SMS {
			return ReadAllowed
		}
	case ReadAutofill:
		if set.Autofill {
			return ReadAllowed
		}
	case ReadThirdParty:
		switch set.ThirdParty {
		case ThirdPartyAllow:
			return ReadAllowed
		case ThirdPartyAsk:
			switch {
			case v.Request != nil && v.Request.Approved(now):
				return ReadAllowed
			case v.Request != nil && v.Request.State == AccessDeclined && v.Request.Open(now):
				// A decline holds for SHARE_APPROVAL_TTL.
				return ReadNotAllowed
			}
			return ReadApprovalRequired
		}
	}
	return ReadNotAllowed
}

// refuse logs a refused read and, for a partner that must ask and has no
// open request, creates one and tells the portal (the
// phone.access_requested event, for a notice to the citizen).
func (s *Service) refuse(ctx context.Context, r ReadRequest, view ReadView, entry AccessLogEntry) (ReadResult, error) {
	ref := Refusal{AccountID: r.AccountID, Entry: entry}
	if entry.Result == ReadApprovalRequired && (view.Request == nil || !view.Request.Open(entry.At)) {
		id, err := newID()
		if err != nil {
			return ReadResult{}, err
		}
		ref.NewRequest = &AccessRequest{
			ID: id, AccountID: r.AccountID, ClientID: r.ClientID, ClientName: r.ClientName, Purpose: r.Purpose,
			State: AccessPending, CreatedAt: entry.At, ExpiresAt: entry.At.Add(s.cfg.ShareApprovalTTL),
		}
	}
	created, err := s.store.LogRefusal(ctx, ref)
	if err != nil {
		return ReadResult{}, fmt.Errorf("log refused read: %w", err)
	}
	if created {
		s.publishAccess(ctx, ref.NewRequest.ID, EventNameAccessRequested, *ref.NewRequest, entry.At, view.Settings.Applied())
	}
	return ReadResult{Refusal: entry.Result, RequestCreated: created}, nil
}

// publishAccess tells other systems about a partner's request: created,
// approved or declined. id is the event's: the request's for a new one,
// the history entry's for a decision. Like publish, a failure is only
// logged.
func (s *Service) publishAccess(ctx context.Context, id, name string, req AccessRequest, at time.Time, set Settings) {
	if s.events == nil {
		return
	}
	e := PhoneEvent{
		ID: id, Name: name, AccountID: req.AccountID, Actor: "user", At: at,
		Push: set.Notifications.Push, Access: &req,
	}
	if name == EventNameAccessRequested {
		e.Actor = "client:" + req.ClientID
	}
	if err := s.events.PhoneEvent(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "event not published", "event", e.Name, "event_id", e.ID, "error", err.Error())
	}
}
