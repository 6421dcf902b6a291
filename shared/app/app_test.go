package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/config"
)

// A cold start whose key secret cannot be read must stop with a message
// naming the cause, never serve with missing or development keys.
func TestColdStartFailsWhenSecretsFail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	env := map[string]string{
		"KEYS_SECRET_ARN":  "arn:aws:secretsmanager:us-east-1:123456789012:secret:phonebind-keys-AbCdEf",
		"SECRETS_ENDPOINT": dead,
		"AWS_REGION":       "us-east-1",
		"TABLE_NAME":       "phonebind",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, local := range []bool{false, true} {
		a, err := New(ctx, cfg, core.Options{Local: local, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err == nil || a != nil || !strings.Contains(err.Error(), "load keys") {
			t.Fatalf("local=%v: app %v, err %v", local, a, err)
		}
	}
}

func TestDeployedStartRefusesDevelopmentKeys(t *testing.T) {
	cfg, err := config.Load(func(k string) string { return map[string]string{"AWS_REGION": "us-east-1"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), cfg, core.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err == nil ||
		!strings.Contains(err.Error(), "KEYS_SECRET_ARN") {
		t.Fatalf("err = %v", err)
	}
}
