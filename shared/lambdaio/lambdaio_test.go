package lambdaio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gosuslugi/phonebind/shared/internal/jsonx"
	"github.com/gosuslugi/phonebind/shared/internal/race"
)

// samples are the events in infra/events: the HTTP ones and the ops ones.
func samples(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, err := filepath.Glob("../../infra/events/*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no sample events: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// isHTTP tells an HTTP API sample from an ops one.
func isHTTP(payload []byte) bool {
	var probe struct{ RouteKey string }
	return json.Unmarshal(payload, &probe) == nil && probe.RouteKey != ""
}

// stdDecode is what aws-lambda-go does with a handler's event.
func stdDecode(payload []byte) (events.APIGatewayV2HTTPRequest, error) {
	var req events.APIGatewayV2HTTPRequest
	err := json.NewDecoder(bytes.NewReader(payload)).Decode(&req)
	return req, err
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error() && reflect.TypeOf(a) == reflect.TypeOf(b)
}

// checkDecode holds DecodeRequest and ParseRequest to encoding/json on one
// payload; it reports whether the fast path read it.
func checkDecode(t *testing.T, payload []byte) bool {
	t.Helper()
	want, wantErr := stdDecode(payload)
	got, err := DecodeRequest(payload)
	if !sameError(err, wantErr) {
		t.Fatalf("DecodeRequest(%q): error %v, encoding/json's %v", payload, err, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeRequest(%q):\n got %#v\nwant %#v", payload, got, want)
	}
	req, shape, ok := ParseRequest(payload)
	if !ok {
		return false
	}
	var whole events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &whole); err != nil {
		t.Fatalf("ParseRequest(%q) read what json.Unmarshal refuses: %v", payload, err)
	}
	if !reflect.DeepEqual(req, whole) {
		t.Fatalf("ParseRequest(%q):\n got %#v\nwant %#v", payload, req, whole)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(payload, &members); err != nil {
		t.Fatal(err)
	}
	_, hasContext := members["requestContext"]
	other := false
	for k := range members {
		if i, _ := jsonx.Field(requestFields, k); i < 0 {
			other = true
		}
	}
	if shape != (Shape{RequestContext: hasContext, Other: other}) {
		t.Fatalf("ParseRequest(%q): shape %+v, want requestContext %v, other %v", payload, shape, hasContext, other)
	}
	return true
}

func TestDecodeSamples(t *testing.T) {
	for name, payload := range samples(t) {
		t.Run(name, func(t *testing.T) {
			fast := checkDecode(t, payload)
			if isHTTP(payload) && !fast {
				t.Fatalf("the parser gave up on a sample HTTP event")
			}
			// As the benchmark and the local runner send it: re-encoded by
			// encoding/json (every field, HTML escaped).
			want, err := stdDecode(payload)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(want)
			if !checkDecode(t, again) {
				t.Fatalf("the parser gave up on a marshalled event: %s", again)
			}
		})
	}
}

// edgeCases are payloads where encoding/json's rules are easy to get wrong;
// each must decode (or fail) as encoding/json has it.
var edgeCases = []string{
	``, ` `, `null`, `[]`, `"x"`, `1`, `true`, `{`, `{}`, `{} trailing`, `{}{"routeKey":"x"}`, ` {"routeKey":"a"} `,
	`{"routeKey":null,"headers":null,"cookies":null,"requestContext":null,"isBase64Encoded":null}`,
	`{"headers":{},"cookies":[],"pathParameters":{"a":null},"cookies":["a"]}`,
	`{"cookies":["a",null,"b"]}`, `{"cookies":[,]}`, `{"cookies":["a",]}`, `{"headers":{"a":"b",}}`,
	`{"routeKey":"a","routeKey":"b"}`, `{"RouteKey":"a"}`, `{"routekey":"a"}`, `{"ROUTEKEY":"a","routeKey":"b"}`,
	`{"versıon":"2.0"}`, `{"bodſ":"x"}`, `{"\u0062ody":"x"}`, `{"b\u00f6dy":"x"}`, `{"":"x"}`,
	`{"headers":{"a":"1","a":"2","A":"3"}}`, `{"headers":{"\u0041":"x"}}`, `{"headers":{"a":1}}`,
	`{"body":"\ud83d\ude00 \ud83d \ude00 \ud83d\u0041 \udc00\ud800 \u00e9\u2028\/\b\f\n\r\t\"\\"}`,
	`{"body":"\x"}`, `{"body":"\u12"}`, `{"body":"a` + "\x01" + `"}`, `{"body":"` + "\xff\xfe\xed\xa0\x80" + `"}`,
	`{"body":"` + "é😀\u2028" + `"}`, `{"body":"unterminated}`, `{"body":1}`, `{"body":true}`,
	`{"isBase64Encoded":"true"}`, `{"isBase64Encoded":tru}`, `{"isBase64Encoded":false,"isBase64Encoded":true}`,
	`{"requestContext":{"timeEpoch":1.5}}`, `{"requestContext":{"timeEpoch":1e3}}`, `{"requestContext":{"timeEpoch":-0}}`,
	`{"requestContext":{"timeEpoch":9223372036854775807}}`, `{"requestContext":{"timeEpoch":9223372036854775808}}`,
	`{"requestContext":{"timeEpoch":-9223372036854775808}}`, `{"requestContext":{"timeEpoch":01}}`,
	`{"requestContext":{"timeEpoch":"1"}}`, `{"requestContext":{"timeEpoch":null}}`, `{"requestContext":{"timeEpoch":-}}`,
	`{"requestContext":{"authorizer":null}}`, `{"requestContext":{"authorizer":{}}}`,
	`{"requestContext":{"authorizer":{"jwt":null,"iam":null,"lambda":null}}}`,
	`{"requestContext":{"authorizer":{"jwt":{}}}}`, `{"requestContext":{"authorizer":{"jwt":{"claims":{},"scopes":[]}}}}`,
	`{"requestContext":{"authorizer":{"jwt":{"claims":{"sub":"x","email":null}}}}}`,
	`{"requestContext":{"authorizer":{"jwt":{"claims":{"sub":1}}}}}`,
	`{"requestContext":{"authorizer":{"lambda":{"a":1,"b":[true,null]}}}}`,
	`{"requestContext":{"authorizer":{"iam":{"accessKey":"k","cognitoIdentity":{"amr":["a"],"identityId":"i"},"userId":"u"}}}}`,
	`{"requestContext":{"authorizer":{"iam":{"cognitoIdentity":null}}}}`,
	`{"requestContext":{"authentication":{"clientCert":{"clientCertPem":"p","validity":{"notAfter":"a","notBefore":"b"}}}}}`,
	`{"requestContext":{"authentication":null,"http":null}}`, `{"requestContext":{"http":{"method":"GET","method":"POST"}}}`,
	`{"requestContext":{"http":{"sourceIp":"1.2.3.4","extra":{"deep":[1,2,{"x":null}]}}}}`,
	`{"requestContext":[]}`, `{"requestContext":"x"}`, `{"requestContext":{"authorizer":[]}}`,
	`{"unknown":[1,-2.5e+3,0.1E-2,"x",{"a":{}},[],true,false,null]}`, `{"unknown":01}`, `{"unknown":1.}`, `{"unknown":-}`,
	`{"unknown":.5}`, `{"unknown":[1 2]}`, `{"unknown":{"a" 1}}`, `{"unknown":{"a":1 "b":2}}`, `{"unknown":nul}`,
	`{"unknown":"\q"}`, `{"action":"support_unbind"}`, `{"routeKey":"x"` + "\t\n\r " + `}`,
	`{"unknown":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
	`{"unknown":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
	"\ufeff{}", `{"routeKey":"x"}` + "\x00",
}

func TestDecodeEdgeCases(t *testing.T) {
	for _, payload := range edgeCases {
		checkDecode(t, []byte(payload))
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, payload := range samples(f) {
		f.Add(payload)
	}
	for _, payload := range edgeCases {
		f.Add([]byte(payload))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkDecode(t, payload)
		checkFirstValue(t, payload)
	})
}

// asciiJSON encodes v as encoding/json does, then writes every non-ASCII
// character as \u escapes (surrogate pairs beyond the BMP), as other
// encoders (Python's json.dumps) do.
func asciiJSON(v any) []byte {
	b, _ := json.Marshal(v)
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r < utf8.RuneSelf:
			out.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}

// FuzzDecodeEvents builds events whose strings are arbitrary: the parser
// must read every one of them itself, and as encoding/json does.
func FuzzDecodeEvents(f *testing.F) {
	f.Add("POST /v1/phone/verification", `{"purpose":"bind","phone":"+7 912 345-67-89"}`, "accept-language", "ru, en;q=0.5", "sub-1", "a@b.ru", "203.0.113.1", false)
	f.Add("<&>", "\u2028\u2029\x00\x1f\xff", "Ключ", "значение 😀", "\"\\/", "\xed\xa0\x80", "", true)
	var sample events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(samples(f)["request-code.json"], &sample); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route, body, hk, hv, sub, email, ip string, b64 bool) {
		ev := sample
		ev.RouteKey, ev.Body, ev.IsBase64Encoded = route, body, b64
		ev.Headers = map[string]string{hk: hv, "accept": hv}
		ev.QueryStringParameters = map[string]string{hv: hk}
		ev.Cookies = []string{hk, hv}
		ev.RequestContext.HTTP.SourceIP = ip
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": sub, "email": email, hk: hv},
				Scopes: []string{sub},
			},
		}
		plain, _ := json.Marshal(ev)
		var indented bytes.Buffer
		_ = json.Indent(&indented, plain, "", "\t")
		raw, _ := json.Marshal(ev) // unescaped <, >, & below
		raw = []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw)))
		for _, payload := range [][]byte{plain, indented.Bytes(), asciiJSON(ev), raw} {
			if !checkDecode(t, payload) {
				t.Fatalf("the parser gave up on %q", payload)
			}
		}
	})
}

