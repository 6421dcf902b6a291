package alertrelay

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/gosuslugi/phonebind/shared/notify/alertsms"
)

// changeDone is one of the service's alert texts (alertsms's test checks
// that binding still counts it as one).
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
	var a alertsms.Alert
	if err := json.Unmarshal(in.Payload, &a); err != nil {
		t.Fatal(err)
	}
	if a != (alertsms.Alert{To: "+79161234567", Text: changeDone}) {
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
