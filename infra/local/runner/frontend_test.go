package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/infra/template"
	"github.com/gosuslugi/phonebind/shared/app"
	"github.com/gosuslugi/phonebind/shared/app/core"
	"github.com/gosuslugi/phonebind/shared/config"
	"github.com/gosuslugi/phonebind/shared/notify"
	"github.com/gosuslugi/phonebind/shared/phone"
	"gopkg.in/yaml.v3"
)

// The runner as a front end's back end (issue 14): CORS as the deployed API
// answers it, the OpenAPI document, and an outbox a test can filter, clear
// and read codes from.

func loadTemplate(t *testing.T) (*template.Template, string) {
	t.Helper()
	tpl, root, err := template.LoadProject()
	if err != nil {
		t.Fatal(err)
	}
	return tpl, root
}

// openAPIDocument is infra/openapi.yaml's path and contents.
func openAPIDocument(t *testing.T) (string, []byte) {
	t.Helper()
	_, root := loadTemplate(t)
	path := filepath.Join(root, "infra", "openapi.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, raw
}

// templateCORS is the template's CorsConfiguration with the runner's
// default origins, as `make run` takes it.
func templateCORS(t *testing.T) *CORS {
	t.Helper()
	tpl, _ := loadTemplate(t)
	c, err := TemplateCORS(tpl)
	if err != nil || c == nil {
		t.Fatalf("TemplateCORS = %v, %v", c, err)
	}
	c.AllowOrigins = DefaultLocalOrigins
	return c
}

func TestTemplateCORS(t *testing.T) {
	c := templateCORS(t)
	for _, h := range []string{"Authorization", "Content-Type", "Idempotency-Key"} {
		if !slices.Contains(c.AllowHeaders, h) {
			t.Errorf("AllowHeaders %v lack %s", c.AllowHeaders, h)
		}
	}
	for _, h := range []string{"Retry-After", "Location"} {
		if !slices.Contains(c.ExposeHeaders, h) {
			t.Errorf("ExposeHeaders %v lack %s", c.ExposeHeaders, h)
		}
	}
	if !slices.Contains(c.AllowMethods, "POST") || c.MaxAge <= 0 {
		t.Errorf("AllowMethods %v, MaxAge %d", c.AllowMethods, c.MaxAge)
	}

	literal, err := template.Parse([]byte(`
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: [https://a.example, "http://localhost:*"]
        AllowMethods: [GET]
        AllowCredentials: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := TemplateCORS(literal); err != nil || fmt.Sprint(c.AllowOrigins) != "[https://a.example http://localhost:*]" || !c.AllowCredentials {
		t.Errorf("literal origins: %+v, %v", c, err)
	}
	none, _ := template.Parse([]byte("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n"))
	if c, err := TemplateCORS(none); c != nil || err != nil {
		t.Errorf("no CorsConfiguration: %+v, %v", c, err)
	}
}

func TestCORS(t *testing.T) {
	const page = "http://localhost:5173"
	s := start(t, func(o *Options) {
		o.CORS = templateCORS(t)
		o.Outbox = notify.NewOutbox(nil, nil)
	})
	fn := s.fns["RequestCodeFunction"]
	// The function sets CORS headers of its own: the API's replace them.
	fn.resp.Headers["Access-Control-Allow-Origin"] = "*"
	fn.resp.Headers["Retry-After"] = "60"

	// A preflight from the front end's dev server: 204, no function runs.
	resp, body := s.do(t, "OPTIONS", "/v1/phone/verification", "", "",
		"Origin", page, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
	h := resp.Header
	if resp.StatusCode != 204 || body != "" || h.Get("Access-Control-Allow-Origin") != page ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Idempotency-Key") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		h.Get("Access-Control-Max-Age") != "600" || !slices.Contains(h.Values("Vary"), "Origin") {
		t.Errorf("preflight: %d %q %v", resp.StatusCode, body, h)
	}
	if len(fn.got) != 0 {
		t.Error("a preflight reached the function")
	}
	// Every route of template.yaml, and the runner's own documents.
	tpl, _ := loadTemplate(t)
	paths := []string{OpenAPIPath, ReferencePath}
	for _, rt := range tpl.Routes() {
		paths = append(paths, strings.NewReplacer("{ticket_id}", "FB-7KQ4M9XP").Replace(rt.Path))
	}
	for _, path := range paths {
		resp, _ := s.do(t, "OPTIONS", path, "", "", "Origin", page, "Access-Control-Request-Method", "GET",
			"Access-Control-Request-Headers", "authorization")
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != page {
			t.Errorf("preflight of %s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}

	// The request itself: the function's answer, readable by the page,
	// with Retry-After and Location exposed.
	resp, body = s.do(t, "POST", "/v1/phone/verification", aliceToken(t), "{}", "Origin", page, "Content-Type", "application/json")
	h = resp.Header
	if resp.StatusCode != 200 || body != `{"ok":true}` || h.Get("Access-Control-Allow-Origin") != page ||
		len(h.Values("Access-Control-Allow-Origin")) != 1 || h.Get("Retry-After") != "60" {
		t.Errorf("request: %d %s %v", resp.StatusCode, body, h)
	}
	if exposed := h.Get("Access-Control-Expose-Headers"); !strings.Contains(exposed, "Retry-After") || !strings.Contains(exposed, "Location") {
		t.Errorf("Access-Control-Expose-Headers = %q", exposed)
	}
	// The API's own refusals reach the page too (a 401 before any function).
	if resp, _ := s.do(t, "GET", "/v1/phone", "", "", "Origin", "http://127.0.0.1:8080"); resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8080" {
		t.Errorf("401: %d %v", resp.StatusCode, resp.Header)
	}

	// Origins that are not allowed get no CORS headers at all.
	for _, origin := range []string{"https://evil.example", "https://localhost:5173", "http://localhost.evil.example:5173", "http://192.168.1.5:5173", "null"} {
		resp, _ := s.do(t, "OPTIONS", "/v1/phone/verification", "", "", "Origin", origin, "Access-Control-Request-Method", "POST")
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight from %s: %d %v", origin, resp.StatusCode, resp.Header)
		}
		resp, _ = s.do(t, "POST", "/v1/phone/verification", aliceToken(t), "{}", "Origin", origin)
		if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Expose-Headers") != "" {
			t.Errorf("request from %s: %v", origin, resp.Header)
		}
	}
	// A method the API does not allow is not allowed by the preflight.
	if resp, _ := s.do(t, "OPTIONS", "/v1/phone/verification", "", "", "Origin", page, "Access-Control-Request-Method", "PUT"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("PUT preflight allowed: %v", resp.Header)
	}
	// PATCH is allowed: the settings are changed with it.
	if resp, _ := s.do(t, "OPTIONS", "/v1/phone/settings", "", "", "Origin", page, "Access-Control-Request-Method", "PATCH"); resp.Header.Get("Access-Control-Allow-Origin") != page {
		t.Errorf("PATCH preflight refused: %v", resp.Header)
	}
	// An OPTIONS that is no preflight is routed like any request.
	if resp, _ := s.do(t, "OPTIONS", "/v1/phone/verification", "", ""); resp.StatusCode != 404 {
		t.Errorf("plain OPTIONS: %d", resp.StatusCode)
	}

	// The page's own tests read codes from the outbox and clear it: an
	// allowed origin passes localOnly, preflight included (DELETE, which
	// the API itself does not allow, is allowed there).
	box := s.opts.Outbox
	_ = box.SendCodeSMS(context.Background(), "+79123456789", "Код подтверждения: 123456.", "123456")
	resp, body = s.do(t, "OPTIONS", OutboxPath, "", "", "Origin", page, "Access-Control-Request-Method", "DELETE", "Sec-Fetch-Site", "same-site")
	if resp.StatusCode != 204 || body != "" || resp.Header.Get("Access-Control-Allow-Origin") != page ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Errorf("outbox preflight from %s: %d %v", page, resp.StatusCode, resp.Header)
	}
	resp, body = s.do(t, "GET", OutboxPath, "", "", "Origin", page, "Sec-Fetch-Site", "same-site")
	if resp.StatusCode != 200 || !strings.Contains(body, `"code":"123456"`) || resp.Header.Get("Access-Control-Allow-Origin") != page {
		t.Errorf("outbox read from %s: %d %s %v", page, resp.StatusCode, body, resp.Header)
	}
	// Other origins still get 403 and no CORS headers, preflight or not.
	for _, origin := range []string{"https://evil.example", "http://192.168.1.5:5173"} {
		for _, m := range []string{"GET", "OPTIONS", "DELETE"} {
			resp, _ := s.do(t, m, OutboxPath, "", "", "Origin", origin, "Access-Control-Request-Method", "DELETE", "Sec-Fetch-Site", "cross-site")
			if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s outbox from %s: %d %v", m, origin, resp.StatusCode, resp.Header)
			}
		}
	}
	if len(box.Messages()) != 1 {
		t.Errorf("a refused DELETE cleared the outbox")
	}
	if resp, _ := s.do(t, "DELETE", OutboxPath, "", "", "Origin", page); resp.StatusCode != 204 || len(box.Messages()) != 0 {
		t.Errorf("DELETE from %s: %d, %d left", page, resp.StatusCode, len(box.Messages()))
	}
	// A text/plain POST, which a browser sends without a preflight, stays
	// refused even from an allowed origin.
	if resp, _ := s.do(t, "POST", InvokePath+"unbind", "", "{}", "Origin", page, "Content-Type", "text/plain"); resp.StatusCode != 403 {
		t.Errorf("text/plain POST from %s: %d", page, resp.StatusCode)
	}
}

// "*" lets any page call the API, but opens no /_local/ route to it.
func TestCORSAnyOriginKeepsLocalRoutesLocal(t *testing.T) {
	c := templateCORS(t)
	c.AllowOrigins = []string{"*"}
	s := start(t, func(o *Options) { o.CORS = c; o.Outbox = notify.NewOutbox(nil, nil) })
	resp, _ := s.do(t, "OPTIONS", "/v1/phone", "", "", "Origin", "https://app.example", "Access-Control-Request-Method", "GET")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("API preflight: %d %v", resp.StatusCode, resp.Header)
	}
	for _, m := range []string{"GET", "OPTIONS"} {
		resp, _ := s.do(t, m, OutboxPath, "", "", "Origin", "https://app.example", "Access-Control-Request-Method", "GET")
		if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s outbox: %d %v", m, resp.StatusCode, resp.Header)
		}
	}
}

func TestAllowedOrigins(t *testing.T) {
	tests := []struct {
		pattern string
		yes, no []string
	}{
		{"http://localhost:*", []string{"http://localhost:5173", "http://localhost", "http://LOCALHOST:3000"},
			[]string{"https://localhost:5173", "http://localhost.evil.example:1", "http://127.0.0.1:5173", "http://localhost:5173/x", "http://u@localhost:5173"}},
		{"https://www.gosuslugi.ru", []string{"https://www.gosuslugi.ru"}, []string{"https://www.gosuslugi.ru:8443", "http://www.gosuslugi.ru", "https://gosuslugi.ru"}},
		{"https://*.example.org", []string{"https://a.example.org", "https://a.b.example.org"}, []string{"https://example.org", "https://evilexample.org"}},
		{"http://[::1]:*", []string{"http://[::1]:5173"}, []string{"http://[::2]:5173"}},
		{"*", []string{"https://any.example"}, nil},
	}
	for _, tt := range tests {
		p, err := parseOriginPattern(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		for _, o := range tt.yes {
			if !p.matches(o) {
				t.Errorf("%s refuses %s", tt.pattern, o)
			}
		}
		for _, o := range tt.no {
			if p.matches(o) {
				t.Errorf("%s allows %s", tt.pattern, o)
			}
		}
	}
	if got, err := ParseOrigins(" http://localhost:*, https://www.gosuslugi.ru ,"); err != nil || len(got) != 2 {
		t.Errorf("ParseOrigins = %v, %v", got, err)
	}
	for _, bad := range []string{"localhost:3000", "http://localhost:port", "http://*:3000", "ftp://x", "http://a/b", "http://*"} {
		if _, err := ParseOrigins(bad); err == nil {
			t.Errorf("ParseOrigins(%q) accepted", bad)
		}
	}
}

func TestOpenAPI(t *testing.T) {
	doc, want := openAPIDocument(t)
	s := start(t, func(o *Options) { o.OpenAPIFile = doc; o.CORS = templateCORS(t) })
	resp, body := s.do(t, "GET", OpenAPIPath, "", "", "Origin", "http://localhost:8081")
	if resp.StatusCode != 200 || body != string(want) || resp.Header.Get("Content-Type") != "application/yaml" ||
		resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:8081" {
		t.Fatalf("GET %s: %d %v (%d bytes, want %d)", OpenAPIPath, resp.StatusCode, resp.Header, len(body), len(want))
	}

	// Read on each request: an edit shows without a restart.
	edited := filepath.Join(t.TempDir(), "openapi.yaml")
	s = start(t, func(o *Options) { o.OpenAPIFile = edited })
	if resp, _ := s.do(t, "GET", OpenAPIPath, "", ""); resp.StatusCode != 500 {
		t.Errorf("missing document: %d", resp.StatusCode)
	}
	for _, v := range []string{"openapi: 3.1.0\n", "openapi: 3.1.1\n"} {
		if err := os.WriteFile(edited, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, body := s.do(t, "GET", OpenAPIPath, "", ""); body != v {
			t.Errorf("served %q, want %q", body, v)
		}
	}
	// Without a document the path is an unknown route, as in API Gateway.
	s = start(t, nil)
	if resp, _ := s.do(t, "GET", OpenAPIPath, "", ""); resp.StatusCode != 404 {
		t.Errorf("no document: %d", resp.StatusCode)
	}
}

type outboxEntry struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Body    string `json:"body"`
	Code    string `json:"code"`
	SentAt  string `json:"sent_at"`
}

func (s *setup) outbox(t *testing.T, query string) []outboxEntry {
	t.Helper()
	resp, body := s.do(t, "GET", OutboxPath+query, "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("GET %s%s: %d %s", OutboxPath, query, resp.StatusCode, body)
	}
	var out []outboxEntry
	if err := json.Unmarshal([]byte(body), &out); err != nil || out == nil {
		t.Fatalf("outbox %q: %v", body, err)
	}
	return out
}

func TestOutboxFilterAndClear(t *testing.T) {
	box := notify.NewOutbox(nil, nil)
	s := start(t, func(o *Options) { o.Outbox = box })
	if got := s.outbox(t, ""); len(got) != 0 {
		t.Fatalf("empty outbox: %v", got)
	}
	ctx := context.Background()
	_ = box.SendCodeSMS(ctx, "+79123456789", "Код подтверждения: 111111. Действует 5 мин.", "111111")
	_ = box.SendCodeSMS(ctx, "+79991234567", "Код подтверждения: 222222. Действует 5 мин.", "222222")
	_ = box.SendCodeEmail(ctx, "alice@example.org", "Код для отвязки", "Код подтверждения: 333333.", "333333")
	_ = box.SendSMS(ctx, "+79123456789", "Номер телефона отвязан от профиля Госуслуг.")

	if got := s.outbox(t, ""); len(got) != 4 || got[0].Code != "111111" || got[2].Code != "333333" || got[3].Code != "" {
		t.Fatalf("outbox: %+v", got)
	}
	// The number in any form the API accepts.
	for _, to := range []string{"+79123456789", "8 (912) 345-67-89", "+7 912 345 67 89", "9123456789", "79123456789"} {
		got := s.outbox(t, "?to="+strings.ReplaceAll(strings.ReplaceAll(to, "+", "%2B"), " ", "%20"))
		if len(got) != 2 || got[0].Code != "111111" || got[1].Body != "Номер телефона отвязан от профиля Госуслуг." {
			t.Errorf("?to=%s: %+v", to, got)
		}
	}
	if got := s.outbox(t, "?to=ALICE@example.org"); len(got) != 1 || got[0].Channel != "email" || got[0].Code != "333333" {
		t.Errorf("?to=address: %+v", got)
	}
	if got := s.outbox(t, "?to=%2B79000000000"); len(got) != 0 {
		t.Errorf("?to=nobody: %+v", got)
	}
	for _, bad := range []string{"", "abc", "12345"} {
		resp, body := s.do(t, "GET", OutboxPath+"?to="+bad, "", "")
		if resp.StatusCode != 400 || !strings.Contains(body, "to: ") {
			t.Errorf("?to=%s: %d %s", bad, resp.StatusCode, body)
		}
	}

	// DELETE from another site is refused and clears nothing.
	if resp, _ := s.do(t, "DELETE", OutboxPath, "", "", "Origin", "http://localhost:5173"); resp.StatusCode != 403 || len(box.Messages()) != 4 {
		t.Fatalf("cross-origin DELETE: %d, %d messages left", resp.StatusCode, len(box.Messages()))
	}
	if resp, body := s.do(t, "DELETE", OutboxPath, "", ""); resp.StatusCode != 204 || body != "" {
		t.Fatalf("DELETE: %d %q", resp.StatusCode, body)
	}
	if got := s.outbox(t, ""); len(got) != 0 {
		t.Fatalf("after DELETE: %+v", got)
	}
	if resp, _ := s.do(t, "POST", OutboxPath, "", "{}", "Content-Type", "application/json"); resp.StatusCode != 404 {
		t.Errorf("POST outbox: %d", resp.StatusCode)
	}
}

// TestOutboxCarriesCodes runs the whole service behind the runner, as
// `make run` does, and types back the code field of every code message
// the service sends (bind, change, unbind by SMS, unbind by e-mail): the
// service hands each code to the outbox as it sends it.
func TestOutboxCarriesCodes(t *testing.T) {
	env := map[string]string{"RESEND_COOLDOWN": "0s", "CHANGE_COOLDOWN": "0s"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	box := notify.NewOutbox(nil, nil)
	logger := slog.New(slog.DiscardHandler)
	a, err := app.New(context.Background(), cfg, core.Options{Local: true, Logger: logger, Outbox: box})
	if err != nil {
		t.Fatal(err)
	}
	tpl, _ := loadTemplate(t)
	h, err := New(Options{
		Routes:    tpl.Routes(),
		Handlers:  a.Handlers(),
		JWTSecret: secret,
		Outbox:    box,
		Phones:    phone.NewParser(cfg.AllowedRegions),
		Logger:    logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s := &setup{srv: srv}

	// A fresh two-factor session with a verified address, so that no
	// step-up challenge stands between a code and its use.
	tok := token(t, map[string]any{
		"sub": "alice", "email": "alice@example.org", "email_verified": true,
		"amr": []string{"pwd", "otp"}, "acr": "urn:gosuslugi:loa:high",
		"auth_time": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	call := func(path, body string) map[string]any {
		t.Helper()
		resp, raw := s.do(t, "POST", path, tok, body, "Content-Type", "application/json")
		var out map[string]any
		_ = json.Unmarshal([]byte(raw), &out)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s %s: %d %s", path, body, resp.StatusCode, raw)
		}
		return out
	}
	// use asks for a code, reads it from the outbox entry to `to` and types
	// it back at route.
	use := func(request, to, route string) {
		t.Helper()
		before := len(box.Messages())
		id, _ := call("/v1/phone/verification", request)["verification_id"].(string)
		var code string
		for _, m := range s.outbox(t, "?to="+to) {
			code = m.Code
		}
		if code == "" || len(box.Messages()) == before {
			t.Fatalf("%s: no code in the outbox to %s: %+v", request, to, box.Messages()[before:])
		}
		call(route, fmt.Sprintf(`{"verification_id":%q,"code":%q}`, id, code))
	}
	use(`{"purpose":"bind","phone":"8 (912) 345-67-89","consent":true}`, "8%20912%20345-67-89", "/v1/phone/verification/confirm")
	use(`{"purpose":"bind","phone":"+7 999 123-45-67","consent":true}`, "%2B79991234567", "/v1/phone/verification/confirm")
	use(`{"purpose":"unbind","channel":"sms"}`, "%2B79991234567", "/v1/phone/unbind")
	use(`{"purpose":"bind","phone":"+79123456789","consent":true}`, "%2B79123456789", "/v1/phone/verification/confirm")
	use(`{"purpose":"unbind","channel":"email"}`, "alice@example.org", "/v1/phone/unbind")

	// Five codes were typed back; the alerts between them carry none.
	codes := 0
	for _, m := range box.Messages() {
		if m.Code != "" {
			codes++
		}
	}
	if codes != 5 {
		t.Errorf("%d code messages, want 5: %+v", codes, box.Messages())
	}
}

// The reference page shows every operation of infra/openapi.yaml: method,
// path, summary, each request body field, each response status and the
// problem codes; read from the document itself, parsed here on its own.
func TestReference(t *testing.T) {
	file, raw := openAPIDocument(t)
	var doc struct {
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas map[string]map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	s := start(t, func(o *Options) { o.OpenAPIFile = file; o.CORS = templateCORS(t) })
	resp, page := s.do(t, "GET", ReferencePath, "", "", "Origin", "http://localhost:5173")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Fatalf("GET %s: %d %v", ReferencePath, resp.StatusCode, resp.Header)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, " src=") || strings.Contains(page, "<link") {
		t.Error("the page loads scripts or remote resources")
	}
	schema := func(ref any) map[string]any {
		r, _ := ref.(map[string]any)["$ref"].(string)
		return doc.Components.Schemas[r[strings.LastIndex(r, "/")+1:]]
	}
	ops := 0
	for path, methods := range doc.Paths {
		for method, v := range methods {
			op, ok := v.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			ops++
			id, _ := op["operationId"].(string)
			start := strings.Index(page, `<section class="op" id="`+id+`">`)
			if start < 0 {
				t.Errorf("%s %s (%s): no section", method, path, id)
				continue
			}
			sec := page[start:]
			sec = sec[:strings.Index(sec, "</section>")]
			for _, want := range []string{
				`<span class="method">` + strings.ToUpper(method) + `</span> <code>` + path + `</code>`,
				html.EscapeString(op["summary"].(string)),
			} {
				if !strings.Contains(sec, want) {
					t.Errorf("%s %s: the page lacks %q", method, path, want)
				}
			}
			if body, ok := op["requestBody"].(map[string]any); ok {
				s := schema(body["content"].(map[string]any)["application/json"].(map[string]any)["schema"])
				alts := []map[string]any{s}
				if one, ok := s["oneOf"].([]any); ok {
					alts = nil
					for _, a := range one {
						alts = append(alts, schema(a))
					}
				}
				for _, a := range alts {
					for field := range a["properties"].(map[string]any) {
						if !strings.Contains(sec, "<td><code>"+field+"</code></td>") {
							t.Errorf("%s %s: no request body field %s", method, path, field)
						}
					}
				}
			}
			for status := range op["responses"].(map[string]any) {
				if !strings.Contains(sec, "<td><strong>"+status+"</strong></td>") {
					t.Errorf("%s %s: no response %s", method, path, status)
				}
			}
		}
	}
	if ops < 5 {
		t.Fatalf("only %d operations in the document", ops)
	}
	// A problem code the examples show, in its response's row.
	if !strings.Contains(page, "<code>phone_taken</code>") || !strings.Contains(page, "<code>code_invalid</code>") {
		t.Error("the responses do not name their problem codes")
	}
	for _, code := range doc.Components.Schemas["ProblemCode"]["enum"].([]any) {
		if !strings.Contains(page, "<li><code>"+code.(string)+"</code></li>") {
			t.Errorf("problem code %s is not listed", code)
		}
	}

	// A broken document is a 500 that says why, not a blank page.
	broken := filepath.Join(t.TempDir(), "openapi.yaml")
	if err := os.WriteFile(broken, []byte("paths: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = start(t, func(o *Options) { o.OpenAPIFile = broken })
	if resp, body := s.do(t, "GET", ReferencePath, "", ""); resp.StatusCode != 500 || !strings.Contains(body, "cannot be rendered") {
		t.Errorf("broken document: %d %s", resp.StatusCode, body)
	}
}

// GET /_local/runner tells the runner from another server on the port.
func TestRunnerInfo(t *testing.T) {
	s := start(t, func(o *Options) { o.About = "in-memory store" })
	resp, body := s.do(t, "GET", RunnerPath, "", "")
	var info RunnerInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil || resp.StatusCode != 200 || info.Service != RunnerService || info.About != "in-memory store" {
		t.Fatalf("GET %s: %d %s (%v)", RunnerPath, resp.StatusCode, body, err)
	}
	if resp, _ := s.do(t, "GET", RunnerPath, "", "", "Origin", "https://evil.example"); resp.StatusCode != 403 {
		t.Errorf("from another site: %d", resp.StatusCode)
	}
}
