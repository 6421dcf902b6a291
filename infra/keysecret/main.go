// Command keysecret creates the key ring's Secrets Manager secret (the
// KeysSecretArn parameter) without the key material ever being typed on a
// command line, shown in a shell history or written to disk:
//
//	make keys-secret SECRET_NAME=phonebind/prod/keys REGION=eu-central-1
//	make keys-secret SECRET_NAME=phonebind/prod/keys REGION=eu-central-1 KEYS_FILE=/dev/shm/keys.json
//
// Without KEYS_FILE it draws a new HMAC key and a first encryption key
// ("k1") from crypto/rand; with it, it imports existing material (a
// restore from your backup), checked as the functions will read it. It
// prints the secret's full ARN, to give as KeysSecretArn, and never the
// material. AWS credentials come from the usual AWS environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gosuslugi/phonebind/shared/secure"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "keysecret:", err)
		}
		os.Exit(1)
	}
}

// SecretCreator is the one Secrets Manager call keysecret makes.
type SecretCreator interface {
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keysecret", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "secret name, e.g. phonebind/prod/keys; required")
	region := fs.String("region", "", "AWS Region of the stack; empty: the AWS environment's")
	file := fs.String("file", "", "import existing key material from this file instead of drawing new keys")
	endpoint := fs.String("endpoint", "", "Secrets Manager endpoint (moto in tests)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("usage: make keys-secret SECRET_NAME=<name> [REGION=<region>] [KEYS_FILE=<file>]")
	}
	var opts []func(*awsconfig.LoadOptions) error
	if *region != "" {
		opts = append(opts, awsconfig.WithRegion(*region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("AWS configuration: %w", err)
	}
	client := secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	var material []byte
	if *file != "" {
		if material, err = os.ReadFile(*file); err != nil {
			return err
		}
	} else if material, err = NewMaterial(); err != nil {
		return err
	}
	arn, err := Create(ctx, client, *name, material)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, arn)
	return nil
}

// NewMaterial draws a fresh key ring: one HMAC key (never rotated) and the
// first encryption key, k1, as the functions read them.
func NewMaterial() ([]byte, error) {
	return secure.Material(secure.NewKey(), map[string][]byte{"k1": secure.NewKey()}, "k1"), nil
}

// Create checks material as the functions will parse it and stores it as
// a new secret under the account's aws/secretsmanager key (which the
// functions' GetSecretValue grant can decrypt), returning its full ARN.
func Create(ctx context.Context, client SecretCreator, name string, material []byte) (string, error) {
	if _, err := secure.ParseKeyring(material); err != nil {
		return "", err
	}
	out, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		Description:  aws.String("Phone binding key ring: HMAC key and AES-256 keys (docs/operations.md, Rotate keys)"),
		SecretString: aws.String(string(material)),
	})
	if err != nil {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	if out.ARN == nil {
		return "", fmt.Errorf("create secret %s: no ARN in the answer", name)
	}
	return *out.ARN, nil
}
