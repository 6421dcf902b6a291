package awssecret

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/testenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type fakeSecrets struct {
	out   *secretsmanager.GetSecretValueOutput
	err   error
	asked string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = aws.ToString(in.SecretId)
	return f.out, f.err
}

func TestLoadFake(t *testing.T) {
	ctx := context.Background()
	devKeyMaterial := string(secure.Material(secure.NewKey(), map[string][]byte{"dev1": secure.NewKey()}, "dev1"))
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:keys-AbCdEf"

	f := &fakeSecrets{out: &secretsmanager.GetSecretValueOutput{SecretString: aws.String(devKeyMaterial)}}
	k, err := Load(ctx, f, arn)
	if err != nil {
		t.Fatalf("SecretString: %v", err)
	}
	if f.asked != arn || k.CurrentKeyID() != "dev1" {
		t.Errorf("asked %q, current %q", f.asked, k.CurrentKeyID())
	}

	f = &fakeSecrets{out: &secretsmanager.GetSecretValueOutput{SecretBinary: []byte(devKeyMaterial)}}
	if _, err := Load(ctx, f, arn); err != nil {
		t.Fatalf("SecretBinary: %v", err)
	}

	boom := errors.New("boom")
	f = &fakeSecrets{err: boom}
	if _, err := Load(ctx, f, arn); !errors.Is(err, boom) || !strings.Contains(err.Error(), arn) {
		t.Errorf("client error: %v", err)
	}

	f = &fakeSecrets{out: &secretsmanager.GetSecretValueOutput{}}
	if _, err := Load(ctx, f, arn); err == nil {
		t.Error("empty secret: no error")
	}

	secretish := `{"current":"k1","hmac_key":"c2VjcmV0LXNlY3JldC1zZWNyZXQ=","keys":{}}`
	f = &fakeSecrets{out: &secretsmanager.GetSecretValueOutput{SecretString: aws.String(secretish)}}
	_, err = Load(ctx, f, arn)
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("bad material: err = %v (must fail without echoing it)", err)
	}

	if _, err := Load(ctx, &fakeSecrets{}, ""); err == nil {
		t.Error("empty ARN: no error")
	}
}

func TestLoadMoto(t *testing.T) {
	endpoint := testenv.MotoEndpoint(t)
	ctx := context.Background()
	client := secretsmanager.NewFromConfig(testenv.MotoConfig(endpoint))

	hmacKey := secure.NewKey()
	k1, k2 := secure.NewKey(), secure.NewKey()
	name := fmt.Sprintf("phonebind-test-keys-%d", time.Now().UnixNano())
	created, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(string(secure.Material(hmacKey, map[string][]byte{"k1": k1}, "k1"))),
	})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{
			SecretId: created.ARN, ForceDeleteWithoutRecovery: aws.Bool(true),
		})
	})
	arn := aws.ToString(created.ARN)

	first, err := Load(ctx, client, arn)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	id, ct, err := first.Seal("+79123456789")
	if err != nil || id != "k1" {
		t.Fatalf("Seal = %q, %v", id, err)
	}

	// Rotate: add k2 and make it current; keep k1 for old ciphertexts.
	if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     created.ARN,
		SecretString: aws.String(string(secure.Material(hmacKey, map[string][]byte{"k1": k1, "k2": k2}, "k2"))),
	}); err != nil {
		t.Fatalf("PutSecretValue: %v", err)
	}
	second, err := Load(ctx, client, arn)
	if err != nil {
		t.Fatalf("load after rotation: %v", err)
	}
	if second.CurrentKeyID() != "k2" {
		t.Fatalf("current after rotation = %q, want k2", second.CurrentKeyID())
	}
	if got, err := second.Open(id, ct); err != nil || got != "+79123456789" {
		t.Errorf("open k1 ciphertext after rotation = %q, %v", got, err)
	}
	id2, ct2, err := second.Seal("+79123456789")
	if err != nil || id2 != "k2" {
		t.Fatalf("Seal after rotation = %q, %v", id2, err)
	}
	if got, err := second.Open(id2, ct2); err != nil || got != "+79123456789" {
		t.Errorf("open k2 ciphertext = %q, %v", got, err)
	}
	if first.PhoneMAC("+79123456789") != second.PhoneMAC("+79123456789") {
		t.Error("PhoneMAC changed across rotation")
	}

	// The raw key bytes are not part of any error.
	_, err = Load(ctx, client, arn+"-missing")
	if err == nil {
		t.Fatal("missing secret: no error")
	}
	if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(k1)) {
		t.Errorf("error leaks key material: %v", err)
	}
}
