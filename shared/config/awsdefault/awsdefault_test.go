package awsdefault

import (
	"context"
	"testing"

	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

func TestLoad(t *testing.T) {
	testenv.NoAWSProfile(t)
	ctx := context.Background()
	load := func(t *testing.T, env map[string]string) (string, string, int) {
		t.Helper()
		c, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Region, creds.AccessKeyID, cfg.Retryer().MaxAttempts()
	}

	t.Run("emulator without credentials uses the placeholder", func(t *testing.T) {
		region, id, attempts := load(t, map[string]string{"SNS_ENDPOINT": "http://127.0.0.1:5000"})
		if region != "us-east-1" || id != "local" || attempts != config.SDKMaxAttempts {
			t.Errorf("region %q, access key %q, attempts %d", region, id, attempts)
		}
	})
	t.Run("emulator with env credentials keeps them", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		region, id, _ := load(t, map[string]string{"SNS_ENDPOINT": "http://127.0.0.1:5000", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_REGION": "eu-west-1"})
		if region != "eu-west-1" || id != "AKIDEXAMPLE" {
			t.Errorf("region %q, access key %q", region, id)
		}
	})
}
