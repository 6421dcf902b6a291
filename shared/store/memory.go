// Package store keeps the binding state: a DynamoDB single-table adapter for
// production and emulators, and an in-memory one so `make run` needs
// nothing. Both pass the same contract suite (storetest.Run).
package store

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

var _ binding.Store = (*Memory)(nil)

// Memory is a binding.Store held in process memory. One mutex makes every
// method atomic, which is exactly the guarantee the DynamoDB adapter gets
// from conditional writes and transactions.
type Memory struct {
	mu            sync.Mutex
	profiles      map[string]binding.Profile
	verifications map[string]binding.Verification
	claims        map[string]claim // phone HMAC → holder
	counters      map[string]int
	history       map[string][]binding.HistoryEntry
	settings      map[string]binding.SettingsPatch
	held          map[string]map[string]*heldNotice // account → unbind id → HELD item
	// numbers are the HMACs of every number each account asked a code
	// for, for an erasure to find their counters (the table keeps the
	// recent days' on the verification item: numbersAttr).
	numbers map[string]map[string]bool
	// settingsVersion counts each account's settings changes, as the
	// settings item's version does.
	settingsVersion map[string]int64
	// accessLog and accessRequests are the reads of the number
	// (access_memory.go): the log by account, oldest first, and the
	// requests by account and partner.
	accessLog      map[string][]binding.AccessLogEntry
	accessRequests map[string]map[string]binding.AccessRequest
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{
		profiles:      map[string]binding.Profile{},
		verifications: map[string]binding.Verification{},
		claims:        map[string]claim{},
		counters:      map[string]int{},
		history:       map[string][]binding.HistoryEntry{},
		settings:      map[string]binding.SettingsPatch{},
		held:          map[string]map[string]*heldNotice{},
		numbers:       map[string]map[string]bool{},

		settingsVersion: map[string]int64{},
		accessLog:       map[string][]binding.AccessLogEntry{},
		accessRequests:  map[string]map[string]binding.AccessRequest{},
	}
}

// claim is who holds a number and, while that account's removal is
// scheduled, when it takes effect: from then on the number is free.
type claim struct {
	account  string
	unbindAt time.Time
}

// heldAgainst reports whether the number is held by an account other than
// account at now: a claim whose holder's removal is due is free.
func (c claim) heldAgainst(account string, now time.Time) bool {
	if c.account == "" || c.account == account {
		return false
	}
	return c.unbindAt.IsZero() || now.Before(c.unbindAt)
}

func counterKey(c binding.Counter) string {
	return fmt.Sprintf("%s|%s|%d", c.Name, c.Subject, c.WindowStart.Unix())
}

// Snapshot implements binding.Store.
func (m *Memory) Snapshot(_ context.Context, accountID string, historyLimit int) (binding.Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	snap := binding.Snapshot{Profile: m.profiles[accountID], History: []binding.HistoryEntry{}, Settings: m.settings[accountID]}
	if v, ok := m.verifications[accountID]; ok {
		snap.Verification = &v
	}
	if historyLimit > 0 {
		h := m.history[accountID]
		for i := len(h) - 1; i >= 0 && len(snap.History) < historyLimit; i-- {
			snap.History = append(snap.History, h[i])
		}
	}
	return snap, nil
}

// StartVerification implements binding.Store.
func (m *Memory) StartVerification(_ context.Context, s binding.Start) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := s.Verification
	if prev, ok := m.verifications[v.AccountID]; ok && prev.ResendAfter.After(s.Now) {
		return &binding.CooldownError{ResendAfter: prev.ResendAfter}
	}
	if p := m.profiles[v.AccountID]; v.HoldsBoundNumber() && (p.Version != v.ProfileVersion || p.Lapsed(s.Now)) {
		return binding.ErrStale
	}
	for _, c := range s.Counters {
		if m.counters[counterKey(c)] >= c.Max {
			return &binding.LimitError{Counter: c}
		}
	}
	for _, c := range s.Checks {
		if m.counters[counterKey(c)] >= c.Max {
			return &binding.LimitError{Counter: c}
		}
	}
	for _, c := range append(s.Counters, s.Tallies...) {
		m.counters[counterKey(c)]++
	}
	if s.Email != nil && v.HoldsBoundNumber() {
		p := m.profiles[v.AccountID]
		p.Email = *s.Email
		m.profiles[v.AccountID] = p
	}
	m.verifications[v.AccountID] = v
	for _, h := range destinations(s) {
		if m.numbers[v.AccountID] == nil {
			m.numbers[v.AccountID] = map[string]bool{}
		}
		m.numbers[v.AccountID][h] = true
	}
	return nil
}

