// Command floor is the least a function that holds the key ring must do at
// cold start, built like the real ones: read the configuration, build the
// AWS configuration from the Lambda environment and a DynamoDB client, and
// make the one GetSecretValue that SPEC §2 puts in the cold start ("key
// material is loaded once per cold start"). `make bench` starts it among the
// functions, so the init-time target can be read against what no such
// function can avoid.
//
// Built with the tag sdkloader it reads the AWS configuration with the
// SDK's config.LoadDefaultConfig instead of shared/config's Config.AWS:
// `make bench` starts both, and the difference is what Config.AWS saves.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/secure/awssecret"
)

func main() {
	ctx := context.Background()
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "configuration:", err)
		os.Exit(1)
	}
	awsCfg, err := loadAWS(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aws:", err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if cfg.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.DynamoDBEndpoint)
		}
	})
	keys, err := awssecret.Keys(ctx, awsCfg, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keys:", err)
		os.Exit(1)
	}
	lambda.Start(func(context.Context) (string, error) {
		_, _ = db, keys
		return "floor", nil
	})
}
