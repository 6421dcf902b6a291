package contract

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// apiHeaders are the response headers the contract describes. A response
// that sends one must declare it; a declared header marked required must
// be sent.
var apiHeaders = []string{"Retry-After", "Content-Language", "Location", "Idempotent-Replayed", "WWW-Authenticate"}

// declaredHeaders reads the headers the contract gives one response of one
// operation: name → required. ok is false when the status is not declared.
func declaredHeaders(t *testing.T, doc map[string]any, method, path string, status int) (map[string]bool, bool) {
	t.Helper()
	var op map[string]any
	for tmpl, item := range m(doc["paths"]) {
		re := regexp.MustCompile("^" + pathParam.ReplaceAllString(tmpl, "[^/]+") + "$")
		if re.MatchString(path) {
			op = m(m(item)[strings.ToLower(method)])
		}
	}
	if op == nil {
		t.Fatalf("%s %s is no operation of the contract", method, path)
	}
	resp := resolve(t, doc, m(op["responses"])[fmt.Sprint(status)])
	if resp == nil {
		return nil, false
	}
	out := map[string]bool{}
	for name, h := range m(resp["headers"]) {
		out[http.CanonicalHeaderKey(name)] = m(resolve(t, doc, h))["required"] == true
	}
	return out, true
}

// resolve follows a local $ref ("#/components/…").
func resolve(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	ref, ok := m(v)["$ref"].(string)
	if !ok {
		return m(v)
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		cur = m(cur)[part]
	}
	if cur == nil {
		t.Fatalf("unresolved %s", ref)
	}
	return m(cur)
}

// TestDeclaredHeadersSent drives one answer of each kind through the local
// API and holds its headers to infra/openapi.yaml both ways: every header
// the contract marks required is sent, and every API header sent is
// declared for that status. A frontend that reads Retry-After after a 429,
// or Location after a 201, can rely on it.
func TestDeclaredHeadersSent(t *testing.T) {
	doc := loadOpenAPI(t)
	api := startLocal(t, map[string]string{}, nil)
	const number = "+79123456789"

	check := func(what string, req *http.Request, want int) answer {
		t.Helper()
		got := api.send(req)
		if got.status != want {
			t.Fatalf("%s: status %d, want %d: %s", what, got.status, want, got.body)
		}
		declared, ok := declaredHeaders(t, doc, req.Method, req.URL.Path, got.status)
		if !ok {
			t.Errorf("%s: %s %s answered %d, which the contract does not declare", what, req.Method, req.URL.Path, got.status)
			return got
		}
		for name, required := range declared {
			if required && got.header.Get(name) == "" {
				t.Errorf("%s (%d): the contract says %s is always sent; it is missing", what, got.status, name)
			}
		}
		for _, name := range apiHeaders {
			if _, ok := declared[http.CanonicalHeaderKey(name)]; got.header.Get(name) != "" && !ok {
				t.Errorf("%s (%d): sends %s, which the contract does not declare for this status", what, got.status, name)
			}
		}
		return got
	}
	bind := `{"purpose":"bind","phone":"` + number + `","consent":true}`

	sent := check("a bind code sent", api.request("alice", "POST", "/v1/phone/verification", bind), 202)
	id := api.verificationID(sent.body)
	check("a resend inside the cooldown", api.request("alice", "POST", "/v1/phone/verification", bind), 429)
	check("a wrong code", api.request("alice", "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, wrongCode(api.lastCode(number)))), 422)
	check("an unknown verification", api.request("alice", "POST", "/v1/phone/verification/confirm", `{"verification_id":"AAAAAAAAAAAAAAAAAAAAAA","code":"123456"}`), 404)

	confirm := api.request("alice", "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, api.lastCode(number)))
	confirm.Header.Set("Idempotency-Key", "headers-confirm-1")
	check("the right code", confirm, 200)
	again := api.request("alice", "POST", "/v1/phone/verification/confirm", fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, api.lastCode(number)))
	again.Header.Set("Idempotency-Key", "headers-confirm-1")
	if got := check("the same confirm replayed", again, 200); got.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("a replay is not marked Idempotent-Replayed: %v", got.header)
	}

	check("the status", api.request("alice", "GET", "/v1/phone", ""), 200)
	check("a bind of the number already bound, inside the change cooldown", api.request("alice", "POST", "/v1/phone/verification", bind), 409)
	check("an unbind with nothing bound", api.request("bob", "POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms"}`), 409)
	check("a body that is not JSON", api.request("alice", "POST", "/v1/phone/verification", `{"purpose":`), 400)
	check("an unknown field", api.request("alice", "POST", "/v1/phone/verification", `{"purpose":"bind","phone":"`+number+`","consent":true,"x":1}`), 400)
	check("a body over 16 KiB", api.request("alice", "POST", "/v1/feedback", `{"category":"question","message":"`+strings.Repeat("a", 17<<10)+`"}`), 413)
	plain := api.request("alice", "POST", "/v1/phone/verification", bind)
	plain.Header.Set("Content-Type", "text/plain")
	check("a body sent as text/plain", plain, 415)
	noSub := api.request("", "GET", "/v1/phone", "")
	noSub.Header.Set("Authorization", "Bearer "+api.token(map[string]any{"email": "nosub@example.org"}))
	check("a token without sub", noSub, 401)
	check("no token", api.request("", "GET", "/v1/phone", ""), 401)

	filed := check("a ticket filed", api.request("alice", "POST", "/v1/feedback", `{"category":"question","message":"Можно ли привязать номер Казахстана?"}`), 201)
	check("the ticket read back", api.request("alice", "GET", filed.header.Get("Location"), ""), 200)
	check("the tickets listed", api.request("alice", "GET", "/v1/feedback", ""), 200)
	check("a cursor this API did not hand out", api.request("alice", "GET", "/v1/feedback?cursor=nope", ""), 400)
	check("another account's ticket", api.request("bob", "GET", filed.header.Get("Location"), ""), 404)
	check("a message over the limit", api.request("alice", "POST", "/v1/feedback", `{"category":"question","message":"`+strings.Repeat("я", 4001)+`"}`), 422)
}
