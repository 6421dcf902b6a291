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
	doc, err := os.ReadFile(s.openAPIFile)
	if err != nil {
		s.logger.Error("read the OpenAPI document", "error", err.Error())
		return writeMessage(w, http.StatusInternalServerError, "the OpenAPI document cannot be read: "+err.Error())
	}
	return s.write(w, req, events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers: map[string]string{
			// RFC 9512.
			"Content-Type":  "application/yaml",
			"Cache-Control": "no-cache",
		},
		Body: string(doc),
	})
}
