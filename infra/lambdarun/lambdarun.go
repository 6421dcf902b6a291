// Package lambdarun runs a built Lambda bootstrap the way the Lambda service
// runs a provided.al2023 function: it serves the Runtime API
// (/2018-06-01/runtime/invocation/next, …/response, …/error and
// /2018-06-01/runtime/init/error) on a loopback port, starts the bootstrap
// with AWS_LAMBDA_RUNTIME_API pointing there and a Lambda-like environment,
// hands it events one at a time and times what the service bills: the init
// phase (exec until the first `next`) and each invocation (event handed over
// until its response or error arrives).
//
// It proves that the artifact `sam build` zips speaks the Lambda protocol,
// as `sam local invoke` would in Docker, without Docker. It is not an
// emulator of the service's limits: there is no sandbox, no memory cap and
// no CPU share, so its timings are those of the host.
package lambdarun

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// APIVersion is the Runtime API version in every path.
const APIVersion = "2018-06-01"

// MaxResponseSize is the largest response payload of a synchronous
// invocation (6 MB); a bigger one fails the invocation, as in Lambda.
const MaxResponseSize = 6 * 1024 * 1024

// Defaults for Options fields left zero.
const (
	DefaultMemoryMB    = 128
	DefaultTimeout     = 3 * time.Second
	DefaultInitTimeout = 10 * time.Second
	// DefaultRegion is what AWS_REGION is when Options.Env does not set it.
	DefaultRegion = "us-east-1"
)

// Options say what to run and in which environment.
type Options struct {
	// Path is the bootstrap executable.
	Path string
	// Name is the function name (AWS_LAMBDA_FUNCTION_NAME); default the
	// name of the directory holding Path.
	Name string
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE (default 128). It sets no
	// limit: it is reported to the function and used for GB-seconds.
	MemoryMB int
	// Timeout is each invocation's deadline (Lambda-Runtime-Deadline-Ms);
	// an invocation that runs past it is killed with its process, as
	// Lambda does (default 3s, Lambda's default).
	Timeout time.Duration
	// InitTimeout bounds the init phase (default 10s, Lambda's limit).
	InitTimeout time.Duration
	// Env is added to the Lambda environment as KEY=VALUE; a key the
	// harness sets too (AWS_REGION, …) takes this value. The host's own
	// environment is not passed on.
	Env []string
	// Output receives the function's stdout and stderr, as CloudWatch Logs
	// would. Logs keeps their tail whatever Output is.
	Output io.Writer
}

// Function is one running execution environment: a bootstrap process and
// the Runtime API it polls. Invoke sends it events one at a time. A
// Function whose process exits (a panic, a timeout) is dead; Start another,
// as Lambda starts a new environment.
type Function struct {
	name    string
	arn     string
	timeout time.Duration
	memory  int

	ln   net.Listener
	srv  *http.Server
	cmd  *exec.Cmd
	logs *tailBuffer

	started   time.Time
	initOnce  sync.Once
	initDur   time.Duration
	initDone  chan struct{}
	initError chan *FunctionError

	queue   chan *invocation
	exited  chan struct{}
	waitErr error
	closing chan struct{}

	mu       sync.Mutex
	inflight map[string]*invocation
	closed   bool
	killed   bool
}

// invocation is one event on its way through the runtime.
type invocation struct {
	id      string
	payload []byte
	sent    time.Time
	done    chan Result
}

// Result is what an invocation came back with.
type Result struct {
	// RequestID is the Lambda-Runtime-Aws-Request-Id the event carried.
	RequestID string
	// Payload is the response body (nil when Error is set).
	Payload []byte
	// Error is set when the function reported a failure on …/error (a
	// handler error or a panic), or on the response's error trailers.
	Error *FunctionError
	// Duration runs from the moment the event was handed to the runtime's
	// `next` call until its response or error arrived: Lambda's Duration.
	Duration time.Duration
}

