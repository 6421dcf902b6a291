// The citizen's side of the reads (SPEC §4.8): partners' pending requests,
// approving or declining them, and the access log.

package binding

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Page sizes of the access log.
const (
	DefaultAccessLogPage = 20
	MaxAccessLogPage     = 100
)

// ErrInvalidCursor is an access-log cursor this service did not hand out.
var ErrInvalidCursor = errors.New("invalid page cursor")

// CurrentAccessRequests lists the partners' requests that need or have
// the citizen's answer in force: pending (not lapsed), and approved (the
// approval not run out, so the citizen can withdraw it), newest first.
func (s *Service) CurrentAccessRequests(ctx context.Context, accountID string) ([]AccessRequest, error) {
	all, err := s.store.AccessRequests(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("read access requests: %w", err)
	}
	now := s.now().UTC()
	out := make([]AccessRequest, 0, len(all))
	for _, r := range all {
		if r.Pending(now) || r.Approved(now) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b AccessRequest) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// DecideAccessRequest approves or declines a partner's pending request,
// or withdraws an approval in force (a decline of it), with step-up as a
// change of the settings has (it decides who reads the number). An
// approval lets the partner read for SHARE_APPROVAL_TTL; a decline keeps
// the partner from asking again for as long, and a withdrawal refuses the
// partner's reads from its commit on (a read checks the approval again
// when it logs). The decision is an access_approved or access_declined
// history entry and event.
func (s *Service) DecideAccessRequest(ctx context.Context, d AccessDecision) (AccessRequest, error) {
	now := s.now().UTC()
	if err := s.demand(d.Session, true, now); err != nil {
		return AccessRequest{}, err
	}
	historyID, err := newID()
	if err != nil {
		return AccessRequest{}, err
	}
	w := AccessDecisionWrite{
		AccountID: d.AccountID, RequestID: d.RequestID, Now: now,
		State: AccessDeclined, ExpiresAt: now.Add(s.cfg.ShareApprovalTTL),
		History: HistoryEntry{
			ID: historyID, At: now, Event: EventAccessDeclined, Actor: "user", SourceIP: d.SourceIP,
			ExpiresAt: now.Add(s.cfg.HistoryRetention),
		},
	}
	if d.Approve {
		w.State, w.ApprovedUntil, w.History.Event = AccessApproved, w.ExpiresAt, EventAccessApproved
	}
	req, err := s.store.DecideAccessRequest(ctx, w)
	if err != nil {
		return AccessRequest{}, err
	}
	name := EventNameAccessDeclined
	if d.Approve {
		name = EventNameAccessApproved
	}
	set := DefaultSettings()
	if snap, err := s.store.Snapshot(ctx, d.AccountID, 0); err == nil {
		set = snap.Settings.Applied()
	}
	s.publishAccess(ctx, historyID, name, req, now, set)
	return req, nil
}

// AccessLog is a page of the account's reads, newest first, within
// ACCESS_LOG_RETENTION. cursor is "" for the first page or what
// EncodeAccessLogCursor gave for Next; size is clamped to
// 1..MaxAccessLogPage, 0 meaning DefaultAccessLogPage.
func (s *Service) AccessLog(ctx context.Context, accountID, cursor string, size int) (AccessLogPage, error) {
	var after *AccessLogPosition
	if cursor != "" {
		p, err := DecodeAccessLogCursor(cursor)
		if err != nil {
			return AccessLogPage{}, err
		}
		after = &p
	}
	switch {
	case size <= 0:
		size = DefaultAccessLogPage
	case size > MaxAccessLogPage:
		size = MaxAccessLogPage
	}
	since := s.now().UTC().Add(-s.cfg.AccessLogRetention)
	page, err := s.store.AccessLog(ctx, accountID, since, after, size)
	if err != nil {
		return AccessLogPage{}, fmt.Errorf("read access log: %w", err)
	}
	return page, nil
}

// accessCursorLayout is the store's time layout: fixed width, so a
// position names exactly one entry.
const accessCursorLayout = "2006-01-02T15:04:05.000Z"

// EncodeAccessLogCursor turns a position into the opaque cursor a client
// passes back. It can only name an entry of the caller's own log: the
// store reads no other.
func EncodeAccessLogCursor(p AccessLogPosition) string {
	return base64.RawURLEncoding.EncodeToString([]byte(p.At.UTC().Format(accessCursorLayout) + "|" + p.ID))
}

// DecodeAccessLogCursor reads what EncodeAccessLogCursor wrote; anything
// else is ErrInvalidCursor.
func DecodeAccessLogCursor(cursor string) (AccessLogPosition, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return AccessLogPosition{}, ErrInvalidCursor
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok || id == "" || strings.ContainsAny(id, "#|") {
		return AccessLogPosition{}, ErrInvalidCursor
	}
	t, err := time.Parse(accessCursorLayout, at)
	if err != nil {
		return AccessLogPosition{}, ErrInvalidCursor
	}
	return AccessLogPosition{At: t.UTC(), ID: id}, nil
}
