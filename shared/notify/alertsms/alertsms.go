// Package alertsms sends the alerts of confirm-code and unbind (the SMS
// that tells a number it was replaced or removed) through the alert
// function.
//
// An SMS straight to a number is authorised by IAM against Resource "*",
// which would also reach every SNS topic; a function may carry that grant
// only beside an explicit Deny on topic ARNs, and a Deny beats any Allow.
// confirm-code and unbind publish domain events to a topic, so they cannot
// carry the Deny: they ask the alert function instead (an asynchronous Lambda
// invocation, lambda:InvokeFunction on that one function: shared/notify/
// alertrelay), which holds the "*" SMS grant and the Deny, and nothing
// else: no table, no secret, no topic (template.yaml, AlertFunction). This
// package is that function's side: the event and its handler.
package alertsms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/phone"
)

// Alert is the alert function's event: one alert text to one number.
type Alert struct {
	// To is the number in E.164.
	To string `json:"to"`
	// Text is one of the service's alert texts (binding.IsAlertText).
	Text string `json:"text"`
}

// Handler is the alert function: it sends alert.Text to alert.To through
// sms when the text is one of the service's alerts and the number is in
// E.164, and refuses anything else. A send that failed is returned, so
// that Lambda retries the event; a number that opted out of SMS is logged
// and dropped (a retry cannot help). Numbers are logged masked.
func Handler(sms binding.SMS, log *slog.Logger) func(ctx context.Context, a Alert) error {
	return func(ctx context.Context, a Alert) error {
		if !binding.IsAlertText(a.Text) {
			log.ErrorContext(ctx, "alert refused: not an alert text", "phone", phone.Mask(a.To))
			return errors.New("not an alert text")
		}
		if !isE164(a.To) {
			log.ErrorContext(ctx, "alert refused: not an E.164 number")
			return errors.New("not an E.164 number")
		}
		err := sms.SendSMS(ctx, a.To, a.Text)
		switch {
		case errors.Is(err, binding.ErrOptedOut):
			log.WarnContext(ctx, "alert not sent: number opted out", "phone", phone.Mask(a.To))
			return nil
		case err != nil:
			log.ErrorContext(ctx, "alert not sent", "error", err.Error(), "phone", phone.Mask(a.To))
			return fmt.Errorf("send alert: %w", err)
		}
		log.InfoContext(ctx, "alert sent", "phone", phone.Mask(a.To))
		return nil
	}
}

// isE164 is the shape of an E.164 number: '+', then 8 to 15 digits, the
// first not 0.
func isE164(s string) bool {
	digits, ok := strings.CutPrefix(s, "+")
	if !ok || len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
