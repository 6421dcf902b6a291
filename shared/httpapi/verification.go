package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/internal/jsonx"
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

	// What the pointers point to when parsePlain read the body.
	vals    [3]string
	consent bool
}

var codeRequestFields = []string{"purpose", "phone", "consent", "channel"}

// parsePlain implements plainDecoder.
func (b *codeRequestBody) parsePlain(body string) bool {
	p := jsonx.NewParser(body, 0)
	return parseObject(&p, codeRequestFields, func(i int) bool {
		switch i {
		case 0:
			return stringPtr(&p, &b.Purpose, &b.vals[0])
		case 1:
			return stringPtr(&p, &b.Phone, &b.vals[1])
		case 2:
			if p.Null() {
				b.Consent = nil
				return true
			}
			b.Consent = &b.consent
			return p.BoolValue(&b.consent)
		default:
			return stringPtr(&p, &b.Channel, &b.vals[2])
		}
	})
}

func (b *codeRequestBody) reset() { *b = codeRequestBody{} }

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

// confirmBody is POST /v1/phone/verification/confirm.
type confirmBody struct {
	VerificationID *string `json:"verification_id"`
	Code           *string `json:"code"`

	// What the pointers point to when parsePlain read the body.
	vals [2]string
}

var confirmFields = []string{"verification_id", "code"}

// parsePlain implements plainDecoder.
func (b *confirmBody) parsePlain(body string) bool {
	p := jsonx.NewParser(body, 0)
	return parseObject(&p, confirmFields, func(i int) bool {
		if i == 0 {
			return stringPtr(&p, &b.VerificationID, &b.vals[0])
		}
		return stringPtr(&p, &b.Code, &b.vals[1])
	})
}

func (b *confirmBody) reset() { *b = confirmBody{} }

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
	return viewResponse(http.StatusAccepted, v.appendJSON), nil
}

// appendJSON appends v as json.Marshal writes it.
func (v *codeSentView) appendJSON(b []byte) []byte {
	b = append(b, `{"verification_id":`...)
	b = jsonx.AppendString(b, v.VerificationID, true)
	b = append(b, `,"purpose":`...)
	b = jsonx.AppendString(b, v.Purpose, true)
	b = append(b, `,"channel":`...)
	b = jsonx.AppendString(b, v.Channel, true)
	b = append(b, `,"destination":`...)
	b = jsonx.AppendString(b, v.Destination, true)
	b = v.ExpiresAt.appendJSON(append(b, `,"expires_at":`...))
	b = v.ResendAfter.appendJSON(append(b, `,"resend_after":`...))
	b = append(b, `,"attempts_left":`...)
	b = strconv.AppendInt(b, int64(v.AttemptsLeft), 10)
	return append(b, '}')
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
	}, nil
}

// unbindRequest asks for a code that confirms removing the bound number.
func unbindRequest(body codeRequestBody, c caller) (binding.CodeRequest, error) {
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
	}, nil
}

// ConfirmCode is POST /v1/phone/verification/confirm: it checks the code and,
// when it matches, completes the request and answers with the new status.
func (a *API) ConfirmCode(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, routeConfirmCode, a.confirmCode)
}

func (a *API) confirmCode(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	return a.withCode(ctx, req, c, a.svc.Confirm)
}

// Unbind is POST /v1/phone/unbind: it checks an unbind code and, when it
// matches, removes the number and answers with the new status.
func (a *API) Unbind(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, routeUnbind, func(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
		return a.withCode(ctx, req, c, a.svc.Unbind)
	})
}

// withCode decodes {"verification_id","code"} and hands it to complete.
func (a *API) withCode(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller, complete func(context.Context, binding.Confirmation) (binding.Status, error)) (events.APIGatewayV2HTTPResponse, error) {
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
	st, err := complete(ctx, binding.Confirmation{
		AccountID:      c.accountID,
		VerificationID: strings.TrimSpace(*body.VerificationID),
		// People paste codes with the spaces around them.
		Code:     strings.TrimSpace(*body.Code),
		SourceIP: c.sourceIP,
	})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return statusResponse(st, req), nil
}
