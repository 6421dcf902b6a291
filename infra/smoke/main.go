// Command smoke runs the smoke list (docs/operations.md, "After a deploy")
// against a deployed stack or a local run:
//
//	make smoke URL=https://….execute-api….amazonaws.com/ TOKEN=<a portal access token> STACK=phonebind-prod
//	make smoke URL=http://127.0.0.1:3000 TOKEN=$(make -s token SUB=smoke) LOCAL=1
//
// Every route is called once (none sends an SMS or writes anything), and
// every function holding key material is invoked with keys_check: through
// the AWS CLI v2 with STACK (credentials for the stack's account, REGION or
// the CLI's default region), or through the runner with LOCAL. One of the
// two is required. It
// prints one line per check and exits 1 when any failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the API's base URL (stack output ApiUrl); required")
	token := fs.String("token", "", "a valid access token of the portal (a test account); required")
	stack := fs.String("stack", "", "stack name: invoke keys_check through the AWS CLI")
	region := fs.String("region", "", "the stack's region, for the AWS CLI (default: the CLI's own)")
	local := fs.Bool("local", false, "invoke keys_check through the local runner at -url (make run)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *url == "" || *token == "" || (*stack == "") == !*local {
		// Without a way to invoke the functions the keys would go
		// unproven, and a wrong KeysSecretArn pass the smoke test.
		fmt.Fprintln(stderr, "usage: make smoke URL=<ApiUrl> TOKEN=<access token> (STACK=<stack name> [REGION=<region>] | LOCAL=1)")
		return 2
	}
	s := &Smoke{URL: *url, Token: *token}
	switch {
	case *local:
		s.Invoke = LocalInvoker{URL: *url}
	case *stack != "":
		s.Invoke = &AWSInvoker{Stack: *stack, Region: *region}
	}
	if failed := s.Run(context.Background(), stdout); failed > 0 {
		fmt.Fprintf(stdout, "smoke: %d check(s) failed\n", failed)
		return 1
	}
	fmt.Fprintln(stdout, "smoke: all checks passed")
	return 0
}
