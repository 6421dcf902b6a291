// Command unbind is the Lambda function behind POST /v1/phone/unbind, and
// takes the operators' support_unbind event by direct invocation.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app"
)

func main() {
	lambda.Start(app.Start().Unbind())
}