// BilledDuration is Lambda's billed duration: the duration rounded up to
// the next millisecond.
func (r Result) BilledDuration() time.Duration { return Billed(r.Duration) }

// Billed rounds d up to a whole millisecond (at least one), as Lambda bills.
func Billed(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Millisecond
	}
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

// FunctionError is an error a runtime reported, in the Runtime API's shape.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
	// Body is the whole error document as posted.
	Body []byte `json:"-"`
}

func (e *FunctionError) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// InitError is a failed init phase: the runtime posted to /init/error, or
// the process exited or hung before its first `next`.
type InitError struct {
	// Function is set when the runtime posted to /init/error.
	Function *FunctionError
	// Exit is the process's exit error when it ended before `next`.
	Exit error
	// Logs is the tail of what the process printed.
	Logs string
	msg  string
}

func (e *InitError) Error() string {
	s := "init failed: " + e.msg
	if e.Logs != "" {
		s += "\n--- function output (tail) ---\n" + e.Logs
	}
	return s
}

func (e *InitError) Unwrap() error {
	if e.Function != nil {
		return e.Function
	}
	return e.Exit
}

// ErrTimeout is returned by Invoke when the function ran past its deadline;
// the process is killed, as Lambda ends the environment.
var ErrTimeout = errors.New("task timed out")

// ErrExited is returned by Invoke when the process is not running.
var ErrExited = errors.New("function process exited")

// Start starts the bootstrap and waits until its runtime asks for the first
// event, which ends the init phase (InitDuration). The process lives until
// Close.
func Start(ctx context.Context, o Options) (*Function, error) {
	path, err := filepath.Abs(o.Path)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: %w", err)
	}
	f := &Function{
		name:      o.Name,
		timeout:   o.Timeout,
		memory:    o.MemoryMB,
		logs:      newTailBuffer(64 << 10),
		initDone:  make(chan struct{}),
		initError: make(chan *FunctionError, 1),
		queue:     make(chan *invocation),
		exited:    make(chan struct{}),
		closing:   make(chan struct{}),
		inflight:  map[string]*invocation{},
	}
	if f.name == "" {
		f.name = filepath.Base(filepath.Dir(path))
	}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	if f.memory <= 0 {
		f.memory = DefaultMemoryMB
	}
	initTimeout := o.InitTimeout
	if initTimeout <= 0 {
		initTimeout = DefaultInitTimeout
	}

	f.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdarun: listen: %w", err)
	}
	env := f.environment(path, o.Env)
	f.arn = "arn:aws:lambda:" + env["AWS_REGION"] + ":123456789012:function:" + f.name
	f.srv = &http.Server{Handler: f.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(f.ln) }()

	f.cmd = exec.Command(path)
	f.cmd.Dir = filepath.Dir(path)
	f.cmd.Env = envList(env)
	var out io.Writer = f.logs
	if o.Output != nil {
		out = io.MultiWriter(f.logs, o.Output)
	}
	f.cmd.Stdout, f.cmd.Stderr = out, out
	f.cmd.WaitDelay = time.Second

	// The Runtime API already listens; the clock starts at exec.
	f.mu.Lock()
	f.started = time.Now()
	f.mu.Unlock()
	if err := f.cmd.Start(); err != nil {
		_ = f.srv.Close()
		return nil, fmt.Errorf("lambdarun: start %s: %w", path, err)
	}
	fail := func(e *InitError) (*Function, error) {
		_ = f.Close()
		e.Logs = f.logs.String()
		return nil, e
	}
	go func() {
		f.waitErr = f.cmd.Wait()
		close(f.exited)
	}()

	timer := time.NewTimer(initTimeout)
	defer timer.Stop()
	select {
	case <-f.initDone:
		return f, nil
	case fe := <-f.initError:
		return fail(&InitError{Function: fe, msg: "the runtime reported " + fe.Error()})
	case <-f.exited:
		return fail(&InitError{Exit: f.waitErr, msg: fmt.Sprintf("the process exited before asking for an event (%v)", f.waitErr)})
	case <-timer.C:
		return fail(&InitError{msg: fmt.Sprintf("no `next` call within %s", initTimeout)})
	case <-ctx.Done():
		return fail(&InitError{msg: ctx.Err().Error()})
	}
}