// checkFirstValue holds Raw's reading of the payload to aws-lambda-go's
// json.RawMessage.
func checkFirstValue(t *testing.T, payload []byte) {
	t.Helper()
	var want json.RawMessage
	wantErr := json.NewDecoder(bytes.NewReader(payload)).Decode(&want)
	got, ok := firstValue(payload)
	if ok && (wantErr != nil || !bytes.Equal(got, want)) {
		t.Fatalf("firstValue(%q) = %q; json.Decoder: %q, %v", payload, got, want, wantErr)
	}
}

// okHandler answers every request with resp, after checking it got want.
func okHandler(t *testing.T, resp events.APIGatewayV2HTTPResponse) HTTPHandler {
	return func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return resp, nil
	}
}

// invokeBoth runs a handler through lambda.NewHandler (what lambda.Start
// does with a func) and through ours; both must answer alike.
func invokeBoth(t *testing.T, std lambda.Handler, ours lambda.Handler, payload []byte) []byte {
	t.Helper()
	want, wantErr := std.Invoke(context.Background(), payload)
	// What lambda.Start does with a lambda.Handler.
	got, err := lambda.NewHandler(ours).Invoke(context.Background(), payload)
	if !sameError(err, wantErr) {
		t.Fatalf("Invoke(%q): error %v, aws-lambda-go's %v", payload, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Invoke(%q):\n got %s\nwant %s", payload, got, want)
	}
	return got
}

var responses = []events.APIGatewayV2HTTPResponse{
	{},
	{StatusCode: 202, Headers: map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}, Body: `{"verification_id":"v1","destination":"+7 912 ***-**-89","expires_at":"2026-11-23T09:05:00Z"}`},
	{StatusCode: 400, Headers: map[string]string{}, MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=<2>&"}, "X": nil, "Y": {}}, Body: "<html>&amp;\u2028\x00\xff\"\\", IsBase64Encoded: true, Cookies: []string{"c=1", ""}},
	{StatusCode: -1, Cookies: []string{}},
	{StatusCode: 200, Headers: manyHeaders(40)},
}

