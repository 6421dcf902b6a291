package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/testenv"

	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/metrics"
	"github.com/gosuslugi/phonebind/shared/store/dynamotest"
)

// TestE2EMetricsAndLogLines runs a whole flow (bind, wrong code, change,
// limit, unbind) and reads the EMF output back into metric names and
// values, and the request log lines into their fields.
func TestE2EMetricsAndLogLines(t *testing.T) {
	db := dynamotest.Client(t)
	moto := testenv.MotoEndpoint(t)
	table := dynamotest.Table(t, db)
	env := map[string]string{
		"DYNAMODB_ENDPOINT": dynamotest.Endpoint(t), "SNS_ENDPOINT": moto, "TABLE_NAME": table,
		"AWS_REGION": "us-east-1", "LOCAL_JWT_SECRET": "e2e-secret", "CHANGE_COOLDOWN": "1m",
		"CODES_PER_ACCOUNT_HOUR": "3",
	}
	emf := &testenv.Buffer{}
	e := &e2e{t: t, clock: testenv.NewClock(time.Now().UTC().Truncate(time.Hour).Add(time.Minute)), logs: &testenv.Buffer{}, moto: moto, db: db, table: table}
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	srv, err := newServer(context.Background(), func(k string) string { return env[k] }, io.Discard, logger, e.clock.Now,
		func(o *core.Options) { o.Metrics = emf })
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	hs := httptest.NewServer(srv.handler)
	t.Cleanup(hs.Close)
	e.url = hs.URL

	first, second := uniqueNumber(), uniqueNumber()
	r := e.requestCode("m", first)
	expect(t, e.confirm("m", r.str("verification_id"), wrong(e.code(first))), 422, "code_invalid")
	expect(t, e.confirm("m", r.str("verification_id"), e.code(first)), 200, "")
	e.clock.Advance(2 * time.Minute)
	e.bind("m", second) // a change: code 2 of 3 this hour
	e.clock.Advance(5 * time.Minute)
	u := e.requestUnbind("m") // code 3
	expect(t, u, 202, "")
	e.clock.Advance(4 * time.Minute)                     // its resend delay (the 3rd code: 240 s), inside its TTL
	expect(t, e.requestUnbind("m"), 429, "rate_limited") // the 4th this hour
	expect(t, e.unbind("m", u.str("verification_id"), e.code(second)), 200, "")

	points, err := metrics.Parse(strings.NewReader(emf.String()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range points {
		if p.Name != metrics.Latency {
			got[p.Name+"{"+p.Dims+"}"] += p.Value
		}
	}
	for key, want := range map[string]float64{
		"CodesSent{Channel=sms,Purpose=bind}":                                           2,
		"CodesSent{Channel=sms,Purpose=unbind}":                                         1,
		"Confirmations{Outcome=code_invalid,Route=POST /v1/phone/verification/confirm}": 1,
		"Confirmations{Outcome=success,Route=POST /v1/phone/verification/confirm}":      2,
		"Confirmations{Outcome=success,Route=POST /v1/phone/unbind}":                    1,
		"RateLimited{Limit=account_hour}":                                               1,
		"Bindings{Channel=sms}":                                                         1,
		"Changes{Channel=sms}":                                                          1,
		"Unbinds{Channel=sms}":                                                          1,
		"Requests{Code=rate_limited,Route=POST /v1/phone/verification}":                 1,
		"Requests{Code=ok,Route=POST /v1/phone/unbind}":                                 1,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if t.Failed() {
		t.Logf("all metrics: %v", got)
	}

	// One request line per API call, with route, outcome code and latency,
	// and neither number nor code anywhere in logs or metrics.
	lines := 0
	for _, l := range strings.Split(e.logs.String(), "\n") {
		var m map[string]any
		// The runner's own access line has "method"; the function's has not.
		if json.Unmarshal([]byte(l), &m) != nil || m["msg"] != "request" || m["method"] != nil {
			continue
		}
		lines++
		if m["route"] == nil || m["code"] == nil || m["latency_ms"] == nil || m["status"] == nil || m["request_id"] == nil {
			t.Errorf("request line lacks fields: %s", l)
		}
	}
	if lines != 8 {
		t.Errorf("%d request lines, want one per call", lines)
	}
	for _, n := range []string{first, second, first[1:], second[1:]} {
		if strings.Contains(e.logs.String(), n) || strings.Contains(emf.String(), n) {
			t.Errorf("a full number reached the logs or metrics")
		}
	}
}
