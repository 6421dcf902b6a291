// Package snsnotify sends the service's SMS and publishes its domain
// events through Amazon SNS. It is apart from package notify so that only
// the functions that publish link the SNS client.
package snsnotify

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
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
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
		return notify.SendFailure("send sms via sns", classifySNS(err), to, strings.TrimPrefix(to, "+"), body)
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

// NewClient is an SNS client from awsCfg, addressed at endpoint when it is
// not empty (moto in local runs); optFns adjust it further.
func NewClient(awsCfg aws.Config, endpoint string, optFns ...func(*sns.Options)) *sns.Client {
	return sns.NewFromConfig(awsCfg, append([]func(*sns.Options){func(o *sns.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}}, optFns...)...)
}

// SMS is the service's SMS sender as a deployed function assembles it
// (shared/app/core.AWS.SMS): SNS at cfg.SNSEndpoint when set, with
// cfg.SMSSenderID, and never retried by the SDK: after an ambiguous failure
// (a timeout once the request was sent) a retry could deliver a second SMS.
// The caller gets 503 and asks again, under the resend cooldown.
func SMS(awsCfg aws.Config, cfg config.Config) binding.SMS {
	return NewSNSSMS(NewClient(awsCfg, cfg.SNSEndpoint, func(o *sns.Options) { o.RetryMaxAttempts = 1 }), cfg.SMSSenderID)
}
