package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const sample = "../events/support-unbind.json"

func TestSendsToRunningAPI(t *testing.T) {
	var gotPath, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotBody = r.URL.Path, string(b)
		_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
	}))
	defer srv.Close()
	var out, errs bytes.Buffer
	if err := run(context.Background(), "unbind", sample, srv.URL, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/_local/invoke/unbind" || !strings.Contains(gotBody, `"support_unbind"`) || out.String() != "{\"ok\":true}\n" {
		t.Fatalf("path %s body %s out %s", gotPath, gotBody, out.String())
	}
}

func TestReportsFunctionErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"errorMessage":"no function \"x\""}`))
	}))
	defer srv.Close()
	err := run(context.Background(), "x", sample, srv.URL, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no function") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunsInProcessWithoutAPI(t *testing.T) {
	for _, v := range []string{"DYNAMODB_ENDPOINT", "SNS_ENDPOINT", "SES_ENDPOINT", "SECRETS_ENDPOINT", "KEYS_SECRET_ARN", "EVENTS_TOPIC_ARN"} {
		t.Setenv(v, "")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	var out, errs bytes.Buffer
	if err := run(context.Background(), "unbind", sample, closed, &out, &errs); err != nil {
		t.Fatal(err)
	}
	// A fresh in-memory store: nothing is bound, and the result says so.
	if !strings.Contains(out.String(), `"unbound": false`) || !strings.Contains(errs.String(), "in this process") {
		t.Fatalf("out %s\nstderr %s", out.String(), errs.String())
	}
	if err := run(context.Background(), "unbind", "../events/nonexistent.json", closed, &out, &errs); err == nil {
		t.Fatal("a missing event file was accepted")
	}
}
