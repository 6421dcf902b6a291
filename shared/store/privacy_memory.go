package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/privacy"
)

var _ privacy.Store = (*MemoryPrivacy)(nil)

// MemoryPrivacy is privacy.Store over the in-memory stores of `make run`,
// which keep bindings, tickets and idempotency records apart (the table
// holds all three). It holds all three locks at once, so a report or an
// erasure is one atomic step here.
type MemoryPrivacy struct {
	Binding     *Memory
	Tickets     *FeedbackMemory
	Idempotency *MemoryIdempotency
}

func (m MemoryPrivacy) lock() func() {
	m.Binding.mu.Lock()
	m.Tickets.mu.Lock()
	m.Idempotency.mu.Lock()
	return func() {
		m.Idempotency.mu.Unlock()
		m.Tickets.mu.Unlock()
		m.Binding.mu.Unlock()
	}
}

// Held implements privacy.Store.
func (m MemoryPrivacy) Held(ctx context.Context, accountID string) (privacy.Held, error) {
	unlock := m.lock()
	b := m.Binding
	held := privacy.Held{Profile: b.profiles[accountID], Settings: b.settings[accountID], History: []binding.HistoryEntry{}}
	if held.Profile.AccountID == "" {
		held.Profile.AccountID = accountID
	}
	if v, ok := b.verifications[accountID]; ok {
		held.Verification = &v
	}
	h := b.history[accountID]
	for i := len(h) - 1; i >= 0; i-- {
		held.History = append(held.History, h[i])
	}
	l := b.accessLog[accountID]
	for i := len(l) - 1; i >= 0; i-- {
		held.AccessLog = append(held.AccessLog, l[i])
	}
	for _, r := range b.accessRequests[accountID] {
		held.AccessRequests = append(held.AccessRequests, r)
	}
	newestFirst(held.AccessRequests)
	unlock()
	tickets, err := allTickets(ctx, m.Tickets, accountID)
	if err != nil {
		return privacy.Held{}, err
	}
	held.Tickets = tickets
	return held, nil
}

// Erase implements privacy.Store.
func (m MemoryPrivacy) Erase(_ context.Context, accountID string, _ time.Time) (privacy.Erased, error) {
	defer m.lock()()
	var e privacy.Erased
	b := m.Binding
	numbers := map[string]bool{}
	p, hasProfile := b.profiles[accountID]
	if hasProfile {
		numbers[p.Phone.HMAC] = true
		delete(b.profiles, accountID)
		e.Profile++
	}
	if v, ok := b.verifications[accountID]; ok {
		numbers[v.Destination.HMAC], numbers[v.Previous.HMAC] = true, true
		delete(b.verifications, accountID)
		e.Verification++
	}
	if _, ok := b.settings[accountID]; ok {
		delete(b.settings, accountID)
		e.Settings++
	}
	e.History += len(b.history[accountID])
	delete(b.history, accountID)
	// The rest of the account's partition, counted by the type its item
	// has in the table (privacy.Erased.Other).
	other := map[string]int{
		"access_log":     len(b.accessLog[accountID]),
		"access_request": len(b.accessRequests[accountID]),
		"held":           len(b.held[accountID]),
	}
	for typ, n := range other {
		if n > 0 {
			if e.Other == nil {
				e.Other = map[string]int{}
			}
			e.Other[typ] = n
		}
	}
	delete(b.accessLog, accountID)
	delete(b.accessRequests, accountID)
	delete(b.held, accountID)
	delete(b.settingsVersion, accountID)
	for h := range b.numbers[accountID] {
		numbers[h] = true
	}
	delete(b.numbers, accountID)
	delete(numbers, "")
	for h := range numbers {
		if c, ok := b.claims[h]; ok && c.account == accountID {
			delete(b.claims, h)
			e.Claims++
		}
	}
	// Counter keys are name|subject|window (counterKey).
	for k := range b.counters {
		if _, subject, ok := counterParts(k); ok && (subject == accountID || numbers[subject]) {
			delete(b.counters, k)
			e.Counters++
		}
	}
	for k := range m.Tickets.counters {
		if name, subject, ok := counterParts(k); ok && name == feedback.LimitDaily && subject == accountID {
			delete(m.Tickets.counters, k)
			e.Counters++
		}
	}
	for id, t := range m.Tickets.tickets {
		if t.AccountID != accountID {
			continue
		}
		suffix, err := randomHex(12)
		if err != nil {
			return e, err
		}
		m.Tickets.tickets[id] = privacy.Stripped(t, privacy.ErasedOwnerPrefix+suffix)
		e.Tickets++
	}
	prefix := idempotencyPK(accountID) + "\x00"
	for k := range m.Idempotency.records {
		if strings.HasPrefix(k, prefix) {
			delete(m.Idempotency.records, k)
			e.Idempotency++
		}
	}
	return e, nil
}

// counterParts splits a counterKey into the limit's name and subject.
func counterParts(k string) (name, subject string, ok bool) {
	parts := strings.Split(k, "|")
	if len(parts) != 3 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// newestFirst orders access requests as the report lists them: newest
// first, two of one millisecond by id.
func newestFirst(rs []binding.AccessRequest) {
	slices.SortFunc(rs, func(a, b binding.AccessRequest) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
