package core

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/ops"
)

// Function logical ids, as template.yaml names them.
const (
	RequestCodeFunction = "RequestCodeFunction"
	ConfirmCodeFunction = "ConfirmCodeFunction"
	StatusFunction      = "StatusFunction"
	UnbindFunction      = "UnbindFunction"
	FeedbackFunction    = "FeedbackFunction"
	// PhoneReadFunction serves no route: portal services invoke it
	// (read.go).
	PhoneReadFunction = "PhoneReadFunction"
)

// Handlers maps each function's logical id to its handler, for the local
// runner, which serves the routes template.yaml gives each function.
//
// Every POST is idempotent under an Idempotency-Key header.
func (a *App) Handlers() map[string]httpapi.Handler {
	idem := func(h httpapi.Handler) httpapi.Handler {
		return httpapi.Idempotent(a.Idempotency, h, a.Logger, a.clock)
	}
	// The settings are read where the status is (a Query of the account)
	// and changed where the unbind writes the account's partition.
	// So are the partners' requests and the access log read, and a
	// decision written. The personal-data report opens the bound number,
	// so it is served where the key ring already is and the account's
	// partition and tickets are already read (the erasure): by unbind,
	// not by status, which holds no key material.
	reads := map[string]httpapi.Handler{
		httpapi.SettingsPath:       a.API.Settings,
		httpapi.AccessRequestsPath: a.API.AccessRequests,
		httpapi.AccessLogPath:      a.API.AccessLog,
	}
	writes := map[string]httpapi.Handler{
		httpapi.SettingsPath:             a.API.Settings,
		httpapi.AccessRequestsPath + "/": a.API.DecideAccessRequest,
		httpapi.DataPath:                 a.PrivacyAPI.Data,
	}
	return map[string]httpapi.Handler{
		RequestCodeFunction: idem(a.API.RequestCode),
		ConfirmCodeFunction: idem(a.API.ConfirmCode),
		StatusFunction:      httpapi.ByPath(a.API.Status, reads),
		UnbindFunction:      idem(httpapi.ByPath(a.API.Unbind, writes)),
		FeedbackFunction:    idem(a.FeedbackAPI.Handle),
	}
}

// Handler returns one function's handler, for a Lambda main.
func (a *App) Handler(functionID string) (httpapi.Handler, error) {
	h, ok := a.Handlers()[functionID]
	if !ok {
		return nil, fmt.Errorf("no handler for function %s", functionID)
	}
	return h, nil
}

// functionDirs maps each function's directory under functions/ to its
// logical id, so a function can be named either way (make invoke FN=unbind).
var functionDirs = map[string]string{
	"request-code": RequestCodeFunction,
	"confirm-code": ConfirmCodeFunction,
	"status":       StatusFunction,
	"unbind":       UnbindFunction,
	"feedback":     FeedbackFunction,
	"phone-read":   PhoneReadFunction,
}

// actions are the ops events each function takes by direct invocation.
// Every function holding key material answers keys_check (the smoke test,
// key rotation); status holds none.
func (a *App) actions() map[string]map[string]ops.Action {
	out := map[string]map[string]ops.Action{
		RequestCodeFunction: {},
		ConfirmCodeFunction: {},
		UnbindFunction: {
			"support_unbind": ops.SupportUnbind(a.Service, a.Logger),
			"cancel_unbind":  ops.CancelUnbind(a.Service, a.Logger),
			// Run each minute by the template's schedule.
			"complete_due_unbinds": ops.CompleteDueUnbinds(a.Service, a.Logger),
			"erase_account":        ops.EraseAccount(a.Privacy, a.Logger),
		},
		FeedbackFunction: {"update_ticket": ops.UpdateTicket(a.Tickets, a.Logger)},
	}
	if ring, ok := a.keys.(ops.KeyRing); ok {
		for _, acts := range out {
			acts["keys_check"] = ops.KeysCheck(ring)
		}
	}
	return out
}

// RequestCode is the request-code function's Lambda handler: its route
// (as Handlers wraps it) and the keys_check ops event.
func (a *App) RequestCode() ops.Handler {
	return ops.Function(a.Handlers()[RequestCodeFunction], a.actions()[RequestCodeFunction], a.Logger)
}

// ConfirmCode is the confirm-code function's Lambda handler: its route
// (as Handlers wraps it) and the keys_check ops event.
func (a *App) ConfirmCode() ops.Handler {
	return ops.Function(a.Handlers()[ConfirmCodeFunction], a.actions()[ConfirmCodeFunction], a.Logger)
}

// Lambda is a function's whole Lambda handler, named by logical id or by
// directory: its HTTP route and its ops actions, as a direct invocation
// (the console's Test tab, sam local invoke, make invoke) reaches them.
func (a *App) Lambda(function string) (ops.Handler, error) {
	id := function
	if mapped, ok := functionDirs[function]; ok {
		id = mapped
	}
	if id == PhoneReadFunction {
		return a.PhoneRead(), nil
	}
	h, ok := a.Handlers()[id]
	if !ok {
		known := slices.Sorted(maps.Keys(functionDirs))
		return nil, fmt.Errorf("no function %q (known: %s, or their logical ids)", function, strings.Join(known, ", "))
	}
	return ops.Function(h, a.actions()[id], a.Logger), nil
}

// Invoke runs event through function's Lambda handler, as a direct
// invocation does (the runner's /_local/invoke, make invoke).
func (a *App) Invoke(ctx context.Context, function string, event json.RawMessage) (any, error) {
	h, err := a.Lambda(function)
	if err != nil {
		return nil, err
	}
	return h(ctx, event)
}

// Status is the status function's Lambda handler: GET /v1/phone and
// every other GET route template.yaml gives it, told apart by path as
// Handlers does for the local runner.
func (a *App) Status() httpapi.Handler { return a.Handlers()[StatusFunction] }

// Unbind is the unbind function's Lambda handler: POST and DELETE
// /v1/phone/unbind, PATCH /v1/phone/settings, GET /v1/phone/data, and the
// operators'
// support_unbind, cancel_unbind and erase_account events by direct
// invocation.
func (a *App) Unbind() ops.Handler {
	return ops.Function(a.Handlers()[UnbindFunction], a.actions()[UnbindFunction], a.Logger)
}

// Feedback is the feedback function's Lambda handler: the three
// /v1/feedback routes (as Handlers wraps them), and the operators'
// update_ticket event by direct invocation.
func (a *App) Feedback() ops.Handler {
	return ops.Function(a.Handlers()[FeedbackFunction], a.actions()[FeedbackFunction], a.Logger)
}
