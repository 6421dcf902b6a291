// Command phone-read is PhoneReadFunction: portal services invoke it
// directly ({"action":"read_phone",…}, IAM lambda:InvokeFunction through
// the PhoneReadInvokePolicy output; never an HTTP route) to read an
// account's number as the citizen's settings allow (SPEC §4.8).
//
// It opens the sealed number with the key ring (Secrets Manager, loaded
// at the cold start), writes the access log and partners' access requests
// (DynamoDB, the account's partition only), and publishes
// phone.access_requested (SNS topic) when a partner's read asks the
// citizen. It sends no SMS and no e-mail.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/notify/snsnotify"
	"github.com/gosuslugi/phonebind/shared/secure/awssecret"
)

func main() {
	a := core.Start(core.AWS{Events: snsnotify.Events, Keys: awssecret.Keys})
	lambda.Start(a.PhoneRead())
}
