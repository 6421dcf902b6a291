package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/infra/local/runner"
	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/httpapi"
)

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestTokenClaims(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-sub", "alice", "-email", "a@example.org", "-ttl", "1h"}, env(nil), &out, &errOut, now); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSuffix(out.String(), "\n")
	if strings.ContainsAny(tok, " \n") || strings.Count(tok, ".") != 2 || errOut.Len() != 0 {
		t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "alice" || claims["email"] != "a@example.org" || claims["email_verified"] != true ||
		claims["exp"] != float64(now.Add(time.Hour).Unix()) || claims["iat"] != float64(now.Unix()) {
		t.Errorf("claims = %v", claims)
	}
	// By default a fresh two-factor session: step-up passes.
	if amr, _ := claims["amr"].([]any); len(amr) != 2 || amr[0] != "pwd" || amr[1] != "mfa" || claims["auth_time"] != float64(now.Unix()) {
		t.Errorf("step-up claims = %v", claims)
	}
}

func TestTokenSessionStrength(t *testing.T) {
	tests := []struct {
		args     []string
		amr      []any
		authTime time.Time
	}{
		{[]string{"-amr", "pwd"}, []any{"pwd"}, now},
		{[]string{"-auth-time", "20m"}, []any{"pwd", "mfa"}, now.Add(-20 * time.Minute)},
		{[]string{"-amr", "pwd,otp", "-auth-time", "2025-03-01T11:00:00Z"}, []any{"pwd", "otp"}, now.Add(-time.Hour)},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := run(append([]string{"-sub", "alice"}, tt.args...), env(nil), &out, &bytes.Buffer{}, now); err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(strings.TrimSpace(out.String()), ".")[1])
		var claims map[string]any
		if err := json.Unmarshal(raw, &claims); err != nil {
			t.Fatal(err)
		}
		amr, _ := claims["amr"].([]any)
		if fmt.Sprint(amr) != fmt.Sprint(tt.amr) || claims["auth_time"] != float64(tt.authTime.Unix()) || claims["email_verified"] != nil {
			t.Errorf("%v: claims %v", tt.args, claims)
		}
	}
	if err := run([]string{"-sub", "alice", "-auth-time", "yesterday"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{}, now); err == nil {
		t.Error("-auth-time yesterday accepted")
	}
}

// TestRunnerAccepts signs with the environment's secret and has a runner
// configured with the same secret let the token through.
func TestRunnerAccepts(t *testing.T) {
	for _, secret := range []string{"", "custom"} {
		var out bytes.Buffer
		if err := run([]string{"-sub", "bob"}, env(map[string]string{"LOCAL_JWT_SECRET": secret}), &out, &bytes.Buffer{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		want := secret
		if want == "" {
			want = defaultSecret
		}
		var gotSub string
		h, err := runner.New(runner.Options{
			JWTSecret: []byte(want),
			Routes:    []template.Route{{FunctionID: "S", Method: "GET", Path: "/v1/phone"}},
			Handlers: map[string]httpapi.Handler{"S": func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				gotSub = req.RequestContext.Authorizer.JWT.Claims["sub"]
				return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/v1/phone", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(out.String()))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || gotSub != "bob" {
			t.Errorf("secret %q: status %d, sub %q", secret, rec.Code, gotSub)
		}
	}
}

func TestTokenUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"-email", "a@b.c"}, {"-sub", "a", "-ttl", "-1h"}, {"-sub", "a", "extra"}, {"-bogus"}} {
		var out bytes.Buffer
		if err := run(args, env(nil), &out, &bytes.Buffer{}, now); err == nil {
			t.Errorf("%q: no error", args)
		}
		if out.Len() != 0 {
			t.Errorf("%q: stdout %q", args, out.String())
		}
	}
}
