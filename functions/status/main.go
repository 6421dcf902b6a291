// Command status is the Lambda function behind GET /v1/phone and the
// other reads template.yaml routes to it (GET /v1/phone/settings).
//
// It links only the DynamoDB client and holds no key material: the status
// shows the masked forms stored with the number and the request, and never
// hashes, seals or opens anything, so it does not read KEYS_SECRET_ARN.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app/core"
)

func main() {
	a := core.Start(core.AWS{})
	lambda.Start(a.Status())
}
