// Package awsdefault loads the AWS configuration through the SDK's whole
// default chain (config.LoadDefaultConfig): shared config and credentials
// files, profiles, SSO, web identity, IMDS. The tools that run on a
// developer's machine (make run, make invoke) and the tests assemble the
// service with it; a deployed function does not link it (config.Config.AWS
// reads the Lambda environment alone), since the chain brings the STS, SSO,
// SSO OIDC and Sign-In clients and their package initialisation into every
// binary that imports it.
package awsdefault

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/gosuslugi/phonebind/shared/config"
)

// Load loads the shared AWS configuration for c: its region when set, the
// bounded retryer (config.NewRetryer), and config.PlaceholderCredentials
// when c.UsesPlaceholderCredentials (emulators, and no credentials named),
// instead of searching the machine for real ones.
func Load(ctx context.Context, c config.Config) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if c.AWSRegion != "" {
		opts = append(opts, awsconfig.WithRegion(c.AWSRegion))
	}
	if c.UsesPlaceholderCredentials() {
		opts = append(opts, awsconfig.WithCredentialsProvider(config.PlaceholderCredentials))
	}
	opts = append(opts, awsconfig.WithRetryer(config.NewRetryer))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}
