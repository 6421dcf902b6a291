// Command feedback is the Lambda function behind POST /v1/feedback,
// GET /v1/feedback and GET /v1/feedback/{ticket_id}, and takes the
// operators' update_ticket event by direct invocation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app"
)

func main() {
	lambda.Start(app.Start().Feedback())
}
