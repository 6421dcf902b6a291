package snsnotify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/testenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// fakeSNS records what it was asked to publish.
type fakeSNS struct {
	inputs []*sns.PublishInput
	err    error
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.inputs = append(f.inputs, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

func TestSNSSMSPublishInput(t *testing.T) {
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	tests := []struct {
		name     string
		senderID string
		want     *sns.PublishInput
	}{
		{"with sender id", "Gosuslugi", &sns.PublishInput{
			PhoneNumber: aws.String("+79123456789"),
			Message:     aws.String("Код: 123456"),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"AWS.SNS.SMS.SMSType":  str("Transactional"),
				"AWS.SNS.SMS.SenderID": str("Gosuslugi"),
			},
		}},
		{"without sender id", "", &sns.PublishInput{
			PhoneNumber: aws.String("+79123456789"),
			Message:     aws.String("Код: 123456"),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"AWS.SNS.SMS.SMSType": str("Transactional"),
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSNS{}
			if err := NewSNSSMS(f, tt.senderID).SendSMS(context.Background(), "+79123456789", "Код: 123456"); err != nil {
				t.Fatalf("SendSMS: %v", err)
			}
			if len(f.inputs) != 1 {
				t.Fatalf("published %d times, want 1", len(f.inputs))
			}
			if !reflect.DeepEqual(f.inputs[0], tt.want) {
				got, _ := json.Marshal(f.inputs[0])
				want, _ := json.Marshal(tt.want)
				t.Errorf("PublishInput\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestSNSSMSErrorHidesNumberAndCode(t *testing.T) {
	cause := errors.New("InvalidParameter: PhoneNumber +79123456789 (79123456789) rejected for message Код: 123456")
	f := &fakeSNS{err: cause}
	err := NewSNSSMS(f, "Gosuslugi").SendSMS(context.Background(), "+79123456789", "Код: 123456")
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, cause) {
		t.Errorf("error does not wrap the cause: %v", err)
	}
	msg := err.Error()
	for _, secret := range []string{"9123456789", "123456"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows %q: %s", secret, msg)
		}
	}
	if !strings.HasPrefix(msg, "send sms via sns: ") || !strings.Contains(msg, "InvalidParameter") {
		t.Errorf("error lost its context: %s", msg)
	}
}

func TestSNSSMSMoto(t *testing.T) {
	endpoint := testenv.MotoEndpoint(t)
	ctx := context.Background()
	client := sns.NewFromConfig(testenv.MotoConfig(endpoint))

	// Record the message id so the test finds its own SMS without resetting
	// moto, which other tests may be using at the same time.
	var ids []string
	rec := publisherFunc(func(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error) {
		out, err := client.Publish(ctx, in, opts...)
		if err == nil {
			ids = append(ids, aws.ToString(out.MessageId))
		}
		return out, err
	})
	body := fmt.Sprintf("Код подтверждения: 123456 (%d)", time.Now().UnixNano())
	if err := NewSNSSMS(rec, "Gosuslugi").SendSMS(ctx, "+79123456789", body); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if len(ids) != 1 {
		t.Fatalf("message ids = %v", ids)
	}

	var found *testenv.SMS
	for _, m := range testenv.SentSMS(t, endpoint) {
		if m.MessageID == ids[0] {
			found = &m
		}
	}
	if found == nil {
		t.Fatalf("moto has no SMS with message id %s", ids[0])
	}
	if found.PhoneNumber != "+79123456789" || found.Message != body {
		t.Errorf("moto got %+v, want +79123456789 / %q", *found, body)
	}

	// moto refuses numbers that are not E.164; the error must not echo ours.
	err := NewSNSSMS(client, "Gosuslugi").SendSMS(ctx, "+7912345678901234567", "Код: 654321")
	if err == nil {
		t.Fatal("moto accepted a 19-digit number")
	}
	if strings.Contains(err.Error(), "912345678901234567") || strings.Contains(err.Error(), "654321") {
		t.Errorf("error shows the number or code: %v", err)
	}
}

type publisherFunc func(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)

func (f publisherFunc) Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return f(ctx, in, opts...)
}

func TestSNSSMSClassifiesOptOutAndThrottling(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		optedOut  bool
		throttled bool
	}{
		{"opted out by code", &smithy.GenericAPIError{Code: "OptedOut", Message: "Phone number +79123456789 is opted out"}, true, false},
		{"opted out by message", &smithy.GenericAPIError{Code: "InvalidParameter", Message: "Invalid parameter: PhoneNumber Reason: +79123456789 is opted out"}, true, false},
		{"throttled", &smithy.GenericAPIError{Code: "Throttled", Message: "Rate exceeded"}, false, true},
		{"other", &smithy.GenericAPIError{Code: "InternalError", Message: "boom"}, false, false},
		{"not an API error", errors.New("dial tcp: timeout"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewSNSSMS(&fakeSNS{err: tt.err}, "").SendSMS(context.Background(), "+79123456789", "Код: 123456")
			if errors.Is(err, binding.ErrOptedOut) != tt.optedOut {
				t.Errorf("opted out = %v: %v", !tt.optedOut, err)
			}
			var th interface{ RetryAfter() time.Duration }
			if errors.As(err, &th) != tt.throttled {
				t.Errorf("throttled = %v: %v", !tt.throttled, err)
			}
			if strings.Contains(err.Error(), "9123456789") || strings.Contains(err.Error(), "123456") {
				t.Errorf("error shows the number or code: %v", err)
			}
		})
	}
}
