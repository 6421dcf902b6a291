// Package ops routes what a Lambda function is invoked with: API Gateway
// HTTP API events go to the function's HTTP handler, and operators' direct
// invocations ({"action": …}, from the console's Test tab or
// `aws lambda invoke`) go to the function's ops actions. API Gateway never
// sends a top-level "action", so an HTTP request can never reach an action.
package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/gosuslugi/phonebind/shared/httpapi"
)

// Action carries out one ops event and returns what the operator reads.
// Problems with the event are returned as *Error.
type Action func(ctx context.Context, raw json.RawMessage) (any, error)

// Error is an ops event the function refuses; the operator sees Code and
// Message in the result (the invocation itself succeeds).
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Result is the JSON an operator reads after an ops invocation.
type Result struct {
	OK     bool   `json:"ok"`
	Action string `json:"action"`
	// InvocationID is the Lambda request id of this invocation: the key to
	// its CloudTrail Invoke data event, which names who ran it.
	InvocationID string `json:"invocation_id,omitempty"`
	Result       any    `json:"result,omitempty"`
	Error        *Error `json:"error,omitempty"`
}

// envelope is what a function is invoked with, read once: an API Gateway
// HTTP API (2.0) event, or an operator's {"action": …}.
type envelope struct {
	events.APIGatewayV2HTTPRequest
	Action *string `json:"action"`
	// Operator is the name the caller typed: a claim, not an identity.
	Operator any `json:"operator"`
}

// fromAPIGateway reports an API Gateway event: it names its route or
// carries a request context; an ops event has neither.
func (e *envelope) fromAPIGateway() bool {
	rc := e.RequestContext
	return e.RouteKey != "" || rc.RequestID != "" || rc.HTTP.Method != "" || rc.RouteKey != ""
}

// Handler is a Lambda handler taking any payload.
type Handler func(ctx context.Context, raw json.RawMessage) (any, error)

// Function builds a Lambda handler from an HTTP handler (nil when the
// function has no route) and the ops actions it accepts (nil when none).
func Function(http httpapi.Handler, actions map[string]Action, logger *slog.Logger) Handler {
	logger = orDiscard(logger)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var e envelope
		if err := json.Unmarshal(raw, &e); err != nil {
			if f, ok := typeErrorField(err); ok {
				return Result{Error: &Error{Code: "invalid_event", Message: "wrong type for " + f, Field: f}}, nil
			}
			return Result{Error: &Error{Code: "invalid_event", Message: "the event is not a JSON object"}}, nil
		}
		if e.fromAPIGateway() {
			if http == nil {
				return Result{Error: &Error{Code: "invalid_event", Message: "this function serves no HTTP route"}}, nil
			}
			return http(ctx, e.APIGatewayV2HTTPRequest)
		}
		if e.Action == nil {
			return Result{Error: &Error{Code: "invalid_event", Message: "neither an API Gateway HTTP API event nor an ops event with \"action\"", Field: "action"}}, nil
		}
		name := *e.Action
		id := invocationID(ctx)
		logger = logger.With("action", name, "invocation_id", id, "operator_claimed", claimed(e.Operator))
		act, ok := actions[name]
		if !ok {
			logger.WarnContext(ctx, "ops event refused", "code", "unknown_action")
			return Result{Action: name, InvocationID: id, Error: &Error{Code: "unknown_action", Message: "unknown action; this function accepts: " + strings.Join(slices.Sorted(maps.Keys(actions)), ", "), Field: "action"}}, nil
		}
		ctx, cancel := httpapi.Budget(ctx)
		defer cancel()
		out, err := act(ctx, raw)
		var refused *Error
		switch {
		case errors.As(err, &refused):
			logger.WarnContext(ctx, "ops event refused", "code", refused.Code)
			return Result{Action: name, InvocationID: id, Error: refused}, nil
		case err != nil:
			logger.ErrorContext(ctx, "ops event failed", "error", err.Error())
			return nil, fmt.Errorf("%s failed (invocation %s): %w", name, id, err)
		}
		logger.InfoContext(ctx, "ops event done")
		return Result{OK: true, Action: name, InvocationID: id, Result: out}, nil
	}
}

// invocationID is the Lambda request id of the invocation ctx belongs to
// ("" outside Lambda: the local runner, tests).
func invocationID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// claimed is the event's operator as logged: the string typed, or "" when
// it is absent or not a string (the action itself refuses those).
func claimed(v any) string {
	s, _ := v.(string)
	return s
}

// Decode reads an ops event strictly into v: unknown fields and wrong types
// are refused with an *Error naming the field.
func Decode(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return &Error{Code: "invalid_event", Message: "wrong type for " + typeErr.Field, Field: typeErr.Field}
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			f = strings.Trim(f, `"`)
			return &Error{Code: "invalid_event", Message: "unknown field " + f, Field: f}
		}
		return &Error{Code: "invalid_event", Message: "the event is not valid JSON"}
	}
	return nil
}

// Required checks that each field, given as name and value pairs, is set
// (not blank), and reports the first that is not.
func Required(pairs ...[2]string) error {
	for _, f := range pairs {
		if strings.TrimSpace(f[1]) == "" {
			return &Error{Code: "invalid_event", Message: f[0] + " is required", Field: f[0]}
		}
	}
	return nil
}

// typeErrorField names the field a JSON type mismatch was in.
func typeErrorField(err error) (string, bool) {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return typeErr.Field, true
	}
	return "", false
}
