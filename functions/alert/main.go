// Command alert is the Lambda function that sends the change and removal
// alerts of confirm-code and unbind by SMS (shared/notify/alertsms). It is
// invoked asynchronously by those two only, holds the SMS grant with an explicit Deny on every SNS
// topic, and reads neither the table nor the key secret.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify/alertsms"
	"github.com/gosuslugi/phonebind/shared/notify/snsnotify"
)

func main() {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "configuration:", err)
		os.Exit(1)
	}
	awsCfg, err := cfg.AWS(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	lambda.Start(alertsms.Handler(snsnotify.SMS(awsCfg, cfg), log))
}
