package lambdaio

import (
	"bytes"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/internal/jsonx"
)

// DecodeRequest decodes an API Gateway HTTP API (payload 2.0) event exactly
// as aws-lambda-go decodes a handler's event (a json.Decoder reading the
// first JSON value): the same request for every payload it accepts, the same
// error for every payload it refuses.
//
// Events as API Gateway sends them are read by a hand-written parser that
// allocates one copy of the payload (every string of the request without
// escapes is a piece of it, so the request keeps the payload's memory alive
// while it lives), one string per string with escapes (the body, usually),
// and the maps and slices the request holds. Anything unusual — a member
// whose name differs from a field's only in case, a field given twice, a
// type encoding/json would refuse, a Lambda authorizer's context, a syntax
// error, nesting deeper than jsonx.MaxDepth — is handed to encoding/json instead,
// so that its answer, and its error, are the ones given.
func DecodeRequest(payload []byte) (events.APIGatewayV2HTTPRequest, error) {
	if req, _, ok := parse(payload, false); ok {
		return req, nil
	}
	var req events.APIGatewayV2HTTPRequest
	err := json.NewDecoder(bytes.NewReader(payload)).Decode(&req)
	return req, err
}

// Shape tells what an event parsed by ParseRequest had at its top level.
type Shape struct {
	// RequestContext is true when the event had a requestContext member
	// (even null).
	RequestContext bool
	// Other is true when the event had a member that is no field of
	// events.APIGatewayV2HTTPRequest (API Gateway never sends one).
	Other bool
}

// ParseRequest is DecodeRequest's fast path alone, for a payload that is
// exactly one JSON object (white space around it aside): ok is true when the
// payload is one and the parser could read it, and req is then what
// json.Unmarshal would have made of it. When ok is false nothing is said
// about the payload; decode it with encoding/json.
func ParseRequest(payload []byte) (req events.APIGatewayV2HTTPRequest, shape Shape, ok bool) {
	return parse(payload, true)
}

// eventParser reads API Gateway's events.
type eventParser struct{ jsonx.Parser }

func parse(payload []byte, whole bool) (req events.APIGatewayV2HTTPRequest, shape Shape, ok bool) {
	// Skip to the object first: a payload that is no object never costs
	// the copy.
	i := 0
	for i < len(payload) && jsonx.IsSpace(payload[i]) {
		i++
	}
	if i == len(payload) || payload[i] != '{' {
		return req, shape, false
	}
	p := eventParser{jsonx.NewParser(string(payload), i)}
	if !p.request(&req, &shape) {
		return events.APIGatewayV2HTTPRequest{}, Shape{}, false
	}
	if whole && !p.End() {
		return events.APIGatewayV2HTTPRequest{}, Shape{}, false
	}
	return req, shape, true
}

// The JSON names of each struct's fields, as events declares them; the
// index of a name is the case of its switch below.
var (
	requestFields        = []string{"version", "routeKey", "rawPath", "rawQueryString", "cookies", "headers", "queryStringParameters", "pathParameters", "requestContext", "stageVariables", "body", "isBase64Encoded"}
	contextFields        = []string{"routeKey", "accountId", "stage", "requestId", "authorizer", "apiId", "domainName", "domainPrefix", "time", "timeEpoch", "http", "authentication"}
	authorizerFields     = []string{"jwt", "lambda", "iam"}
	jwtFields            = []string{"claims", "scopes"}
	iamFields            = []string{"accessKey", "accountId", "callerId", "cognitoIdentity", "principalOrgId", "userArn", "userId"}
	cognitoFields        = []string{"amr", "identityId", "identityPoolId"}
	httpFields           = []string{"method", "path", "protocol", "sourceIp", "userAgent"}
	authenticationFields = []string{"clientCert"}
	clientCertFields     = []string{"clientCertPem", "issuerDN", "serialNumber", "subjectDN", "validity"}
	validityFields       = []string{"notAfter", "notBefore"}
)

