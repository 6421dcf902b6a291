// Command feedback is the Lambda function behind POST /v1/feedback,
// GET /v1/feedback and GET /v1/feedback/{ticket_id}, and takes the
// operators' update_ticket event by direct invocation.
//
// It seals contacts with the key ring (Secrets Manager, loaded at the cold
// start) and publishes feedback.created and feedback.updated (SNS topic).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/notify/snsnotify"
	"github.com/gosuslugi/phonebind/shared/secure/awssecret"
)

func main() {
	a := core.Start(core.AWS{Events: snsnotify.Events, Keys: awssecret.Keys})
	lambda.Start(a.Feedback())
}
