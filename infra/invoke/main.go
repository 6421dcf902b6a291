// Command invoke runs one Lambda event through one function, as
// `sam local invoke` would: `make invoke FN=unbind EVENT=infra/events/support-unbind.json`.
//
// When `make run` is up it sends the event there (POST /_local/invoke/FN), so
// the event sees and changes the same store as the API you are calling with
// curl. Otherwise it assembles the service in this process from the same
// environment variables: with DYNAMODB_ENDPOINT that is the same table,
// without it a fresh in-memory store.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/gosuslugi/phonebind/shared/app"
	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
)

func main() {
	fn := flag.String("fn", "", "function: directory under functions/ (unbind) or logical id (UnbindFunction)")
	eventPath := flag.String("event", "", "file with the event JSON (infra/events/…)")
	url := flag.String("url", "", "local API to send the event to (default http://127.0.0.1:$PORT, PORT 3000)")
	flag.Parse()
	if *fn == "" || *eventPath == "" {
		fmt.Fprintln(os.Stderr, "usage: make invoke FN=<function> EVENT=<file>   e.g. make invoke FN=unbind EVENT=infra/events/support-unbind.json")
		os.Exit(2)
	}
	if *url == "" {
		port := os.Getenv("PORT")
		if port == "" {
			port = "3000"
		}
		*url = "http://127.0.0.1:" + port
	}
	if err := run(context.Background(), *fn, *eventPath, *url, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, fn, eventPath, url string, stdout, stderr io.Writer) error {
	event, err := os.ReadFile(eventPath)
	if err != nil {
		return err
	}
	if !json.Valid(event) {
		return fmt.Errorf("%s is not valid JSON", eventPath)
	}
	out, err := viaRunner(ctx, url, fn, event)
	if errors.Is(err, syscall.ECONNREFUSED) {
		fmt.Fprintf(stderr, "invoke: no local API at %s; running %s in this process (start `make run` first to share its store)\n", url, fn)
		out, err = inProcess(ctx, fn, event, stderr)
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

// viaRunner posts the event to a running `make run`.
func viaRunner(ctx context.Context, url, fn string, event []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/_local/invoke/"+fn, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", res.Status, bytes.TrimSpace(body))
	}
	return body, nil
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
	h, err := a.Lambda(fn)
	if err != nil {
		return nil, err
	}
	out, err := h(ctx, event)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
