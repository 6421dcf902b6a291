package app

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/metrics"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/ops"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/store"
)

// FeedbackFunction is the support-ticket function's logical id.
const FeedbackFunction = "FeedbackFunction"

// newFeedback assembles the support-ticket service next to the binding one:
// the same table (the DynamoDB adapter serves both ports) or, in a local
// run without DynamoDB, an in-memory store of its own; the same key ring;
// events to the same topic.
func (a *App) newFeedback(cfg config.Config, awsCfg aws.Config, opts Options, st binding.Store, keys feedback.Keys) {
	var tickets feedback.Store
	if d, ok := st.(*store.Dynamo); ok {
		tickets = d
	} else {
		tickets = store.NewFeedbackMemory()
	}
	var events feedback.Events
	switch {
	case cfg.EventsTopicARN != "":
		events = notify.NewEventTopic(sns.NewFromConfig(awsCfg, func(o *sns.Options) {
			if cfg.SNSEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.SNSEndpoint)
			}
		}), cfg.EventsTopicARN)
	case opts.Local:
		events = notify.NewEventLog(a.Logger)
	}
	var counted metrics.Publisher
	if events != nil {
		counted = events
	}
	events = metrics.CountTickets{Next: counted, Metrics: a.Metrics}
	a.Tickets = feedback.New(feedback.Config{}, tickets, keys, events, feedback.Clock(opts.Clock), a.Logger)
	a.FeedbackAPI = httpapi.NewFeedback(a.Tickets, phone.NewParser(cfg.AllowedRegions), a.Logger)
	a.FeedbackAPI.SetMetrics(a.Metrics)
}

// Feedback is the feedback function's Lambda handler: the three
// /v1/feedback routes (as Handlers wraps them), and the operators'
// update_ticket event by direct invocation.
func (a *App) Feedback() ops.Handler {
	return ops.Function(a.Handlers()[FeedbackFunction], a.actions()[FeedbackFunction], a.Logger)
}
