package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gosuslugi/phonebind/infra/local/runner"
)

const sample = "../events/support-unbind.json"

// startRunner serves a real runner whose invoke answers with fn's result.
func startRunner(t *testing.T, fn runner.Invoker) *httptest.Server {
	t.Helper()
	h, err := runner.New(runner.Options{JWTSecret: []byte("x"), Invoke: fn, About: "in-memory store"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// closedPort is an address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	return addr
}

func TestSendsToRunningAPI(t *testing.T) {
	var gotFn, gotBody string
	srv := startRunner(t, func(_ context.Context, fn string, event json.RawMessage) (any, error) {
		gotFn, gotBody = fn, string(event)
		return map[string]bool{"ok": true}, nil
	})
	var out, errs bytes.Buffer
	if err := run(context.Background(), "unbind", sample, target{api: srv.URL}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if gotFn != "unbind" || !strings.Contains(gotBody, `"support_unbind"`) || out.String() != "{\n  \"ok\": true\n}\n" {
		t.Fatalf("fn %s body %s out %q", gotFn, gotBody, out.String())
	}
}

func TestReportsFunctionErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == runner.RunnerPath {
			_ = json.NewEncoder(w).Encode(runner.RunnerInfo{Service: runner.RunnerService})
			return
		}
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"errorMessage":"no function \"x\""}`))
	}))
	defer srv.Close()
	err := run(context.Background(), "x", sample, target{api: srv.URL}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no function") {
		t.Fatalf("err = %v", err)
	}
}

// With nothing on the port, invoke fails naming the port it tried instead
// of running the event against an empty store nobody else sees.
func TestFailsWithoutRunner(t *testing.T) {
	api := closedPort(t)
	var out, errs bytes.Buffer
	err := run(context.Background(), "unbind", sample, target{api: api}, &out, &errs)
	port := api[strings.LastIndex(api, ":")+1:]
	if err == nil || !strings.Contains(err.Error(), "port "+port) || !strings.Contains(err.Error(), "make run") ||
		!strings.Contains(err.Error(), "MEMORY=1") || out.Len() != 0 {
		t.Fatalf("err = %v, out %q", err, out.String())
	}
}

// Another server on the port (a front end's dev server on 3000) is not
// taken for the runner: nothing is posted to it.
func TestRefusesAnotherServer(t *testing.T) {
	var posts int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts++
		}
		_, _ = w.Write([]byte("<!doctype html><title>vite</title>"))
	}))
	defer srv.Close()
	err := run(context.Background(), "unbind", sample, target{api: srv.URL}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not as `make run`") || posts != 0 {
		t.Fatalf("err = %v, %d posts", err, posts)
	}
}

func TestRunsInMemoryWhenAsked(t *testing.T) {
	for _, v := range []string{"DYNAMODB_ENDPOINT", "SNS_ENDPOINT", "SES_ENDPOINT", "SECRETS_ENDPOINT", "KEYS_SECRET_ARN", "EVENTS_TOPIC_ARN"} {
		t.Setenv(v, "")
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), "unbind", sample, target{api: closedPort(t), memory: true}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	// A fresh in-memory store: nothing is bound, and the result says so.
	if !strings.Contains(out.String(), `"unbound": false`) || !strings.Contains(errs.String(), "fresh in-memory store") {
		t.Fatalf("out %s\nstderr %s", out.String(), errs.String())
	}
	if err := run(context.Background(), "unbind", "../events/nonexistent.json", target{memory: true}, &out, &errs); err == nil {
		t.Fatal("a missing event file was accepted")
	}
}
