package config

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// lambdaEnv is a Lambda-like environment: what the runtime sets, plus vars.
func lambdaEnv(vars map[string]string) (func(string) string, []string) {
	all := map[string]string{
		"AWS_REGION":               "eu-north-1",
		"AWS_DEFAULT_REGION":       "eu-north-1",
		"AWS_ACCESS_KEY_ID":        "ASIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":    "secret",
		"AWS_SESSION_TOKEN":        "token",
		"AWS_LAMBDA_FUNCTION_NAME": "phonebind-status",
	}
	for k, v := range vars {
		all[k] = v
	}
	var environ []string
	for k, v := range all {
		environ = append(environ, k+"="+v)
	}
	return func(k string) string { return all[k] }, environ
}

func loadFromEnv(t *testing.T, vars map[string]string) (aws.Config, error) {
	t.Helper()
	getenv, environ := lambdaEnv(vars)
	c, err := Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	return c.awsFromEnv(context.Background(), getenv, environ)
}

func TestAWSFromLambdaEnvironment(t *testing.T) {
	ctx := context.Background()
	cfg, err := loadFromEnv(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-north-1" || creds.AccessKeyID != "ASIAEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Errorf("region %q, credentials %+v", cfg.Region, creds)
	}
	if cfg.Retryer == nil || cfg.Retryer().MaxAttempts() != SDKMaxAttempts {
		t.Error("no bounded retryer")
	}
	// A client built from it signs with those credentials in that region.
	db := dynamodb.NewFromConfig(cfg)
	if o := db.Options(); o.Region != "eu-north-1" || o.EndpointOptions.UseFIPSEndpoint != aws.FIPSEndpointStateUnset {
		t.Errorf("client region %q, FIPS %v", o.Region, o.EndpointOptions.UseFIPSEndpoint)
	}

	t.Run("AWS_DEFAULT_REGION when AWS_REGION is unset", func(t *testing.T) {
		cfg, err := loadFromEnv(t, map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "me-south-1"})
		if err != nil || cfg.Region != "me-south-1" {
			t.Errorf("region %q, %v", cfg.Region, err)
		}
	})
	t.Run("the older key names", func(t *testing.T) {
		cfg, err := loadFromEnv(t, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ACCESS_KEY": "AKIDOLD", "AWS_SECRET_KEY": "old"})
		if err != nil {
			t.Fatal(err)
		}
		if creds, _ := cfg.Credentials.Retrieve(ctx); creds.AccessKeyID != "AKIDOLD" || creds.SecretAccessKey != "old" {
			t.Errorf("credentials %+v", creds)
		}
	})
	t.Run("emulators without credentials: the placeholder", func(t *testing.T) {
		cfg, err := loadFromEnv(t, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_REGION": "", "DYNAMODB_ENDPOINT": "http://127.0.0.1:8000"})
		if err != nil {
			t.Fatal(err)
		}
		if creds, _ := cfg.Credentials.Retrieve(ctx); creds.AccessKeyID != "local" || cfg.Region != DefaultEmulatorRegion {
			t.Errorf("credentials %+v, region %q", creds, cfg.Region)
		}
	})
	t.Run("emulators with credentials keep them", func(t *testing.T) {
		cfg, err := loadFromEnv(t, map[string]string{"DYNAMODB_ENDPOINT": "http://127.0.0.1:8000"})
		if err != nil {
			t.Fatal(err)
		}
		if creds, _ := cfg.Credentials.Retrieve(ctx); creds.AccessKeyID != "ASIAEXAMPLE" {
			t.Errorf("credentials %+v", creds)
		}
	})
	t.Run("FIPS and dual-stack endpoints", func(t *testing.T) {
		cfg, err := loadFromEnv(t, map[string]string{"AWS_USE_FIPS_ENDPOINT": "TRUE", "AWS_USE_DUALSTACK_ENDPOINT": "true"})
		if err != nil {
			t.Fatal(err)
		}
		o := dynamodb.NewFromConfig(cfg).Options()
		if o.EndpointOptions.UseFIPSEndpoint != aws.FIPSEndpointStateEnabled || o.EndpointOptions.UseDualStackEndpoint != aws.DualStackEndpointStateEnabled {
			t.Errorf("FIPS %v, dual-stack %v", o.EndpointOptions.UseFIPSEndpoint, o.EndpointOptions.UseDualStackEndpoint)
		}
		cfg, err = loadFromEnv(t, map[string]string{"AWS_USE_FIPS_ENDPOINT": "false"})
		if err != nil {
			t.Fatal(err)
		}
		if o := dynamodb.NewFromConfig(cfg).Options(); o.EndpointOptions.UseFIPSEndpoint != aws.FIPSEndpointStateDisabled {
			t.Errorf("FIPS %v", o.EndpointOptions.UseFIPSEndpoint)
		}
	})

	refused := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "no AWS credentials in the environment"},
		{map[string]string{"AWS_SECRET_ACCESS_KEY": ""}, "no AWS credentials in the environment"},
		{map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_PROFILE": "dev"}, "AWS_PROFILE: only the SDK's default chain reads it"},
		{map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"}, "AWS_ENDPOINT_URL_DYNAMODB: only the SDK's default chain reads it"},
		{map[string]string{"AWS_USE_FIPS_ENDPOINT": "yes"}, `AWS_USE_FIPS_ENDPOINT: "yes" is neither true nor false`},
		{map[string]string{"AWS_CA_BUNDLE": "/nonexistent/ca.pem"}, "AWS_CA_BUNDLE"},
		{map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.1/creds"}, "AWS_CONTAINER_CREDENTIALS_FULL_URI: http host \"192.0.2.1\" is not loopback"},
		{map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "ftp://127.0.0.1/creds"}, "neither http nor https"},
	}
	for _, tt := range refused {
		if _, err := loadFromEnv(t, tt.vars); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.vars, err, tt.want)
		}
	}
}

func TestAWSContainerCredentials(t *testing.T) {
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		_ = json.NewEncoder(w).Encode(map[string]string{
			"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "s", "Token": "t",
			"Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		})
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		vars map[string]string
		auth string
	}{
		{map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": "from-env"}, "from-env"},
		{map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile}, "from-file"},
	} {
		tt.vars["AWS_ACCESS_KEY_ID"], tt.vars["AWS_SECRET_ACCESS_KEY"] = "", ""
		tt.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = srv.URL + "/creds"
		cfg, err := loadFromEnv(t, tt.vars)
		if err != nil {
			t.Fatal(err)
		}
		auth = nil
		creds, err := cfg.Credentials.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if creds.AccessKeyID != "ASIACONTAINER" || creds.SessionToken != "t" || len(auth) != 1 || auth[0] != tt.auth {
			t.Errorf("credentials %+v, Authorization %q, want %q", creds, auth, tt.auth)
		}
	}
}

func TestAWSCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadFromEnv(t, map[string]string{"AWS_CA_BUNDLE": bundle})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	res, err := cfg.HTTPClient.Do(req)
	if err != nil {
		t.Fatalf("the bundle's certificate is not trusted: %v", err)
	}
	res.Body.Close()

	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte("no certificates"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadFromEnv(t, map[string]string{"AWS_CA_BUNDLE": empty}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a bundle without certificates: %v", err)
	}
}
