package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/httpapi"
	"github.com/gosuslugi/phonebind/shared/notify"
)

var (
	secret = []byte("test-secret")
	now    = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

// recorder is a function that remembers the event it got and answers with
// a fixed response.
type recorder struct {
	mu   sync.Mutex
	got  []events.APIGatewayV2HTTPRequest
	ctx  []context.Context
	resp events.APIGatewayV2HTTPResponse
	err  error
}

func (r *recorder) handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req)
	r.ctx = append(r.ctx, ctx)
	return r.resp, r.err
}

func (r *recorder) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("function not invoked")
	}
	return r.got[len(r.got)-1]
}

var routes = []template.Route{
	{FunctionID: "RequestCodeFunction", Method: "POST", Path: "/v1/phone/verification"},
	{FunctionID: "ConfirmCodeFunction", Method: "POST", Path: "/v1/phone/verification/confirm"},
	{FunctionID: "StatusFunction", Method: "GET", Path: "/v1/phone"},
	{FunctionID: "TicketFunction", Method: "GET", Path: "/v1/feedback/{ticket_id}"},
	{FunctionID: "TicketListFunction", Method: "GET", Path: "/v1/feedback/mine"},
	{FunctionID: "FilesFunction", Method: "ANY", Path: "/files/{path+}"},
}

type setup struct {
	srv  *httptest.Server
	fns  map[string]*recorder
	opts Options
}

func start(t *testing.T, tweak func(*Options)) *setup {
	t.Helper()
	s := &setup{fns: map[string]*recorder{}}
	handlers := map[string]httpapi.Handler{}
	for _, r := range routes {
		rec := &recorder{resp: events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json; charset=utf-8"},
			Body:       `{"ok":true}`,
		}}
		s.fns[r.FunctionID] = rec
		handlers[r.FunctionID] = rec.handle
	}
	s.opts = Options{Routes: routes, Handlers: handlers, JWTSecret: secret, Now: func() time.Time { return now }}
	if tweak != nil {
		tweak(&s.opts)
	}
	h, err := New(s.opts)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

