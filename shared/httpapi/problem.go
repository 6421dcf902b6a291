package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/phone"
)

// Errors the HTTP layer itself reports; the local runner raises them too, as
// API Gateway would before a function ran.
var (
	// ErrUnauthorized is a request without a usable identity (no JWT, a bad
	// one, or no sub claim).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound is a request for a route that does not exist.
	ErrNotFound = errors.New("route not found")
)

// PayloadTooLargeError refuses a request body longer than Limit bytes.
type PayloadTooLargeError struct{ Limit int }

// Error names the limit, for logs.
func (e *PayloadTooLargeError) Error() string {
	return "request body over " + strconv.Itoa(e.Limit) + " bytes"
}

// requestError is a client fault found while reading a request: bad JSON,
// an unknown or missing field, a wrong type or value.
type requestError struct {
	code   string // invalid_json or invalid_request
	detail string // key into details
	status int    // 0 means the code's own status
	field  string
	args   []any
	err    error
}

func (e *requestError) Error() string {
	msg := e.code
	if e.field != "" {
		msg += " (" + e.field + ")"
	}
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *requestError) Unwrap() error { return e.err }

// problemBody is an RFC 9457 problem document with this API's extras.
type problemBody struct {
	Type               string `json:"type"`
	Title              string `json:"title"`
	Status             int    `json:"status"`
	Detail             string `json:"detail"`
	Code               string `json:"code"`
	Field              string `json:"field,omitempty"`
	Reason             string `json:"reason,omitempty"`
	AttemptsLeft       *int   `json:"attempts_left,omitempty"`
	RetryAfter         int    `json:"retry_after,omitempty"`
	Limit              string `json:"limit,omitempty"`
	ChangeAllowedAfter string `json:"change_allowed_after,omitempty"`
}

// fault is what an error means to a client, before it is put into words.
type fault struct {
	code       string
	status     int
	detail     string // key into details
	args       []any
	body       problemBody // extras only
	retryAfter int         // seconds; 0 means no Retry-After header
	challenge  string      // WWW-Authenticate of a 401; "" means plain Bearer
}

// internal reports whether the fault hides a server-side error that must be
// logged, since the client is told nothing about it.
func (f fault) internal() bool { return f.code == codeInternal }

// outcomes are the business outcomes that map to a code (and a detail)
// alone, checked in this order after the typed errors.
var outcomes = []struct {
	err          error
	code, detail string
}{
	{binding.ErrCodeExpired, codeCodeExpired, ""},
	{binding.ErrVerificationNotFound, codeVerificationNotFound, ""},
	{binding.ErrVerificationUsed, codeVerificationNotFound, detailVerificationUsed},
	{binding.ErrStale, codeVerificationNotFound, detailVerificationStale},
	{binding.ErrConsentRequired, codeConsentRequired, ""},
	{binding.ErrSamePhone, codeSamePhone, ""},
	{binding.ErrPhoneTaken, codePhoneTaken, ""},
	{binding.ErrNoPhoneBound, codeNoPhoneBound, ""},
	{binding.ErrEmailUnavailable, codeEmailUnavailable, ""},
	{binding.ErrUnbindPending, codeUnbindPending, ""},
	{binding.ErrNoUnbindPending, codeNoUnbindPending, ""},
	{binding.ErrOptedOut, codePhoneOptedOut, ""},
}

