// Package httpapi turns API Gateway HTTP API (payload 2.0) events into calls
// on the binding service and its answers into JSON or problem+json responses.
// It is the only place that knows about HTTP: bodies are decoded and checked
// here, domain errors are mapped to statuses here (problem.go), and the
// texts users read live in one table (messages.go).
package httpapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/metrics"
	"github.com/gosuslugi/phonebind/shared/phone"
)

// Handler is the shape lambda.Start expects for an HTTP API function, and
// the shape the local runner calls. Handlers built here never return a Go
// error for anything a client did: API Gateway would turn it into a bare 500.
type Handler func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Binding is the part of the binding service the HTTP routes call.
type Binding interface {
	RequestCode(ctx context.Context, req binding.CodeRequest) (binding.CodeSent, error)
	Confirm(ctx context.Context, c binding.Confirmation) (binding.Status, error)
	Status(ctx context.Context, accountID string) (binding.Status, error)
	Unbind(ctx context.Context, c binding.Confirmation) (binding.Status, error)
	CancelUnbind(ctx context.Context, accountID, sourceIP string) (binding.Status, error)
	Settings(ctx context.Context, accountID string) (binding.Settings, error)
	ChangeSettings(ctx context.Context, u binding.SettingsUpdate) (binding.Settings, error)
}

// PhoneParser turns what a user typed into a validated number, failing with
// *phone.InvalidError; phone.Parser is the real one.
type PhoneParser interface {
	Parse(raw string) (phone.Number, error)
}

// API holds the routes of the phone-binding HTTP API. Its methods RequestCode,
// ConfirmCode and Status are Handlers, to be passed as method values.
type API struct {
	svc     Binding
	phones  PhoneParser
	logger  *slog.Logger
	metrics *metrics.EMF
	now     func() time.Time
	// access serves the access routes (access.go; nil: not wired).
	access Access
}

// New builds the API over the service and the phone parser. A nil logger
// discards logs.
func New(svc Binding, phones PhoneParser, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &API{svc: svc, phones: phones, logger: logger, now: time.Now}
}

// SetMetrics makes every request record its EMF metrics to m (nil: none).
func (a *API) SetMetrics(m *metrics.EMF) { a.metrics = m }
