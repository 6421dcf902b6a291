package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/app"
	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/ops"
)

// Fuzz targets for what a Lambda function can be invoked with. `go test`
// runs only the seeds (f.Add, the sample events in infra/events and
// testdata/fuzz/<FuzzName>/); `make fuzz` explores further.

// lambdaFunctions are the functions FuzzLambdaEvents picks from, by the
// directory names app.Lambda takes.
var lambdaFunctions = []string{"request-code", "confirm-code", "status", "unbind", "feedback"}

// sampleEvents are infra/events/*.json: real HTTP API v2 and ops events.
func sampleEvents(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob("../../infra/events/*.json")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no sample events in infra/events (%v)", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzLambdaEvents runs arbitrary JSON through each function's whole Lambda
// handler (ops.Function over the HTTP handler and the ops actions, as
// app.Lambda builds it for the deployed functions) on the in-memory store.
// Whatever the event: no panic, no Go error (which a caller sees as a
// failed invocation, and API Gateway as a bare 500), no 500 response;
// an HTTP answer is JSON or problem+json with a code, and an ops answer
// is an ops.Result whose refusal says what was wrong.
func FuzzLambdaEvents(f *testing.F) {
	for _, ev := range sampleEvents(f) {
		for i := range lambdaFunctions {
			f.Add(uint8(i), ev)
		}
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `"x"`, `42`, ``, `{"version":"2.0"}`,
		`{"routeKey":"GET /v1/phone"}`,
		`{"requestContext":{}}`,
		`{"requestContext":null}`,
		`{"routeKey":"GET /v1/phone","requestContext":{"authorizer":{"jwt":{"claims":{"sub":"fuzz"}}}}}`,
		`{"routeKey":"POST /v1/phone/verification","body":"eyJwdXJwb3NlIjoiYmluZCJ9","isBase64Encoded":true,"requestContext":{"authorizer":{"jwt":{"claims":{"sub":"fuzz"}}}}}`,
		`{"routeKey":"POST /v1/phone/verification","body":"{\"purpose\":\"bind\",\"phone\":\"+79123456789\",\"consent\":true}","headers":{"Accept-Language":"en"},"requestContext":{"http":{"sourceIp":"203.0.113.9"},"authorizer":{"jwt":{"claims":{"sub":"fuzz"}}}}}`,
		`{"routeKey":5}`,
		`{"action":"support_unbind"}`,
		`{"action":"update_ticket","ticket_id":"FB-1","status":"closed","operator":"o"}`,
		`{"action":null}`, `{"action":"DROP TABLE"}`,
	} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(3), []byte(s))
	}

	a := fuzzApp(f)
	handlers := make([]ops.Handler, len(lambdaFunctions))
	for i, name := range lambdaFunctions {
		h, err := a.Lambda(name)
		if err != nil {
			f.Fatal(err)
		}
		handlers[i] = h
	}

	f.Fuzz(func(t *testing.T, fn uint8, raw []byte) {
		name := lambdaFunctions[int(fn)%len(lambdaFunctions)]
		out, err := handlers[int(fn)%len(handlers)](context.Background(), json.RawMessage(raw))
		if err != nil {
			t.Fatalf("%s: event %q: Go error %v (the invocation fails; API Gateway answers a bare 500)", name, raw, err)
		}
		switch res := out.(type) {
		case events.APIGatewayV2HTTPResponse:
			checkHTTP(t, name, raw, res)
		case ops.Result:
			checkRefusal(t, name, raw, res)
		default:
			t.Fatalf("%s: event %q: result of type %T", name, raw, out)
		}
	})
}

// fuzzApp is the service as `make run` assembles it: in-memory store,
// messages to a silent outbox, development keys.
func fuzzApp(f *testing.F) *core.App {
	f.Helper()
	env := map[string]string{"TEST_PHONE_NUMBERS": "+79990000001:123456", "RESEND_COOLDOWN": "0s", "CHANGE_COOLDOWN": "0s"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		f.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, core.Options{
		Local:   true,
		Logger:  slog.New(slog.DiscardHandler),
		Outbox:  notify.NewOutbox(io.Discard, nil),
		Metrics: io.Discard,
	})
	if err != nil {
		f.Fatal(err)
	}
	return a
}

