package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/metrics"
)

// codeRequestBody is POST /v1/phone/verification. Pointers tell a missing
// field from a zero one. Fields a purpose does not use are refused by
// that purpose's builder, so a new purpose adds its fields here and one case
// in codeRequest.
type codeRequestBody struct {
	Purpose *string `json:"purpose"`
	Phone   *string `json:"phone"`
	Consent *bool   `json:"consent"`
	Channel *string `json:"channel"`
}

// codeSentView is the 202 answer to a code request (SPEC §4.1).
type codeSentView struct {
	VerificationID string `json:"verification_id"`
	Purpose        string `json:"purpose"`
	Channel        string `json:"channel"`
	Destination    string `json:"destination"`
	ExpiresAt      stamp  `json:"expires_at"`
	ResendAfter    stamp  `json:"resend_after"`
	AttemptsLeft   int    `json:"attempts_left"`
}

// The longest verification_id and code (with spaces around it) a body may
// carry, as infra/openapi.yaml states them.
const (
	maxVerificationID = 64
	maxCode           = 16
)

// confirmBody is POST /v1/phone/verification/confirm.
type confirmBody struct {
	VerificationID *string `json:"verification_id"`
	Code           *string `json:"code"`
}

// supportedPurposes lists the purposes RequestCode accepts, for the error
// that names them.
var supportedPurposes = []string{string(binding.PurposeBind), string(binding.PurposeUnbind)}

// unbindChannels lists where an unbind code can go.
var unbindChannels = []string{string(binding.ChannelSMS), string(binding.ChannelEmail)}

// RequestCode is POST /v1/phone/verification: it sends a code to the number
// being bound and answers 202 with where it went and how long it lives.
func (a *API) RequestCode(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, routeRequestCode, a.requestCode)
}

func (a *API) requestCode(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	var body codeRequestBody
	if err := decodeBody(req, &body); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	cr, err := a.codeRequest(body, c)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	sent, err := a.svc.RequestCode(ctx, cr)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	a.metrics.Count(metrics.CodesSent, metrics.D("Channel", string(sent.Channel)), metrics.D("Purpose", string(sent.Purpose)))
	v := codeSentView{
		VerificationID: sent.VerificationID,
		Purpose:        string(sent.Purpose),
		Channel:        string(sent.Channel),
		Destination:    sent.Destination,
		ExpiresAt:      stamp(sent.ExpiresAt),
		ResendAfter:    stamp(sent.ResendAfter),
		AttemptsLeft:   sent.AttemptsLeft,
	}
	return jsonResponse(http.StatusAccepted, v), nil
}

// codeRequest checks the body against what its purpose needs.
func (a *API) codeRequest(body codeRequestBody, c caller) (binding.CodeRequest, error) {
	if body.Purpose == nil {
		return binding.CodeRequest{}, missing("purpose")
	}
	switch binding.Purpose(*body.Purpose) {
	case binding.PurposeBind:
		return a.bindRequest(body, c)
	case binding.PurposeUnbind:
		return unbindRequest(body, c)
	default:
		return binding.CodeRequest{}, notOneOf("purpose", supportedPurposes...)
	}
}

// bindRequest asks for a code to a new number. Consent is the service's to
// judge; a missing one is simply not given.
func (a *API) bindRequest(body codeRequestBody, c caller) (binding.CodeRequest, error) {
	if body.Channel != nil && binding.Channel(*body.Channel) != binding.ChannelSMS {
		// A bind code goes by SMS only; e-mail is for removal.
		return binding.CodeRequest{}, notForPurpose("channel", binding.PurposeBind)
	}
	if body.Phone == nil {
		return binding.CodeRequest{}, missing("phone")
	}
	number, err := a.phones.Parse(*body.Phone)
	if err != nil {
		return binding.CodeRequest{}, err
	}
	return binding.CodeRequest{
		AccountID: c.accountID,
		Purpose:   binding.PurposeBind,
		Phone:     number,
		Consent:   body.Consent != nil && *body.Consent,
		SourceIP:  c.sourceIP,
		Session:   c.session,
	}, nil
}

