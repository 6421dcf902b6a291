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
	// Fields are the settings a settings.changed event set.
	Fields []string `json:"fields,omitempty"`
	// Access is the partner's request a phone.access_requested,
	// phone.access_approved or phone.access_declined event is about.
	Access *accessJSON `json:"access,omitempty"`
}

// accessJSON is a partner's access request in an event: who asked, for
// what, and where it stands; never the number.
type accessJSON struct {
	RequestID     string `json:"request_id"`
	ClientID      string `json:"client_id"`
	ClientName    string `json:"client_name"`
	Purpose       string `json:"purpose"`
	State         string `json:"state"`
	ExpiresAt     string `json:"expires_at"`
	ApprovedUntil string `json:"approved_until,omitempty"`
}

func accessOf(r *binding.AccessRequest) *accessJSON {
	if r == nil {
		return nil
	}
	a := &accessJSON{
		RequestID: r.ID, ClientID: r.ClientID, ClientName: r.ClientName, Purpose: string(r.Purpose),
		State: string(r.State), ExpiresAt: r.ExpiresAt.UTC().Format(eventTimeLayout),
	}
	if !r.ApprovedUntil.IsZero() {
		a.ApprovedUntil = r.ApprovedUntil.UTC().Format(eventTimeLayout)
	}
	return a
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
		Access:        accessOf(e.Access),
	})
}
