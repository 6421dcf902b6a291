// Command invoke runs one Lambda event through one function, as
// `sam local invoke` would: `make invoke FN=unbind EVENT=infra/events/support-unbind.json`.
//
// It sends the event to the running `make run` (POST /_local/invoke/FN on
// 127.0.0.1:$PORT, PORT 3000 by default), so the event sees and changes the
// same store as the API you are calling with curl; it first asks
// GET /_local/runner, so that another server on the port is not taken for
// it. With no runner there it fails naming the address it tried, unless
// DYNAMODB_ENDPOINT names a table to share (then it runs the function in
// this process on that table) or -memory asks for a fresh in-memory store.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"time"

	"github.com/gosuslugi/phonebind/infra/local/runner"
	"github.com/gosuslugi/phonebind/shared/app"
	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
)

func main() {
	fn := flag.String("fn", "", "function: directory under functions/ (unbind) or logical id (UnbindFunction)")
	eventPath := flag.String("event", "", "file with the event JSON (infra/events/…)")
	api := flag.String("url", "", "local API to send the event to (default http://127.0.0.1:$PORT, PORT 3000)")
	memory := flag.Bool("memory", false, "run the function in this process on a fresh in-memory store, whether or not `make run` is up")
	flag.Parse()
	if *fn == "" || *eventPath == "" {
		fmt.Fprintln(os.Stderr, "usage: make invoke FN=<function> EVENT=<file>   e.g. make invoke FN=unbind EVENT=infra/events/support-unbind.json")
		os.Exit(2)
	}
	if *api == "" {
		port := os.Getenv("PORT")
		if port == "" {
			port = "3000"
		}
		*api = "http://127.0.0.1:" + port
	}
	where := target{api: *api, memory: *memory, table: os.Getenv("DYNAMODB_ENDPOINT")}
	if err := run(context.Background(), *fn, *eventPath, where, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

// target is where an event goes: the local API at api, or, with memory
// or when no runner answers and table (DYNAMODB_ENDPOINT) is set, this
// process.
type target struct {
	api    string
	memory bool
	table  string
}

func run(ctx context.Context, fn, eventPath string, where target, stdout, stderr io.Writer) error {
	event, err := os.ReadFile(eventPath)
	if err != nil {
		return err
	}
	if !json.Valid(event) {
		return fmt.Errorf("%s is not valid JSON", eventPath)
	}
	out, err := send(ctx, fn, event, where, stderr)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

// send runs the event where it should go and returns the result.
func send(ctx context.Context, fn string, event []byte, where target, stderr io.Writer) ([]byte, error) {
	if where.memory {
		fmt.Fprintf(stderr, "invoke: running %s in this process on a fresh in-memory store (-memory)\n", fn)
		return inProcess(ctx, fn, event, stderr)
	}
	err := probe(ctx, where.api)
	switch {
	case err == nil:
		return viaRunner(ctx, where.api, fn, event)
	case errors.Is(err, errNoRunner) && where.table != "":
		fmt.Fprintf(stderr, "invoke: %v; running %s in this process on the table at DYNAMODB_ENDPOINT=%s\n", err, fn, where.table)
		return inProcess(ctx, fn, event, stderr)
	case errors.Is(err, errNoRunner):
		return nil, fmt.Errorf("%w: start `make run` first (or set PORT to the port it prints), "+
			"or pass MEMORY=1 (-memory) to run %s on a fresh in-memory store", err, fn)
	}
	return nil, err
}

// errNoRunner is a probe that found nothing listening.
var errNoRunner = errors.New("no local API")

// probe asks the server at api whether it is `make run`'s runner
// (GET /_local/runner). Nothing listening is errNoRunner, naming the port;
// another server there is an error that says so.
func probe(ctx context.Context, api string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+runner.RunnerPath, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w listens on port %s (tried %s)", errNoRunner, port(api), api)
	}
	if err != nil {
		return fmt.Errorf("ask %s whether it is `make run`: %w", api, err)
	}
	defer res.Body.Close()
	var info runner.RunnerInfo
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &info) != nil || info.Service != runner.RunnerService {
		return fmt.Errorf("port %s answers, but not as `make run` does (GET %s%s: %s): set PORT to the port `make run` prints",
			port(api), api, runner.RunnerPath, res.Status)
	}
	return nil
}

// port is the port of api, for messages.
func port(api string) string {
	u, err := url.Parse(api)
	if err != nil || u.Port() == "" {
		return api
	}
	return u.Port()
}

// viaRunner posts the event to a running `make run`.
func viaRunner(ctx context.Context, api, fn string, event []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return runner.Invoke(ctx, api, fn, event)
}

// inProcess assembles the service from the environment, as `make run` does,
// and runs the event through it.
func inProcess(ctx context.Context, fn string, event []byte, stderr io.Writer) ([]byte, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	a, err := app.New(ctx, cfg, core.Options{Local: true, Logger: logger, Outbox: notify.NewOutbox(stderr, nil)})
	if err != nil {
		return nil, err
	}
	out, err := a.Invoke(ctx, fn, event)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