// unbindRequest asks for a code that confirms removing the bound number.
func unbindRequest(body codeRequestBody, c caller) (binding.CodeRequest, error) {
	// The bound number is the one removed: a number or a consent sent
	// with it would be ignored, so it is refused.
	if body.Phone != nil {
		return binding.CodeRequest{}, notForPurpose("phone", binding.PurposeUnbind)
	}
	if body.Consent != nil {
		return binding.CodeRequest{}, notForPurpose("consent", binding.PurposeUnbind)
	}
	if body.Channel == nil {
		return binding.CodeRequest{}, missing("channel")
	}
	channel := binding.Channel(*body.Channel)
	if channel != binding.ChannelSMS && channel != binding.ChannelEmail {
		return binding.CodeRequest{}, notOneOf("channel", unbindChannels...)
	}
	return binding.CodeRequest{
		AccountID: c.accountID,
		Purpose:   binding.PurposeUnbind,
		Channel:   channel,
		SourceIP:  c.sourceIP,
		Email:     c.email,
		Session:   c.session,
	}, nil
}

// ConfirmCode is POST /v1/phone/verification/confirm: it checks the code and,
// when it matches, completes the request and answers with the new status.
func (a *API) ConfirmCode(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, routeConfirmCode, a.confirmCode)
}

func (a *API) confirmCode(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	return a.withCode(ctx, req, c, false, a.svc.Confirm)
}

// Unbind is the unbind function's handler: POST /v1/phone/unbind checks an
// unbind code and, when it matches, removes the number and answers with
// the new status, or, for a code sent by e-mail, schedules the removal and
// answers 202 with the status showing it; DELETE /v1/phone/unbind cancels
// a scheduled removal.
func (a *API) Unbind(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if req.RequestContext.HTTP.Method == http.MethodDelete {
		return a.serve(ctx, req, routeCancelUnbind, a.cancelUnbind)
	}
	return a.serve(ctx, req, routeUnbind, func(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
		return a.withCode(ctx, req, c, true, a.svc.Unbind)
	})
}

// cancelUnbind is DELETE /v1/phone/unbind: a plain session takes back its
// scheduled removal; no body is read.
func (a *API) cancelUnbind(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	st, err := a.svc.CancelUnbind(ctx, c.accountID, c.sourceIP)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return statusResponse(st, req), nil
}

// withCode decodes {"verification_id","code"} and hands it to complete.
//
// For an unbind, an answer showing the removal scheduled is 202.
func (a *API) withCode(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller, unbinding bool, complete func(context.Context, binding.Confirmation) (binding.Status, error)) (events.APIGatewayV2HTTPResponse, error) {
	var body confirmBody
	if err := decodeBody(req, &body); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if body.VerificationID == nil || strings.TrimSpace(*body.VerificationID) == "" {
		return events.APIGatewayV2HTTPResponse{}, missing("verification_id")
	}
	if body.Code == nil || strings.TrimSpace(*body.Code) == "" {
		return events.APIGatewayV2HTTPResponse{}, missing("code")
	}
	// What cannot be a verification id or a code is refused before it is
	// judged: it spends no attempt (infra/openapi.yaml's limits).
	if len(*body.VerificationID) > maxVerificationID {
		return events.APIGatewayV2HTTPResponse{}, badFormat("verification_id", detailVerificationIDFormat)
	}
	if code := strings.TrimSpace(*body.Code); len(*body.Code) > maxCode || strings.Trim(code, "0123456789") != "" {
		return events.APIGatewayV2HTTPResponse{}, badFormat("code", detailCodeFormat)
	}
	st, err := complete(ctx, binding.Confirmation{
		AccountID:      c.accountID,
		VerificationID: strings.TrimSpace(*body.VerificationID),
		// People paste codes with the spaces around them.
		Code:     strings.TrimSpace(*body.Code),
		SourceIP: c.sourceIP,
		Email:    c.email,
		Session:  c.session,
	})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	resp := statusResponse(st, req)
	if r := st.Request; unbinding && r != nil && r.State == binding.RequestScheduled {
		// An e-mailed unbind code schedules the removal: accepted, not
		// yet done.
		resp.StatusCode = http.StatusAccepted
	}
	return resp, nil
}
