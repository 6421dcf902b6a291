package lambdarun_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/infra/lambdarun"
)

// echoPath is the testdata/echo bootstrap, built once for the package with
// the Makefile's flags.
var echoPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdarun-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echoPath = filepath.Join(dir, "EchoFunction", "bootstrap")
	if err := lambdarun.Build(context.Background(), ".", lambdarun.Target{Package: "./testdata/echo", Out: echoPath}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func start(t *testing.T, o lambdarun.Options) *lambdarun.Function {
	t.Helper()
	if o.Path == "" {
		o.Path = echoPath
	}
	f, err := lambdarun.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

type answer struct {
	Echo        json.RawMessage   `json:"echo"`
	RequestID   string            `json:"request_id"`
	FunctionARN string            `json:"function_arn"`
	DeadlineIn  int64             `json:"deadline_in_ms"`
	Env         map[string]string `json:"env"`
}

func invoke(t *testing.T, f *lambdarun.Function, event string) (lambdarun.Result, answer) {
	t.Helper()
	res, err := f.Invoke(context.Background(), []byte(event))
	if err != nil {
		t.Fatalf("invoke %s: %v", event, err)
	}
	var a answer
	if res.Error == nil {
		if err := json.Unmarshal(res.Payload, &a); err != nil {
			t.Fatalf("response %s: %v", res.Payload, err)
		}
	}
	return res, a
}

func TestInvokeSpeaksTheRuntimeAPI(t *testing.T) {
	f := start(t, lambdarun.Options{Name: "echo-fn", MemoryMB: 256, Timeout: 5 * time.Second, Env: []string{"ECHO_EXTRA=yes", "AWS_REGION=eu-central-1"}})
	if f.InitDuration() <= 0 || f.InitDuration() > lambdarun.DefaultInitTimeout {
		t.Errorf("init duration %s", f.InitDuration())
	}
	seen := map[string]bool{}
	for i := range 3 {
		res, a := invoke(t, f, fmt.Sprintf(`{"echo":{"n":%d}}`, i))
		if res.Error != nil {
			t.Fatalf("function error: %v", res.Error)
		}
		if string(a.Echo) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Errorf("echo %s", a.Echo)
		}
		if a.RequestID == "" || a.RequestID != res.RequestID || seen[a.RequestID] {
			t.Errorf("request id %q (result %q), seen before %v", a.RequestID, res.RequestID, seen[a.RequestID])
		}
		seen[a.RequestID] = true
		if a.FunctionARN != "arn:aws:lambda:eu-central-1:123456789012:function:echo-fn" {
			t.Errorf("function ARN %q", a.FunctionARN)
		}
		if a.DeadlineIn < 4000 || a.DeadlineIn > 5000 {
			t.Errorf("deadline in %d ms, want about 5000", a.DeadlineIn)
		}
		if res.Duration <= 0 || res.BilledDuration() < res.Duration || res.BilledDuration()%time.Millisecond != 0 {
			t.Errorf("duration %s billed %s", res.Duration, res.BilledDuration())
		}
	}
	_, a := invoke(t, f, `{}`)
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "echo-fn",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_REGION":                      "eu-central-1",
		"ECHO_EXTRA":                      "yes",
		"HOME":                            "", // the host's environment does not leak in
	}
	for k, v := range want {
		if a.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, a.Env[k], v)
		}
	}
	if !strings.HasPrefix(a.Env["_X_AMZN_TRACE_ID"], "Root=1-") {
		t.Errorf("trace id %q", a.Env["_X_AMZN_TRACE_ID"])
	}
	if err := f.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestDurationIsTheHandlersTime(t *testing.T) {
	f := start(t, lambdarun.Options{})
	res, _ := invoke(t, f, `{"sleep_ms":50}`)
	if res.Duration < 50*time.Millisecond || res.Duration > 2*time.Second {
		t.Errorf("duration %s for a 50 ms handler", res.Duration)
	}
}

