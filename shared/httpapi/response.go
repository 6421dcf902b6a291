package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// jsonResponse encodes v as the body of a response that no cache may keep:
// every answer of this API is about one person's account.
func jsonResponse(status int, v any) events.APIGatewayV2HTTPResponse {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here: every body is a plain struct.
		status = http.StatusInternalServerError
		body = []byte(`{"type":"urn:phonebind:problem:internal","title":"Internal error","status":500,"code":"internal"}`)
	}
	return bodyResponse(status, string(body))
}
func bodyResponse(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":  "application/json; charset=utf-8",
			"Cache-Control": "no-store",
		},
		Body: body,
	}
}

// timestamp formats t as RFC 3339 in UTC to the second, or "" when t is
// zero so that omitempty drops it.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// stamp is a time in a view, written as timestamp writes it (the zero time
// as "", or left out by omitzero).
type stamp time.Time

// IsZero is what omitzero asks.
func (s stamp) IsZero() bool { return time.Time(s).IsZero() }

// MarshalText is the stamp for encoding/json: timestamp's text.
func (s stamp) MarshalText() ([]byte, error) { return []byte(timestamp(time.Time(s))), nil }

// header looks a header up by name whatever its case: API Gateway lower-cases
// header names, hand-made events and other proxies may not.
func header(headers map[string]string, name string) string {
	if v, ok := headers[name]; ok {
		return v
	}
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