// environment is what Lambda gives a provided.al2023 function, plus extra.
func (f *Function) environment(path string, extra []string) map[string]string {
	dir := filepath.Dir(path)
	env := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          f.ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME":        f.name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(f.memory),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]lambdarun",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"AWS_REGION":                      DefaultRegion,
		"AWS_DEFAULT_REGION":              DefaultRegion,
		"LAMBDA_TASK_ROOT":                dir,
		"LAMBDA_RUNTIME_DIR":              dir,
		"_HANDLER":                        filepath.Base(path),
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	}
	for _, kv := range extra {
		k, v, _ := cutEnv(kv)
		env[k] = v
	}
	return env
}

func cutEnv(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// InitDuration is the init phase: from exec until the runtime's first
// `next` call (Lambda's Init Duration).
func (f *Function) InitDuration() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.initDur
}

// MemoryMB is the memory size the function was told it has.
func (f *Function) MemoryMB() int { return f.memory }

// Logs returns the tail (up to 64 KiB) of what the process printed.
func (f *Function) Logs() string { return f.logs.String() }

// LogBytes is how many bytes the process has printed so far: what
// CloudWatch Logs would ingest from it, before Lambda's own lines.
func (f *Function) LogBytes() int64 { return f.logs.Total() }

// Invoke hands event to the runtime and waits for its answer. A function
// error is a Result with Error set, not a Go error; Go errors mean the
// invocation did not complete (ErrTimeout, ErrExited, ctx).
func (f *Function) Invoke(ctx context.Context, event []byte) (Result, error) {
	inv := &invocation{id: newRequestID(), payload: event, done: make(chan Result, 1)}
	deadline := time.NewTimer(f.timeout + 100*time.Millisecond)
	defer deadline.Stop()
	select {
	case f.queue <- inv:
	case <-f.exited:
		return Result{}, f.exitError()
	case <-f.closing:
		return Result{}, ErrExited
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-deadline.C:
		return Result{}, errors.New("lambdarun: the runtime did not ask for the event (is it stuck in a previous invocation?)")
	}
	select {
	case r := <-inv.done:
		return r, nil
	case <-f.exited:
		select {
		case r := <-inv.done:
			return r, nil
		default:
		}
		return Result{RequestID: inv.id}, f.exitError()
	case <-deadline.C:
		f.kill()
		return Result{RequestID: inv.id, Duration: f.timeout}, fmt.Errorf("%w after %s", ErrTimeout, f.timeout)
	case <-ctx.Done():
		return Result{RequestID: inv.id}, ctx.Err()
	}
}

func (f *Function) exitError() error {
	<-f.exited
	return fmt.Errorf("%w (%v)\n--- function output (tail) ---\n%s", ErrExited, f.waitErr, f.logs.String())
}

// Close ends the environment: it kills the process (Lambda sends SIGKILL
// to a runtime without extensions) and stops the Runtime API. It returns an
// error when the process had already exited on its own, which a Lambda
// runtime never should.
func (f *Function) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	f.mu.Unlock()

	var err error
	select {
	case <-f.exited:
		f.mu.Lock()
		killed := f.killed
		f.mu.Unlock()
		if !killed {
			err = f.exitError()
		}
	default:
	}
	f.kill()
	close(f.closing)
	_ = f.srv.Close()
	return err
}

// kill ends the process and waits for it.
func (f *Function) kill() {
	f.mu.Lock()
	f.killed = true
	f.mu.Unlock()
	_ = f.cmd.Process.Kill()
	<-f.exited
}

