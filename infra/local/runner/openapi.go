package runner

import (
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
)

// OpenAPIPath is where the runner serves the API's OpenAPI document.
const OpenAPIPath = "/openapi.yaml"

// serveOpenAPI sends the OpenAPI document as it is on disk now: read on
// each request, so an edit shows at the next reload without a restart.
func (s *server) serveOpenAPI(w http.ResponseWriter, req *events.APIGatewayV2HTTPRequest) int {
	doc, status := s.openAPIDoc(w)
	if doc == nil {
		return status
	}
	// application/yaml: RFC 9512.
	return s.write(w, req, okResponse(doc, map[string]string{"Content-Type": "application/yaml", "Cache-Control": "no-cache"}))
}

// openAPIDoc reads the OpenAPI document as it is on disk now. When it
// cannot, it answers 500 itself and returns no document and that status.
func (s *server) openAPIDoc(w http.ResponseWriter) ([]byte, int) {
	doc, err := os.ReadFile(s.openAPIFile)
	if err != nil {
		s.logger.Error("read the OpenAPI document", "error", err.Error())
		return nil, writeMessage(w, http.StatusInternalServerError, "the OpenAPI document cannot be read: "+err.Error())
	}
	return doc, http.StatusOK
}

// okResponse is a 200 answer of the runner's own pages with body and headers.
func okResponse(body []byte, headers map[string]string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: headers, Body: string(body)}
}