func (p *eventParser) request(r *events.APIGatewayV2HTTPRequest, shape *Shape) bool {
	return p.Object(requestFields, &shape.Other, func(i int) bool {
		switch i {
		case 0:
			return p.StringValue(&r.Version)
		case 1:
			return p.StringValue(&r.RouteKey)
		case 2:
			return p.StringValue(&r.RawPath)
		case 3:
			return p.StringValue(&r.RawQueryString)
		case 4:
			return p.StringSlice(&r.Cookies)
		case 5:
			return p.StringMap(&r.Headers)
		case 6:
			return p.StringMap(&r.QueryStringParameters)
		case 7:
			return p.StringMap(&r.PathParameters)
		case 8:
			shape.RequestContext = true
			return p.requestContext(&r.RequestContext)
		case 9:
			return p.StringMap(&r.StageVariables)
		case 10:
			return p.StringValue(&r.Body)
		default:
			return p.BoolValue(&r.IsBase64Encoded)
		}
	})
}

func (p *eventParser) requestContext(c *events.APIGatewayV2HTTPRequestContext) bool {
	return p.Object(contextFields, nil, func(i int) bool {
		switch i {
		case 0:
			return p.StringValue(&c.RouteKey)
		case 1:
			return p.StringValue(&c.AccountID)
		case 2:
			return p.StringValue(&c.Stage)
		case 3:
			return p.StringValue(&c.RequestID)
		case 4:
			return p.authorizer(&c.Authorizer)
		case 5:
			return p.StringValue(&c.APIID)
		case 6:
			return p.StringValue(&c.DomainName)
		case 7:
			return p.StringValue(&c.DomainPrefix)
		case 8:
			return p.StringValue(&c.Time)
		case 9:
			return p.Int64Value(&c.TimeEpoch)
		case 10:
			h := &c.HTTP
			return p.Object(httpFields, nil, func(i int) bool {
				return p.StringValue([]*string{&h.Method, &h.Path, &h.Protocol, &h.SourceIP, &h.UserAgent}[i])
			})
		default:
			return p.Object(authenticationFields, nil, func(int) bool {
				return p.clientCert(&c.Authentication.ClientCert)
			})
		}
	})
}

func (p *eventParser) authorizer(dst **events.APIGatewayV2HTTPRequestContextAuthorizerDescription) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	if p.Peek() != '{' {
		return false
	}
	a := new(events.APIGatewayV2HTTPRequestContextAuthorizerDescription)
	*dst = a
	return p.Object(authorizerFields, nil, func(i int) bool {
		switch i {
		case 0:
			if p.Null() {
				a.JWT = nil
				return true
			}
			if p.Peek() != '{' {
				return false
			}
			j := new(events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription)
			a.JWT = j
			return p.Object(jwtFields, nil, func(i int) bool {
				if i == 0 {
					return p.StringMap(&j.Claims)
				}
				return p.StringSlice(&j.Scopes)
			})
		case 1:
			// A Lambda authorizer's context holds any JSON: encoding/json's.
			if p.Null() {
				a.Lambda = nil
				return true
			}
			return false
		default:
			return p.iam(&a.IAM)
		}
	})
}

func (p *eventParser) iam(dst **events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	if p.Peek() != '{' {
		return false
	}
	a := new(events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription)
	*dst = a
	return p.Object(iamFields, nil, func(i int) bool {
		switch i {
		case 0:
			return p.StringValue(&a.AccessKey)
		case 1:
			return p.StringValue(&a.AccountID)
		case 2:
			return p.StringValue(&a.CallerID)
		case 3:
			c := &a.CognitoIdentity
			return p.Object(cognitoFields, nil, func(i int) bool {
				switch i {
				case 0:
					return p.StringSlice(&c.AMR)
				case 1:
					return p.StringValue(&c.IdentityID)
				default:
					return p.StringValue(&c.IdentityPoolID)
				}
			})
		case 4:
			return p.StringValue(&a.PrincipalOrgID)
		case 5:
			return p.StringValue(&a.UserARN)
		default:
			return p.StringValue(&a.UserID)
		}
	})
}

func (p *eventParser) clientCert(c *events.APIGatewayV2HTTPRequestContextAuthenticationClientCert) bool {
	return p.Object(clientCertFields, nil, func(i int) bool {
		switch i {
		case 0:
			return p.StringValue(&c.ClientCertPem)
		case 1:
			return p.StringValue(&c.IssuerDN)
		case 2:
			return p.StringValue(&c.SerialNumber)
		case 3:
			return p.StringValue(&c.SubjectDN)
		default:
			v := &c.Validity
			return p.Object(validityFields, nil, func(i int) bool {
				if i == 0 {
					return p.StringValue(&v.NotAfter)
				}
				return p.StringValue(&v.NotBefore)
			})
		}
	})
}