func manyHeaders(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("X-Header-%03d", n-i)] = fmt.Sprint(i)
	}
	return m
}

func TestHTTPInvokeMatchesAWSLambdaGo(t *testing.T) {
	payloads := [][]byte{}
	for _, p := range samples(t) {
		payloads = append(payloads, p)
	}
	for _, p := range edgeCases {
		payloads = append(payloads, []byte(p))
	}
	for _, resp := range responses {
		h := okHandler(t, resp)
		for _, p := range payloads {
			invokeBoth(t, lambda.NewHandler(h), HTTP(h), p)
		}
	}
	// The request the handler sees is encoding/json's.
	for _, p := range payloads {
		var std, ours events.APIGatewayV2HTTPRequest
		record := func(dst *events.APIGatewayV2HTTPRequest) HTTPHandler {
			return func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				*dst = req
				return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
			}
		}
		invokeBoth(t, lambda.NewHandler(record(&std)), HTTP(record(&ours)), p)
		if !reflect.DeepEqual(std, ours) {
			t.Fatalf("%q: handler got\n%#v\nwant\n%#v", p, ours, std)
		}
	}
	// A handler's error fails the invocation, as it did.
	boom := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, errors.New("boom")
	}
	invokeBoth(t, lambda.NewHandler(boom), HTTP(boom), samples(t)["status.json"])
}