// classify is the one place that decides what an error means to a client.
// Anything it does not recognise is an internal error.
func classify(err error) fault {
	// Support tickets' outcomes (feedback_problem.go); first, since a bad
	// contact wraps what is otherwise an invalid_phone.
	if f, ok := feedbackFault(err); ok {
		return f
	}
	if f, ok := accessFault(err); ok {
		return f
	}
	var (
		reqErr    *requestError
		tooLarge  *PayloadTooLargeError
		invalid   *phone.InvalidError
		tooSoon   *binding.ChangeTooSoonError
		wrongCode *binding.CodeInvalidError
		mismatch  *binding.PurposeMismatchError
		limited   *binding.RateLimitError
		delivery  *binding.DeliveryError
		stepUp    *binding.StepUpError
	)
	switch {
	case errors.As(err, &reqErr):
		f := fault{code: reqErr.code, status: reqErr.status, detail: reqErr.detail, args: reqErr.args}
		f.body.Field = reqErr.field
		return f
	case errors.As(err, &mismatch):
		return fault{code: codePurposeMismatch, detail: codePurposeMismatch + "." + string(mismatch.Purpose)}
	case errors.As(err, &tooLarge):
		return fault{code: codePayloadTooLarge, args: []any{tooLarge.Limit}}
	case errors.Is(err, ErrUnauthorized):
		return fault{code: codeUnauthorized}
	case errors.As(err, &stepUp):
		return stepUpFault(stepUp)
	case errors.Is(err, ErrNotFound):
		return fault{code: codeNotFound}
	case errors.As(err, &invalid):
		f := fault{code: codeInvalidPhone, detail: codeInvalidPhone + "." + string(invalid.Reason)}
		f.body.Reason = string(invalid.Reason)
		return f
	case errors.As(err, &delivery):
		secs := wholeSeconds(delivery.RetryAfter)
		code := codeSMSUnavailable
		if delivery.Channel == binding.ChannelEmail {
			code = codeEmailSendFailed
		}
		return fault{code: code, args: []any{secs}, retryAfter: secs,
			body: problemBody{RetryAfter: secs}}
	case errors.As(err, &limited):
		secs := wholeSeconds(limited.RetryAfter)
		f := fault{code: codeRateLimited, detail: codeRateLimited + "." + limited.Limit,
			args: []any{secs}, retryAfter: secs}
		f.body.RetryAfter, f.body.Limit = secs, limited.Limit
		return f
	case errors.As(err, &tooSoon):
		f := fault{code: codeChangeTooSoon, args: []any{tooSoon.AllowedAfter}}
		f.body.ChangeAllowedAfter = timestamp(tooSoon.AllowedAfter)
		return f
	case errors.As(err, &wrongCode):
		f := fault{code: codeCodeInvalid, args: []any{wrongCode.AttemptsLeft}}
		f.body.AttemptsLeft = &wrongCode.AttemptsLeft
		return f
	case errors.Is(err, binding.ErrAttemptsExceeded):
		zero := 0
		return fault{code: codeAttemptsExceeded, body: problemBody{AttemptsLeft: &zero}}
	}
	for _, o := range outcomes {
		if errors.Is(err, o.err) {
			return fault{code: o.code, detail: o.detail}
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		// The time budget ran out in an AWS call: nothing half-written (every
		// write is one conditional step), so the caller may simply retry.
		return fault{code: codeUnavailable, args: []any{1}, retryAfter: 1, body: problemBody{RetryAfter: 1}}
	case errors.Is(err, binding.ErrInvalidSetting):
		return fault{code: codeInvalidRequest, status: 422, detail: detailSetting}
	case errors.Is(err, binding.ErrInvalidPurpose):
		f := fault{code: codeInvalidRequest, status: 422, detail: detailOneOf,
			args: []any{"purpose", strings.Join(supportedPurposes, ", ")}}
		f.body.Field = "purpose"
		return f
	default:
		return fault{code: codeInternal}
	}
}

// ErrorResponse turns err into a problem+json response worded in the
// language the request prefers. It does not log: a caller that gets an
// internal error back must log err itself, once.
func ErrorResponse(req events.APIGatewayV2HTTPRequest, err error) events.APIGatewayV2HTTPResponse {
	return problemResponse(classify(err), preferredLang(header(req.Headers, "accept-language")))
}

// problemResponse puts a fault into words.
func problemResponse(f fault, l lang) events.APIGatewayV2HTTPResponse {
	k := kinds[f.code]
	status := f.status
	if status == 0 {
		status = k.status
	}
	detail := f.detail
	if detail == "" {
		detail = f.code
	}
	body := f.body
	body.Type = "urn:phonebind:problem:" + f.code
	body.Title = k.title
	body.Status = status
	body.Detail = render(detail, l, f.args...)
	body.Code = f.code
	resp := jsonResponse(status, body)
	resp.Headers["Content-Type"] = "application/problem+json"
	resp.Headers["Content-Language"] = l.String()
	if f.retryAfter > 0 {
		resp.Headers["Retry-After"] = strconv.Itoa(f.retryAfter)
	}
	if status == http.StatusUnauthorized {
		// RFC 9110 §15.5.2: a 401 names the scheme it wants.
		resp.Headers["WWW-Authenticate"] = "Bearer"
		if f.challenge != "" {
			resp.Headers["WWW-Authenticate"] = f.challenge
		}
	}
	return resp
}

// wholeSeconds rounds a wait up to whole seconds, at least one: a client
// told "0" would retry at once and be refused again.
func wholeSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// stepUpFault is the RFC 9470 challenge: sign in again, within max_age
// seconds, with one of acr_values when the deployment names them. The
// error_description is English, as RFC 6750 asks; the body says it in the
// request's language.
func stepUpFault(e *binding.StepUpError) fault {
	secs := int(e.MaxAge / time.Second)
	detail, desc := detailStepUpFresh, "Sign in again"
	if e.SecondFactor {
		detail, desc = detailStepUpSecondFactor, "Sign in again with a second factor"
	}
	challenge := fmt.Sprintf(`Bearer error="insufficient_user_authentication", error_description=%q, max_age=%d`, desc, secs)
	if e.SecondFactor && len(e.ACR) > 0 {
		challenge += fmt.Sprintf(", acr_values=%q", strings.Join(e.ACR, " "))
	}
	return fault{code: codeInsufficientAuth, detail: detail, args: []any{minutes(e.MaxAge)}, challenge: challenge}
}

// minutes rounds a duration up to whole minutes, at least one.
func minutes(d time.Duration) int {
	return max(1, int(math.Ceil(d.Minutes())))
}
