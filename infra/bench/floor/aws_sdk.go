//go:build sdkloader

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/gosuslugi/phonebind/shared/config"
)

// loadAWS is the SDK's own loader with the same retryer, the alternative
// Config.AWS has to beat by 2 ms of init to stay.
func loadAWS(ctx context.Context, cfg config.Config) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRetryer(config.NewRetryer)}
	if cfg.UsesPlaceholderCredentials() {
		opts = append(opts, awsconfig.WithCredentialsProvider(config.PlaceholderCredentials))
	}
	return awsconfig.LoadDefaultConfig(ctx, opts...)
}
