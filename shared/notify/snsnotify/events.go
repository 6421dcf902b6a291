package snsnotify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
)

// EventAttribute is the SNS message attribute that names a domain event, so
// subscribers can filter on it.
const EventAttribute = "event"

// EventTopic publishes domain events (phone.bound, feedback.created, …) to
// the SNS topic EVENTS_TOPIC_ARN as JSON, for other systems to subscribe to.
type EventTopic struct {
	client   SNSPublisher
	topicARN string
}

// NewEventTopic returns a publisher to topicARN.
func NewEventTopic(client SNSPublisher, topicARN string) *EventTopic {
	return &EventTopic{client: client, topicARN: topicARN}
}

// Publish sends one event. The SDK retries transient failures; the caller
// decides what a final failure means (never undoing a committed change).
func (t *EventTopic) Publish(ctx context.Context, name string, event any) error {
	body, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", name, err)
	}
	_, err = t.client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(t.topicARN),
		Message:  aws.String(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			EventAttribute: {DataType: aws.String("String"), StringValue: aws.String(name)},
		},
	})
	if err != nil {
		return fmt.Errorf("publish event %s: %w", name, err)
	}
	return nil
}

// Events is the domain events publisher as a deployed function assembles
// it (shared/app/core.AWS.Events): the topic cfg.EventsTopicARN, through
// SNS at cfg.SNSEndpoint when set.
func Events(awsCfg aws.Config, cfg config.Config) notify.Publisher {
	return NewEventTopic(NewClient(awsCfg, cfg.SNSEndpoint), cfg.EventsTopicARN)
}