// checkHTTP holds an HTTP answer to what every answer of the API promises.
func checkHTTP(t *testing.T, name string, raw []byte, res events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if res.StatusCode < 200 || (res.StatusCode >= 500 && res.StatusCode != 503) {
		t.Fatalf("%s: event %q: status %d: %s", name, raw, res.StatusCode, res.Body)
	}
	if !json.Valid([]byte(res.Body)) {
		t.Fatalf("%s: event %q: body is not JSON: %q", name, raw, res.Body)
	}
	ct := res.Headers["Content-Type"]
	if res.StatusCode >= 400 {
		var body struct{ Code string }
		_ = json.Unmarshal([]byte(res.Body), &body)
		code := body.Code
		if ct != "application/problem+json" || code == "" || code == "internal" {
			t.Fatalf("%s: event %q: %d %q with code %q: %s", name, raw, res.StatusCode, ct, code, res.Body)
		}
	} else if !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: event %q: %d with Content-Type %q", name, raw, res.StatusCode, ct)
	}
}

// checkRefusal holds an ops answer to what an operator must be able to
// read: a refusal names a code and explains itself in words.
func checkRefusal(t *testing.T, name string, raw []byte, res ops.Result) {
	t.Helper()
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("%s: event %q: the result does not encode: %v", name, raw, err)
	}
	if res.OK {
		return
	}
	e := res.Error
	if e == nil || e.Code == "" || e.Message == "" || !utf8.ValidString(e.Message) {
		t.Fatalf("%s: event %q: refusal without a readable error: %+v", name, raw, e)
	}
	for _, internal := range []string{"json:", "%!", "<nil>", "panic"} {
		if strings.Contains(e.Message, internal) && !strings.Contains(e.Field, internal) {
			t.Fatalf("%s: event %q: refusal shows internals: %+v", name, raw, e)
		}
	}
	// Readable means true, too: an operator told their object is not one
	// goes looking for the wrong mistake.
	var obj map[string]json.RawMessage
	if strings.Contains(e.Message, "not a JSON object") && json.Unmarshal(raw, &obj) == nil && obj != nil {
		t.Fatalf("%s: event %q is a JSON object, but the refusal says it is not: %+v", name, raw, e)
	}
}

