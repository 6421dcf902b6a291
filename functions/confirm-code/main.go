// Command confirm-code is the Lambda function behind POST /v1/phone/verification/confirm.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app"
)

func main() {
	lambda.Start(app.Start().Handlers()[app.ConfirmCodeFunction])
}
