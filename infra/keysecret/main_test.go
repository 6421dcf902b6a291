package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/secure/awssecret"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

// refuseAll fails the test if anything reaches Secrets Manager.
type refuseAll struct{ t *testing.T }

func (r refuseAll) CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	r.t.Fatal("bad key material reached CreateSecret")
	return nil, nil
}

func TestNewMaterialIsAWorkingRing(t *testing.T) {
	a, err := NewMaterial()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewMaterial()
	if bytes.Equal(a, b) {
		t.Fatal("two draws gave the same material")
	}
	ring, err := secure.ParseKeyring(a)
	if err != nil {
		t.Fatal(err)
	}
	if ring.CurrentKeyID() != "k1" {
		t.Errorf("current key %s, want k1", ring.CurrentKeyID())
	}
	if _, err := Create(context.Background(), refuseAll{t}, "x", []byte(`{"current":"k1","hmac_key":"c2hvcnQ=","keys":{"k1":"c2hvcnQ="}}`)); err == nil || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("short keys: %v", err)
	}
}

// TestCreatesTheSecretTheFunctionsRead creates the secret on moto, from new
// material and from a file, and reads both back as a function's cold start
// does; only the ARN is printed.
func TestCreatesTheSecretTheFunctionsRead(t *testing.T) {
	moto := testenv.MotoEndpoint(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	ctx := context.Background()
	name := fmt.Sprintf("phonebind/test/keys-%d", time.Now().UnixNano())
	material, err := NewMaterial()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(file, material, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-name", name + "-new", "-region", "us-east-1", "-endpoint", moto},
		{"-name", name + "-file", "-region", "us-east-1", "-endpoint", moto, "-file", file},
	} {
		var out, errs bytes.Buffer
		if err := run(ctx, args, &out, &errs); err != nil {
			t.Fatalf("%v: %v %s", args, err, errs.String())
		}
		arn := strings.TrimSpace(out.String())
		if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:") || strings.Contains(arn, "\n") {
			t.Fatalf("printed %q, want one ARN", out.String())
		}
		ring, err := awssecret.Keys(ctx, mustAWS(t), configFor(arn, moto))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ring.Seal("+79123456789"); err != nil {
			t.Fatal(err)
		}
	}
}

// configFor is a function's configuration reading arn through moto.
func configFor(arn, moto string) config.Config {
	cfg, _ := config.Load(func(k string) string {
		return map[string]string{"KEYS_SECRET_ARN": arn, "SECRETS_ENDPOINT": moto, "AWS_REGION": "us-east-1"}[k]
	})
	return cfg
}

func mustAWS(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
