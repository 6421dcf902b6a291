package runner

import (
	"encoding/base64"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// write sends a function's response as API Gateway would: status (200 when
// unset), headers, multi-value headers, cookies as Set-Cookie, and the body
// decoded when the function base64-encoded it. It returns the status sent.
func (s *server) write(w http.ResponseWriter, req *events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) int {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			s.logger.Error("function returned a malformed base64 body", slog.String("error", err.Error()))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message":"Internal Server Error"}`))
			return http.StatusInternalServerError
		}
		body = decoded
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		// API Gateway does not guess a type; neither should net/http.
		h["Content-Type"] = nil
	}
	h.Set("Apigw-Requestid", req.RequestContext.RequestID)
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}