// CancelVerification implements binding.Store.
func (m *Memory) CancelVerification(_ context.Context, s binding.Start) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := s.Verification
	if cur, ok := m.verifications[v.AccountID]; ok && cur.ID == v.ID {
		delete(m.verifications, v.AccountID)
	}
	for _, c := range append(s.Counters, s.Tallies...) {
		if k := counterKey(c); m.counters[k] > 0 {
			m.counters[k]--
		}
	}
	return nil
}

// CountAttempt implements binding.Store.
func (m *Memory) CountAttempt(_ context.Context, accountID, verificationID string, purpose binding.Purpose, now time.Time) (binding.Verification, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.verifications[accountID]
	if err := judgeAttempt(v, ok, verificationID, purpose, now); err != nil {
		return binding.Verification{}, err
	}
	v.Attempts++
	m.verifications[accountID] = v
	return v, nil
}

// judgeAttempt says why an attempt may not be counted, in the order both
// adapters check it.
func judgeAttempt(v binding.Verification, found bool, id string, purpose binding.Purpose, now time.Time) error {
	switch {
	case !found || v.ID != id:
		return binding.ErrVerificationNotFound
	case v.Purpose != purpose:
		return &binding.PurposeMismatchError{Purpose: v.Purpose}
	case v.State != binding.RequestPending:
		return binding.ErrVerificationUsed
	case !now.Before(v.ExpiresAt):
		return binding.ErrCodeExpired
	case v.Attempts >= v.MaxAttempts:
		return binding.ErrAttemptsExceeded
	}
	return nil
}

// CompleteBind implements binding.Store.
func (m *Memory) CompleteBind(_ context.Context, c binding.Completion) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	account := c.Verification.AccountID
	v, ok := m.pending(account, c.Verification.ID)
	if !ok {
		return binding.ErrVerificationUsed
	}
	if m.profiles[account].Version != c.Verification.ProfileVersion {
		return binding.ErrStale
	}
	if !c.Release.IsZero() && m.claims[c.Release.HMAC].account != account {
		return binding.ErrStale
	}
	if m.claims[c.Profile.Phone.HMAC].heldAgainst(account, c.Now) {
		return binding.ErrPhoneTaken
	}
	m.verifications[account] = completed(v, false)
	if !c.Release.IsZero() {
		delete(m.claims, c.Release.HMAC)
	}
	m.claims[c.Profile.Phone.HMAC] = claim{account: account}
	m.profiles[account] = c.Profile
	m.reset(c.Reset)
	m.addHistory(account, c.History)
	return nil
}

// CompleteUnbind implements binding.Store.
func (m *Memory) CompleteUnbind(_ context.Context, u binding.Unbinding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	account := u.Profile.AccountID
	v, ok := binding.Verification{}, true
	if u.Verification != nil {
		v, ok = m.pending(account, u.Verification.ID)
	}
	if !ok {
		return binding.ErrVerificationUsed
	}
	if cur := m.profiles[account]; cur.Version != u.Profile.Version || cur.Lapsed(u.Now) ||
		m.claims[u.Profile.Phone.HMAC].account != account {
		return binding.ErrStale
	}
	if u.Verification != nil {
		m.verifications[account] = completed(v, true)
	} else {
		delete(m.verifications, account)
	}
	delete(m.claims, u.Profile.Phone.HMAC)
	delete(m.held[account], u.Profile.UnbindID)
	m.profiles[account] = unboundProfile(u.Profile)
	m.reset(u.Reset)
	m.addHistory(account, u.History)
	return nil
}

// ScheduleUnbind implements binding.Store.
func (m *Memory) ScheduleUnbind(_ context.Context, h binding.Hold) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := h.Verification
	account := v.AccountID
	cur, ok := m.pending(account, v.ID)
	if !ok {
		return binding.ErrVerificationUsed
	}
	p := m.profiles[account]
	cl := m.claims[v.Destination.HMAC]
	if p.Version != v.ProfileVersion || p.Phone.HMAC != v.Destination.HMAC || cl.account != account {
		return binding.ErrStale
	}
	m.verifications[account] = completed(cur, true)
	if h.Email != nil {
		p.Email = *h.Email
	}
	m.holdAs(account, p, cl, h.UnbindAt, h.UnbindID)
	m.heldOf(account)[h.UnbindID] = &heldNotice{notice: binding.HoldNotice{AccountID: account, UnbindID: h.UnbindID, UnbindAt: h.UnbindAt}}
	m.reset(h.Reset)
	m.addHistory(account, h.History)
	return nil
}

