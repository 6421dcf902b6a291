package httpapi

import (
	"context"
	"encoding/base64"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// fakeBinding answers with whatever the test sets and records what it was
// asked.
type fakeBinding struct {
	mu        sync.Mutex
	sent      binding.CodeSent
	status    binding.Status
	err       error
	requested []binding.CodeRequest
	confirmed []binding.Confirmation
	statusFor []string
	// cancelled are the accounts and source addresses that cancelled.
	cancelled []string
	// settings are what the patches set; patched the updates asked.
	settings binding.SettingsPatch
	patched  []binding.SettingsUpdate
}

func (f *fakeBinding) RequestCode(_ context.Context, req binding.CodeRequest) (binding.CodeSent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requested = append(f.requested, req)
	if f.err != nil {
		return binding.CodeSent{}, f.err
	}
	if req.Purpose == binding.PurposeBind && !req.Consent {
		return binding.CodeSent{}, binding.ErrConsentRequired
	}
	return f.sent, nil
}

func (f *fakeBinding) Confirm(_ context.Context, c binding.Confirmation) (binding.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirmed = append(f.confirmed, c)
	return f.status, f.err
}

func (f *fakeBinding) Status(_ context.Context, accountID string) (binding.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusFor = append(f.statusFor, accountID)
	return f.status, f.err
}

// event builds a request as API Gateway would deliver it after the JWT
// authorizer accepted a token for alice.
func event(method, path, body string, opts ...func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: method + " " + path,
		RawPath:  path,
		Headers:  map[string]string{"content-type": "application/json; charset=utf-8"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1",
			Stage:     "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: "test",
			},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
					Claims: map[string]string{"sub": "alice", "email": "alice@example.org", "email_verified": "true", "amr": "[pwd mfa]", "auth_time": "1764838800"},
				},
			},
		},
		Body: body,
	}
	for _, o := range opts {
		o(&req)
	}
	return req
}

func withLang(v string) func(*events.APIGatewayV2HTTPRequest) {
	return func(r *events.APIGatewayV2HTTPRequest) { r.Headers["accept-language"] = v }
}

func withClaims(claims map[string]string) func(*events.APIGatewayV2HTTPRequest) {
	return func(r *events.APIGatewayV2HTTPRequest) {
		r.RequestContext.Authorizer.JWT.Claims = claims
	}
}

func withoutAuthorizer(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.Authorizer = nil }

func base64Body(r *events.APIGatewayV2HTTPRequest) {
	r.Body = base64.StdEncoding.EncodeToString([]byte(r.Body))
	r.IsBase64Encoded = true
}

func (f *fakeBinding) Unbind(_ context.Context, c binding.Confirmation) (binding.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirmed = append(f.confirmed, c)
	return f.status, f.err
}

func (f *fakeBinding) CancelUnbind(_ context.Context, accountID, sourceIP string) (binding.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelled = append(f.cancelled, accountID+" "+sourceIP)
	return f.status, f.err
}

// withHeader sets a request header; an empty value removes it.
func withHeader(name, value string) func(*events.APIGatewayV2HTTPRequest) {
	return func(r *events.APIGatewayV2HTTPRequest) {
		if value == "" {
			delete(r.Headers, name)
			return
		}
		r.Headers[name] = value
	}
}

func (f *fakeBinding) Settings(_ context.Context, accountID string) (binding.Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusFor = append(f.statusFor, accountID)
	if f.err != nil {
		return binding.Settings{}, f.err
	}
	return f.settings.Applied(), nil
}

func (f *fakeBinding) ChangeSettings(_ context.Context, u binding.SettingsUpdate) (binding.Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.patched = append(f.patched, u)
	if f.err != nil {
		return binding.Settings{}, f.err
	}
	f.settings = f.settings.Merge(u.Patch)
	return f.settings.Applied(), nil
}
