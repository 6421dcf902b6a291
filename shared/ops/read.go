package ops

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/metrics"
)

// ActionReadPhone is the one event PhoneReadFunction takes (SPEC §4.8).
const ActionReadPhone = "read_phone"

// Reader is the part of the binding service a read calls.
type Reader interface {
	ReadPhone(ctx context.Context, r binding.ReadRequest) (binding.ReadResult, error)
}

// readEvent is what a portal service invokes PhoneReadFunction with.
type readEvent struct {
	Action     *string `json:"action"`
	AccountID  string  `json:"account_id"`
	Purpose    string  `json:"purpose"`
	ClientID   string  `json:"client_id"`
	ClientName string  `json:"client_name"`
}

// ReadAnswer is what the portal service gets back: the number, or the
// refusal's code (no_phone_bound, not_allowed, approval_required), or a
// fault of the event (invalid_request, with a message) or of the moment
// (conflict: the account changed under the read twice; try again).
type ReadAnswer struct {
	OK         bool   `json:"ok"`
	Phone      string `json:"phone,omitempty"`
	VerifiedAt string `json:"verified_at,omitempty"`
	Error      string `json:"error,omitempty"`
	Message    string `json:"message,omitempty"`
	Field      string `json:"field,omitempty"`
}

// Codes of a read's faults (refusals are binding.Read*).
const (
	ReadInvalidRequest = "invalid_request"
	ReadConflict       = "conflict"
)

// clientIDPattern is a consumer's client id: lower-case letters, digits,
// dots, dashes and underscores, as the runbook names them
// (docs/operations.md), so that it is safe in a sort key and in logs.
var clientIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Longest account id and client name a read takes.
const (
	maxAccountID  = 128
	maxClientName = 100
)

// PhoneRead is PhoneReadFunction's Lambda handler: a read_phone event in,
// the number or why not out. A refusal is an answer, counted in
// PhoneReadsRefused by reason; an internal fault (the store, the key ring)
// is returned as an error, so the invocation fails and the reader gets
// no number. The full number is never logged.
func PhoneRead(svc Reader, m *metrics.EMF, logger *slog.Logger) Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		id := invocationID(ctx)
		r, refused := readRequest(raw)
		if refused != nil {
			logger.WarnContext(ctx, "read_phone refused", "invocation_id", id, "code", refused.Error, "field", refused.Field)
			m.Count(metrics.PhoneReadsRefused, metrics.D("Reason", refused.Error))
			return refused, nil
		}
		log := logger.With("action", ActionReadPhone, "invocation_id", id, "client_id", r.ClientID, "purpose", string(r.Purpose))
		ctx, cancel := httpapi.Budget(ctx)
		defer cancel()
		res, err := svc.ReadPhone(ctx, r)
		switch {
		case errors.Is(err, binding.ErrReadConflict):
			log.WarnContext(ctx, "read_phone conflict")
			m.Count(metrics.PhoneReadsRefused, metrics.D("Reason", ReadConflict))
			return ReadAnswer{Error: ReadConflict, Message: err.Error()}, nil
		case err != nil:
			log.ErrorContext(ctx, "read_phone failed", "error", err.Error())
			return nil, errors.New("read_phone failed (invocation " + id + "); no number was read")
		case !res.Allowed():
			log.InfoContext(ctx, "read_phone", "result", res.Refusal, "request_created", res.RequestCreated)
			m.Count(metrics.PhoneReadsRefused, metrics.D("Reason", res.Refusal))
			return ReadAnswer{Error: res.Refusal}, nil
		}
		log.InfoContext(ctx, "read_phone", "result", binding.ReadAllowed)
		m.Count(metrics.PhoneReads, metrics.D("Purpose", string(r.Purpose)))
		return ReadAnswer{OK: true, Phone: res.Phone, VerifiedAt: res.VerifiedAt.UTC().Format("2006-01-02T15:04:05Z07:00")}, nil
	}
}

// readRequest checks a read_phone event; a fault comes back as the answer
// to give.
func readRequest(raw json.RawMessage) (binding.ReadRequest, *ReadAnswer) {
	bad := func(field, msg string) *ReadAnswer {
		return &ReadAnswer{Error: ReadInvalidRequest, Message: msg, Field: field}
	}
	var e readEvent
	if err := Decode(raw, &e); err != nil {
		var oe *Error
		if errors.As(err, &oe) {
			msg := oe.Message
			if strings.Contains(string(raw), `"routeKey"`) || strings.Contains(string(raw), `"requestContext"`) {
				msg = "this function serves no HTTP route: invoke it with a read_phone event"
			}
			return binding.ReadRequest{}, bad(oe.Field, msg)
		}
		return binding.ReadRequest{}, bad("", "the event is not a JSON object")
	}
	switch {
	case e.Action == nil || *e.Action != ActionReadPhone:
		return binding.ReadRequest{}, bad("action", `action must be "read_phone"`)
	case strings.TrimSpace(e.AccountID) == "":
		return binding.ReadRequest{}, bad("account_id", "account_id is required")
	case len(e.AccountID) > maxAccountID || strings.ContainsFunc(e.AccountID, unicode.IsControl) || strings.Contains(e.AccountID, "#"):
		return binding.ReadRequest{}, bad("account_id", "account_id is not an account id")
	case !slices.Contains(binding.ReadPurposes, binding.ReadPurpose(e.Purpose)):
		return binding.ReadRequest{}, bad("purpose", "purpose must be one of: notification, autofill, third_party")
	case !clientIDPattern.MatchString(e.ClientID):
		return binding.ReadRequest{}, bad("client_id", "client_id must be 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
	case strings.TrimSpace(e.ClientName) == "" || utf8.RuneCountInString(e.ClientName) > maxClientName ||
		strings.ContainsFunc(e.ClientName, unicode.IsControl):
		return binding.ReadRequest{}, bad("client_name", "client_name must be 1-100 printable characters")
	}
	return binding.ReadRequest{
		AccountID: e.AccountID, Purpose: binding.ReadPurpose(e.Purpose),
		ClientID: e.ClientID, ClientName: strings.TrimSpace(e.ClientName),
	}, nil
}
