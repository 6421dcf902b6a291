package notify

import (
	"context"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// Publisher publishes one named event as JSON; EventTopic and EventLog are
// Publishers.
type Publisher interface {
	Publish(ctx context.Context, name string, event any) error
}

var _ binding.Events = PhoneEvents{}

// PhoneEvents publishes the binding service's domain events in their JSON
// form, the contract subscribers read.
type PhoneEvents struct{ Publisher Publisher }

// phoneEventJSON is the body of phone.* events. Numbers are masked.
type phoneEventJSON struct {
	EventID       string `json:"event_id"`
	Event         string `json:"event"`
	AccountID     string `json:"account_id"`
	Phone         string `json:"phone"`
	PreviousPhone string `json:"previous_phone,omitempty"`
	Actor         string `json:"actor"`
	Channel       string `json:"channel"`
	At            string `json:"at"`
	// Push is the account's push-notice setting: a push service sends a
	// notice of this event only when it is true (SPEC §4.7).
	Push bool `json:"push"`
	// Fields are the settings a phone.settings_changed event set.
	Fields []string `json:"fields,omitempty"`
}

// eventTimeLayout is RFC 3339 UTC with fixed milliseconds, so event times
// sort as strings.
const eventTimeLayout = "2006-01-02T15:04:05.000Z"

// PhoneEvent implements binding.Events.
func (p PhoneEvents) PhoneEvent(ctx context.Context, e binding.PhoneEvent) error {
	return p.Publisher.Publish(ctx, e.Name, phoneEventJSON{
		EventID:       e.ID,
		Event:         e.Name,
		AccountID:     e.AccountID,
		Phone:         e.Phone,
		PreviousPhone: e.Previous,
		Actor:         e.Actor,
		Channel:       string(e.Channel),
		At:            e.At.UTC().Format(eventTimeLayout),
		Push:          e.Push,
		Fields:        e.Fields,
	})
}
