package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Sample is one event of infra/events: an API Gateway HTTP API v2 event
// (it has a routeKey) or an ops event (it has an "action").
type Sample struct {
	// Name is the file name, e.g. "request-code.json".
	Name string
	// Raw is the file's JSON.
	Raw []byte
	// RouteKey is the HTTP API route key, e.g. "POST /v1/phone/verification",
	// for HTTP events.
	RouteKey string
	// Action is the ops action, e.g. "support_unbind", for ops events.
	Action string
}

// Samples reads every infra/events/*.json under root, sorted by name.
func Samples(root string) ([]Sample, error) {
	files, err := filepath.Glob(filepath.Join(root, "infra", "events", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var probe struct {
			RouteKey string `json:"routeKey"`
			Action   string `json:"action"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, Sample{Name: filepath.Base(f), Raw: raw, RouteKey: probe.RouteKey, Action: probe.Action})
	}
	return out, nil
}

// HTTP decodes an HTTP API sample.
func (s Sample) HTTP() (events.APIGatewayV2HTTPRequest, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(s.Raw, &ev); err != nil {
		return ev, fmt.Errorf("%s: %w", s.Name, err)
	}
	return ev, nil
}

// Ops decodes an ops sample into a map, for changing a field.
func (s Sample) Ops() (map[string]any, error) {
	var ev map[string]any
	if err := json.Unmarshal(s.Raw, &ev); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return ev, nil
}

// Request is an HTTP API event made from a sample for another caller,
// body or client address. Its methods change a copy.
type Request struct {
	events.APIGatewayV2HTTPRequest
}

// NewRequest starts from a sample event; the claims and headers are copied
// so that changes stay in this Request.
func NewRequest(ev events.APIGatewayV2HTTPRequest) Request {
	ev.Headers = maps.Clone(ev.Headers)
	if ev.RequestContext.Authorizer != nil {
		a := *ev.RequestContext.Authorizer
		if a.JWT != nil {
			jwt := *a.JWT
			jwt.Claims = maps.Clone(jwt.Claims)
			a.JWT = &jwt
		}
		ev.RequestContext.Authorizer = &a
	}
	return Request{ev}
}

// As sets the caller: the JWT claims sub and a verified email, signed in
// with a second factor just now.
func (r Request) As(sub string) Request {
	r = NewRequest(r.APIGatewayV2HTTPRequest)
	if r.RequestContext.Authorizer == nil {
		r.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{}
	}
	if r.RequestContext.Authorizer.JWT == nil {
		r.RequestContext.Authorizer.JWT = &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{}
	}
	if r.RequestContext.Authorizer.JWT.Claims == nil {
		r.RequestContext.Authorizer.JWT.Claims = map[string]string{}
	}
	claims := r.RequestContext.Authorizer.JWT.Claims
	claims["sub"] = sub
	claims["email"] = sub + "@example.org"
	claims["email_verified"] = "true"
	// A sign-in with a second factor just now: step-up (change, unbind)
	// passes.
	claims["amr"] = "[pwd mfa]"
	claims["auth_time"] = strconv.FormatInt(time.Now().Unix(), 10)
	return r
}

// SignedInAt sets auth_time: when the caller last signed in, for a service
// whose clock is not the machine's.
func (r Request) SignedInAt(at time.Time) Request {
	r = NewRequest(r.APIGatewayV2HTTPRequest)
	if r.RequestContext.Authorizer != nil && r.RequestContext.Authorizer.JWT != nil {
		r.RequestContext.Authorizer.JWT.Claims["auth_time"] = strconv.FormatInt(at.Unix(), 10)
	}
	return r
}

// From sets the client's address, as API Gateway reports it.
func (r Request) From(ip string) Request {
	r = NewRequest(r.APIGatewayV2HTTPRequest)
	r.RequestContext.HTTP.SourceIP = ip
	if r.Headers != nil {
		r.Headers["x-forwarded-for"] = ip
	}
	return r
}

// WithBody replaces the JSON body.
func (r Request) WithBody(body string) Request {
	r = NewRequest(r.APIGatewayV2HTTPRequest)
	r.Body, r.IsBase64Encoded = body, false
	if r.Headers != nil {
		r.Headers["content-length"] = strconv.Itoa(len(body))
	}
	return r
}

// JSON is the event as Lambda delivers it.
func (r Request) JSON() []byte {
	b, err := json.Marshal(r.APIGatewayV2HTTPRequest)
	if err != nil {
		panic(err) // a struct of strings and maps always marshals
	}
	return b
}

// Response is an HTTP API response as a function returned it.
type Response struct {
	events.APIGatewayV2HTTPResponse
	// Fields is the JSON body decoded, nil when it is not a JSON object.
	Fields map[string]any
}

// ParseResponse decodes a function's answer to an HTTP API event.
func ParseResponse(payload []byte) (Response, error) {
	var r Response
	if err := json.Unmarshal(payload, &r.APIGatewayV2HTTPResponse); err != nil {
		return r, fmt.Errorf("not an HTTP API response: %w: %s", err, payload)
	}
	if r.StatusCode < 100 || r.StatusCode > 599 {
		return r, fmt.Errorf("not an HTTP API response (statusCode %d): %s", r.StatusCode, payload)
	}
	_ = json.Unmarshal([]byte(r.Body), &r.Fields)
	return r, nil
}

// Str is a string field of the body.
func (r Response) Str(key string) string {
	s, _ := r.Fields[key].(string)
	return s
}
