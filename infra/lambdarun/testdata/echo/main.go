// Command echo is a Lambda function for the harness's own tests: it answers
// with what it was sent and what the runtime told it, and fails on request.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Echo    json.RawMessage `json:"echo"`
	Fail    string          `json:"fail"`
	Panic   bool            `json:"panic"`
	SleepMS int             `json:"sleep_ms"`
	Print   string          `json:"print"`
	Big     int             `json:"big"`
}

type answer struct {
	Echo        json.RawMessage   `json:"echo,omitempty"`
	RequestID   string            `json:"request_id"`
	FunctionARN string            `json:"function_arn"`
	DeadlineIn  int64             `json:"deadline_in_ms"`
	Env         map[string]string `json:"env"`
	Big         string            `json:"big,omitempty"`
}

func main() {
	switch os.Getenv("ECHO_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "echo: configuration: ECHO_INIT asks to fail")
		os.Exit(3)
	case "post":
		// What a runtime that can explain its failure does.
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"errorType":"Echo.InitFailed","errorMessage":"asked to fail"}`))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Echo.InitFailed")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
		os.Exit(4)
	case "hang":
		time.Sleep(time.Hour)
	}
	lambda.Start(handle)
}

func handle(ctx context.Context, ev event) (answer, error) {
	if ev.Print != "" {
		fmt.Println(ev.Print)
	}
	if ev.SleepMS > 0 {
		time.Sleep(time.Duration(ev.SleepMS) * time.Millisecond)
	}
	if ev.Panic {
		panic("echo: asked to panic")
	}
	if ev.Fail != "" {
		return answer{}, errors.New(ev.Fail)
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	a := answer{Echo: ev.Echo, Env: map[string]string{}}
	if lc != nil {
		a.RequestID, a.FunctionARN = lc.AwsRequestID, lc.InvokedFunctionArn
	}
	a.DeadlineIn = time.Until(deadline).Milliseconds()
	for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "ECHO_EXTRA", "HOME", "_X_AMZN_TRACE_ID"} {
		a.Env[k] = os.Getenv(k)
	}
	if ev.Big > 0 {
		a.Big = strings.Repeat("x", ev.Big)
	}
	return a, nil
}
