// Command status is the Lambda function behind GET /v1/phone.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app"
)

func main() {
	lambda.Start(app.Start().API.Status)
}
