// Command confirm-code is the Lambda function behind POST /v1/phone/verification/confirm.
//
// It checks codes with the key ring (Secrets Manager, loaded at the cold
// start), tells the old number by SMS when a number is changed (through the
// alert function, shared/notify/alertrelay: this function may publish to its
// events topic, so it holds no SMS grant of its own) and publishes
// phone.bound and phone.changed (SNS topic).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/notify/alertrelay"
	"github.com/gosuslugi/phonebind/shared/notify/snsnotify"
	"github.com/gosuslugi/phonebind/shared/secure/awssecret"
)

func main() {
	a := core.Start(core.AWS{SMS: alertrelay.SMS, Events: snsnotify.Events, Keys: awssecret.Keys})
	lambda.Start(a.ConfirmCode())
}