func FuzzAppendResponse(f *testing.F) {
	f.Add(200, "Content-Type", "application/json", "{\"a\":\"<b>&\"}", "c=1", false, true)
	f.Add(-5, "", "\u2028\xff\x00", "", "", true, false)
	f.Fuzz(func(t *testing.T, status int, hk, hv, body, cookie string, b64, nils bool) {
		resp := events.APIGatewayV2HTTPResponse{StatusCode: status, Body: body, IsBase64Encoded: b64}
		if !nils {
			resp.Headers = map[string]string{hk: hv, hv: hk, "Cache-Control": "no-store"}
			resp.MultiValueHeaders = map[string][]string{hk: {hv, cookie}, cookie: nil}
			resp.Cookies = []string{cookie, hv}
		}
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		if err := e.Encode(resp); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(enc.Bytes(), []byte("\n"))
		got := AppendResponse(nil, resp)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendResponse:\n got %s\nwant %s", got, want)
		}
		var back events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRawInvokeMatchesAWSLambdaGo(t *testing.T) {
	results := []any{
		events.APIGatewayV2HTTPResponse{StatusCode: 401, Headers: map[string]string{"Content-Type": "application/problem+json"}, Body: `{"code":"unauthorized"}`},
		map[string]any{"ok": true, "action": "support_unbind", "html": "<&>"},
		nil,
		strings.NewReader("plain"),
		struct {
			A string `json:"a"`
		}{"<b>"},
	}
	payloads := [][]byte{}
	for _, p := range samples(t) {
		payloads = append(payloads, p)
	}
	for _, p := range edgeCases {
		payloads = append(payloads, []byte(p))
	}
	payloads = append(payloads, []byte(` 123abc`), []byte(`truex`), []byte(`"s"x`), []byte(`[1,2] [3]`), []byte(`0123`), []byte("\n\t{\"action\":\"x\"}\n"))
	for _, res := range results {
		for _, p := range payloads {
			var std, ours json.RawMessage
			h := func(dst *json.RawMessage) RawHandler {
				return func(_ context.Context, raw json.RawMessage) (any, error) {
					*dst = append(json.RawMessage(nil), raw...)
					if r, ok := res.(*strings.Reader); ok {
						r.Seek(0, 0)
					}
					return res, nil
				}
			}
			invokeBoth(t, lambda.NewHandler(h(&std)), Raw(h(&ours)), p)
			if !bytes.Equal(std, ours) {
				t.Fatalf("%q: handler got %q, want %q", p, ours, std)
			}
		}
	}
	unencodable := func(context.Context, json.RawMessage) (any, error) { return func() {}, nil }
	invokeBoth(t, lambda.NewHandler(unencodable), Raw(unencodable), []byte(`{}`))
	failing := func(context.Context, json.RawMessage) (any, error) { return nil, errors.New("refused") }
	invokeBoth(t, lambda.NewHandler(failing), Raw(failing), []byte(`{}`))
}

func TestDecodeAllocations(t *testing.T) {
	payload := samples(t)["request-code.json"]
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := DecodeRequest(payload); err != nil {
			t.Fatal(err)
		}
	})
	// The copy of the payload, the body (it has escapes), the headers and
	// the claims maps (a few allocations each), the authorizer and its JWT.
	if allocs > 12 {
		t.Fatalf("DecodeRequest: %v allocations, want at most 12", allocs)
	}
	if race.Enabled {
		return // the race detector makes sync.Pool drop buffers
	}
	resp := responses[1]
	allocs = testing.AllocsPerRun(200, func() { encodeResponse(resp) })
	if allocs > 1 {
		t.Fatalf("encodeResponse: %v allocations, want 1 (the bytes handed over)", allocs)
	}
}
