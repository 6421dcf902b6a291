package alertsms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// changeDone is one of the service's alert texts, taken from the
// binding package through the one door it opens to them.
const changeDone = "Номер телефона в профиле Госуслуг изменён. Если это были не вы, срочно обратитесь в поддержку."

type fakeInvoker struct {
	got    []*lambda.InvokeInput
	status int32
	err    error
}

func (f *fakeInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.got = append(f.got, in)
	if f.err != nil {
		return nil, f.err
	}
	return &lambda.InvokeOutput{StatusCode: f.status}, nil
}

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

func TestRelayInvokesAsynchronously(t *testing.T) {
	inv := &fakeInvoker{status: 202}
	r := NewRelay(inv, "stack-alert")
	if err := r.SendSMS(context.Background(), "+79161234567", changeDone); err != nil {
		t.Fatal(err)
	}
	if len(inv.got) != 1 {
		t.Fatalf("%d invocations, want 1", len(inv.got))
	}
	in := inv.got[0]
	if *in.FunctionName != "stack-alert" || in.InvocationType != types.InvocationTypeEvent {
		t.Errorf("invoked %s as %s, want stack-alert as Event", *in.FunctionName, in.InvocationType)
	}
	var a Alert
	if err := json.Unmarshal(in.Payload, &a); err != nil {
		t.Fatal(err)
	}
	if a != (Alert{To: "+79161234567", Text: changeDone}) {
		t.Errorf("payload %+v", a)
	}
}

func TestRelayFailures(t *testing.T) {
	cases := []struct {
		name     string
		function string
		text     string
		inv      *fakeInvoker
		want     string
	}{
		{"no function", "", changeDone, &fakeInvoker{status: 202}, "ALERT_FUNCTION"},
		{"not an alert", "f", "Код подтверждения: 123456", &fakeInvoker{status: 202}, "only alert texts"},
		{"invoke fails", "f", changeDone, &fakeInvoker{err: errors.New("AccessDenied")}, "AccessDenied"},
		{"not accepted", "f", changeDone, &fakeInvoker{status: 200}, "status 200"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := NewRelay(c.inv, c.function).SendSMS(context.Background(), "+79161234567", c.text)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one saying %q", err, c.want)
			}
			if c.want == "only alert texts" && len(c.inv.got) != 0 {
				t.Error("a code text reached the alert function")
			}
		})
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
