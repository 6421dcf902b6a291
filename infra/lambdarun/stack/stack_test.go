package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/infra/lambdarun/stack"
	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/ops"
	"github.com/gosuslugi/phonebind/shared/testenv"
)

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := template.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const fixtureTemplate = `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    MemorySize: 256
    Timeout: 10
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        CODE_TTL: "5m"
        EMPTY: ""
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  RequestCodeFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      MemorySize: 512
      Environment:
        Variables:
          OWN: "yes"
          TOPIC: {Ref: Topic}
      Events:
        Post:
          Type: HttpApi
          Properties:
            Method: post
            Path: /v1/things
  OpsOnlyFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      Timeout: 30
  PythonFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: custom-resource/
      Runtime: python3.12
`

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "template.yaml"), fixtureTemplate)
	write(t, filepath.Join(root, "functions", "request-code", "main.go"), "package main\n")
	write(t, filepath.Join(root, "functions", "ops-only", "main.go"), "package main\n")
	write(t, filepath.Join(root, "functions", "not-deployed", "main.go"), "package main\n")
	write(t, filepath.Join(root, "functions", "no-main", "README"), "")

	fns, err := stack.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fns {
		got = append(got, f.Dir+"="+f.LogicalID)
	}
	if strings.Join(got, " ") != "not-deployed= ops-only=OpsOnlyFunction request-code=RequestCodeFunction" {
		t.Fatalf("functions %v", got)
	}
	rc, ops, nd := fns[2], fns[1], fns[0]
	if rc.MemoryMB != 512 || rc.Timeout != 10*time.Second || ops.MemoryMB != 256 || ops.Timeout != 30*time.Second {
		t.Errorf("memory/timeout: request-code %d %s, ops-only %d %s", rc.MemoryMB, rc.Timeout, ops.MemoryMB, ops.Timeout)
	}
	want := map[string]string{"CODE_TTL": "5m", "EMPTY": "", "OWN": "yes"}
	if len(rc.Env) != len(want) {
		t.Errorf("env %v, want %v (intrinsics left out)", rc.Env, want)
	}
	for k, v := range want {
		if got, ok := rc.Env[k]; !ok || got != v {
			t.Errorf("env %s = %q, %v; want %q", k, got, ok, v)
		}
	}
	if len(rc.Routes) != 1 || rc.Routes[0].Key() != "POST /v1/things" || len(ops.Routes) != 0 {
		t.Errorf("routes %v / %v", rc.Routes, ops.Routes)
	}
	if nd.Name() != "not-deployed" || nd.MemoryMB != 256 {
		t.Errorf("undeclared function %+v", nd)
	}

	// A function the template builds but functions/ lacks cannot be built.
	if err := os.RemoveAll(filepath.Join(root, "functions", "ops-only")); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.Discover(root); err == nil || !strings.Contains(err.Error(), "OpsOnlyFunction") {
		t.Fatalf("missing directory: err %v", err)
	}
}

func TestDiscoverThisModule(t *testing.T) {
	fns, err := stack.Discover(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) == 0 {
		t.Fatal("no functions found under functions/")
	}
	for _, f := range fns {
		if f.LogicalID == "" {
			t.Logf("functions/%s has no %s in template.yaml: it is run, but not deployed", f.Dir, stack.LogicalIDFor(f.Dir))
		}
	}
}

func TestLogicalIDFor(t *testing.T) {
	for dir, want := range map[string]string{"request-code": "RequestCodeFunction", "status": "StatusFunction", "feedback": "FeedbackFunction"} {
		if got := stack.LogicalIDFor(dir); got != want {
			t.Errorf("%s → %s, want %s", dir, got, want)
		}
	}
}

