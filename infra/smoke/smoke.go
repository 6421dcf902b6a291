package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosuslugi/phonebind/infra/local/runner"
)

// Check is one item of the smoke list: what it proves, and how.
type Check struct {
	Name  string
	Proof string
	Run   func(ctx context.Context, s *Smoke) error
}

// Invoker runs an ops event through a deployed function by logical id and
// returns the function's JSON answer.
type Invoker interface {
	Invoke(ctx context.Context, logicalID string, event string) ([]byte, error)
}

// Smoke is one run against a stack: its API, a real token, and (when set)
// a way to invoke functions directly.
type Smoke struct {
	URL    string
	Token  string
	Invoke Invoker
	Client *http.Client
}

// keyHolders are the functions that load the key ring at their cold start
// (status holds none).
var keyHolders = []string{"RequestCodeFunction", "ConfirmCodeFunction", "UnbindFunction", "FeedbackFunction"}

// List is the smoke list, in the order the runbook gives it. None of it
// sends an SMS or an e-mail, binds a number or files a ticket: the POSTs
// carry an empty body, which every function refuses after its cold start
// (key ring loaded) and before doing anything.
func List() []Check {
	list := []Check{
		{"no token is refused", "the JWT authorizer stands in front of the API",
			func(ctx context.Context, s *Smoke) error {
				return s.expect(ctx, "GET", "/v1/phone", "", false, 401, "")
			}},
		{"GET /v1/phone", "the token's issuer and audience match JwtIssuer and JwtAudience; status reads the table through its KMS key",
			func(ctx context.Context, s *Smoke) error {
				return s.expect(ctx, "GET", "/v1/phone", "", true, 200, "status")
			}},
		{"GET /v1/feedback", "the feedback function started, key ring loaded",
			func(ctx context.Context, s *Smoke) error {
				return s.expect(ctx, "GET", "/v1/feedback", "", true, 200, "tickets")
			}},
	}
	for _, p := range []string{"/v1/phone/verification", "/v1/phone/verification/confirm", "/v1/phone/unbind"} {
		list = append(list, Check{"POST " + p + " {}", "its function started (key ring loaded) and answers with a problem of its own",
			func(ctx context.Context, s *Smoke) error {
				return s.expect(ctx, "POST", p, "{}", true, 422, "code")
			}})
	}
	for _, fn := range keyHolders {
		list = append(list, Check{fn + " keys_check", "the key ring seals and opens a test value (KeysSecretArn names working key material)",
			func(ctx context.Context, s *Smoke) error { return s.keysCheck(ctx, fn) }})
	}
	return list
}

// Run runs every check, writes one line per check to out, and returns the
// number that failed.
func (s *Smoke) Run(ctx context.Context, out io.Writer) int {
	failed := 0
	for _, c := range List() {
		err := c.Run(ctx, s)
		switch {
		case err == errSkipped:
			fmt.Fprintf(out, "SKIP %s: no STACK given, so no direct invocation\n", c.Name)
		case err != nil:
			failed++
			fmt.Fprintf(out, "FAIL %s: %v\n     (proves: %s)\n", c.Name, err, c.Proof)
		default:
			fmt.Fprintf(out, "ok   %s: %s\n", c.Name, c.Proof)
		}
	}
	return failed
}

var errSkipped = fmt.Errorf("skipped")

// expect sends one request and checks its status and that the JSON body
// has the field want (a service answer, not API Gateway's own
// {"message": …}).
func (s *Smoke) expect(ctx context.Context, method, path, body string, auth bool, status int, want string) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(s.URL, "/")+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != status {
		return fmt.Errorf("status %d, want %d: %s", res.StatusCode, status, snippet(raw))
	}
	if want == "" {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields[want] == nil {
		return fmt.Errorf("the answer has no %q: %s", want, snippet(raw))
	}
	return nil
}

// keysCheck invokes {"action":"keys_check"} on one function.
func (s *Smoke) keysCheck(ctx context.Context, logicalID string) error {
	if s.Invoke == nil {
		return errSkipped
	}
	raw, err := s.Invoke.Invoke(ctx, logicalID, `{"action":"keys_check"}`)
	if err != nil {
		return err
	}
	var res struct {
		OK     bool `json:"ok"`
		Result struct {
			Current         string   `json:"current"`
			Keys            []string `json:"keys"`
			SealedAndOpened bool     `json:"sealed_and_opened"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || !res.OK || !res.Result.SealedAndOpened {
		return fmt.Errorf("keys_check answered %s", snippet(raw))
	}
	return nil
}

// snippet keeps error lines short.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// LocalInvoker invokes through the local runner's POST /_local/invoke/{function}.
type LocalInvoker struct {
	URL string
}

// Invoke implements Invoker.
func (l LocalInvoker) Invoke(ctx context.Context, logicalID, event string) ([]byte, error) {
	return runner.Invoke(ctx, l.URL, logicalID, []byte(event))
}

// AWSInvoker invokes deployed functions with the AWS CLI (v2), finding
// their names in the stack's outputs (<LogicalId>Name).
type AWSInvoker struct {
	Stack string
	// Region is the stack's region; "" leaves it to the CLI's settings.
	Region string
	// CLI is the aws command; "" means "aws" from PATH.
	CLI   string
	names map[string]string
}

func (a *AWSInvoker) aws(ctx context.Context, args ...string) ([]byte, error) {
	cli := a.CLI
	if cli == "" {
		cli = "aws"
	}
	var stderr bytes.Buffer
	if a.Region != "" {
		args = append(args, "--region", a.Region)
	}
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("aws %s: %w: %s", args[0]+" "+args[1], err, snippet(stderr.Bytes()))
	}
	return out, nil
}

// Invoke implements Invoker.
func (a *AWSInvoker) Invoke(ctx context.Context, logicalID, event string) ([]byte, error) {
	if a.names == nil {
		raw, err := a.aws(ctx, "cloudformation", "describe-stacks", "--stack-name", a.Stack,
			"--query", "Stacks[0].Outputs", "--output", "json")
		if err != nil {
			return nil, err
		}
		var outputs []struct{ OutputKey, OutputValue string }
		if err := json.Unmarshal(raw, &outputs); err != nil {
			return nil, fmt.Errorf("stack %s outputs: %w", a.Stack, err)
		}
		a.names = map[string]string{}
		for _, o := range outputs {
			a.names[o.OutputKey] = o.OutputValue
		}
	}
	name := a.names[logicalID+"Name"]
	if name == "" {
		return nil, fmt.Errorf("stack %s has no output %sName", a.Stack, logicalID)
	}
	dir, err := os.MkdirTemp("", "smoke")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	result := filepath.Join(dir, "result.json")
	raw, err := a.aws(ctx, "lambda", "invoke", "--function-name", name,
		"--cli-binary-format", "raw-in-base64-out", "--payload", event, "--output", "json", result)
	if err != nil {
		return nil, err
	}
	var meta struct{ FunctionError string }
	if json.Unmarshal(raw, &meta) == nil && meta.FunctionError != "" {
		body, _ := os.ReadFile(result)
		return nil, fmt.Errorf("%s failed (%s): %s", name, meta.FunctionError, snippet(body))
	}
	return os.ReadFile(result)
}