func token(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok, err := SignHS256(secret, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func aliceToken(t *testing.T) string {
	return token(t, map[string]any{"sub": "alice", "email": "alice@example.org", "exp": now.Add(time.Hour).Unix()})
}

func (s *setup) do(t *testing.T, method, path, tok, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func problemCode(t *testing.T, resp *http.Response, body string) string {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var p struct{ Code string }
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return p.Code
}

func TestRouting(t *testing.T) {
	tests := []struct {
		method, path string
		fn           string
		params       map[string]string
	}{
		{"POST", "/v1/phone/verification", "RequestCodeFunction", nil},
		{"POST", "/v1/phone/verification/confirm", "ConfirmCodeFunction", nil},
		{"GET", "/v1/phone", "StatusFunction", nil},
		{"GET", "/v1/feedback/FB-42", "TicketFunction", map[string]string{"ticket_id": "FB-42"}},
		{"GET", "/v1/feedback/FB%2042", "TicketFunction", map[string]string{"ticket_id": "FB 42"}},
		{"GET", "/v1/feedback/mine", "TicketListFunction", nil},
		{"DELETE", "/files/a/b/c.txt", "FilesFunction", map[string]string{"path": "a/b/c.txt"}},
	}
	s := start(t, nil)
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := s.do(t, tt.method, tt.path, aliceToken(t), "")
			if resp.StatusCode != 200 || body != `{"ok":true}` {
				t.Fatalf("got %d %s", resp.StatusCode, body)
			}
			ev := s.fns[tt.fn].last(t)
			if len(ev.PathParameters) != len(tt.params) {
				t.Errorf("PathParameters = %v, want %v", ev.PathParameters, tt.params)
			}
			for k, v := range tt.params {
				if ev.PathParameters[k] != v {
					t.Errorf("PathParameters[%s] = %q, want %q", k, ev.PathParameters[k], v)
				}
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	s := start(t, nil)
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/phone/verification"},
		{"POST", "/v1/phone"},
		{"GET", "/v1/phone/"},
		{"GET", "/v1/feedback/"},
		{"GET", "/v1/feedback/a/b"},
		{"GET", "/files/"},
		{"GET", "/nowhere"},
		{"GET", OutboxPath},
	} {
		// Unknown routes are 404 before any token check, as in API Gateway.
		resp, body := s.do(t, c.method, c.path, "", "", "Accept-Language", "en")
		if resp.StatusCode != 404 || problemCode(t, resp, body) != "not_found" {
			t.Errorf("%s %s: got %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
}

func TestEventShape(t *testing.T) {
	s := start(t, nil)
	tok := token(t, map[string]any{
		"sub": "alice", "email": "alice@example.org", "email_verified": true,
		"aud": []string{"portal", "app"}, "scope": "phone:read phone:write",
		"exp": now.Add(time.Hour).Unix(),
	})
	resp, _ := s.do(t, "POST", "/v1/phone/verification?a=1&b=2&a=3", tok, `{"purpose":"bind"}`,
		"X-Custom", "one", "X-Custom", "two", "User-Agent", "ua/1.0", "Cookie", "s=1; t=2")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if resp.Header.Get("Apigw-Requestid") == "" {
		t.Error("no Apigw-Requestid header")
	}
	rec := s.fns["RequestCodeFunction"]
	ev := rec.last(t)
	checks := map[string][2]string{
		"Version":        {ev.Version, "2.0"},
		"RouteKey":       {ev.RouteKey, "POST /v1/phone/verification"},
		"ctx RouteKey":   {ev.RequestContext.RouteKey, "POST /v1/phone/verification"},
		"RawPath":        {ev.RawPath, "/v1/phone/verification"},
		"RawQueryString": {ev.RawQueryString, "a=1&b=2&a=3"},
		"query a":        {ev.QueryStringParameters["a"], "1,3"},
		"header":         {ev.Headers["x-custom"], "one,two"},
		"host":           {ev.Headers["host"], strings.TrimPrefix(s.srv.URL, "http://")},
		"method":         {ev.RequestContext.HTTP.Method, "POST"},
		"path":           {ev.RequestContext.HTTP.Path, "/v1/phone/verification"},
		"protocol":       {ev.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		"source ip":      {ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		"user agent":     {ev.RequestContext.HTTP.UserAgent, "ua/1.0"},
		"stage":          {ev.RequestContext.Stage, "$default"},
		"body":           {ev.Body, `{"purpose":"bind"}`},
		"sub":            {ev.RequestContext.Authorizer.JWT.Claims["sub"], "alice"},
		"email":          {ev.RequestContext.Authorizer.JWT.Claims["email"], "alice@example.org"},
		"bool claim":     {ev.RequestContext.Authorizer.JWT.Claims["email_verified"], "true"},
		"array claim":    {ev.RequestContext.Authorizer.JWT.Claims["aud"], "[portal app]"},
		"number claim":   {ev.RequestContext.Authorizer.JWT.Claims["exp"], strconv.FormatInt(now.Add(time.Hour).Unix(), 10)},
		"scopes":         {strings.Join(ev.RequestContext.Authorizer.JWT.Scopes, " "), "phone:read phone:write"},
		"cookies":        {strings.Join(ev.Cookies, "|"), "s=1|t=2"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("cookie header should move to Cookies")
	}
	if ev.IsBase64Encoded {
		t.Error("text body marked base64")
	}
	if ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch != now.UnixMilli() {
		t.Errorf("RequestID %q, TimeEpoch %d", ev.RequestContext.RequestID, ev.RequestContext.TimeEpoch)
	}
	if lc, ok := lambdacontext.FromContext(rec.ctx[0]); !ok || lc.AwsRequestID != ev.RequestContext.RequestID {
		t.Errorf("lambda context = %+v", lc)
	}
	// Every request gets its own id.
	s.do(t, "POST", "/v1/phone/verification", tok, `{}`)
	if again := rec.last(t); again.RequestContext.RequestID == ev.RequestContext.RequestID {
		t.Error("request id reused")
	}
}

func TestBinaryBodyIsBase64(t *testing.T) {
	s := start(t, nil)
	raw := "\xff\xfe{\x00}"
	s.do(t, "POST", "/v1/phone/verification", aliceToken(t), raw)
	ev := s.fns["RequestCodeFunction"].last(t)
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString([]byte(raw)) {
		t.Errorf("body = %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
}

func TestBodyCap(t *testing.T) {
	s := start(t, nil)
	resp, body := s.do(t, "POST", "/v1/phone/verification", aliceToken(t), strings.Repeat("x", MaxBodyBytes+1))
	if resp.StatusCode != 413 || problemCode(t, resp, body) != "payload_too_large" {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
	if len(s.fns["RequestCodeFunction"].got) != 0 {
		t.Error("function invoked with an oversized body")
	}
}

func TestJWT(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	good := aliceToken(t)
	parts := strings.Split(good, ".")
	other, _ := SignHS256([]byte("other-secret"), map[string]any{"sub": "alice"})
	tests := []struct {
		name   string
		auth   string // whole Authorization header
		status int
	}{
		{"valid", "Bearer " + good, 200},
		{"scheme case", "bearer " + good, 200},
		{"no exp", "Bearer " + token(t, map[string]any{"sub": "alice"}), 200},
		{"nbf past", "Bearer " + token(t, map[string]any{"sub": "alice", "nbf": now.Add(-time.Minute).Unix()}), 200},
		{"missing", "", 401},
		{"not bearer", "Basic " + good, 401},
		{"empty token", "Bearer ", 401},
		{"garbage", "Bearer abc", 401},
		{"bad signature", "Bearer " + other, 401},
		{"tampered claims", "Bearer " + parts[0] + "." + b64([]byte(`{"sub":"mallory"}`)) + "." + parts[2], 401},
		{"alg none", "Bearer " + b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", 401},
		{"alg none signed", "Bearer " + b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + "." + parts[2], 401},
		{"alg HS512", "Bearer " + resign(t, `{"alg":"HS512"}`, parts[1]), 401},
		{"crit", "Bearer " + resign(t, `{"alg":"HS256","crit":["x"]}`, parts[1]), 401},
		{"expired", "Bearer " + token(t, map[string]any{"sub": "alice", "exp": now.Add(-time.Second).Unix()}), 401},
		{"expires now", "Bearer " + token(t, map[string]any{"sub": "alice", "exp": now.Unix()}), 401},
		{"exp string", "Bearer " + token(t, map[string]any{"sub": "alice", "exp": "never"}), 401},
		{"not yet", "Bearer " + token(t, map[string]any{"sub": "alice", "nbf": now.Add(time.Minute).Unix()}), 401},
		{"claims not object", "Bearer " + resignPayload(t, `["sub"]`), 401},
	}
	s := start(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.auth != "" {
				headers = []string{"Authorization", tt.auth}
			}
			before := len(s.fns["StatusFunction"].got)
			resp, body := s.do(t, "GET", "/v1/phone", "", "", headers...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			invoked := len(s.fns["StatusFunction"].got) > before
			if tt.status == 401 {
				if problemCode(t, resp, body) != "unauthorized" {
					t.Errorf("body = %s", body)
				}
				if invoked {
					t.Error("function invoked without a valid token")
				}
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
			} else if !invoked {
				t.Error("function not invoked")
			}
		})
	}
}

// resign signs a payload under an arbitrary header with the right secret, so
// only the header can be what the runner refuses.
func resign(t *testing.T, header, payload string) string {
	t.Helper()
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + payload
	return in + "." + base64.RawURLEncoding.EncodeToString(mac(secret, in))
}

func resignPayload(t *testing.T, payload string) string {
	return resign(t, `{"alg":"HS256","typ":"JWT"}`, base64.RawURLEncoding.EncodeToString([]byte(payload)))
}

func TestSourceIP(t *testing.T) {
	tests := []struct {
		trust bool
		xff   string
		want  string
	}{
		{false, "", "127.0.0.1"},
		{false, "198.51.100.9", "127.0.0.1"},
		{true, "", "127.0.0.1"},
		// The proxy appends the peer it saw: only the right-most entry is
		// the proxy's word, the rest is what the client wrote.
		{true, "198.51.100.9, 10.0.0.1", "10.0.0.1"},
		{true, "6.6.6.6, 198.51.100.9", "198.51.100.9"},
		{true, "2001:db8::1", "2001:db8::1"},
		{true, "not-an-ip", "127.0.0.1"},
	}
	for _, tt := range tests {
		s := start(t, func(o *Options) { o.TrustForwardedFor = tt.trust })
		var headers []string
		if tt.xff != "" {
			headers = []string{"X-Forwarded-For", tt.xff}
		}
		s.do(t, "GET", "/v1/phone", aliceToken(t), "", headers...)
		if got := s.fns["StatusFunction"].last(t).RequestContext.HTTP.SourceIP; got != tt.want {
			t.Errorf("trust=%v xff=%q: SourceIP = %q, want %q", tt.trust, tt.xff, got, tt.want)
		}
	}
}

func TestResponseWriting(t *testing.T) {
	s := start(t, nil)
	s.fns["StatusFunction"].resp = events.APIGatewayV2HTTPResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "image/png", "X-One": "1"},
		MultiValueHeaders: map[string][]string{"X-Many": {"a", "b"}},
		Cookies:           []string{"a=1; Path=/", "b=2"},
		Body:              base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G'}),
		IsBase64Encoded:   true,
	}
	resp, body := s.do(t, "GET", "/v1/phone", aliceToken(t), "")
	if resp.StatusCode != 201 || body != "\x89PNG" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-One") != "1" ||
		strings.Join(resp.Header.Values("X-Many"), ",") != "a,b" || len(resp.Cookies()) != 2 {
		t.Errorf("headers = %v", resp.Header)
	}
}

func TestFunctionErrorIs500(t *testing.T) {
	s := start(t, nil)
	s.fns["StatusFunction"].err = errors.New("dial tcp 10.1.2.3:8000: connection refused")
	resp, body := s.do(t, "GET", "/v1/phone", aliceToken(t), "")
	if resp.StatusCode != 500 || problemCode(t, resp, body) != "internal" {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "10.1.2.3") {
		t.Errorf("internals leaked: %s", body)
	}
}

func TestPanicIs500(t *testing.T) {
	s := start(t, func(o *Options) {
		o.Handlers["StatusFunction"] = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			panic("boom")
		}
	})
	resp, body := s.do(t, "GET", "/v1/phone", aliceToken(t), "")
	if resp.StatusCode != 500 || problemCode(t, resp, body) != "internal" {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}

func TestUnwiredRouteIs500(t *testing.T) {
	s := start(t, func(o *Options) { delete(o.Handlers, "StatusFunction") })
	resp, body := s.do(t, "GET", "/v1/phone", aliceToken(t), "")
	if resp.StatusCode != 500 || problemCode(t, resp, body) != "internal" {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}

func TestNewRejects(t *testing.T) {
	for name, opts := range map[string]Options{
		"no secret":     {Routes: routes},
		"duplicate":     {JWTSecret: secret, Routes: []template.Route{routes[0], routes[0]}},
		"bad path":      {JWTSecret: secret, Routes: []template.Route{{FunctionID: "F", Method: "GET", Path: "x"}}},
		"greedy middle": {JWTSecret: secret, Routes: []template.Route{{FunctionID: "F", Method: "GET", Path: "/{a+}/b"}}},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestDefaultRoute(t *testing.T) {
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 204}}
	h, err := New(Options{
		JWTSecret: secret, Now: func() time.Time { return now },
		Routes: []template.Route{
			{FunctionID: "Catch", Method: "ANY", Path: template.DefaultPath},
			{FunctionID: "Status", Method: "GET", Path: "/v1/phone"},
		},
		Handlers: map[string]httpapi.Handler{"Catch": rec.handle, "Status": rec.handle},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	s := &setup{srv: srv}
	s.do(t, "PUT", "/anything/at/all", aliceToken(t), "")
	if ev := rec.last(t); ev.RouteKey != "$default" {
		t.Errorf("RouteKey = %q", ev.RouteKey)
	}
	s.do(t, "GET", "/v1/phone", aliceToken(t), "")
	if ev := rec.last(t); ev.RouteKey != "GET /v1/phone" {
		t.Errorf("RouteKey = %q", ev.RouteKey)
	}
}

func TestSignHS256(t *testing.T) {
	if _, err := SignHS256(nil, map[string]any{"sub": "a"}); err == nil {
		t.Error("empty secret accepted")
	}
	tok, err := SignHS256(secret, map[string]any{"sub": "a", "n": 1.5})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := verifyHS256(secret, tok, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := claimStrings(claims); got["sub"] != "a" || got["n"] != "1.5" {
		t.Errorf("claims = %v", got)
	}
}

// The outbox holds codes and invoke runs ops actions (support_unbind): a
// page on another site must reach neither, whether by a cross-origin
// request, a text/plain POST that needs no preflight, or DNS rebinding.
func TestLocalRoutesRefuseOtherSites(t *testing.T) {
	var invoked int
	s := start(t, func(o *Options) {
		o.Outbox = notify.NewOutbox(nil, nil)
		_ = o.Outbox.SendSMS(context.Background(), "+79123456789", "Код подтверждения: 123456.")
		o.Invoke = func(context.Context, string, json.RawMessage) (any, error) {
			invoked++
			return map[string]bool{"ok": true}, nil
		}
	})
	event := `{"action":"support_unbind","account_id":"acc-1","operator":"x","reason":"y","ticket_id":"FB-1"}`
	send := func(method, path, host, body string, headers ...string) int {
		t.Helper()
		req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	own := strings.TrimPrefix(s.srv.URL, "http://")
	refused := []struct {
		name               string
		method, path, host string
		body               string
		headers            []string
	}{
		{"text/plain POST from another site", "POST", InvokePath + "unbind", "", event, []string{"Content-Type", "text/plain", "Origin", "https://evil.example"}},
		{"text/plain POST without Origin", "POST", InvokePath + "unbind", "", event, []string{"Content-Type", "text/plain"}},
		{"JSON POST from another origin", "POST", InvokePath + "unbind", "", event, []string{"Content-Type", "application/json", "Origin", "http://localhost:9999"}},
		{"cross-site fetch metadata", "POST", InvokePath + "unbind", "", event, []string{"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"}},
		{"outbox read by another origin", "GET", OutboxPath, "", "", []string{"Origin", "https://evil.example"}},
		{"outbox through DNS rebinding", "GET", OutboxPath, "rebind.evil.example:" + strings.Split(own, ":")[1], "", nil},
		{"invoke through DNS rebinding", "POST", InvokePath + "unbind", "evil.example", event, []string{"Content-Type", "application/json"}},
	}
	for _, tt := range refused {
		if got := send(tt.method, tt.path, tt.host, tt.body, tt.headers...); got != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tt.name, got)
		}
	}
	if invoked != 0 {
		t.Fatalf("a refused request ran %d ops actions", invoked)
	}
	// The runner's own origin, curl and make invoke still work.
	if got := send("POST", InvokePath+"unbind", "", event, "Content-Type", "application/json", "Origin", "http://"+own, "Sec-Fetch-Site", "same-origin"); got != 200 || invoked != 1 {
		t.Fatalf("same-origin invoke: %d (ran %d)", got, invoked)
	}
	if got := send("GET", OutboxPath, "localhost:"+strings.Split(own, ":")[1], ""); got != 200 {
		t.Fatalf("outbox on localhost: %d", got)
	}
}