func TestMeter(t *testing.T) {
	var seen atomic.Value
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."); op {
		case "DescribeTable":
			fmt.Fprint(w, `{"Table":{"KeySchema":[{"AttributeName":"pk"},{"AttributeName":"sk"}]}}`)
		case "GetItem":
			// Every stored item is 1,500 bytes: 2 KB for writes.
			fmt.Fprintf(w, `{"Item":{"pk":{"S":"a"},"sk":{"S":"b"},"d":{"S":%q}}}`, strings.Repeat("x", 1500-5))
		case "Query":
			seen.Store(body)
			w.Header().Set("X-Amz-Crc32", "123")
			fmt.Fprint(w, `{"Items":[],"ConsumedCapacity":{"TableName":"t","CapacityUnits":0}}`)
		case "TransactWriteItems":
			seen.Store(body)
			fmt.Fprint(w, `{"ConsumedCapacity":[{"TableName":"t","CapacityUnits":4,"WriteCapacityUnits":4}]}`)
		default:
			seen.Store(body)
			w.Header().Set("X-Amz-Crc32", "123")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"ConditionalCheckFailedException"}`)
		}
	}))
	defer upstream.Close()
	m, err := stack.NewMeter(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	for _, c := range []struct{ op, body string }{
		{"Query", `{"TableName":"t","ConsistentRead":true,"ReturnConsumedCapacity":"NONE"}`},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"a"},"sk":{"S":"c"}}}},{"ConditionCheck":{"TableName":"t","Key":{"pk":{"S":"a"},"sk":{"S":"b"}}}}]}`},
		{"UpdateItem", `{"TableName":"t","Key":{"pk":{"S":"a"},"sk":{"S":"b"}}}`},
	} {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/", strings.NewReader(c.body))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+c.op)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if c.op == "UpdateItem" && (res.StatusCode != 400 || res.Header.Get("X-Amz-Crc32") != "123") {
			t.Errorf("response passed on as %d %v", res.StatusCode, res.Header)
		}
		if body := seen.Load().(map[string]any); body["ReturnConsumedCapacity"] != "TOTAL" {
			t.Errorf("%s forwarded as %v", c.op, body)
		}
	}
	calls := m.Take()
	want := []stack.Call{
		// An empty strongly consistent query: one unit (DynamoDB Local says 0).
		{Op: "Query", Status: 200, ReadUnits: 1},
		// Two items of 2 KB, twice each in a transaction (Local says 4).
		{Op: "TransactWriteItems", Status: 200, Items: 2, Checks: 1, WriteUnits: 8, LocalWrite: 4},
		// A failed conditional write is billed too.
		{Op: "UpdateItem", Status: 400, WriteUnits: 2},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("calls\n%v, want\n%v", calls, want)
	}
	if len(m.Take()) != 0 {
		t.Error("Take did not reset")
	}
}

func TestItemSize(t *testing.T) {
	item := map[string]json.RawMessage{
		"pk":    json.RawMessage(`{"S":"ACCOUNT#a"}`),                // 2 + 9
		"n":     json.RawMessage(`{"N":"12345"}`),                    // 1 + 4
		"ok":    json.RawMessage(`{"BOOL":true}`),                    // 2 + 1
		"m":     json.RawMessage(`{"M":{"k":{"S":"v"}}}`),            // 1 + 3 + 1 + 1 + 1
		"l":     json.RawMessage(`{"L":[{"S":"ab"},{"NULL":true}]}`), // 1 + 3 + 3 + 2
		"b":     json.RawMessage(`{"B":"AAEC"}`),                     // 1 + 3
		"ss":    json.RawMessage(`{"SS":["x","yz"]}`),                // 2 + 3
		"empty": json.RawMessage(`{"S":""}`),                         // 5 + 0
	}
	if got, want := stack.ItemSize(item), 11+5+3+7+9+4+5+5; got != want {
		t.Errorf("ItemSize = %d, want %d", got, want)
	}
}

// endpoints are the emulators' addresses, by testenv's rule: skip without
// them, fail when REQUIRE_EMULATORS=1 (make test, CI).
func endpoints(t *testing.T) stack.Endpoints {
	t.Helper()
	return stack.Endpoints{DynamoDB: testenv.DynamoDBEndpoint(t), Moto: testenv.MotoEndpoint(t)}
}

// expectation is what a sample event, sent as it is, answers on a fresh
// table when the samples go in name order (the HTTP status, and the
// problem code or ops result).
type expectation struct {
	status int
	code   string
	// field is a field the answer's body must have: it tells one route's
	// answer from another's, for a function that serves several.
	field string
}

var expected = map[string]expectation{
	// Its verification id is not the account's: nothing to confirm.
	"confirm-code.json": {404, "verification_not_found", ""},
	"request-code.json": {202, "", ""},
	// The settings, not the status: the status function serves both.
	"settings.json": {200, "", "third_party"},
	"status.json":   {200, "pending", ""},
	// acc-1 never bound a number: the operator is told nothing changed.
	"support-unbind.json": {0, "none", ""},
	// The pending verification is the bind, not an unbind.
	"unbind.json": {404, "verification_not_found", ""},
}