// FuzzSupportUnbindEvent sends arbitrary JSON to the unbind function's ops
// side (the support_unbind action through ops.Function), both as given and
// with "action":"support_unbind" forced in, so most inputs reach the action.
// Whatever the event: no panic; an HTTP-shaped event never reaches the
// action; a refused event is an ops.Result with a readable *ops.Error
// (invalid_event or unknown_action); the service is called only with every
// required field present, and then exactly once.
func FuzzSupportUnbindEvent(f *testing.F) {
	for _, s := range []string{
		`{"action":"support_unbind","account_id":"acc-1","operator":"ivanova","reason":"SIM lost, passport checked","ticket_id":"FB-1"}`,
		`{"action":"support_unbind","account_id":"nobody","operator":"o","reason":"r","ticket_id":"t"}`,
		`{"action":"support_unbind","account_id":"acc-1","reason":"x","ticket_id":"FB-1"}`,
		`{"action":"support_unbind","account_id":"  ","operator":"o","reason":"r","ticket_id":"t"}`,
		`{"action":"support_unbind","account_id":5,"operator":"o","reason":"r","ticket_id":"t"}`,
		`{"action":"support_unbind","account_id":"acc-1","operator":"o","reason":"r","ticket_id":"t","extra":true}`,
		`{"action":"support_unbind","account_id":"acc-1","operator":"o","reason":"r","ticket_id":"t"} trailing`,
		`{"action":"support_unbind","ACCOUNT_ID":"acc-1","Operator":"o","reason":"r","ticket_id":"t"}`,
		`{"action":"support_unbind","account_id":"acc-1","operator":"o","reason":"r","ticket_id":"t","routeKey":"POST /v1/phone/unbind"}`,
		`{"action":"support_unbind","requestContext":{}}`,
		`{"action":"Support_Unbind"}`, `{"action":""}`, `{"action":5}`, `{"hello":"world"}`,
		`[1,2]`, `null`, `"support_unbind"`, ``, `{`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, ev := range [][]byte{raw, withSupportUnbind(raw)} {
			if ev == nil {
				continue
			}
			svc := &fakeUnbinder{}
			httpCalls := 0
			h := ops.Function(
				func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
					httpCalls++
					return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: `{}`}, nil
				},
				map[string]ops.Action{"support_unbind": ops.SupportUnbind(svc, nil)}, nil)
			out, err := h(context.Background(), json.RawMessage(ev))

			if httpCalls > 0 {
				if len(svc.calls) > 0 {
					t.Fatalf("event %q reached both the HTTP handler and the action", ev)
				}
				continue // an HTTP request; FuzzLambdaEvents holds those
			}
			if err != nil {
				t.Fatalf("event %q: Go error %v", ev, err)
			}
			res, ok := out.(ops.Result)
			if !ok {
				t.Fatalf("event %q: result of type %T", ev, out)
			}
			checkRefusal(t, "unbind", ev, res)
			if !res.OK {
				if res.Error.Code != "invalid_event" && res.Error.Code != "unknown_action" {
					t.Fatalf("event %q: refused with code %q", ev, res.Error.Code)
				}
				if len(svc.calls) > 0 {
					t.Fatalf("event %q was refused after the service unbound %v", ev, svc.calls)
				}
				continue
			}
			if res.Action != "support_unbind" || len(svc.calls) != 1 {
				t.Fatalf("event %q: ok result %+v after %d service calls", ev, res, len(svc.calls))
			}
			call := svc.calls[0]
			if strings.TrimSpace(call[0]) == "" || strings.TrimSpace(call[1]) == "" {
				t.Fatalf("event %q: the service was called with account %q, operator %q", ev, call[0], call[1])
			}
			r, ok := res.Result.(ops.SupportUnbindResult)
			if !ok || r.AccountID != call[0] || r.Message == "" || r.Unbound != (call[0] != nobody) {
				t.Fatalf("event %q: result %+v for account %q", ev, res.Result, call[0])
			}
			checkStrict(t, ev)
		}
	})
}

// nobody is the account fakeUnbinder finds nothing bound to.
const nobody = "nobody"

// fakeUnbinder unbinds any account but nobody, and records the calls.
type fakeUnbinder struct {
	mu    sync.Mutex
	calls [][2]string
}

func (f *fakeUnbinder) SupportUnbind(_ context.Context, accountID, operator, _, _ string) (binding.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, [2]string{accountID, operator})
	if accountID == nobody {
		return binding.Status{}, binding.ErrNoPhoneBound
	}
	return binding.Status{State: binding.StateNone}, nil
}

// withSupportUnbind is raw with its "action" set to support_unbind, or nil
// when raw is not a JSON object.
func withSupportUnbind(raw []byte) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil
	}
	m["action"] = json.RawMessage(`"support_unbind"`)
	out, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return out
}

// checkStrict insists that an event the action carried out is exactly the
// documented one: those five fields, each a string, the four the operator
// fills in not blank.
func checkStrict(t *testing.T, ev []byte) {
	t.Helper()
	var e struct {
		Action    string `json:"action"`
		AccountID string `json:"account_id"`
		Operator  string `json:"operator"`
		Reason    string `json:"reason"`
		TicketID  string `json:"ticket_id"`
	}
	dec := json.NewDecoder(bytes.NewReader(ev))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("event %q was carried out but is not the documented event: %v", ev, err)
	}
	for name, v := range map[string]string{"account_id": e.AccountID, "operator": e.Operator, "reason": e.Reason, "ticket_id": e.TicketID} {
		if strings.TrimSpace(v) == "" {
			t.Fatalf("event %q was carried out with %s blank", ev, name)
		}
	}
}
