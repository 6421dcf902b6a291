// Package awssecret loads the key ring (shared/secure) from AWS Secrets
// Manager. It is apart from package secure so that a function that holds no
// key material (status) links no Secrets Manager client: Go initialises
// every imported package, and an SDK client's endpoint tables and schemas
// are a measurable part of a cold start.
package awssecret

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/secure"
)

// SecretGetter is the one Secrets Manager call Load needs;
// *secretsmanager.Client satisfies it, and tests pass a fake.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Load reads the current version of the secret arn (its SecretString, or
// SecretBinary when there is no string) and parses it with
// secure.ParseKeyring. Call it once per cold start: the ring does not
// change while the function runs, and a rotation takes effect on the next
// cold start. Errors name the secret, never its contents.
func Load(ctx context.Context, client SecretGetter, arn string) (*secure.Keyring, error) {
	if arn == "" {
		return nil, errors.New("no secret ARN given")
	}
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("get secret %s: %w", arn, err)
	}
	var data []byte
	switch {
	case out.SecretString != nil:
		data = []byte(*out.SecretString)
	case out.SecretBinary != nil:
		data = out.SecretBinary
	default:
		return nil, fmt.Errorf("secret %s has no value", arn)
	}
	k, err := secure.ParseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("key material in secret %s: %w", arn, err)
	}
	return k, nil
}

// NewClient is a Secrets Manager client from awsCfg, addressed at endpoint
// when it is not empty (moto in local runs).
func NewClient(awsCfg aws.Config, endpoint string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// Keys loads the key ring as a deployed function does at its cold start
// (shared/app/core.AWS.Keys): the secret cfg.KeysSecretARN, through Secrets
// Manager at cfg.SecretsEndpoint when set.
func Keys(ctx context.Context, awsCfg aws.Config, cfg config.Config) (binding.Keys, error) {
	k, err := Load(ctx, NewClient(awsCfg, cfg.SecretsEndpoint), cfg.KeysSecretARN)
	if err != nil {
		return nil, err
	}
	return k, nil
}