func TestFunctionErrorIsAResult(t *testing.T) {
	f := start(t, lambdarun.Options{})
	res, _ := invoke(t, f, `{"fail":"no such account"}`)
	if res.Error == nil || res.Error.Message != "no such account" || res.Error.Type != "errorString" || res.Payload != nil {
		t.Fatalf("result %+v, error %+v", res, res.Error)
	}
	// The environment goes on serving.
	if res, _ := invoke(t, f, `{"echo":1}`); res.Error != nil {
		t.Fatalf("after an error: %v", res.Error)
	}
}

func TestPanicEndsTheEnvironment(t *testing.T) {
	f := start(t, lambdarun.Options{})
	res, _ := invoke(t, f, `{"panic":true}`)
	if res.Error == nil || !strings.Contains(res.Error.Message, "asked to panic") {
		t.Fatalf("panic result %+v", res.Error)
	}
	_, err := f.Invoke(context.Background(), []byte(`{}`))
	if !errors.Is(err, lambdarun.ErrExited) {
		t.Fatalf("invoke after the panic: %v, want ErrExited", err)
	}
	if err := f.Close(); err == nil {
		t.Error("close after the process died on its own: no error")
	}
}

func TestTimeoutKills(t *testing.T) {
	f := start(t, lambdarun.Options{Timeout: 200 * time.Millisecond})
	_, err := f.Invoke(context.Background(), []byte(`{"sleep_ms":5000}`))
	if !errors.Is(err, lambdarun.ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if _, err := f.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, lambdarun.ErrExited) {
		t.Fatalf("after timeout: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("close after a timeout kill: %v", err)
	}
}

func TestResponseTooLarge(t *testing.T) {
	f := start(t, lambdarun.Options{})
	res, err := f.Invoke(context.Background(), fmt.Appendf(nil, `{"big":%d}`, lambdarun.MaxResponseSize+10))
	if err != nil {
		t.Fatal(err)
	}
	if res.Error == nil || res.Error.Type != "Function.ResponseSizeTooLarge" {
		t.Fatalf("error %+v", res.Error)
	}
}

func TestLogsAreKept(t *testing.T) {
	var out strings.Builder
	f := start(t, lambdarun.Options{Output: &syncWriter{b: &out}})
	invoke(t, f, `{"print":"hello from the handler"}`)
	_ = f.Close()
	if !strings.Contains(f.Logs(), "hello from the handler") || f.LogBytes() < int64(len("hello from the handler")) {
		t.Errorf("logs %q (%d bytes)", f.Logs(), f.LogBytes())
	}
	if !strings.Contains(out.String(), "hello from the handler") {
		t.Errorf("output %q", out.String())
	}
}

func TestInitFailures(t *testing.T) {
	for _, tc := range []struct {
		mode, want string
		timeout    time.Duration
	}{
		{"exit", "ECHO_INIT asks to fail", 0},
		{"post", "Echo.InitFailed", 0},
		{"hang", "no `next` call within", 300 * time.Millisecond},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			_, err := lambdarun.Start(context.Background(), lambdarun.Options{Path: echoPath, Env: []string{"ECHO_INIT=" + tc.mode}, InitTimeout: tc.timeout})
			var ie *lambdarun.InitError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want an InitError with %q", err, tc.want)
			}
			if tc.mode == "post" && (ie.Function == nil || ie.Function.Type != "Echo.InitFailed") {
				t.Errorf("posted init error %+v", ie.Function)
			}
		})
	}
}

func TestStartMissingBinary(t *testing.T) {
	if _, err := lambdarun.Start(context.Background(), lambdarun.Options{Path: filepath.Join(t.TempDir(), "bootstrap")}); err == nil {
		t.Fatal("no error for a missing bootstrap")
	}
}

func TestBilled(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{0, time.Millisecond},
		{time.Microsecond, time.Millisecond},
		{time.Millisecond, time.Millisecond},
		{time.Millisecond + 1, 2 * time.Millisecond},
		{12300 * time.Microsecond, 13 * time.Millisecond},
	} {
		if got := lambdarun.Billed(tc.in); got != tc.want {
			t.Errorf("Billed(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
