package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/metrics"
)

// fakeReader answers every read with res and err, and records the reads.
type fakeReader struct {
	res   binding.ReadResult
	err   error
	reads []binding.ReadRequest
}

func (f *fakeReader) ReadPhone(_ context.Context, r binding.ReadRequest) (binding.ReadResult, error) {
	f.reads = append(f.reads, r)
	return f.res, f.err
}

func readWith(t *testing.T, svc Reader, event string) (ReadAnswer, string, string, error) {
	t.Helper()
	var logs, emf bytes.Buffer
	h := PhoneRead(svc, metrics.NewEMF(&emf, nil), slog.New(slog.NewJSONHandler(&logs, nil)))
	out, err := h(context.Background(), json.RawMessage(event))
	if err != nil {
		return ReadAnswer{}, logs.String(), emf.String(), err
	}
	b, _ := json.Marshal(out)
	var a ReadAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a, logs.String(), emf.String(), nil
}

const goodRead = `{"action":"read_phone","account_id":"alice","purpose":"autofill","client_id":"forms.autofill","client_name":"Заявления"}`

func TestReadPhoneAnswers(t *testing.T) {
	verified := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	svc := &fakeReader{res: binding.ReadResult{Phone: "+79123456789", VerifiedAt: verified}}
	a, logs, emf, err := readWith(t, svc, goodRead)
	if err != nil || !a.OK || a.Phone != "+79123456789" || a.VerifiedAt != "2026-11-23T10:00:00Z" || a.Error != "" {
		t.Fatalf("allowed: %+v, %v", a, err)
	}
	if r := svc.reads[0]; r.AccountID != "alice" || r.Purpose != binding.ReadAutofill || r.ClientID != "forms.autofill" || r.ClientName != "Заявления" {
		t.Fatalf("read = %+v", r)
	}
	if strings.Contains(logs, "9123456789") || !strings.Contains(logs, `"result":"allowed"`) {
		t.Fatalf("logs: %s", logs)
	}
	if !strings.Contains(emf, `"PhoneReads"`) || !strings.Contains(emf, `"Purpose":"autofill"`) {
		t.Fatalf("metrics: %s", emf)
	}
	for _, refusal := range []string{binding.ReadNoPhoneBound, binding.ReadNotAllowed, binding.ReadApprovalRequired} {
		a, _, emf, err := readWith(t, &fakeReader{res: binding.ReadResult{Refusal: refusal}}, goodRead)
		if err != nil || a.OK || a.Error != refusal || a.Phone != "" {
			t.Fatalf("%s: %+v, %v", refusal, a, err)
		}
		if !strings.Contains(emf, `"PhoneReadsRefused"`) || !strings.Contains(emf, `"Reason":"`+refusal+`"`) {
			t.Fatalf("%s metrics: %s", refusal, emf)
		}
	}
	a, _, _, err = readWith(t, &fakeReader{err: binding.ErrReadConflict}, goodRead)
	if err != nil || a.OK || a.Error != ReadConflict || a.Message == "" {
		t.Fatalf("conflict: %+v, %v", a, err)
	}
	// An internal fault fails the invocation: no answer, so no number.
	_, logs, _, err = readWith(t, &fakeReader{err: errors.New("dynamodb: throttled")}, goodRead)
	if err == nil || strings.Contains(err.Error(), "dynamodb") || !strings.Contains(logs, "dynamodb: throttled") {
		t.Fatalf("internal: %v; logs %s", err, logs)
	}
}

func TestReadPhoneRefusesBadEvents(t *testing.T) {
	tests := []struct{ event, field string }{
		{`[]`, ""},
		{`{"action":"support_unbind","account_id":"alice","purpose":"autofill","client_id":"x","client_name":"X"}`, "action"},
		{`{"account_id":"alice","purpose":"autofill","client_id":"x","client_name":"X"}`, "action"},
		{`{"action":"read_phone","purpose":"autofill","client_id":"x","client_name":"X"}`, "account_id"},
		{`{"action":"read_phone","account_id":"a#b","purpose":"autofill","client_id":"x","client_name":"X"}`, "account_id"},
		{`{"action":"read_phone","account_id":"alice","purpose":"marketing","client_id":"x","client_name":"X"}`, "purpose"},
		{`{"action":"read_phone","account_id":"alice","purpose":"autofill","client_name":"X"}`, "client_id"},
		{`{"action":"read_phone","account_id":"alice","purpose":"autofill","client_id":"Bank#1","client_name":"X"}`, "client_id"},
		{`{"action":"read_phone","account_id":"alice","purpose":"autofill","client_id":"x","client_name":"  "}`, "client_name"},
		{`{"action":"read_phone","account_id":"alice","purpose":"autofill","client_id":"x","client_name":"` + strings.Repeat("я", 101) + `"}`, "client_name"},
		{`{"action":"read_phone","account_id":"alice","purpose":"autofill","client_id":"x","client_name":"X","phone":"+7"}`, "phone"},
		{`{"action":"read_phone","account_id":7,"purpose":"autofill","client_id":"x","client_name":"X"}`, "account_id"},
		{`{"version":"2.0","routeKey":"GET /v1/phone","rawPath":"/v1/phone"}`, "version"},
	}
	for _, tt := range tests {
		svc := &fakeReader{res: binding.ReadResult{Phone: "+79123456789"}}
		a, _, emf, err := readWith(t, svc, tt.event)
		if err != nil || a.OK || a.Error != ReadInvalidRequest || a.Message == "" || a.Field != tt.field || a.Phone != "" {
			t.Errorf("%s: %+v, %v", tt.event, a, err)
		}
		if len(svc.reads) != 0 {
			t.Errorf("%s reached the service", tt.event)
		}
		if !strings.Contains(emf, `"Reason":"invalid_request"`) {
			t.Errorf("%s: not counted: %s", tt.event, emf)
		}
	}
}

// The sample event (infra/events/read-phone.json, what make invoke sends)
// is a valid read.
func TestReadPhoneSampleEvent(t *testing.T) {
	raw, err := os.ReadFile("../../infra/events/read-phone.json")
	if err != nil {
		t.Fatal(err)
	}
	svc := &fakeReader{res: binding.ReadResult{Refusal: binding.ReadApprovalRequired}}
	if a, _, _, err := readWith(t, svc, string(raw)); err != nil || a.Error != binding.ReadApprovalRequired || len(svc.reads) != 1 {
		t.Fatalf("sample: %+v, %v", a, err)
	}
}
