// Command request-code is the Lambda function behind POST /v1/phone/verification.
//
// It sends codes by SMS (SNS) and, for unbinding, by e-mail (SES v2), and
// hashes and seals numbers with the key ring (Secrets Manager, loaded at
// the cold start). It publishes no domain events (its role may not publish
// to any topic).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/notify/sesnotify"
	"github.com/gosuslugi/phonebind/shared/notify/snsnotify"
	"github.com/gosuslugi/phonebind/shared/secure/awssecret"
)

func main() {
	a := core.Start(core.AWS{SMS: snsnotify.SMS, Email: sesnotify.Email, Keys: awssecret.Keys})
	lambda.Start(a.RequestCode())
}
