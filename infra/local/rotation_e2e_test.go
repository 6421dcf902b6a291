package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// Key rotation end to end (issue 5): the key ring comes from a Secrets
// Manager secret on moto, as deployed functions load it, and the numbers
// live in DynamoDB Local. A number bound under key 1 must still be reached
// after key 2 is added and made current, by a fresh cold start reading the
// rotated secret; new ciphertexts use key 2; and the HMAC key, which never
// rotates, keeps the number's claim.

// keyMaterial is the secret's JSON (see secure.ParseKeyring).
type keyMaterial struct {
	Current string            `json:"current"`
	HMACKey string            `json:"hmac_key"`
	Keys    map[string]string `json:"keys"`
}

func (m keyMaterial) json(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func randomKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func secretsClient(endpoint string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(testenv.MotoConfig(endpoint))
}

// itemAttr reads a string attribute of one of an account's items, as an
// operator would in the console (which key sealed a number, for instance).
func (e *e2e) itemAttr(account, sk, attr string) string {
	e.t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      &e.table,
		ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "ACCOUNT#" + account},
			"sk": &types.AttributeValueMemberS{Value: sk},
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	s, _ := out.Item[attr].(*types.AttributeValueMemberS)
	if s == nil {
		e.t.Fatalf("%s %s has no %s: %v", account, sk, attr, out.Item)
	}
	return s.Value
}

func TestE2EKeyRotationThroughSecretsManager(t *testing.T) {
	db := dynamotest.Client(t)
	moto := testenv.MotoEndpoint(t)
	table := dynamotest.Table(t, db)
	ctx := context.Background()
	sm := secretsClient(moto)

	before := keyMaterial{Current: "k1", HMACKey: randomKey(t), Keys: map[string]string{"k1": randomKey(t)}}
	name := fmt.Sprintf("phonebind/test/rotation-%d", time.Now().UnixNano())
	created, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(before.json(t)),
	})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	t.Cleanup(func() {
		_, _ = sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{
			SecretId: created.ARN, ForceDeleteWithoutRecovery: aws.Bool(true),
		})
	})
	env := map[string]string{
		"DYNAMODB_ENDPOINT": dynamotest.Endpoint(t),
		"SNS_ENDPOINT":      moto,
		"SECRETS_ENDPOINT":  moto,
		"KEYS_SECRET_ARN":   aws.ToString(created.ARN),
		"TABLE_NAME":        table,
		"AWS_REGION":        "us-east-1",
		"LOCAL_JWT_SECRET":  "e2e-secret",
	}

	// Cold start 1: key 1 only.
	first := startE2E(t, env, db, moto, table)
	num := uniqueNumber()
	first.bind("alice", num)
	if id := first.itemAttr("alice", "PROFILE", "phone_key_id"); id != "k1" {
		t.Fatalf("bound under key %q, want k1", id)
	}

	// Rotate: key 2 joins and becomes current; key 1 stays for old data.
	after := keyMaterial{Current: "k2", HMACKey: before.HMACKey, Keys: maps.Clone(before.Keys)}
	after.Keys["k2"] = randomKey(t)
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: created.ARN, SecretString: aws.String(after.json(t)),
	}); err != nil {
		t.Fatalf("PutSecretValue: %v", err)
	}

	// Cold start 2 reads the rotated secret; the table is the same.
	second := startE2E(t, env, db, moto, table)
	second.clock.Advance(2 * time.Minute) // past alice's resend cooldown

	// The HMAC key did not change, so the k1-era claim still holds the
	// number: another account proving possession of it is refused.
	r := second.requestCode("bob", num)
	expect(t, r, 202, "")
	if id := second.itemAttr("bob", "VERIFICATION", "destination_key_id"); id != "k2" {
		t.Errorf("a number typed after the rotation was sealed under %q, want k2", id)
	}
	expect(t, second.confirm("bob", r.str("verification_id"), second.code(num)), 409, "phone_taken")

	// Unbind by SMS: the code reaches the number only if the new ring
	// opens its key-1 ciphertext.
	second.clock.Advance(2 * time.Minute)
	u := second.requestUnbind("alice")
	expect(t, u, 202, "")
	st := second.unbind("alice", u.str("verification_id"), second.code(num))
	expect(t, st, 200, "")
	if st.str("status") != "none" {
		t.Fatalf("status after unbind: %s", st.raw)
	}

	// Bound again after the rotation: sealed under key 2.
	second.clock.Advance(2 * time.Minute)
	second.bind("bob", num)
	if id := second.itemAttr("bob", "PROFILE", "phone_key_id"); id != "k2" {
		t.Errorf("bound after rotation under key %q, want k2", id)
	}

	// A warm instance still holding the old ring cannot open key-2 data:
	// why docs/operations.md adds a key first and makes it current only after
	// every function has restarted with it.
	first.clock.Advance(10 * time.Minute)
	old := first.requestUnbind("bob")
	expect(t, old, 500, "internal")

	// No key material in any log line.
	for _, e := range []*e2e{first, second} {
		logs := e.logs.String()
		for _, k := range []string{after.HMACKey, after.Keys["k1"], after.Keys["k2"]} {
			if strings.Contains(logs, k) {
				t.Fatal("key material reached the logs")
			}
		}
	}
}
