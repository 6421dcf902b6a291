package metrics

import (
	"context"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// PhoneEvents counts committed changes (Bindings, Changes, Unbinds by
// channel) as they are announced, then passes each event on to Next (nil:
// counting only).
type PhoneEvents struct {
	Next    binding.Events
	Metrics *EMF
}

// PhoneEvent implements binding.Events.
func (p PhoneEvents) PhoneEvent(ctx context.Context, e binding.PhoneEvent) error {
	name := ""
	switch e.Name {
	case binding.EventNamePhoneBound:
		name = Bindings
	case binding.EventNamePhoneChanged:
		name = Changes
	case binding.EventNamePhoneUnbound, binding.EventNamePhoneSupportUnbound:
		name = Unbinds
	}
	if name != "" {
		p.Metrics.Count(name, D("Channel", string(e.Channel)))
	}
	if p.Next == nil {
		return nil
	}
	return p.Next.PhoneEvent(ctx, e)
}

// Publisher is what publishes named events (notify.EventTopic, EventLog).
type Publisher interface {
	Publish(ctx context.Context, name string, event any) error
}

// CountTickets counts each feedback.created event as a Tickets data point,
// then passes every event on to Next (nil: counting only).
type CountTickets struct {
	Next    Publisher
	Metrics *EMF
}

// Publish implements Publisher.
func (c CountTickets) Publish(ctx context.Context, name string, event any) error {
	if name == "feedback.created" {
		c.Metrics.Count(Tickets)
	}
	if c.Next == nil {
		return nil
	}
	return c.Next.Publish(ctx, name, event)
}

// Signals counts the binding service's signals as the metrics the alarms
// read: NumberFailuresLocked by Outcome, LimitHalfUsed and OwnerSpared by
// Limit, DueUnbindFailures.
type Signals struct {
	Metrics *EMF
}

// Signal implements binding.Signals.
func (s Signals) Signal(_ context.Context, sig binding.Signal) {
	switch sig {
	case binding.SignalNumberLockRefused:
		s.Metrics.Count(NumberFailuresLocked, D("Outcome", "refused"))
	case binding.SignalNumberLockOwnerSpared:
		s.Metrics.Count(NumberFailuresLocked, D("Outcome", "owner_spared"))
	case binding.SignalNumberCapOwnerSpared:
		s.Metrics.Count(OwnerSpared, D("Limit", binding.LimitPhoneDay))
	case binding.SignalRangeHalfCap:
		s.Metrics.Count(LimitHalfUsed, D("Limit", binding.LimitPrefixDay))
	case binding.SignalDueUnbindFailed:
		s.Metrics.Count(DueUnbindFailures)
	}
}