// routes is the Runtime API.
func (f *Function) routes() http.Handler {
	mux := http.NewServeMux()
	base := "/" + APIVersion + "/runtime/"
	mux.HandleFunc("GET "+base+"invocation/next", f.next)
	mux.HandleFunc("POST "+base+"invocation/{id}/response", f.response)
	mux.HandleFunc("POST "+base+"invocation/{id}/error", f.invocationError)
	mux.HandleFunc("POST "+base+"init/error", f.initErrorPosted)
	return mux
}

func (f *Function) markInit() {
	now := time.Now()
	f.initOnce.Do(func() {
		f.mu.Lock()
		f.initDur = now.Sub(f.started)
		f.mu.Unlock()
		close(f.initDone)
	})
}

// next long-polls for an event, as the service's Runtime API does.
func (f *Function) next(w http.ResponseWriter, r *http.Request) {
	f.markInit()
	select {
	case inv := <-f.queue:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(f.timeout).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", f.arn)
		h.Set("Lambda-Runtime-Trace-Id", traceID())
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
		inv.sent = time.Now()
		f.mu.Lock()
		f.inflight[inv.id] = inv
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
	case <-f.closing:
		apiError(w, http.StatusInternalServerError, "Runtime.Shutdown", "the environment is shutting down")
	case <-r.Context().Done():
	}
}

// take removes the in-flight invocation id, which may answer only once.
func (f *Function) take(w http.ResponseWriter, r *http.Request) *invocation {
	id := r.PathValue("id")
	f.mu.Lock()
	inv := f.inflight[id]
	delete(f.inflight, id)
	f.mu.Unlock()
	if inv == nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+strconv.Quote(id)+" is in flight")
	}
	return inv
}

func (f *Function) response(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize+1))
	end := time.Now()
	inv := f.take(w, r)
	if inv == nil {
		return
	}
	res := Result{RequestID: inv.id, Duration: end.Sub(inv.sent)}
	switch {
	case err != nil:
		res.Error = &FunctionError{Type: "Runtime.ResponseReadError", Message: err.Error()}
	case len(body) > MaxResponseSize:
		res.Error = &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: fmt.Sprintf("response payload larger than %d bytes", MaxResponseSize)}
		inv.done <- res
		apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", res.Error.Message)
		return
	case r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		// A response stream that failed midway reports its error in trailers.
		res.Error = &FunctionError{Type: r.Trailer.Get("Lambda-Runtime-Function-Error-Type")}
		if raw, derr := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body")); derr == nil {
			res.Error.Body = raw
			_ = json.Unmarshal(raw, res.Error)
		}
	default:
		res.Payload = body
	}
	inv.done <- res
	accepted(w)
}

func (f *Function) invocationError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize))
	end := time.Now()
	inv := f.take(w, r)
	if inv == nil {
		return
	}
	inv.done <- Result{RequestID: inv.id, Duration: end.Sub(inv.sent), Error: parseError(body, r.Header)}
	accepted(w)
}

func (f *Function) initErrorPosted(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize))
	select {
	case f.initError <- parseError(body, r.Header):
	default:
	}
	accepted(w)
}

func parseError(body []byte, h http.Header) *FunctionError {
	fe := &FunctionError{Body: body}
	if err := json.Unmarshal(body, fe); err != nil {
		fe.Message = string(body)
	}
	if t := h.Get("Lambda-Runtime-Function-Error-Type"); t != "" && fe.Type == "" {
		fe.Type = t
	}
	return fe
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(FunctionError{Type: typ, Message: msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func traceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), h[:24], h[24:40])
}

// tailBuffer keeps the last max bytes written and counts them all.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	max   int
	total int64
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) > t.max {
		return string(t.buf[len(t.buf)-t.max:])
	}
	return string(t.buf)
}

func (t *tailBuffer) Total() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}
