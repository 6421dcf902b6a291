// Package notifytest reads back what the service published, from moto: the
// domain events on an SNS topic through an SQS queue subscribed to it, the
// way a downstream system would receive them.
package notifytest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// Region is the region moto is addressed in.
const Region = "us-east-1"

// Event is one domain event as a subscriber receives it.
type Event struct {
	// Name is the "event" message attribute.
	Name string
	// Body is the published JSON message.
	Body json.RawMessage
	// Envelope is the whole SQS message body (the SNS notification), for
	// checks that nothing in it carries what it must not.
	Envelope string
}

// Decode unmarshals the event's body into v.
func (e Event) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Body, v); err != nil {
		t.Fatalf("event %s: body %s: %v", e.Name, e.Body, err)
	}
}

// Topic is an SNS topic in moto with an SQS queue subscribed to it.
type Topic struct {
	ARN      string
	sqs      *sqs.Client
	queueURL string
}

// NewTopic creates a topic and a queue named after the test, subscribes
// the queue, and deletes both when the test ends.
func NewTopic(t testing.TB, endpoint string) *Topic {
	t.Helper()
	ctx := context.Background()
	cfg := testenv.MotoConfig(endpoint)
	snsClient := sns.NewFromConfig(cfg)
	sqsClient := sqs.NewFromConfig(cfg)

	name := fmt.Sprintf("events-%s-%d", sanitize(t.Name()), time.Now().UnixNano())
	topic, err := snsClient.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	queue, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	attrs, err := sqsClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	if _, err := snsClient.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn,
		Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
	}); err != nil {
		t.Fatalf("subscribe queue: %v", err)
	}
	t.Cleanup(func() {
		_, _ = sqsClient.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: queue.QueueUrl})
		_, _ = snsClient.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: topic.TopicArn})
	})
	return &Topic{ARN: aws.ToString(topic.TopicArn), sqs: sqsClient, queueURL: aws.ToString(queue.QueueUrl)}
}

// Receive drains the queue: it returns every event received, in the order
// of their "at" field when they have one, after waiting up to wait for at
// least want of them.
func (tp *Topic) Receive(t testing.TB, want int, wait time.Duration) []Event {
	t.Helper()
	ctx := context.Background()
	var out []Event
	deadline := time.Now().Add(wait)
	for {
		resp, err := tp.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(tp.queueURL),
			MaxNumberOfMessages: 10,
		})
		if err != nil {
			t.Fatalf("receive events: %v", err)
		}
		for _, m := range resp.Messages {
			out = append(out, decode(t, aws.ToString(m.Body)))
			_, _ = tp.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(tp.queueURL), ReceiptHandle: m.ReceiptHandle})
		}
		if len(resp.Messages) == 0 && (len(out) >= want || time.Now().After(deadline)) {
			break
		}
		if len(resp.Messages) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return at(out[i]) < at(out[j]) })
	return out
}

// decode unwraps the SNS notification SQS delivers (raw delivery is off).
func decode(t testing.TB, body string) Event {
	t.Helper()
	var n struct {
		Message           string `json:"Message"`
		MessageAttributes map[string]struct {
			Type  string `json:"Type"`
			Value string `json:"Value"`
		} `json:"MessageAttributes"`
	}
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		t.Fatalf("SQS message is not an SNS notification: %v: %s", err, body)
	}
	return Event{Name: n.MessageAttributes["event"].Value, Body: json.RawMessage(n.Message), Envelope: body}
}

func at(e Event) string {
	var v struct {
		At string `json:"at"`
	}
	_ = json.Unmarshal(e.Body, &v)
	return v.At
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
	if len(s) > 40 {
		s = s[len(s)-40:]
	}
	return s
}
