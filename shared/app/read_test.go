package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// A partner reads alice's number as a new user would try it: the sample
// read_phone event through PhoneReadFunction's Lambda handler, the
// citizen's approval through the unbind function's route, the read again,
// and both reads in the access log the status function serves.
func TestPhoneReadFunctionWithApproval(t *testing.T) {
	env := map[string]string{"TEST_PHONE_NUMBERS": "+79990000001:123456"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	var logs bytes.Buffer
	a, err := New(context.Background(), cfg, core.Options{
		Local: true, Clock: clock.Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Outbox: notify.NewOutbox(io.Discard, nil), Metrics: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	session := func() binding.Session { return binding.Session{AMR: []string{"pwd", "mfa"}, AuthTime: clock.Now()} }
	n, _ := phone.NewParser([]string{"RU"}).Parse("+79990000001")
	sent, err := a.Service.RequestCode(ctx, binding.CodeRequest{AccountID: "alice", Purpose: binding.PurposeBind, Phone: n, Consent: true, Session: session()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Confirm(ctx, binding.Confirmation{AccountID: "alice", VerificationID: sent.VerificationID, Code: "123456", Session: session()}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	ask := binding.ThirdPartyAsk
	if _, err := a.Service.ChangeSettings(ctx, binding.SettingsUpdate{AccountID: "alice", Patch: binding.SettingsPatch{ThirdParty: &ask}, Session: session()}); err != nil {
		t.Fatal(err)
	}

	read, err := a.Lambda("phone-read")
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("../../infra/events/read-phone.json")
	if err != nil {
		t.Fatal(err)
	}
	answer := func() map[string]any {
		t.Helper()
		clock.Advance(time.Minute)
		out, err := read(ctx, sample)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(out)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	if got := answer(); got["ok"] != false || got["error"] != "approval_required" {
		t.Fatalf("first read: %v", got)
	}

	http := func(function, method, path, body string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		req := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: method + " " + path, RawPath: path, Body: body,
			Headers: map[string]string{"content-type": "application/json"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RequestID: "r", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "198.51.100.7"},
				Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
					Claims: map[string]string{"sub": "alice", "amr": "[pwd mfa]", "auth_time": strconv.FormatInt(clock.Now().Unix(), 10)},
				}},
			},
		}
		resp, err := a.Handlers()[function](ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := http(core.StatusFunction, "GET", "/v1/phone/access-requests", "")
	var list struct {
		Items []struct {
			RequestID  string `json:"request_id"`
			ClientName string `json:"client_name"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &list); err != nil || len(list.Items) != 1 || list.Items[0].ClientName != "Банк «Пример»" {
		t.Fatalf("requests: %d %s", resp.StatusCode, resp.Body)
	}
	resp = http(core.UnbindFunction, "POST", "/v1/phone/access-requests/"+list.Items[0].RequestID, `{"decision":"approve"}`)
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"state":"approved"`) {
		t.Fatalf("approve: %d %s", resp.StatusCode, resp.Body)
	}
	if got := answer(); got["ok"] != true || got["phone"] != "+79990000001" || got["verified_at"] != "2026-11-23T10:00:00Z" {
		t.Fatalf("read after the approval: %v", got)
	}
	resp = http(core.StatusFunction, "GET", "/v1/phone/access-log", "")
	var log struct {
		Items []struct{ Result string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &log); err != nil || len(log.Items) != 2 ||
		log.Items[0].Result != "allowed" || log.Items[1].Result != "approval_required" {
		t.Fatalf("access log: %d %s", resp.StatusCode, resp.Body)
	}
	if strings.Contains(logs.String(), "9990000001") {
		t.Fatalf("the number is in the logs: %s", logs.String())
	}
}
