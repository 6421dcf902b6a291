package core

import (
	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/metrics"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/store"
)

// newFeedback assembles the support-ticket service next to the binding one:
// the same table (the DynamoDB adapter serves both ports) or, in a local
// run without DynamoDB, an in-memory store of its own; the same key ring;
// events to the same place.
func (a *App) newFeedback(opts Options, st binding.Store, keys feedback.Keys, parser *phone.Parser) {
	var tickets feedback.Store
	if d, ok := st.(*store.Dynamo); ok {
		tickets = d
	} else {
		tickets = store.NewFeedbackMemory()
	}
	a.ticketStore = tickets
	var counted metrics.Publisher
	if a.events != nil {
		counted = a.events
	}
	events := metrics.CountTickets{Next: counted, Metrics: a.Metrics}
	a.Tickets = feedback.New(feedback.Config{}, tickets, keys, events, feedback.Clock(opts.Clock), a.Logger)
	a.FeedbackAPI = httpapi.NewFeedback(a.Tickets, parser, a.Logger)
	a.FeedbackAPI.SetMetrics(a.Metrics)
}
