package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gosuslugi/phonebind/shared/feedback"
)

var _ feedback.Store = (*FeedbackMemory)(nil)

// FeedbackMemory is a feedback.Store held in process memory, for `make run`
// without DynamoDB. One mutex makes every method atomic, the guarantee the
// DynamoDB adapter gets from conditional writes and transactions. It orders
// an author's list by the same sort key the table uses.
type FeedbackMemory struct {
	mu       sync.Mutex
	tickets  map[string]feedback.Ticket // ticket id → ticket
	counters map[string]int
}

// NewFeedbackMemory returns an empty store.
func NewFeedbackMemory() *FeedbackMemory {
	return &FeedbackMemory{tickets: map[string]feedback.Ticket{}, counters: map[string]int{}}
}

// CreateTicket implements feedback.Store.
func (m *FeedbackMemory) CreateTicket(_ context.Context, c feedback.Creation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := c.Ticket
	if _, taken := m.tickets[t.ID]; taken {
		return feedback.ErrDuplicateID
	}
	k := counterKey(feedbackCounter(t.AccountID, c.Limit))
	if m.counters[k] >= c.Limit.Max {
		return feedback.ErrDailyLimit
	}
	m.counters[k]++
	m.tickets[t.ID] = t
	return nil
}

// Ticket implements feedback.Store.
func (m *FeedbackMemory) Ticket(_ context.Context, accountID, ticketID string) (feedback.Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tickets[ticketID]
	if !ok || t.AccountID != accountID {
		return feedback.Ticket{}, feedback.ErrTicketNotFound
	}
	return t, nil
}

// Tickets implements feedback.Store.
func (m *FeedbackMemory) Tickets(_ context.Context, accountID string, after *feedback.Position, limit int) ([]feedback.Ticket, *feedback.Position, error) {
	if limit <= 0 {
		return nil, nil, fmt.Errorf("list tickets: limit %d", limit)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var mine []feedback.Ticket
	for _, t := range m.tickets {
		if t.AccountID != accountID {
			continue
		}
		if after != nil && feedbackSK(t.CreatedAt, t.ID) >= feedbackSK(after.CreatedAt, after.ID) {
			continue
		}
		mine = append(mine, t)
	}
	slices.SortFunc(mine, func(a, b feedback.Ticket) int {
		return strings.Compare(feedbackSK(b.CreatedAt, b.ID), feedbackSK(a.CreatedAt, a.ID))
	})
	if len(mine) <= limit {
		return mine, nil, nil
	}
	page := mine[:limit]
	next := feedback.PositionOf(page[limit-1])
	return page, &next, nil
}

// TicketByID implements feedback.Store.
func (m *FeedbackMemory) TicketByID(_ context.Context, ticketID string) (feedback.Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tickets[ticketID]
	if !ok {
		return feedback.Ticket{}, feedback.ErrTicketNotFound
	}
	return t, nil
}

// UpdateTicket implements feedback.Store.
func (m *FeedbackMemory) UpdateTicket(_ context.Context, c feedback.StatusChange) (feedback.Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tickets[c.Ticket.ID]
	if !ok || t.AccountID != c.Ticket.AccountID {
		return feedback.Ticket{}, feedback.ErrTicketNotFound
	}
	if t.Status != c.Ticket.Status {
		return feedback.Ticket{}, feedback.ErrStale
	}
	c.Ticket = t
	t = applyChange(c)
	m.tickets[t.ID] = t
	return t, nil
}
