package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
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

// viewResponse is jsonResponse for the views that write themselves
// (appendJSON: the bytes json.Marshal would make of the view), without
// reflection, into a reused buffer.
func viewResponse(status int, appendJSON func([]byte) []byte) events.APIGatewayV2HTTPResponse {
	bp := bodyBufs.Get().(*[]byte)
	b := appendJSON((*bp)[:0])
	resp := bodyResponse(status, string(b))
	if cap(b) <= maxKeptBody {
		*bp = b
		bodyBufs.Put(bp)
	}
	return resp
}

// bodyBufs holds the buffers viewResponse writes bodies in.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxKeptBody is the largest body buffer kept for the next response.
const maxKeptBody = 64 << 10

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
// as "", or left out by omitzero) but appended to the body instead of
// being made a string first.
type stamp time.Time

// IsZero is what omitzero asks.
func (s stamp) IsZero() bool { return time.Time(s).IsZero() }

// MarshalText is the stamp for encoding/json: timestamp's text.
func (s stamp) MarshalText() ([]byte, error) { return s.appendText(nil), nil }

// appendText appends timestamp's text of s.
func (s stamp) appendText(b []byte) []byte {
	t := time.Time(s)
	if t.IsZero() {
		return b
	}
	return t.UTC().Truncate(time.Second).AppendFormat(b, time.RFC3339)
}

// appendJSON appends s as a JSON string (its text needs no escaping).
func (s stamp) appendJSON(b []byte) []byte {
	return append(s.appendText(append(b, '"')), '"')
}

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
