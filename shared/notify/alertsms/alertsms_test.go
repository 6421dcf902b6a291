package alertsms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// changeDone is one of the service's alert texts, taken from the
// binding package through the one door it opens to them.
const changeDone = "Номер телефона в профиле Госуслуг изменён. Если это были не вы, срочно обратитесь в поддержку."

type fakeSMS struct {
	sent []Alert
	err  error
}

func (f *fakeSMS) SendSMS(_ context.Context, to, body string) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, Alert{To: to, Text: body})
	return nil
}

func TestAlertTextIsTheService(t *testing.T) {
	if !binding.IsAlertText(changeDone) {
		t.Fatal("the test's alert text is not one of binding's: update it")
	}
	if binding.IsAlertText("Код подтверждения: 123456") {
		t.Error("a code text counts as an alert")
	}
}

func TestHandler(t *testing.T) {
	cases := []struct {
		name    string
		alert   Alert
		sendErr error
		wantErr bool
		sent    int
	}{
		{"alert", Alert{To: "+79161234567", Text: changeDone}, nil, false, 1},
		{"any text", Alert{To: "+79161234567", Text: "Переведите 100 рублей"}, nil, true, 0},
		{"not E.164", Alert{To: "89161234567", Text: changeDone}, nil, true, 0},
		{"topic ARN as number", Alert{To: "arn:aws:sns:us-east-1:1:t", Text: changeDone}, nil, true, 0},
		{"send fails: retried", Alert{To: "+79161234567", Text: changeDone}, errors.New("throttled"), true, 0},
		{"opted out: dropped", Alert{To: "+79161234567", Text: changeDone}, fmt.Errorf("%w: x", binding.ErrOptedOut), false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			sms := &fakeSMS{err: c.sendErr}
			err := Handler(sms, slog.New(slog.NewJSONHandler(&logs, nil)))(context.Background(), c.alert)
			if (err != nil) != c.wantErr {
				t.Errorf("err = %v, want error %v", err, c.wantErr)
			}
			if len(sms.sent) != c.sent {
				t.Errorf("sent %d, want %d", len(sms.sent), c.sent)
			}
			if strings.Contains(logs.String(), "9161234567") {
				t.Errorf("the log holds the number: %s", logs.String())
			}
		})
	}
}
