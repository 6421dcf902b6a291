// Command unbind is the Lambda function behind POST /v1/phone/unbind, and
// takes the operators' support_unbind event by direct invocation.
//
// It checks codes with the key ring (Secrets Manager, loaded at the cold
// start), publishes phone.unbound and phone.support_unbound (SNS topic)
// and tells the removed number by SMS through the alert function
// (shared/notify/alertrelay: it may publish to its events topic, so it
// holds no SMS grant of its own).
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
	lambda.Start(a.Unbind())
}
