package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/gosuslugi/phonebind/shared/ops"
)

type echo struct {
	Name string `json:"name"`
}

func TestFunctionRoutesHTTPAndOpsEvents(t *testing.T) {
	httpCalls := 0
	h := ops.Function(
		func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			httpCalls++
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: req.RouteKey}, nil
		},
		map[string]ops.Action{
			"greet": func(_ context.Context, raw json.RawMessage) (any, error) {
				var in struct {
					Action string `json:"action"`
					Name   string `json:"name"`
				}
				if err := ops.Decode(raw, &in); err != nil {
					return nil, err
				}
				if err := ops.Required([2]string{"name", in.Name}); err != nil {
					return nil, err
				}
				return echo{Name: in.Name}, nil
			},
			"break": func(context.Context, json.RawMessage) (any, error) { return nil, errors.New("store down") },
		}, nil)

	tests := []struct {
		name, event string
		wantCode    string // "" means ok
	}{
		{"ops ok", `{"action":"greet","name":"Ivan"}`, ""},
		{"missing field", `{"action":"greet"}`, "invalid_event"},
		{"unknown field", `{"action":"greet","name":"x","extra":1}`, "invalid_event"},
		{"wrong type", `{"action":"greet","name":5}`, "invalid_event"},
		{"unknown action", `{"action":"drop_table"}`, "unknown_action"},
		{"no action", `{"hello":"world"}`, "invalid_event"},
		{"not an object", `[1,2]`, "invalid_event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := h(context.Background(), json.RawMessage(tt.event))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			res, ok := out.(ops.Result)
			if !ok {
				t.Fatalf("result %T", out)
			}
			if tt.wantCode == "" {
				if !res.OK || res.Result.(echo).Name != "Ivan" {
					t.Fatalf("result %+v", res)
				}
				return
			}
			if res.OK || res.Error == nil || res.Error.Code != tt.wantCode {
				t.Fatalf("result %+v, want error %s", res, tt.wantCode)
			}
		})
	}

	// An HTTP API event goes to the HTTP handler even if it smuggles an action.
	out, err := h(context.Background(), json.RawMessage(`{"version":"2.0","routeKey":"GET /v1/phone","action":"greet","requestContext":{}}`))
	if err != nil || httpCalls != 1 || out.(events.APIGatewayV2HTTPResponse).Body != "GET /v1/phone" {
		t.Fatalf("HTTP event: %v %v (%d calls)", out, err, httpCalls)
	}
	// An internal failure is a function error, so Lambda reports it as one.
	if _, err := h(context.Background(), json.RawMessage(`{"action":"break"}`)); err == nil {
		t.Fatal("a failing action returned no error")
	}
}

// An ops invocation's result and every log line carry the Lambda request id
// (the key to CloudTrail's record of who invoked) and the event's operator
// as a claim.
func TestOpsInvocationIsTraceable(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := ops.Function(nil, map[string]ops.Action{
		"noop": func(context.Context, json.RawMessage) (any, error) { return "done", nil },
	}, logger)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "5c1b2a7e-0000-4000-8000-000000000001"})
	for _, event := range []string{`{"action":"noop","operator":"ivanova"}`, `{"action":"nope","operator":"ivanova"}`} {
		logs.Reset()
		out, err := h(ctx, json.RawMessage(event))
		if err != nil {
			t.Fatal(err)
		}
		if res := out.(ops.Result); res.InvocationID != "5c1b2a7e-0000-4000-8000-000000000001" {
			t.Errorf("%s: invocation_id = %q", event, res.InvocationID)
		}
		var line map[string]any
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("%s: log %q: %v", event, logs.String(), err)
		}
		if line["invocation_id"] != "5c1b2a7e-0000-4000-8000-000000000001" || line["operator_claimed"] != "ivanova" {
			t.Errorf("%s: log line %v lacks invocation_id or operator_claimed", event, line)
		}
		if _, ok := line["operator"]; ok {
			t.Errorf("%s: log line names an unqualified operator: %v", event, line)
		}
	}
}

// invoke runs event through h as Lambda would and returns the result as
// the operator reads it (JSON); an invocation error fails the test.
func invoke(t *testing.T, h ops.Handler, event string) string {
	t.Helper()
	out, err := h(context.Background(), json.RawMessage(event))
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	b, _ := json.Marshal(out)
	return string(b)
}
