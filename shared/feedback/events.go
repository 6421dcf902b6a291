package feedback

import "time"

// Event names on the events topic (SPEC §4.6).
const (
	EventCreated = "feedback.created"
	EventUpdated = "feedback.updated"
)

// Event is the body of feedback.* events, the contract subscribers read:
// ids, category and status only. The message, the answer, the contact and
// the operator's name never leave the table this way.
type Event struct {
	// EventID is unique per event; a subscriber deduplicates on it, since
	// delivery is at least once.
	EventID        string `json:"event_id"`
	Event          string `json:"event"`
	TicketID       string `json:"ticket_id"`
	AccountID      string `json:"account_id"`
	Category       string `json:"category"`
	Status         string `json:"status"`
	PreviousStatus string `json:"previous_status,omitempty"`
	At             string `json:"at"`
}

// eventTimeLayout is RFC 3339 UTC with fixed milliseconds, so event times
// sort as strings (as phone.* events do).
const eventTimeLayout = "2006-01-02T15:04:05.000Z"

func eventOf(name string, t Ticket, previous Status, at time.Time, id string) Event {
	return Event{
		EventID:        id,
		Event:          name,
		TicketID:       t.ID,
		AccountID:      t.AccountID,
		Category:       string(t.Category),
		Status:         string(t.Status),
		PreviousStatus: string(previous),
		At:             at.UTC().Format(eventTimeLayout),
	}
}
