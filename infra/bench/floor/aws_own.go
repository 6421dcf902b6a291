//go:build !sdkloader

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gosuslugi/phonebind/shared/config"
)

// loadAWS is what the functions do: shared/config's reader of the Lambda
// environment.
func loadAWS(ctx context.Context, cfg config.Config) (aws.Config, error) {
	return cfg.AWS(ctx)
}
