package secure

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretGetter is the one Secrets Manager call LoadFromSecretsManager needs;
// *secretsmanager.Client satisfies it, and tests pass a fake.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// LoadFromSecretsManager reads the current version of the secret arn (its
// SecretString, or SecretBinary when there is no string) and parses it with
// ParseKeyring. Call it once per cold start: the ring does not change while
// the function runs, and a rotation takes effect on the next cold start.
// Errors name the secret, never its contents.
func LoadFromSecretsManager(ctx context.Context, client SecretGetter, arn string) (*Keyring, error) {
	if arn == "" {
		return nil, errors.New("load keys: no secret ARN given")
	}
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("load keys: get secret %s: %w", arn, err)
	}
	var data []byte
	switch {
	case out.SecretString != nil:
		data = []byte(*out.SecretString)
	case out.SecretBinary != nil:
		data = out.SecretBinary
	default:
		return nil, fmt.Errorf("load keys: secret %s has no value", arn)
	}
	k, err := ParseKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("load keys from secret %s: %w", arn, err)
	}
	return k, nil
}
