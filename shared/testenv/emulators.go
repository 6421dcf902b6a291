package testenv

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Emulator endpoints come from the environment `make test` sets. A test
// that needs one skips with a clear message when it is unset, and fails
// instead when REQUIRE_EMULATORS=1 (as in `make test` and CI), so that a
// missing emulator can never pass as a skipped suite.

// DynamoDBEndpoint is DynamoDB Local's address (DYNAMODB_ENDPOINT).
func DynamoDBEndpoint(t testing.TB) string {
	t.Helper()
	return endpoint(t, "DYNAMODB_ENDPOINT", "DynamoDB Local")
}

// MotoEndpoint is moto_server's address (MOTO_ENDPOINT), without a
// trailing slash: SNS, SES v2, SQS and Secrets Manager on one port.
func MotoEndpoint(t testing.TB) string {
	t.Helper()
	return endpoint(t, "MOTO_ENDPOINT", "moto")
}

func endpoint(t testing.TB, name, what string) string {
	t.Helper()
	ep := os.Getenv(name)
	if ep == "" {
		Unavailable(t, fmt.Sprintf("%s is unset: run `make test` to start %s", name, what))
	}
	return strings.TrimRight(ep, "/")
}

// Unavailable ends a test that cannot run here (an emulator, or a tool the
// emulators come with, is missing): it skips with why, or fails with it
// when REQUIRE_EMULATORS=1.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("REQUIRE_EMULATORS") == "1" {
		t.Fatalf("REQUIRE_EMULATORS=1 but %s", why)
	}
	t.Skip(why)
}

// NoAWSProfile keeps the machine's own AWS settings (credentials, profile,
// config and credentials files) out of the SDK's way for the rest of t, so
// that a test of how the service finds its AWS configuration sees only the
// environment it sets.
func NoAWSProfile(t testing.TB) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
}