// TestBootstraps builds every function's bootstrap as `sam build` does
// (for the host), runs each through the Lambda Runtime API harness on
// DynamoDB Local and moto, sends it its infra/events samples and checks the
// answers, then walks bind, status, unbind and support unbind through the
// real artifacts.
func TestBootstraps(t *testing.T) {
	ep := endpoints(t)
	ctx := context.Background()
	root := moduleRoot(t)
	fns, err := stack.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := stack.Build(ctx, root, t.TempDir(), fns); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d bootstraps in %s", len(fns), time.Since(started).Round(time.Millisecond))

	res, err := stack.Provision(ctx, ep, "lambdarun-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Close(context.Background()) })
	// Two codes in a row for one account (bind, then unbind) without
	// waiting out the 60 s cooldown.
	res.Overrides = map[string]string{"RESEND_COOLDOWN": "0s"}

	st, err := stack.Up(ctx, fns, res, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("a function died: %v", err)
		}
	})
	for _, fn := range fns {
		f := st.Function(fn.Name())
		t.Logf("%s: init %s, %d MB, %d routes", fn.Name(), f.InitDuration().Round(time.Microsecond), f.MemoryMB(), len(fn.Routes))
	}

	samples, err := stack.Samples(root)
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	t.Run("samples", func(t *testing.T) {
		covered := map[string]bool{}
		for _, s := range samples {
			switch {
			case s.RouteKey != "":
				checkHTTPSample(t, st, s, covered)
			case s.Action != "":
				owners[s.Action] = checkOpsSample(t, st, s, covered)
			default:
				t.Errorf("%s is neither an HTTP API event (routeKey) nor an ops event (action)", s.Name)
			}
		}
		// A function no sample reaches still answers its routes.
		for _, fn := range st.Functions() {
			if covered[fn.Name()] {
				continue
			}
			if len(fn.Routes) == 0 {
				t.Logf("%s: no sample and no route; only its init was checked", fn.Name())
				continue
			}
			checkSyntheticRoute(t, st, fn)
		}
	})

	t.Run("flow", func(t *testing.T) {
		flow(t, st, samples, owners)
	})
}

func checkHTTPSample(t *testing.T, st *stack.Stack, s stack.Sample, covered map[string]bool) {
	t.Helper()
	f := st.Route(s.RouteKey)
	if f == nil {
		t.Errorf("%s: no function serves its route %q in template.yaml", s.Name, s.RouteKey)
		return
	}
	for _, fn := range st.Functions() {
		if st.Function(fn.Name()) == f {
			covered[fn.Name()] = true
		}
	}
	res, err := f.Invoke(context.Background(), s.Raw)
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	if res.Error != nil {
		t.Errorf("%s: function error %v", s.Name, res.Error)
		return
	}
	resp, err := stack.ParseResponse(res.Payload)
	if err != nil {
		t.Errorf("%s: %v", s.Name, err)
		return
	}
	t.Logf("%s → %d in %s", s.Name, resp.StatusCode, res.Duration.Round(time.Microsecond))
	checkWellFormed(t, s.Name, resp)
	want, ok := expected[s.Name]
	if !ok {
		return
	}
	if resp.StatusCode != want.status {
		t.Errorf("%s: status %d, want %d: %s", s.Name, resp.StatusCode, want.status, resp.Body)
	}
	if want.code != "" {
		got := resp.Str("code")
		if resp.StatusCode < 300 {
			got = resp.Str("status")
		}
		if got != want.code {
			t.Errorf("%s: %q, want %q: %s", s.Name, got, want.code, resp.Body)
		}
	}
	if _, ok := resp.Fields[want.field]; want.field != "" && !ok {
		t.Errorf("%s: the answer has no %q: %s", s.Name, want.field, resp.Body)
	}
}

// checkWellFormed: no 5xx, a JSON body with its content type, and a
// problem+json error with a code.
func checkWellFormed(t *testing.T, name string, resp stack.Response) {
	t.Helper()
	if resp.StatusCode >= 500 {
		t.Errorf("%s: server error %d: %s", name, resp.StatusCode, resp.Body)
	}
	ct := resp.Headers["Content-Type"]
	if resp.Body != "" && (resp.Fields == nil || !strings.Contains(ct, "json")) {
		t.Errorf("%s: body is not a JSON object (Content-Type %q): %s", name, ct, resp.Body)
	}
	if resp.StatusCode >= 400 && (!strings.HasPrefix(ct, "application/problem+json") || resp.Str("code") == "") {
		t.Errorf("%s: error without problem+json code (Content-Type %q): %s", name, ct, resp.Body)
	}
}

