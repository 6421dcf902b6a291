// Package dynamotest connects tests to DynamoDB Local and creates tables
// from the same definition template.yaml deploys.
package dynamotest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/testenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/infra/template"
)

// Endpoint returns DYNAMODB_ENDPOINT, skipping the test when it is unset,
// or failing it when REQUIRE_EMULATORS=1 (as in `make test` and CI), so an
// emulator that did not start can never pass as a skip.
func Endpoint(t testing.TB) string {
	t.Helper()
	return testenv.DynamoDBEndpoint(t)
}

// Client returns a DynamoDB client for DynamoDB Local.
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	return NewClient(Endpoint(t))
}

// NewClient returns a DynamoDB client for a local endpoint.
func NewClient(endpoint string) *dynamodb.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		// DynamoDB Local's CRC header does not match error bodies; the
		// check is only for the wire to AWS.
		o.DisableValidateResponseChecksum = true
	})
}

var (
	defOnce sync.Once
	def     *template.Template
	defErr  error
	seq     int
	seqMu   sync.Mutex
)

// Table creates a fresh table from template.yaml's PhoneBindingTable and
// deletes it when the test ends.
func Table(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	seqMu.Lock()
	seq++
	name := fmt.Sprintf("phonebind-test-%d-%d", time.Now().UnixNano(), seq)
	seqMu.Unlock()
	if err := CreateTable(context.Background(), db, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name})
	})
	return name
}

// CreateTable creates name with the template's table definition and TTL.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	defOnce.Do(func() {
		root, err := template.FindRoot()
		if err != nil {
			defErr = err
			return
		}
		def, defErr = template.Load(root + "/template.yaml")
	})
	if defErr != nil {
		return defErr
	}
	in, err := def.CreateTableInput("PhoneBindingTable", name)
	if err != nil {
		return err
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	if attr := def.TTLAttribute("PhoneBindingTable"); attr != "" {
		_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               &name,
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: &attr, Enabled: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("enable TTL on %s: %w", name, err)
		}
	}
	return nil
}

// Claims reads number claims straight from a table, with no store code in
// between: the contract checks the one-claim-per-number invariant through
// it (storetest.Probe), so the production store needs no accessor for it.
type Claims struct {
	DB    *dynamodb.Client
	Table string
}

// ClaimOwner reports which account holds the number with this HMAC: the
// item pk PHONE#<hmac>, sk CLAIM, read consistently.
func (c Claims) ClaimOwner(ctx context.Context, phoneHMAC string) (string, bool, error) {
	out, err := c.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &c.Table,
		ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "PHONE#" + phoneHMAC},
			"sk": &types.AttributeValueMemberS{Value: "CLAIM"},
		},
	})
	if err != nil {
		return "", false, fmt.Errorf("get claim: %w", err)
	}
	if len(out.Item) == 0 {
		return "", false, nil
	}
	owner, ok := out.Item["account_id"].(*types.AttributeValueMemberS)
	if !ok {
		return "", false, fmt.Errorf("claim of %s has no account_id", phoneHMAC)
	}
	return owner.Value, true, nil
}
