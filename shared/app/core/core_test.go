package core

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/secure/awssecret"
)

// deadEndpoint is an address nothing listens on.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// deployedEnv is a deployed function's configuration whose every AWS
// endpoint is dead: assembling must not call any of them unless it loads
// keys.
func deployedEnv(t *testing.T, extra map[string]string) config.Config {
	t.Helper()
	dead := deadEndpoint(t)
	env := map[string]string{
		"KEYS_SECRET_ARN":   "arn:aws:secretsmanager:us-east-1:123456789012:secret:phonebind-keys-AbCdEf",
		"EVENTS_TOPIC_ARN":  "arn:aws:sns:us-east-1:123456789012:phonebind-events",
		"EMAIL_FROM":        "no-reply@phonebind.test",
		"DYNAMODB_ENDPOINT": dead,
		"SNS_ENDPOINT":      dead,
		"SES_ENDPOINT":      dead,
		"SECRETS_ENDPOINT":  dead,
		"AWS_REGION":        "us-east-1",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// staticAWS stands in for the Lambda environment's configuration.
func staticAWS(context.Context, config.Config) (aws.Config, error) {
	return aws.Config{Region: "us-east-1", Credentials: config.PlaceholderCredentials, Retryer: config.NewRetryer}, nil
}

// The status function holds no key material: its cold start never asks
// Secrets Manager, even with KEYS_SECRET_ARN set (the template sets it for
// every function), and a use of a key fails loudly.
func TestKeylessAssemblyNeverReadsTheSecret(t *testing.T) {
	cfg := deployedEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := New(ctx, cfg, Options{Logger: quiet(), Metrics: io.Discard, AWS: AWS{Config: staticAWS}})
	if err != nil {
		t.Fatalf("keyless start: %v", err)
	}
	if a.API == nil || a.Service == nil {
		t.Fatal("not assembled")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "assembled without") {
			t.Errorf("using a key: recovered %v", r)
		}
	}()
	noKeys{}.PhoneMAC("+79123456789")
}

// A function that holds keys loads them during its cold start, and a
// failure stops the start with a message naming the cause.
func TestColdStartFailsWhenSecretsFail(t *testing.T) {
	cfg := deployedEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, local := range []bool{false, true} {
		a, err := New(ctx, cfg, Options{Local: local, Logger: quiet(), AWS: AWS{Config: staticAWS, Keys: awssecret.Keys}})
		if err == nil || a != nil || !strings.Contains(err.Error(), "load keys") || !strings.Contains(err.Error(), cfg.KeysSecretARN) {
			t.Fatalf("local=%v: app %v, err %v", local, a, err)
		}
	}
}

func TestDeployedStartRefusesDevelopmentKeys(t *testing.T) {
	cfg := deployedEnv(t, map[string]string{"KEYS_SECRET_ARN": ""})
	if _, err := New(context.Background(), cfg, Options{Logger: quiet(), AWS: AWS{Config: staticAWS, Keys: awssecret.Keys}}); err == nil ||
		!strings.Contains(err.Error(), "KEYS_SECRET_ARN") {
		t.Fatalf("err = %v", err)
	}
	// A local run without the variable asks the constructor all the same
	// (shared/app's gives the development keys then).
	asked := false
	dev := func(context.Context, aws.Config, config.Config) (binding.Keys, error) {
		asked = true
		return secure.DevKeyring(), nil
	}
	if _, err := New(context.Background(), cfg, Options{Local: true, Logger: quiet(), Outbox: notify.NewOutbox(nil, nil), AWS: AWS{Keys: dev}}); err != nil || !asked {
		t.Fatalf("local: asked %v, err %v", asked, err)
	}
}

// What a function is assembled without fails when used, never silently.
func TestUnwiredPartsFail(t *testing.T) {
	ctx := context.Background()
	cfg := deployedEnv(t, nil)
	a, err := New(ctx, cfg, Options{Logger: quiet(), Metrics: io.Discard, AWS: AWS{Config: staticAWS}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.events.Publish(ctx, "phone.bound", struct{}{}); err == nil || !strings.Contains(err.Error(), "not wired") {
		t.Errorf("events publish: %v", err)
	}
	if err := (unwired{"SMS"}).SendSMS(ctx, "+79123456789", "x"); err == nil || !strings.Contains(err.Error(), "SMS: not wired") {
		t.Errorf("SMS: %v", err)
	}
	// Without a topic, a function that publishes nothing says nothing.
	cfg = deployedEnv(t, map[string]string{"EVENTS_TOPIC_ARN": ""})
	if a, err = New(ctx, cfg, Options{Logger: quiet(), Metrics: io.Discard, AWS: AWS{Config: staticAWS}}); err != nil || a.events != nil {
		t.Errorf("no topic: events %v, err %v", a.events, err)
	}
}

// Each function links the AWS clients it uses and no other: Go initialises
// every package a binary imports, so an unused client still costs its
// package initialisation (endpoint tables, schemas) at every cold start,
// and its code in the binary. The SDK's default credential chain
// (aws-sdk-go-v2/config, with STS, SSO, SSO OIDC and Sign-In) is the local
// tools' only.
func TestFunctionsLinkOnlyTheirClients(t *testing.T) {
	want := map[string][]string{
		"status":       {"dynamodb"},
		"request-code": {"dynamodb", "secretsmanager", "sesv2", "sns"},
		"confirm-code": {"dynamodb", "lambda", "secretsmanager", "sns"}, // lambda: the alert relay
		"alert":        {"sns"},
		"unbind":       {"dynamodb", "lambda", "secretsmanager", "sesv2", "sns"}, // lambda: the alert relay; sesv2: the hold's letters
		"feedback":     {"dynamodb", "secretsmanager", "sns"},
		"phone-read":   {"dynamodb", "secretsmanager", "sns"}, // sns: phone.access_requested
	}
	root := moduleRoot(t)
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mains {
		dir := filepath.Base(filepath.Dir(m))
		cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", "./functions/"+dir)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list ./functions/%s: %v", dir, err)
		}
		var clients []string
		for _, p := range strings.Fields(string(out)) {
			if svc, ok := strings.CutPrefix(p, "github.com/aws/aws-sdk-go-v2/service/"); ok && !strings.Contains(svc, "/") {
				clients = append(clients, svc)
			}
			if p == "github.com/aws/aws-sdk-go-v2/config" {
				t.Errorf("functions/%s links the SDK's default chain (aws-sdk-go-v2/config)", dir)
			}
		}
		slices.Sort(clients)
		w, ok := want[dir]
		if !ok {
			t.Errorf("functions/%s: no expectation here; add which clients it uses", dir)
			continue
		}
		if !slices.Equal(clients, w) {
			t.Errorf("functions/%s links the clients %v, want %v", dir, clients, w)
		}
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