// pending is account's verification while it is the pending one of id.
func (m *Memory) pending(account, id string) (binding.Verification, bool) {
	v, ok := m.verifications[account]
	return v, ok && v.ID == id && v.State == binding.RequestPending
}

// completed is v consumed, as consumeUpdate leaves the item: no code, no
// ciphertext of the previous number, nor of the destination with scrub.
func completed(v binding.Verification, scrub bool) binding.Verification {
	v.State, v.CodeHMAC = binding.RequestCompleted, ""
	v.Previous.Ciphertext, v.Previous.KeyID = "", ""
	if scrub {
		v.Destination.Ciphertext, v.Destination.KeyID = "", ""
	}
	return v
}

// holdAs writes account's profile p, one version on, and its number's
// claim cl with the hold at (the zero time: none) and its id.
func (m *Memory) holdAs(account string, p binding.Profile, cl claim, at time.Time, id string) {
	p.UnbindAt, p.UnbindID = at, id
	p.Version++
	m.profiles[account] = p
	cl.unbindAt = at
	m.claims[p.Phone.HMAC] = cl
}

// CancelUnbind implements binding.Store.
func (m *Memory) CancelUnbind(_ context.Context, c binding.HoldCancel) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	account := c.Profile.AccountID
	p := m.profiles[account]
	cl := m.claims[p.Phone.HMAC]
	if p.Version != c.Profile.Version || !p.Holding(c.Now) || cl.account != account {
		return binding.ErrStale
	}
	delete(m.held[account], p.UnbindID)
	m.holdAs(account, p, cl, time.Time{}, "")
	m.addHistory(account, c.History)
	return nil
}

// LapseUnbind implements binding.Store.
func (m *Memory) LapseUnbind(_ context.Context, u binding.Unbinding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	account := u.Profile.AccountID
	p := m.profiles[account]
	if p.Version != u.Profile.Version || !p.Lapsed(u.Now) {
		return binding.ErrStale
	}
	delete(m.verifications, account)
	m.profiles[account] = unboundProfile(p)
	m.addHistory(account, u.History)
	m.heldOf(account)[p.UnbindID] = &heldNotice{lapsed: true, notice: binding.HoldNotice{
		AccountID: account, UnbindID: p.UnbindID, UnbindAt: p.UnbindAt, Phone: p.Phone, Email: p.Email,
	}}
	cl, claimed := m.claims[p.Phone.HMAC]
	switch {
	case claimed && cl.account == account && cl.unbindAt.Equal(p.UnbindAt):
		delete(m.claims, p.Phone.HMAC)
	case claimed && cl.account != account:
		return binding.ErrNumberRebound
	}
	return nil
}

// heldOf is the account's HELD items; the caller holds the lock.
func (m *Memory) heldOf(account string) map[string]*heldNotice {
	if m.held[account] == nil {
		m.held[account] = map[string]*heldNotice{}
	}
	return m.held[account]
}

// addHistory files an entry in time order; the caller holds the lock.
func (m *Memory) addHistory(account string, e binding.HistoryEntry) {
	h := append(m.history[account], e)
	sort.SliceStable(h, func(i, j int) bool { return h[i].At.Before(h[j].At) })
	m.history[account] = h
}

// unboundProfile is p without its number, consent or bind time (a bind
// after an unbind is not a change), one version on.
func unboundProfile(p binding.Profile) binding.Profile {
	return binding.Profile{AccountID: p.AccountID, Version: p.Version + 1}
}

// RejectVerification implements binding.Store.
func (m *Memory) RejectVerification(_ context.Context, accountID, verificationID, reason string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.pending(accountID, verificationID)
	if !ok {
		return nil
	}
	v.State = binding.RequestRejected
	v.Reason = reason
	v.CodeHMAC = ""
	v.Destination.Ciphertext, v.Destination.KeyID = "", ""
	v.Previous.Ciphertext, v.Previous.KeyID = "", ""
	m.verifications[accountID] = v
	return nil
}

// CountFailures implements binding.Store.
func (m *Memory) CountFailures(_ context.Context, counters []binding.Counter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range counters {
		m.counters[counterKey(c)]++
	}
	return nil
}

// reset drops counters; the caller holds the lock.
func (m *Memory) reset(counters []binding.Counter) {
	for _, c := range counters {
		delete(m.counters, counterKey(c))
	}
}
