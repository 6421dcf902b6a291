// The reads of the number (SPEC §4.8) in memory, held to the same contract
// as access.go (storetest).

package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// ReadView implements binding.AccessStore.
func (m *Memory) ReadView(_ context.Context, accountID, clientID string) (binding.ReadView, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := binding.ReadView{
		Profile: m.profiles[accountID], Settings: m.settings[accountID], SettingsVersion: m.settingsVersion[accountID],
	}
	if v.Profile.AccountID == "" {
		v.Profile.AccountID = accountID
	}
	if r, ok := m.accessRequests[accountID][clientID]; ok && clientID != "" {
		v.Request = &r
	}
	return v, nil
}

// CommitRead implements binding.AccessStore.
func (m *Memory) CommitRead(_ context.Context, c binding.ReadCommit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.profiles[c.AccountID].Version != c.ProfileVersion || m.settingsVersion[c.AccountID] != c.SettingsVersion {
		return binding.ErrStale
	}
	if a := c.Approval; a != nil {
		r, ok := m.accessRequests[c.AccountID][a.ClientID]
		if !ok || r.ID != a.ID || !r.Approved(c.Entry.At) {
			return binding.ErrStale
		}
	}
	m.logAccess(c.AccountID, c.Entry)
	return nil
}

// logAccess appends an entry, keeping the log in its sort keys' order:
// by millisecond, then by id.
func (m *Memory) logAccess(accountID string, e binding.AccessLogEntry) {
	l := m.accessLog[accountID]
	i, _ := slices.BinarySearchFunc(l, e, func(a, b binding.AccessLogEntry) int {
		if c := a.At.Truncate(time.Millisecond).Compare(b.At.Truncate(time.Millisecond)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	m.accessLog[accountID] = slices.Insert(l, i, e)
}

// LogRefusal implements binding.AccessStore.
func (m *Memory) LogRefusal(_ context.Context, r binding.Refusal) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.profiles[r.AccountID]; !ok {
		return false, nil // nothing held about the account: nothing logged
	}
	m.logAccess(r.AccountID, r.Entry)
	n := r.NewRequest
	if n == nil {
		return false, nil
	}
	if old, ok := m.accessRequests[r.AccountID][n.ClientID]; ok && old.Open(r.Entry.At) {
		return false, nil
	}
	if m.accessRequests[r.AccountID] == nil {
		m.accessRequests[r.AccountID] = map[string]binding.AccessRequest{}
	}
	m.accessRequests[r.AccountID][n.ClientID] = *n
	return true, nil
}

// AccessRequests implements binding.AccessStore.
func (m *Memory) AccessRequests(_ context.Context, accountID string) ([]binding.AccessRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]binding.AccessRequest, 0, len(m.accessRequests[accountID]))
	for _, r := range m.accessRequests[accountID] {
		out = append(out, r)
	}
	return out, nil
}

// DecideAccessRequest implements binding.AccessStore.
func (m *Memory) DecideAccessRequest(_ context.Context, w binding.AccessDecisionWrite) (binding.AccessRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for client, r := range m.accessRequests[w.AccountID] {
		if r.ID != w.RequestID {
			continue
		}
		if err := r.Undecidable(w.State, w.Now); err != nil {
			return binding.AccessRequest{}, err
		}
		r.State, r.DecidedAt, r.ExpiresAt, r.ApprovedUntil = w.State, w.Now, w.ExpiresAt, w.ApprovedUntil
		m.accessRequests[w.AccountID][client] = r
		h := w.History
		h.ClientID = r.ClientID
		hist := append(m.history[w.AccountID], h)
		slices.SortStableFunc(hist, func(a, b binding.HistoryEntry) int { return a.At.Compare(b.At) })
		m.history[w.AccountID] = hist
		return r, nil
	}
	return binding.AccessRequest{}, binding.ErrAccessRequestNotFound
}

// AccessLog implements binding.AccessStore.
func (m *Memory) AccessLog(_ context.Context, accountID string, since time.Time, after *binding.AccessLogPosition, size int) (binding.AccessLogPage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size <= 0 {
		return binding.AccessLogPage{}, errors.New("access log page size must be positive")
	}
	since = since.Truncate(time.Millisecond)
	page := binding.AccessLogPage{Entries: []binding.AccessLogEntry{}}
	l := m.accessLog[accountID]
	for i := len(l) - 1; i >= 0; i-- {
		e := l[i]
		if e.At.Before(since) {
			break
		}
		if after != nil && !olderThan(e, *after) {
			continue
		}
		if len(page.Entries) == size {
			last := page.Entries[size-1]
			page.Next = &binding.AccessLogPosition{At: last.At, ID: last.ID}
			break
		}
		page.Entries = append(page.Entries, e)
	}
	return page, nil
}

// olderThan reports whether e comes after p in the log's newest-first
// order: older, or of the same millisecond with a smaller id, as the sort
// keys order them.
func olderThan(e binding.AccessLogEntry, p binding.AccessLogPosition) bool {
	at, pat := e.At.Truncate(time.Millisecond), p.At.Truncate(time.Millisecond)
	return at.Before(pat) || (at.Equal(pat) && e.ID < p.ID)
}
