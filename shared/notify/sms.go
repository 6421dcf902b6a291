// Package notify sends the service's messages: SMS through Amazon SNS, and,
// for local development, an in-memory outbox that prints what would be sent.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/gosuslugi/phonebind/shared/binding"
)

var _ binding.SMS = (*SNSSMS)(nil)

// SNS message attributes that control direct-to-phone SMS.
const (
	// AttrSMSType selects Transactional (priority routing, for codes) or
	// Promotional delivery.
	AttrSMSType = "AWS.SNS.SMS.SMSType"
	// AttrSenderID is the alphanumeric sender shown on the handset, where
	// the destination country supports one.
	AttrSenderID = "AWS.SNS.SMS.SenderID"
	// SMSTypeTransactional is the SMS type for codes and security alerts.
	SMSTypeTransactional = "Transactional"
)

// SNSPublisher is the one SNS call SNSSMS needs; *sns.Client satisfies it.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNSSMS sends SMS straight to a phone number with SNS Publish.
type SNSSMS struct {
	client   SNSPublisher
	senderID string
}

// NewSNSSMS sends through client; senderID is set on every message unless it
// is empty.
func NewSNSSMS(client SNSPublisher, senderID string) *SNSSMS {
	return &SNSSMS{client: client, senderID: senderID}
}

// SendSMS publishes body to the E.164 number to as a transactional SMS. A
// failure is returned as an error that never shows the number, even where
// SNS's own message repeats it.
func (s *SNSSMS) SendSMS(ctx context.Context, to, body string) error {
	attrs := map[string]types.MessageAttributeValue{
		AttrSMSType: {DataType: aws.String("String"), StringValue: aws.String(SMSTypeTransactional)},
	}
	if s.senderID != "" {
		attrs[AttrSenderID] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s.senderID)}
	}
	_, err := s.client.Publish(ctx, &sns.PublishInput{
		PhoneNumber:       aws.String(to),
		Message:           aws.String(body),
		MessageAttributes: attrs,
	})
	if err != nil {
		return &sendError{op: "send sms via sns", err: classifySNS(err), secrets: []string{to, strings.TrimPrefix(to, "+"), body}}
	}
	return nil
}

// ThrottleRetryAfter is what a caller is told to wait after SNS throttled
// a send.
const ThrottleRetryAfter = 10 * time.Second

// classifySNS marks the failures the service treats apart: a number that
// opted out of SMS (binding.ErrOptedOut: sending again cannot help) and
// throttling (retry after ThrottleRetryAfter).
func classifySNS(err error) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err
	}
	code, msg := api.ErrorCode(), strings.ToLower(api.ErrorMessage())
	switch {
	case strings.Contains(strings.ToLower(code), "optedout") || strings.Contains(msg, "opted out"):
		return fmt.Errorf("%w: %w", binding.ErrOptedOut, err)
	case code == "Throttled" || code == "Throttling" || code == "ThrottlingException" || code == "KMSThrottling":
		return &throttledError{err: err}
	}
	return err
}

// throttledError tells the domain how long to make the caller wait.
type throttledError struct{ err error }

func (e *throttledError) Error() string             { return e.err.Error() }
func (e *throttledError) Unwrap() error             { return e.err }
func (e *throttledError) RetryAfter() time.Duration { return ThrottleRetryAfter }

// sendError wraps a send failure (errors.Is and errors.As see the cause) but
// prints it with the destination and the body (which may hold a code) cut
// out: the error is logged, and logs must not hold numbers or codes.
type sendError struct {
	op      string
	err     error
	secrets []string
}

func (e *sendError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return e.op + ": " + msg
}

func (e *sendError) Unwrap() error { return e.err }
