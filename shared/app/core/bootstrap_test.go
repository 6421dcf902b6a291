package core

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/infra/lambdarun"
)

// The built bootstraps, started as Lambda starts them, with every AWS
// endpoint dead: a function that holds keys fails its init on the secret
// fetch, with the cause in its log (Lambda's init error), and never asks
// for an event; status, which holds none, starts without calling anything.
func TestBootstrapColdStartAndTheSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bootstraps")
	}
	root := moduleRoot(t)
	dir := t.TempDir()
	targets := []lambdarun.Target{
		{Package: "./functions/confirm-code", Out: filepath.Join(dir, "confirm-code", "bootstrap")},
		{Package: "./functions/status", Out: filepath.Join(dir, "status", "bootstrap")},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := lambdarun.Build(ctx, root, targets...); err != nil {
		t.Fatal(err)
	}
	dead := deadEndpoint(t)
	env := []string{
		"KEYS_SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:phonebind-keys-AbCdEf",
		"EVENTS_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:phonebind-events",
		"DYNAMODB_ENDPOINT=" + dead, "SNS_ENDPOINT=" + dead, "SES_ENDPOINT=" + dead, "SECRETS_ENDPOINT=" + dead,
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_SESSION_TOKEN=local",
	}

	f, err := lambdarun.Start(ctx, lambdarun.Options{Path: targets[0].Out, Name: "confirm-code", Env: env, InitTimeout: time.Minute})
	var initErr *lambdarun.InitError
	if err == nil {
		f.Close()
		t.Fatal("confirm-code started with its key secret unreachable")
	}
	if !errors.As(err, &initErr) {
		t.Fatalf("confirm-code: %v", err)
	}
	if initErr.Exit == nil || !strings.Contains(initErr.Logs, "start: load keys: get secret arn:aws:secretsmanager") {
		t.Errorf("confirm-code's init did not stop on the secret fetch: %v", err)
	}

	f, err = lambdarun.Start(ctx, lambdarun.Options{Path: targets[1].Out, Name: "status", Env: env, InitTimeout: time.Minute})
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("status: %v", err)
	}
}
