// Command unbind is the Lambda function behind POST /v1/phone/unbind and
// DELETE /v1/phone/unbind, and takes the operators' support_unbind and
// cancel_unbind events by direct invocation.
//
// It checks codes with the key ring (Secrets Manager, loaded at the cold
// start), tells the number by SMS through the alert function
// (shared/notify/alertrelay: this function may publish to its events
// topic, so it holds no SMS grant of its own) and the verified e-mail by a
// letter (SES) when a removal is scheduled, cancelled or done, and
// publishes phone.unbound, phone.support_unbound, phone.unbind_scheduled
// and phone.unbind_cancelled (SNS topic).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/notify/alertrelay"
	"github.com/gosuslugi/phonebind/shared/notify/sesnotify"
	"github.com/gosuslugi/phonebind/shared/notify/snsnotify"
	"github.com/gosuslugi/phonebind/shared/secure/awssecret"
)

func main() {
	a := core.Start(core.AWS{SMS: alertrelay.SMS, Email: sesnotify.Email, Events: snsnotify.Events, Keys: awssecret.Keys})
	lambda.Start(a.Unbind())
}
