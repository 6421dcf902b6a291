package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// The token's step-up claims reach the service as API Gateway flattens
// them: amr as "[pwd mfa]", auth_time as seconds.
func TestSessionClaimsReachTheService(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]string
		want   binding.Session
	}{
		{"array and seconds", map[string]string{"amr": "[pwd mfa]", "acr": "urn:esia:loa:high", "auth_time": "1764838800"},
			binding.Session{AMR: []string{"pwd", "mfa"}, ACR: "urn:esia:loa:high", AuthTime: time.Unix(1764838800, 0).UTC()}},
		{"one method, exponent form", map[string]string{"amr": "otp", "auth_time": "1.7648388e+09"},
			binding.Session{AMR: []string{"otp"}, AuthTime: time.Unix(1764838800, 0).UTC()}},
		{"no step-up claims", map[string]string{}, binding.Session{}},
		{"auth_time not a number", map[string]string{"auth_time": "yesterday"}, binding.Session{}},
		{"auth_time NaN", map[string]string{"auth_time": "NaN"}, binding.Session{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeBinding{sent: binding.CodeSent{VerificationID: "v", Purpose: binding.PurposeUnbind, Channel: binding.ChannelSMS}}
			req := event("POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms"}`, func(r *events.APIGatewayV2HTTPRequest) {
				r.RequestContext.Authorizer.JWT.Claims = map[string]string{"sub": "alice"}
				for k, v := range tt.claims {
					r.RequestContext.Authorizer.JWT.Claims[k] = v
				}
			})
			resp, _ := newAPI(svc, nil).RequestCode(context.Background(), req)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("got %d: %s", resp.StatusCode, resp.Body)
			}
			got := svc.requested[0].Session
			if !slices.Equal(got.AMR, tt.want.AMR) || got.ACR != tt.want.ACR || !got.AuthTime.Equal(tt.want.AuthTime) {
				t.Errorf("session %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A session too weak for the action is a 401 with the RFC 9470 challenge,
// in the request's language, and nothing else happens.
func TestStepUpChallenge(t *testing.T) {
	tests := []struct {
		name, lang    string
		err           *binding.StepUpError
		wantChallenge string
		wantDetail    string
	}{
		{"second factor", "ru", &binding.StepUpError{SecondFactor: true, MaxAge: 15 * time.Minute},
			`Bearer error="insufficient_user_authentication", error_description="Sign in again with a second factor", max_age=900`,
			"Для этого действия войдите заново с подтверждением вторым фактором (например, кодом из SMS или приложения). Вход должен быть не раньше чем 15 мин назад."},
		{"second factor with acr values", "en", &binding.StepUpError{SecondFactor: true, MaxAge: 5 * time.Minute, ACR: []string{"urn:esia:loa:high", "2fa"}},
			`Bearer error="insufficient_user_authentication", error_description="Sign in again with a second factor", max_age=300, acr_values="urn:esia:loa:high 2fa"`,
			"For this action, sign in again with a second factor (such as a code from an SMS or an app), no more than 5 min before."},
		{"fresh sign-in only", "en", &binding.StepUpError{MaxAge: 15 * time.Minute, ACR: []string{"2fa"}},
			`Bearer error="insufficient_user_authentication", error_description="Sign in again", max_age=900`,
			"For this action, sign in again: the sign-in must be no more than 15 min old."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeBinding{err: tt.err}
			req := event("POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms"}`, func(r *events.APIGatewayV2HTTPRequest) {
				r.Headers["accept-language"] = tt.lang
			})
			resp, _ := newAPI(svc, nil).RequestCode(context.Background(), req)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("got %d: %s", resp.StatusCode, resp.Body)
			}
			if got := resp.Headers["WWW-Authenticate"]; got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate %s\nwant %s", got, tt.wantChallenge)
			}
			p := decodeProblem(t, resp)
			if p["code"] != "insufficient_authentication" || p["detail"] != tt.wantDetail {
				t.Errorf("problem %v", p)
			}
		})
	}
}

// A body whose verification_id or code cannot be one is refused before
// the code is judged: 422 with the field, no attempt spent.
func TestCodeBodyFormat(t *testing.T) {
	for _, tt := range []struct{ body, field, detail string }{
		{`{"verification_id":"v","code":"12a456"}`, "code", "The code is digits only: enter the digits from the message."},
		{`{"verification_id":"v","code":"` + strings.Repeat("1", 17) + `"}`, "code", "The code is digits only: enter the digits from the message."},
		{`{"verification_id":"` + strings.Repeat("a", 65) + `","code":"123456"}`, "verification_id", "No verification_id looks like this: take it from the answer to the code request."},
	} {
		svc := &fakeBinding{}
		req := event("POST", "/v1/phone/verification/confirm", tt.body, func(r *events.APIGatewayV2HTTPRequest) { r.Headers["accept-language"] = "en" })
		resp, _ := newAPI(svc, nil).ConfirmCode(context.Background(), req)
		p := decodeProblem(t, resp)
		if resp.StatusCode != http.StatusUnprocessableEntity || p["field"] != tt.field || p["detail"] != tt.detail || len(svc.confirmed) != 0 {
			t.Errorf("%s: %d %v; service called %d times", tt.body, resp.StatusCode, p, len(svc.confirmed))
		}
	}
}
