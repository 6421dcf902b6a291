// Package alertrelay is confirm-code's and unbind's SMS sender: it hands
// each alert to the alert function (shared/notify/alertsms, which explains
// why) as an asynchronous Lambda invocation.
package alertrelay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify/alertsms"
)

// Invoker is the part of the Lambda client the relay uses.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Relay is the SMS sender of confirm-code and unbind: every SMS goes to
// the alert function as an asynchronous invocation. Lambda keeps the event
// and retries it, so
// an accepted invocation (202) is an alert on its way; whether it was
// delivered shows in the alert function's logs and errors alarm.
type Relay struct {
	client   Invoker
	function string
}

var _ binding.SMS = (*Relay)(nil)

// NewRelay sends SMS through the alert function named function (a name or
// an ARN).
func NewRelay(client Invoker, function string) *Relay {
	return &Relay{client: client, function: function}
}

// SendSMS implements binding.SMS. Only alert texts are sent: a code never
// goes through the relay (the alert function would refuse it anyway).
func (r *Relay) SendSMS(ctx context.Context, to, body string) error {
	if r.function == "" {
		return errors.New("alert SMS: ALERT_FUNCTION is not set")
	}
	if !binding.IsAlertText(body) {
		return errors.New("alert SMS: the alert function sends only alert texts")
	}
	payload, err := json.Marshal(alertsms.Alert{To: to, Text: body})
	if err != nil {
		return fmt.Errorf("alert SMS: encode: %w", err)
	}
	out, err := r.client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(r.function),
		InvocationType: types.InvocationTypeEvent,
		Payload:        payload,
	})
	if err != nil {
		return fmt.Errorf("alert SMS: invoke %s: %w", r.function, err)
	}
	if out.StatusCode != http.StatusAccepted {
		return fmt.Errorf("alert SMS: invoke %s: status %d, want %d", r.function, out.StatusCode, http.StatusAccepted)
	}
	return nil
}

// SMS is the relay as a core.AWS constructor, for the mains of
// confirm-code and unbind.
func SMS(awsCfg aws.Config, cfg config.Config) binding.SMS {
	return NewRelay(lambda.NewFromConfig(awsCfg), cfg.AlertFunction)
}