// opsResult is the JSON an ops invocation answers with.
type opsResult struct {
	OK     bool            `json:"ok"`
	Action string          `json:"action"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code string `json:"code"`
	} `json:"error"`
}

// checkOpsSample sends an ops event to every function: exactly one must
// take the action (the others refuse it or see an HTTP request without a
// caller). It returns the owner's name.
func checkOpsSample(t *testing.T, st *stack.Stack, s stack.Sample, covered map[string]bool) string {
	t.Helper()
	var owner string
	var result opsResult
	for _, fn := range st.Functions() {
		res, err := st.Function(fn.Name()).Invoke(context.Background(), s.Raw)
		if err != nil {
			t.Fatalf("%s to %s: %v", s.Name, fn.Name(), err)
		}
		if res.Error != nil {
			continue
		}
		// read_phone is PhoneReadFunction's own event, not an ops
		// action: its answer is flat (ops.ReadAnswer), and any answer but
		// invalid_request means the function took it.
		var read struct {
			OK    *bool  `json:"ok"`
			Error string `json:"error"`
		}
		if s.Action == ops.ActionReadPhone && json.Unmarshal(res.Payload, &read) == nil && read.OK != nil && read.Error != ops.ReadInvalidRequest {
			if owner != "" {
				t.Errorf("%s: both %s and %s take action %q", s.Name, owner, fn.Name(), s.Action)
			}
			owner, result = fn.Name(), opsResult{OK: *read.OK, Action: s.Action, Result: res.Payload}
			covered[fn.Name()] = true
			continue
		}
		var r opsResult
		if json.Unmarshal(res.Payload, &r) != nil || r.Action != s.Action {
			if resp, err := stack.ParseResponse(res.Payload); err == nil && resp.StatusCode < 400 {
				t.Errorf("%s: %s served an ops event as an HTTP request: %s", s.Name, fn.Name(), res.Payload)
			}
			continue
		}
		if r.Error != nil && r.Error.Code == "unknown_action" {
			continue
		}
		if owner != "" {
			t.Errorf("%s: both %s and %s take action %q", s.Name, owner, fn.Name(), s.Action)
		}
		owner, result = fn.Name(), r
		covered[fn.Name()] = true
	}
	if owner == "" {
		t.Errorf("%s: no function takes action %q", s.Name, s.Action)
		return ""
	}
	if result.Error != nil {
		t.Logf("%s → %s: refused (%s)", s.Name, owner, result.Error.Code)
	} else {
		t.Logf("%s → %s: %s", s.Name, owner, result.Result)
	}
	if want, ok := expected[s.Name]; ok {
		var out struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(result.Result, &out)
		if !result.OK || out.Status != want.code {
			t.Errorf("%s: ok %v, status %q, want ok and %q (error %+v)", s.Name, result.OK, out.Status, want.code, result.Error)
		}
	}
	return owner
}

// checkSyntheticRoute sends a function without samples a minimal event for
// its first route, signed in as a fresh account.
func checkSyntheticRoute(t *testing.T, st *stack.Stack, fn stack.Function) {
	t.Helper()
	rt := fn.Routes[0]
	var r stack.Request
	r.Version, r.RouteKey, r.RawPath = "2.0", rt.Key(), strings.NewReplacer("{", "", "}", "").Replace(rt.Path)
	r.RequestContext.HTTP.Method, r.RequestContext.HTTP.Path, r.RequestContext.HTTP.SourceIP = rt.Method, r.RawPath, "198.51.100.9"
	r.RequestContext.RouteKey = r.RouteKey
	r.Headers = map[string]string{"content-type": "application/json"}
	if rt.Method == http.MethodPost {
		r.Body = "{}"
	}
	resp, res, err := st.Call(context.Background(), r.As(fmt.Sprintf("synthetic-%d", time.Now().UnixNano())))
	if err != nil {
		t.Errorf("%s (no sample): %v", fn.Name(), err)
		return
	}
	t.Logf("%s (no sample in infra/events) %s → %d in %s", fn.Name(), rt.Key(), resp.StatusCode, res.Duration.Round(time.Microsecond))
	checkWellFormed(t, fn.Name()+" "+rt.Key(), resp)
}

var seq atomic.Int64

// uniqueNumber is a mobile number no other run uses, so that the SMS read
// back from the shared moto are this test's.
func uniqueNumber() string {
	return fmt.Sprintf("+7915%07d", (time.Now().UnixNano()/1000+seq.Add(7919))%10_000_000)
}

func sample(t *testing.T, samples []stack.Sample, name string) stack.Request {
	t.Helper()
	for _, s := range samples {
		if s.Name == name {
			ev, err := s.HTTP()
			if err != nil {
				t.Fatal(err)
			}
			return stack.NewRequest(ev)
		}
	}
	t.Skipf("infra/events/%s is gone", name)
	return stack.Request{}
}

func call(t *testing.T, st *stack.Stack, r stack.Request, status int) stack.Response {
	t.Helper()
	resp, _, err := st.Call(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Fatalf("%s: %d, want %d: %s", r.RouteKey, resp.StatusCode, status, resp.Body)
	}
	return resp
}

func code(t *testing.T, st *stack.Stack, number string) string {
	t.Helper()
	c, err := testenv.LatestSMSCode(context.Background(), st.Resources.Moto, number)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// flow binds a number, reads the status, unbinds with an SMS code, binds
// again and has support unbind it: every success path of the phone
// functions, through the built bootstraps, SNS and Secrets Manager in moto
// and DynamoDB Local.
func flow(t *testing.T, st *stack.Stack, samples []stack.Sample, owners map[string]string) {
	ctx := context.Background()
	sub := fmt.Sprintf("lambdarun-%d", time.Now().UnixNano())
	number := uniqueNumber()
	masked := "+7 915 ***-**-" + number[len(number)-2:]
	requestCode := sample(t, samples, "request-code.json").As(sub).From("198.51.100.7")
	confirm := sample(t, samples, "confirm-code.json").As(sub)
	status := sample(t, samples, "status.json").As(sub)
	unbind := sample(t, samples, "unbind.json").As(sub)

	bind := func() {
		t.Helper()
		sent := call(t, st, requestCode.WithBody(fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, number)), 202)
		if sent.Str("destination") != masked {
			t.Fatalf("destination %q, want %q", sent.Str("destination"), masked)
		}
		done := call(t, st, confirm.WithBody(fmt.Sprintf(`{"verification_id":%q,"code":%q}`, sent.Str("verification_id"), code(t, st, number))), 200)
		if done.Str("status") != "verified" || done.Str("phone") != masked {
			t.Fatalf("after confirm: %s", done.Body)
		}
	}

	bind()
	if got := call(t, st, status, 200); got.Str("status") != "verified" || got.Str("phone") != masked {
		t.Fatalf("status: %s", got.Body)
	}

	sent := call(t, st, requestCode.WithBody(`{"purpose":"unbind","channel":"sms"}`), 202)
	gone := call(t, st, unbind.WithBody(fmt.Sprintf(`{"verification_id":%q,"code":%q}`, sent.Str("verification_id"), code(t, st, number))), 200)
	if gone.Str("status") != "none" {
		t.Fatalf("after unbind: %s", gone.Body)
	}

	owner := owners["support_unbind"]
	if owner == "" {
		t.Skip("no function takes support_unbind")
	}
	bind()
	ev := map[string]any{"action": "support_unbind", "account_id": sub, "operator": "lambdarun", "reason": "test", "ticket_id": "FB-TEST"}
	raw, _ := json.Marshal(ev)
	res, err := st.Function(owner).Invoke(ctx, raw)
	if err != nil || res.Error != nil {
		t.Fatalf("support_unbind: %v %v", err, res.Error)
	}
	var r opsResult
	if err := json.Unmarshal(res.Payload, &r); err != nil || !r.OK {
		t.Fatalf("support_unbind: %s", res.Payload)
	}
	got := call(t, st, status, 200)
	if got.Str("status") != "none" {
		t.Fatalf("status after support unbind: %s", got.Body)
	}
	if h, _ := got.Fields["history"].([]any); len(h) == 0 || h[0].(map[string]any)["event"] != "support_unbound" {
		t.Errorf("history after support unbind: %s", got.Body)
	}
}
