package stack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

// Region is the region the emulators are addressed in.
const Region = "us-east-1"

// Endpoints are the emulators: DynamoDB Local and moto (SNS, SES v2, SQS
// and Secrets Manager on one port).
type Endpoints struct {
	DynamoDB string
	Moto     string
}

// EndpointsFromEnv reads DYNAMODB_ENDPOINT and MOTO_ENDPOINT, as
// `infra/emulators.sh run` and `make test` set them.
func EndpointsFromEnv() (Endpoints, error) {
	ep := Endpoints{DynamoDB: os.Getenv("DYNAMODB_ENDPOINT"), Moto: os.Getenv("MOTO_ENDPOINT")}
	var missing []string
	if ep.DynamoDB == "" {
		missing = append(missing, "DYNAMODB_ENDPOINT")
	}
	if ep.Moto == "" {
		missing = append(missing, "MOTO_ENDPOINT")
	}
	if len(missing) > 0 {
		return ep, fmt.Errorf("%s unset: start the emulators (bash infra/emulators.sh start; eval \"$(bash infra/emulators.sh env)\")", strings.Join(missing, " and "))
	}
	return ep, nil
}

// Resources are what the functions need in the emulators, made fresh and
// under unique names for one run, so that runs sharing the emulators (other
// tests, other developers) never see each other's data.
type Resources struct {
	Endpoints
	// Table is a DynamoDB table made from template.yaml's definition.
	Table string
	// SecretARN holds fresh random key material (KEYS_SECRET_ARN).
	SecretARN string
	// TopicARN is an SNS topic for domain events (EVENTS_TOPIC_ARN).
	TopicARN string
	// EmailFrom is an SES identity created in moto (EMAIL_FROM).
	EmailFrom string
	// Overrides are set last in every function's environment, e.g.
	// RESEND_COOLDOWN=0s for a test that requests two codes in a row.
	Overrides map[string]string

	ddb     *dynamodb.Client
	secrets *secretsmanager.Client
	sns     *sns.Client
}

// Provision creates the table, the key secret, the events topic and the
// e-mail identity, all named after prefix and the time.
func Provision(ctx context.Context, ep Endpoints, prefix string) (*Resources, error) {
	name := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
	creds := credentials.NewStaticCredentialsProvider("local", "local", "")
	r := &Resources{
		Endpoints: ep,
		Table:     name,
		EmailFrom: name + "@example.org",
		ddb:       dynamotest.NewClient(ep.DynamoDB),
		secrets:   secretsmanager.New(secretsmanager.Options{Region: Region, Credentials: creds, BaseEndpoint: aws.String(ep.Moto)}),
		sns:       sns.New(sns.Options{Region: Region, Credentials: creds, BaseEndpoint: aws.String(ep.Moto)}),
	}
	if err := dynamotest.CreateTable(ctx, r.ddb, r.Table); err != nil {
		return nil, err
	}
	material, err := keyMaterial()
	if err != nil {
		return nil, err
	}
	sec, err := r.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(material)})
	if err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("create key secret in moto: %w", err)
	}
	r.SecretARN = aws.ToString(sec.ARN)
	topic, err := r.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("create events topic in moto: %w", err)
	}
	r.TopicARN = aws.ToString(topic.TopicArn)
	if err := createEmailIdentity(ctx, ep.Moto, r.EmailFrom); err != nil {
		_ = r.Close(ctx)
		return nil, err
	}
	return r, nil
}

// keyMaterial is a fresh key ring in shared/secure's secret format.
func keyMaterial() (string, error) {
	var hmacKey, aesKey [32]byte
	if _, err := rand.Read(hmacKey[:]); err != nil {
		return "", err
	}
	if _, err := rand.Read(aesKey[:]); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]any{
		"current":  "k1",
		"hmac_key": base64.StdEncoding.EncodeToString(hmacKey[:]),
		"keys":     map[string]string{"k1": base64.StdEncoding.EncodeToString(aesKey[:])},
	})
	return string(b), err
}

// createEmailIdentity makes EMAIL_FROM a sender moto's SES v2 accepts. It
// is SES v2's REST call made by hand (moto checks no signature) so that this
// package needs no SES client of its own.
func createEmailIdentity(ctx context.Context, moto, address string) error {
	body := strings.NewReader(fmt.Sprintf(`{"EmailIdentity":%q}`, address))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(moto, "/")+"/v2/email/identities", body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/"+time.Now().UTC().Format("20060102")+"/"+Region+"/ses/aws4_request, SignedHeaders=host, Signature=0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("create SES identity in moto: %w", err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("create SES identity in moto: %s: %s", res.Status, msg)
	}
	return nil
}

// Env is the environment fn runs with: the template's variables, then
// these resources and the emulators' endpoints (every endpoint variable the
// service reads points at them, including ones not every function uses),
// and static credentials as Lambda would put its role's in the
// environment; Overrides last. dynamoEndpoint replaces DynamoDB Local's address when not
// empty (a Meter in front of it).
func (r *Resources) Env(fn Function, dynamoEndpoint string) []string {
	if dynamoEndpoint == "" {
		dynamoEndpoint = r.DynamoDB
	}
	env := map[string]string{}
	maps.Copy(env, fn.Env)
	maps.Copy(env, map[string]string{
		"TABLE_NAME":            r.Table,
		"KEYS_SECRET_ARN":       r.SecretARN,
		"EVENTS_TOPIC_ARN":      r.TopicARN,
		"EMAIL_FROM":            r.EmailFrom,
		"DYNAMODB_ENDPOINT":     dynamoEndpoint,
		"SNS_ENDPOINT":          r.Moto,
		"SES_ENDPOINT":          r.Moto,
		"SECRETS_ENDPOINT":      r.Moto,
		"AWS_REGION":            Region,
		"AWS_DEFAULT_REGION":    Region,
		"AWS_ACCESS_KEY_ID":     "local",
		"AWS_SECRET_ACCESS_KEY": "local",
		"AWS_SESSION_TOKEN":     "local",
	})
	maps.Copy(env, r.Overrides)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// Close deletes what Provision made (moto keeps e-mail identities, which
// hold nothing).
func (r *Resources) Close(ctx context.Context) error {
	var errs []error
	if _, err := r.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(r.Table)}); err != nil {
		errs = append(errs, fmt.Errorf("delete table: %w", err))
	}
	if r.SecretARN != "" {
		if _, err := r.secrets.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(r.SecretARN), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
			errs = append(errs, fmt.Errorf("delete secret: %w", err))
		}
	}
	if r.TopicARN != "" {
		if _, err := r.sns.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(r.TopicARN)}); err != nil {
			errs = append(errs, fmt.Errorf("delete topic: %w", err))
		}
	}
	return errors.Join(errs...)
}

// SecretFetch times one GetSecretValue of the key secret: the network part
// of every function's init.
func (r *Resources) SecretFetch(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	_, err := r.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(r.SecretARN)})
	return time.Since(start), err
}
