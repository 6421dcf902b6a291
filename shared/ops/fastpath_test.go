package ops

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// referenceRoute is how Function told events apart before it read API
// Gateway's events without reflection: a probe of the top-level members,
// then the whole event through encoding/json. It returns the request handed
// to the HTTP handler, or the refusal.
func referenceRoute(raw json.RawMessage) (req *events.APIGatewayV2HTTPRequest, refusal *Result, isAction bool) {
	var probe struct {
		Version        string          `json:"version"`
		RouteKey       string          `json:"routeKey"`
		RequestContext json.RawMessage `json:"requestContext"`
		Action         *string         `json:"action"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		if f, ok := typeErrorField(err); ok {
			return nil, &Result{Error: &Error{Code: "invalid_event", Message: "wrong type for " + f, Field: f}}, false
		}
		return nil, &Result{Error: &Error{Code: "invalid_event", Message: "the event is not a JSON object"}}, false
	}
	if probe.RouteKey != "" || len(probe.RequestContext) > 0 {
		var r events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &r); err != nil {
			msg := "not an API Gateway HTTP API (2.0) event"
			f, ok := typeErrorField(err)
			if ok {
				msg += ": wrong type for " + f
			}
			return nil, &Result{Error: &Error{Code: "invalid_event", Message: msg, Field: f}}, false
		}
		return &r, nil, false
	}
	return nil, nil, true
}

// checkRoute holds Function to referenceRoute on one event.
func checkRoute(t *testing.T, raw []byte) {
	t.Helper()
	var got *events.APIGatewayV2HTTPRequest
	actionRan := false
	h := Function(func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = &req
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	}, map[string]Action{"probe": func(context.Context, json.RawMessage) (any, error) {
		actionRan = true
		return "done", nil
	}}, nil)
	out, err := h(context.Background(), raw)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	want, refusal, isAction := referenceRoute(raw)
	switch {
	case want != nil:
		if got == nil || !reflect.DeepEqual(*got, *want) {
			t.Fatalf("%q: HTTP handler got %#v, want %#v (out %#v)", raw, got, want, out)
		}
	case refusal != nil:
		if got != nil || actionRan || !reflect.DeepEqual(out, *refusal) {
			t.Fatalf("%q: answered %#v, want the refusal %#v", raw, out, *refusal)
		}
	case isAction:
		if got != nil {
			t.Fatalf("%q: an ops event reached the HTTP handler", raw)
		}
	}
}

func TestFunctionRoutesAsBefore(t *testing.T) {
	paths, _ := filepath.Glob("../../infra/events/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checkRoute(t, b)
	}
	for _, s := range routeSeeds {
		checkRoute(t, []byte(s))
	}
}

var routeSeeds = []string{
	`{}`, `null`, `[]`, `"x"`, `42`, `{"version":"2.0"}`, `{"version":2}`,
	`{"routeKey":"GET /v1/phone"}`, `{"routeKey":""}`, `{"routeKey":null}`, `{"routeKey":5}`,
	`{"requestContext":{}}`, `{"requestContext":null}`, `{"requestContext":5}`,
	`{"routeKey":"GET /v1/phone","action":"probe"}`, `{"routeKey":"GET /v1/phone","action":5}`,
	`{"routeKey":"GET /v1/phone","Action":5}`, `{"routeKey":"GET /v1/phone","ACTION":null}`,
	`{"RouteKey":"GET /v1/phone"}`, `{"routekey":"x","requestcontext":{}}`,
	`{"routeKey":"GET /v1/phone","headers":{"a":1}}`, `{"routeKey":"GET /v1/phone","extra":[1,{}]}`,
	`{"routeKey":"GET /v1/phone","requestContext":{"authorizer":{"lambda":{"x":1}}}}`,
	`{"action":"probe"}`, `{"action":"probe","routeKey":""}`, `{"routeKey":"x"} trailing`,
	`{"routeKey":"x","routeKey":""}`, `{"routeKey":"","routeKey":"x"}`,
	`{"routeKey":"GET /v1/phone","body":"\ud83d\ude00\u0041"}`,
}

func FuzzFunctionRoutesAsBefore(f *testing.F) {
	paths, _ := filepath.Glob("../../infra/events/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range routeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// Function is handed one JSON value (lambda's RawMessage); others
		// are the runtime's to refuse.
		if !json.Valid(raw) || strings.TrimSpace(string(raw)) == "" {
			return
		}
		checkRoute(t, raw)
	})
}
