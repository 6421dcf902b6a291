package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/infra/local/runner"
	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/app"
	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
)

var jwtSecret = []byte("smoke-test-secret")

// localStack is `make run`: the template's routes, the whole app on the
// in-memory store, /_local/invoke for ops events. wrap adjusts the handler.
func localStack(t *testing.T, wrap func(http.Handler) http.Handler) (url, token string, outbox *notify.Outbox) {
	t.Helper()
	tpl, _, err := template.LoadProject()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	outbox = notify.NewOutbox(io.Discard, nil)
	logger := slog.New(slog.DiscardHandler)
	a, err := app.New(context.Background(), cfg, core.Options{Local: true, Logger: logger, Outbox: outbox})
	if err != nil {
		t.Fatal(err)
	}
	h, err := runner.New(runner.Options{
		Routes:    tpl.Routes(),
		Handlers:  a.Handlers(),
		JWTSecret: jwtSecret,
		Logger:    logger,
		Invoke:    a.Invoke,
	})
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	token, err = runner.SignHS256(jwtSecret, map[string]any{"sub": "smoke", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL, token, outbox
}

// TestSmokeAgainstLocalRun runs `make smoke … LOCAL=1` against the local
// runner: every check passes, and none of them sent a message.
func TestSmokeAgainstLocalRun(t *testing.T) {
	url, token, outbox := localStack(t, nil)
	var out, errs bytes.Buffer
	if rc := run([]string{"-url", url, "-token", token, "-local"}, &out, &errs); rc != 0 {
		t.Fatalf("smoke exited %d:\n%s%s", rc, out.String(), errs.String())
	}
	if n := strings.Count("\n"+out.String(), "\nok   "); n != len(List()) {
		t.Errorf("%d of %d checks passed:\n%s", n, len(List()), out.String())
	}
	if msgs := outbox.Messages(); len(msgs) != 0 {
		t.Errorf("the smoke test sent %d messages", len(msgs))
	}
}

// TestSmokeFailsWhenAFunctionDoesNotStart: a function that failed its cold
// start (a wrong KeysSecretArn) is what API Gateway answers 500 for; the
// smoke test names that route and fails.
func TestSmokeFailsWhenAFunctionDoesNotStart(t *testing.T) {
	url, token, _ := localStack(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/phone/unbind" || r.URL.Path == "/_local/invoke/UnbindFunction" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(500)
				io.WriteString(w, `{"message":"Internal Server Error"}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	var out bytes.Buffer
	if rc := run([]string{"-url", url, "-token", token, "-local"}, &out, io.Discard); rc != 1 {
		t.Fatalf("smoke exited %d, want 1:\n%s", rc, out.String())
	}
	for _, want := range []string{"FAIL POST /v1/phone/unbind {}: status 500", "FAIL UnbindFunction keys_check", "smoke: 2 check(s) failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// A wrong token is the other first-deploy failure (JwtIssuer).
	out.Reset()
	if rc := run([]string{"-url", url, "-token", "not-a-token", "-local"}, &out, io.Discard); rc != 1 || !strings.Contains(out.String(), "FAIL GET /v1/phone: status 401") {
		t.Errorf("a token the authorizer refuses: exit %d\n%s", rc, out.String())
	}
	// Without STACK or LOCAL the keys would go unproven: refused.
	var usage bytes.Buffer
	if rc := run([]string{"-url", url, "-token", "t"}, &out, &usage); rc != 2 || !strings.Contains(usage.String(), "STACK=") {
		t.Errorf("no way to invoke the functions: exit %d, %s", rc, usage.String())
	}
}

// TestAWSInvokerUsesTheStackOutputs runs the deployed-stack invoker with a
// stand-in aws command that answers as the AWS CLI v2 does.
func TestAWSInvokerUsesTheStackOutputs(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	script := `#!/bin/sh
echo "$@" >> ` + calls + `
case "$1 $2" in
"cloudformation describe-stacks") echo '[{"OutputKey":"UnbindFunctionName","OutputValue":"phonebind-dev-UnbindFunction-AbC"}]' ;;
"lambda invoke")
  for last; do :; done
  echo '{"ok":true,"action":"keys_check","result":{"current":"k1","keys":["k1"],"sealed_and_opened":true}}' > "$last"
  echo '{"StatusCode":200,"ExecutedVersion":"$LATEST"}' ;;
esac
`
	cli := filepath.Join(dir, "aws")
	if err := os.WriteFile(cli, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Smoke{Invoke: &AWSInvoker{Stack: "phonebind-dev", CLI: cli}}
	if err := s.keysCheck(context.Background(), "UnbindFunction"); err != nil {
		t.Fatal(err)
	}
	if err := s.keysCheck(context.Background(), "FeedbackFunction"); err == nil || !strings.Contains(err.Error(), "no output FeedbackFunctionName") {
		t.Errorf("a function the outputs do not name: %v", err)
	}
	raw, _ := os.ReadFile(calls)
	got := string(raw)
	for _, want := range []string{
		"cloudformation describe-stacks --stack-name phonebind-dev --query Stacks[0].Outputs --output json",
		`lambda invoke --function-name phonebind-dev-UnbindFunction-AbC --cli-binary-format raw-in-base64-out --payload {"action":"keys_check"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the aws calls lack %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "describe-stacks") != 1 {
		t.Errorf("the outputs were read more than once:\n%s", got)
	}
}
