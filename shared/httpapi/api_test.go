package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/metrics"
	"github.com/gosuslugi/phonebind/shared/phone"
)

const (
	bindBody    = `{"purpose":"bind","phone":"+7 912 345-67-89","consent":true}`
	confirmJSON = `{"verification_id":"v-1","code":"123456"}`
)

var (
	t0       = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	someSent = binding.CodeSent{
		VerificationID: "v-1",
		Purpose:        binding.PurposeBind,
		Channel:        binding.ChannelSMS,
		Destination:    "+7 912 ***-**-89",
		ExpiresAt:      t0.Add(5*time.Minute + 300*time.Millisecond),
		ResendAfter:    t0.Add(time.Minute),
		AttemptsLeft:   5,
	}
)

func newAPI(svc Binding, logs *bytes.Buffer) *API {
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return New(svc, phone.NewParser([]string{"RU"}), logger)
}

// decodeProblem checks the problem+json envelope and returns its fields.
// problem checks that a handler answered a problem with status and code
// (and no Go error, which API Gateway would turn into a bare 500), and
// returns it decoded.
func problem(t *testing.T, resp events.APIGatewayV2HTTPResponse, err error, status int, code string) map[string]any {
	t.Helper()
	if err != nil {
		t.Fatalf("handler returned a Go error: %v", err)
	}
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, status, resp.Body)
	}
	p := decodeProblem(t, resp)
	if p["code"] != code {
		t.Errorf("code = %v, want %s", p["code"], code)
	}
	return p
}

func decodeProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	if ct := resp.Headers["Content-Type"]; ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	if cc := resp.Headers["Cache-Control"]; cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("problem body %q: %v", resp.Body, err)
	}
	for _, k := range []string{"type", "title", "status", "detail", "code"} {
		if _, ok := p[k]; !ok {
			t.Errorf("problem lacks %q: %s", k, resp.Body)
		}
	}
	if p["status"] != float64(resp.StatusCode) {
		t.Errorf("problem status %v, response status %d", p["status"], resp.StatusCode)
	}
	if p["type"] != "urn:phonebind:problem:"+fmt.Sprint(p["code"]) {
		t.Errorf("type = %v for code %v", p["type"], p["code"])
	}
	return p
}

func TestErrorMapping(t *testing.T) {
	allowed := t0.Add(72 * time.Hour)
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		extras     map[string]any
		retryAfter string
		ru, en     string // substrings of the detail
	}{
		{"consent", binding.ErrConsentRequired, 422, "consent_required", nil, "",
			"согласие", "Consent"},
		{"same phone", binding.ErrSamePhone, 409, "same_phone", nil, "",
			"уже привязан к вашей", "already saved to your account"},
		{"taken", fmt.Errorf("complete: %w", binding.ErrPhoneTaken), 409, "phone_taken", nil, "",
			"другой учётной", "another account"},
		{"too soon", &binding.ChangeTooSoonError{AllowedAfter: allowed}, 409, "change_too_soon",
			map[string]any{"change_allowed_after": "2025-03-04T12:00:00Z"}, "",
			"04.03.2025 12:00 UTC", "4 March 2025, 12:00 UTC"},
		{"not found", binding.ErrVerificationNotFound, 404, "verification_not_found", nil, "",
			"не найден", "not found"},
		{"used", binding.ErrVerificationUsed, 404, "verification_not_found", nil, "",
			"уже использован или заменён", "already used or replaced by a newer request"},
		{"stale", binding.ErrStale, 404, "verification_not_found", nil, "",
			"профиля изменились", "profile changed"},
		{"wrong code", &binding.CodeInvalidError{AttemptsLeft: 3}, 422, "code_invalid",
			map[string]any{"attempts_left": float64(3)}, "", "Осталось попыток: 3", "Attempts left: 3"},
		{"last wrong code", &binding.CodeInvalidError{AttemptsLeft: 0}, 422, "code_invalid",
			map[string]any{"attempts_left": float64(0)}, "", "Осталось попыток: 0", "Attempts left: 0"},
		{"expired", binding.ErrCodeExpired, 410, "code_expired", nil, "", "истёк", "expired"},
		{"attempts", binding.ErrAttemptsExceeded, 410, "code_attempts_exceeded",
			map[string]any{"attempts_left": float64(0)}, "", "попыток", "attempts"},
		{"cooldown", &binding.RateLimitError{Limit: binding.LimitCooldown, RetryAfter: 41*time.Second + time.Millisecond},
			429, "rate_limited", map[string]any{"retry_after": float64(42), "limit": "resend_cooldown"}, "42",
			"через 42 с", "in 42 s"},
		{"ip hour", &binding.RateLimitError{Limit: binding.LimitIPHour, RetryAfter: 0},
			429, "rate_limited", map[string]any{"retry_after": float64(1), "limit": "ip_hour"}, "1",
			"Слишком много запросов", "Too many requests"},
		{"sms down", &binding.DeliveryError{Channel: binding.ChannelSMS, RetryAfter: 30 * time.Second, Err: errors.New("sns: throttled at arn:aws:sns:secret")},
			503, "sms_unavailable", map[string]any{"retry_after": float64(30)}, "30", "SMS", "SMS"},
		{"no phone", binding.ErrNoPhoneBound, 409, "no_phone_bound", nil, "", "не привязан", "No phone number"},
		{"email down", &binding.DeliveryError{Channel: binding.ChannelEmail, RetryAfter: 30 * time.Second, Err: errors.New("ses: throttled")},
			503, "email_send_failed", map[string]any{"retry_after": float64(30)}, "30", "письмо", "e-mail"},
		{"no email", binding.ErrEmailUnavailable, 422, "email_unavailable", nil, "", "электронной почты", "no verified e-mail"},
		{"unbind pending", binding.ErrUnbindPending, 409, "unbind_pending", nil, "", "сначала отмените отвязку", "cancel the removal first"},
		{"no unbind pending", binding.ErrNoUnbindPending, 409, "no_unbind_pending", nil, "", "отменять нечего", "nothing to cancel"},
		{"purpose", binding.ErrInvalidPurpose, 422, "invalid_request", map[string]any{"field": "purpose"}, "",
			"purpose", "purpose"},
		{"invalid phone", &phone.InvalidError{Reason: phone.ReasonNotMobile}, 422, "invalid_phone",
			map[string]any{"reason": "not_mobile"}, "", "мобильного", "mobile"},
		{"internal", errors.New("dynamodb: table phonebind-prod not found"), 500, "internal", nil, "",
			"Внутренняя ошибка", "Internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, lang := range []string{"ru", "en-US,en;q=0.9,ru;q=0.8"} {
				api := newAPI(&fakeBinding{err: tt.err}, nil)
				resp, err := api.ConfirmCode(context.Background(), event("POST", "/v1/phone/verification/confirm", confirmJSON, withLang(lang)))
				p := problem(t, resp, err, tt.status, tt.code)
				for k, v := range tt.extras {
					if p[k] != v {
						t.Errorf("%s = %v (%T), want %v", k, p[k], p[k], v)
					}
				}
				if got := resp.Headers["Retry-After"]; got != tt.retryAfter {
					t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
				}
				want := tt.ru
				if lang != "ru" {
					want = tt.en
				}
				if d := p["detail"].(string); !strings.Contains(d, want) {
					t.Errorf("[%s] detail = %q, want it to contain %q", lang, d, want)
				}
				if strings.Contains(resp.Body, "dynamodb") || strings.Contains(resp.Body, "arn:") || strings.Contains(resp.Body, "sns") {
					t.Errorf("internals leaked: %s", resp.Body)
				}
			}
		})
	}
}

func TestRequestErrors(t *testing.T) {
	big := `{"purpose":"bind","phone":"` + strings.Repeat("9", 20<<10) + `","consent":true}`
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		handle func(*API) Handler
		status int
		code   string
		field  string
		detail string // substring of the Russian detail
	}{
		{"no authorizer", event("POST", "/v1/phone/verification", bindBody, withoutAuthorizer),
			requestCode, 401, "unauthorized", "", "вход"},
		{"empty sub", event("GET", "/v1/phone", "", withClaims(map[string]string{"sub": "", "email": "a@b.c"})),
			status, 401, "unauthorized", "", "вход"},
		{"no sub", event("POST", "/v1/phone/verification/confirm", confirmJSON, withClaims(map[string]string{"email": "a@b.c"})),
			confirmCode, 401, "unauthorized", "", "вход"},
		{"20 KiB", event("POST", "/v1/phone/verification", big), requestCode, 413, "payload_too_large", "", "16384"},
		{"20 KiB base64", event("POST", "/v1/phone/verification", big, base64Body), requestCode, 413, "payload_too_large", "", "16384"},
		{"not json", event("POST", "/v1/phone/verification", `purpose=bind`), requestCode, 400, "invalid_json", "", "JSON"},
		{"truncated", event("POST", "/v1/phone/verification", `{"purpose":"bind"`), requestCode, 400, "invalid_json", "", "JSON"},
		{"empty", event("POST", "/v1/phone/verification", "  "), requestCode, 400, "invalid_json", "", "пустое"},
		{"trailing", event("POST", "/v1/phone/verification", bindBody+`{}`), requestCode, 400, "invalid_json", "", "лишние"},
		{"trailing garbage", event("POST", "/v1/phone/verification", bindBody+` x`), requestCode, 400, "invalid_json", "", "лишние"},
		{"bad base64", event("POST", "/v1/phone/verification", "!!!", func(r *events.APIGatewayV2HTTPRequest) { r.IsBase64Encoded = true }),
			requestCode, 400, "invalid_json", "", "JSON"},
		{"array", event("POST", "/v1/phone/verification", `[1]`), requestCode, 400, "invalid_request", "", "JSON-объектом"},
		{"unknown field", event("POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+79123456789","consent":true,"admin":true}`),
			requestCode, 400, "invalid_request", "admin", "«admin»"},
		{"wrong type", event("POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+79123456789","consent":"yes"}`),
			requestCode, 400, "invalid_request", "consent", "«consent»"},
		{"wrong type number", event("POST", "/v1/phone/verification/confirm", `{"verification_id":"v","code":123456}`),
			confirmCode, 400, "invalid_request", "code", "строка"},
		{"no purpose", event("POST", "/v1/phone/verification", `{"phone":"+79123456789","consent":true}`),
			requestCode, 422, "invalid_request", "purpose", "«purpose»"},
		{"null purpose", event("POST", "/v1/phone/verification", `{"purpose":null,"phone":"+79123456789"}`),
			requestCode, 422, "invalid_request", "purpose", "«purpose»"},
		{"other purpose", event("POST", "/v1/phone/verification", `{"purpose":"steal","phone":"+79123456789","consent":true}`),
			requestCode, 422, "invalid_request", "purpose", "bind"},
		{"text/plain", event("POST", "/v1/phone/verification", bindBody, withHeader("content-type", "text/plain")),
			requestCode, 415, "unsupported_media_type", "", "Content-Type: application/json"},
		{"no content type", event("POST", "/v1/phone/verification/confirm", confirmJSON, withHeader("content-type", "")),
			confirmCode, 415, "unsupported_media_type", "", "Content-Type"},
		{"form", event("POST", "/v1/phone/unbind", confirmJSON, withHeader("content-type", "application/x-www-form-urlencoded")),
			unbindCode, 415, "unsupported_media_type", "", "JSON"},
		{"unbind with a phone", event("POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms","phone":"+79123456789"}`),
			requestCode, 400, "invalid_request", "phone", "«phone»"},
		{"unbind with consent", event("POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"sms","consent":true}`),
			requestCode, 400, "invalid_request", "consent", "«consent»"},
		{"bind by e-mail", event("POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+79123456789","consent":true,"channel":"email"}`),
			requestCode, 400, "invalid_request", "channel", "«channel»"},
		{"unbind without channel", event("POST", "/v1/phone/verification", `{"purpose":"unbind"}`),
			requestCode, 422, "invalid_request", "channel", "«channel»"},
		{"unbind by pigeon", event("POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"pigeon"}`),
			requestCode, 422, "invalid_request", "channel", "sms, email"},
		{"no phone", event("POST", "/v1/phone/verification", `{"purpose":"bind","consent":true}`),
			requestCode, 422, "invalid_request", "phone", "«phone»"},
		{"no consent", event("POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+79123456789"}`),
			requestCode, 422, "consent_required", "", "согласие"},
		{"no verification id", event("POST", "/v1/phone/verification/confirm", `{"code":"123456"}`),
			confirmCode, 422, "invalid_request", "verification_id", "«verification_id»"},
		{"empty code", event("POST", "/v1/phone/verification/confirm", `{"verification_id":"v","code":""}`),
			confirmCode, 422, "invalid_request", "code", "«code»"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeBinding{sent: someSent}
			resp, err := tt.handle(newAPI(svc, nil))(context.Background(), tt.req)
			p := problem(t, resp, err, tt.status, tt.code)
			if tt.field != "" && p["field"] != tt.field {
				t.Errorf("field = %v, want %s", p["field"], tt.field)
			}
			if d := p["detail"].(string); !strings.Contains(d, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", d, tt.detail)
			}
			if tt.status == 401 && (len(svc.requested)+len(svc.confirmed)+len(svc.statusFor)) > 0 {
				t.Error("the service was called for an unauthenticated request")
			}
		})
	}
}

func TestInvalidPhone(t *testing.T) {
	tests := []struct{ phone, reason, en string }{
		{"", "empty", "Enter a phone number"},
		{"+7 912 345-67-8x", "invalid_characters", "may contain only"},
		{"+7 912 345", "invalid_length", "wrong number of digits"},
		{"+7 495 123-45-67", "not_mobile", "mobile"},
		{"+44 7911 123456", "region_not_allowed", "country"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			svc := &fakeBinding{sent: someSent}
			body := fmt.Sprintf(`{"purpose":"bind","phone":%q,"consent":true}`, tt.phone)
			resp, _ := newAPI(svc, nil).RequestCode(context.Background(),
				event("POST", "/v1/phone/verification", body, withLang("en")))
			if resp.StatusCode != 422 {
				t.Fatalf("status = %d (%s)", resp.StatusCode, resp.Body)
			}
			p := decodeProblem(t, resp)
			if p["code"] != "invalid_phone" || p["reason"] != tt.reason {
				t.Errorf("code, reason = %v, %v; want invalid_phone, %s", p["code"], p["reason"], tt.reason)
			}
			if d := p["detail"].(string); !strings.Contains(d, tt.en) {
				t.Errorf("detail = %q, want %q", d, tt.en)
			}
			if len(svc.requested) != 0 {
				t.Error("service called with an invalid number")
			}
		})
	}
}

func TestRequestCodeAccepted(t *testing.T) {
	for _, enc := range []string{"text", "base64"} {
		t.Run(enc, func(t *testing.T) {
			svc := &fakeBinding{sent: someSent}
			req := event("POST", "/v1/phone/verification", bindBody)
			if enc == "base64" {
				base64Body(&req)
			}
			resp, err := newAPI(svc, nil).RequestCode(context.Background(), req)
			if err != nil || resp.StatusCode != http.StatusAccepted {
				t.Fatalf("got %d %v: %s", resp.StatusCode, err, resp.Body)
			}
			assertJSONHeaders(t, resp)
			want := `{"verification_id":"v-1","purpose":"bind","channel":"sms","destination":"+7 912 ***-**-89",` +
				`"expires_at":"2025-03-01T12:05:00Z","resend_after":"2025-03-01T12:01:00Z","attempts_left":5}`
			if resp.Body != want {
				t.Errorf("body =\n%s\nwant\n%s", resp.Body, want)
			}
			if len(svc.requested) != 1 {
				t.Fatalf("service called %d times", len(svc.requested))
			}
			got := svc.requested[0]
			if got.AccountID != "alice" || got.Purpose != binding.PurposeBind || !got.Consent ||
				got.SourceIP != "203.0.113.7" || got.Phone.E164() != "+79123456789" {
				t.Errorf("service got %+v (E164 %s)", got, got.Phone.E164())
			}
		})
	}
}

func TestConfirmPassesCaller(t *testing.T) {
	svc := &fakeBinding{status: binding.Status{State: binding.StateVerified, Phone: "+7 912 ***-**-89"}}
	resp, _ := newAPI(svc, nil).ConfirmCode(context.Background(),
		event("POST", "/v1/phone/verification/confirm", `{"verification_id":" v-1 ","code":" 123456 "}`))
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d: %s", resp.StatusCode, resp.Body)
	}
	assertJSONHeaders(t, resp)
	want := binding.Confirmation{AccountID: "alice", VerificationID: "v-1", Code: "123456", SourceIP: "203.0.113.7", Email: "alice@example.org",
		Session: binding.Session{AMR: []string{"pwd", "mfa"}, AuthTime: time.Unix(1764838800, 0).UTC()}}
	if len(svc.confirmed) != 1 || !reflect.DeepEqual(svc.confirmed[0], want) {
		t.Errorf("service got %+v, want %+v", svc.confirmed, want)
	}
	if !strings.Contains(resp.Body, `"status":"verified"`) {
		t.Errorf("body = %s", resp.Body)
	}
}

func TestStatusShapes(t *testing.T) {
	full := binding.Status{
		State:              binding.StatePending,
		Phone:              "+7 912 ***-**-89",
		VerifiedAt:         t0.Add(-48 * time.Hour),
		ChangeAllowedAfter: t0.Add(28 * 24 * time.Hour),
		Consent:            &binding.Consent{Version: "2024-01", GivenAt: t0.Add(-48 * time.Hour)},
		Request: &binding.RequestView{
			VerificationID: "v-2", Purpose: binding.PurposeBind, State: binding.RequestPending,
			Destination: "+7 999 ***-**-01", ExpiresAt: t0.Add(5 * time.Minute), ResendAfter: t0.Add(time.Minute),
			AttemptsLeft: 4,
		},
		History: []binding.HistoryEntry{{
			At: t0.Add(-48 * time.Hour), Event: binding.EventBound, Phone: "+7 912 ***-**-89",
			Actor: "user", Channel: binding.ChannelSMS, SourceIP: "198.51.100.1",
		}},
	}
	rejected := binding.Status{
		State: binding.StateNone,
		Request: &binding.RequestView{
			VerificationID: "v-3", Purpose: binding.PurposeBind, State: binding.RequestRejected,
			Reason: binding.ReasonPhoneTaken, Destination: "+7 999 ***-**-01", AttemptsLeft: 0,
		},
	}
	tests := []struct {
		name string
		st   binding.Status
		lang string
		want string
	}{
		{"none", binding.Status{State: binding.StateNone}, "",
			`{"status":"none","status_text":"Номер не привязан","history":[]}`},
		{"none en", binding.Status{State: binding.StateNone}, "en",
			`{"status":"none","status_text":"No number saved","history":[]}`},
		{"verified en", binding.Status{State: binding.StateVerified, Phone: "+7 912 ***-**-89"}, "en-GB",
			`{"status":"verified","status_text":"Number saved","phone":"+7 912 ***-**-89","history":[]}`},
		{"pending full", full, "ru",
			`{"status":"pending","status_text":"Ожидание подтверждения","phone":"+7 912 ***-**-89",` +
				`"verified_at":"2025-02-27T12:00:00Z","change_allowed_after":"2025-03-29T12:00:00Z",` +
				`"consent":{"version":"2024-01","given_at":"2025-02-27T12:00:00Z"},` +
				`"request":{"verification_id":"v-2","purpose":"bind","state":"pending","state_text":"В обработке",` +
				`"destination":"+7 999 ***-**-01","expires_at":"2025-03-01T12:05:00Z","resend_after":"2025-03-01T12:01:00Z","attempts_left":4},` +
				`"history":[{"at":"2025-02-27T12:00:00Z","event":"bound","phone":"+7 912 ***-**-89","actor":"user","channel":"sms","source_ip":"198.51.100.1"}]}`},
		{"rejected", rejected, "ru",
			`{"status":"none","status_text":"Номер не привязан",` +
				`"request":{"verification_id":"v-3","purpose":"bind","state":"rejected","state_text":"Отклонено",` +
				`"reason":"phone_taken","destination":"+7 999 ***-**-01","attempts_left":0},"history":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeBinding{status: tt.st}
			resp, err := newAPI(svc, nil).Status(context.Background(), event("GET", "/v1/phone", "", withLang(tt.lang)))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("got %d %v: %s", resp.StatusCode, err, resp.Body)
			}
			assertJSONHeaders(t, resp)
			if resp.Body != tt.want {
				t.Errorf("body =\n%s\nwant\n%s", resp.Body, tt.want)
			}
			if len(svc.statusFor) != 1 || svc.statusFor[0] != "alice" {
				t.Errorf("status asked for %v", svc.statusFor)
			}
		})
	}
}

func TestInternalErrorShowsNothing(t *testing.T) {
	var logs bytes.Buffer
	secret := "operation error DynamoDB: GetItem, https response error StatusCode: 400, RequestID: X, ResourceNotFoundException: arn:aws:dynamodb:eu-west-1:123456789012:table/phonebind"
	resp, err := newAPI(&fakeBinding{err: errors.New(secret)}, &logs).Status(context.Background(), event("GET", "/v1/phone", ""))
	if err != nil {
		t.Fatalf("handler returned a Go error: %v", err)
	}
	if resp.StatusCode != 500 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	p := decodeProblem(t, resp)
	if p["code"] != "internal" {
		t.Errorf("code = %v", p["code"])
	}
	for _, leak := range []string{"DynamoDB", "arn:", "123456789012", "GetItem"} {
		if strings.Contains(resp.Body, leak) || strings.Contains(fmt.Sprint(resp.Headers), leak) {
			t.Errorf("response shows %q: %s", leak, resp.Body)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one log line, got %d:\n%s", len(lines), logs.String())
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line["level"] != "ERROR" || line["error"] != secret || line["code"] != "internal" || line["status"] != float64(500) {
		t.Errorf("log line = %v", line)
	}
}

func TestPanicIsInternal(t *testing.T) {
	var logs bytes.Buffer
	api := New(&fakeBinding{}, panicParser{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	resp, err := api.RequestCode(context.Background(), event("POST", "/v1/phone/verification", bindBody))
	if err != nil || resp.StatusCode != 500 {
		t.Fatalf("got %d %v", resp.StatusCode, err)
	}
	if decodeProblem(t, resp)["code"] != "internal" || !strings.Contains(logs.String(), "panic") {
		t.Errorf("body %s, logs %s", resp.Body, logs.String())
	}
}

type panicParser struct{}

func (panicParser) Parse(string) (phone.Number, error) { panic("boom") }

// TestLogsHoldNoSecrets runs every route, successful and failing, and looks
// for the number, the code, the e-mail and the account id in the logs.
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	svc := &fakeBinding{sent: someSent, status: binding.Status{State: binding.StateVerified, Phone: "+7 912 ***-**-89"}}
	api := newAPI(svc, &logs)
	ctx := context.Background()
	claims := withClaims(map[string]string{"sub": "acct-7f3a9", "email": "alice@example.org"})
	reqs := []struct {
		h   Handler
		req events.APIGatewayV2HTTPRequest
	}{
		{api.RequestCode, event("POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+7 912 345-67-89","consent":true}`, claims)},
		{api.RequestCode, event("POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+7 912 345-67-89","consent":"9123456789"}`, claims)},
		{api.RequestCode, event("POST", "/v1/phone/verification", `{"purpose":"bind","phone":"+7 495 345-67-89","consent":true}`, claims)},
		{api.ConfirmCode, event("POST", "/v1/phone/verification/confirm", `{"verification_id":"v-1","code":"481516"}`, claims)},
		{api.ConfirmCode, event("POST", "/v1/phone/verification/confirm", `{"verification_id":"v-1","code":"481516","x":1}`, claims)},
		{api.Status, event("GET", "/v1/phone", "", claims)},
	}
	for _, r := range reqs {
		if _, err := r.h(ctx, r.req); err != nil {
			t.Fatal(err)
		}
	}
	svc.err = &binding.CodeInvalidError{AttemptsLeft: 2}
	_, _ = api.ConfirmCode(ctx, event("POST", "/v1/phone/verification/confirm", `{"verification_id":"v-1","code":"481516"}`, claims))

	out := logs.String()
	if n := strings.Count(out, "\n"); n != len(reqs)+1 {
		t.Errorf("want one line per request (%d), got %d:\n%s", len(reqs)+1, n, out)
	}
	for _, secret := range []string{"9123456789", "912 345", "3456789", "481516", "alice@example.org", "acct-7f3a9"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"route":"POST /v1/phone/verification"`, `"status":202`, `"code":"code_invalid"`, `"code":"ok"`, `"latency_ms"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}

func TestNotFound(t *testing.T) {
	resp, err := newAPI(&fakeBinding{}, nil).NotFound(context.Background(), event("GET", "/v1/nope", "", withLang("en")))
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("got %d %v", resp.StatusCode, err)
	}
	p := decodeProblem(t, resp)
	if p["code"] != "not_found" || p["detail"] != "No such resource." {
		t.Errorf("problem = %v", p)
	}
}

func TestErrorResponse(t *testing.T) {
	resp := ErrorResponse(event("POST", "/x", ""), &PayloadTooLargeError{Limit: 1 << 20})
	if resp.StatusCode != 413 || decodeProblem(t, resp)["code"] != "payload_too_large" {
		t.Errorf("got %d %s", resp.StatusCode, resp.Body)
	}
	resp = ErrorResponse(event("GET", "/x", "", withLang("en")), ErrUnauthorized)
	if p := decodeProblem(t, resp); resp.StatusCode != 401 || p["code"] != "unauthorized" || p["detail"] != "Sign-in required." {
		t.Errorf("got %d %s", resp.StatusCode, resp.Body)
	}
}

func TestPreferredLang(t *testing.T) {
	tests := []struct {
		header string
		want   lang
	}{
		{"", langRU},
		{"ru", langRU},
		{"en", langEN},
		{"en-US,en;q=0.9,ru;q=0.8", langEN},
		{"ru, en;q=0.5", langRU},
		{"*", langRU},
		{"ru-RU;q=0.4, en-GB;q=0.6", langEN},
		{"de, en;q=0.5", langEN},
		{"de, fr", langRU},
		{"en;q=0, ru;q=0.1", langRU},
		{"en, ru", langEN},
		{"ru, en", langRU},
		{"EN-us", langEN},
		{"en;q=bogus, ru;q=0.2", langRU},
		{"ru;q=0.1, *", langEN},
		{"en, *;q=0.5", langEN},
		{" en-US ; q=0.7 , ru ; q=0.7 ", langEN},
	}
	for _, tt := range tests {
		if got := preferredLang(tt.header); got != tt.want {
			t.Errorf("preferredLang(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestEveryCodeHasTexts(t *testing.T) {
	for code, k := range kinds {
		d, ok := details[code]
		if !ok || d.ru == "" || d.en == "" {
			t.Errorf("code %s has no detail in both languages", code)
		}
		if k.title == "" || k.status < 400 {
			t.Errorf("code %s: kind %+v", code, k)
		}
	}
	for key, d := range details {
		code, _, _ := strings.Cut(key, ".")
		if _, ok := kinds[code]; !ok {
			t.Errorf("detail %s belongs to no code", key)
		}
		if d.ru == "" || d.en == "" || strings.Count(d.ru, "%") != strings.Count(d.en, "%") {
			t.Errorf("detail %s: %+v", key, d)
		}
	}
}

func assertJSONHeaders(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if ct := resp.Headers["Content-Type"]; ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Headers["Cache-Control"]; cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
}

func requestCode(a *API) Handler { return a.RequestCode }
func unbindCode(a *API) Handler  { return a.Unbind }
func confirmCode(a *API) Handler { return a.ConfirmCode }
func status(a *API) Handler      { return a.Status }

func TestUnbindCodeChannels(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		claim     string
		wantChan  binding.Channel
		wantEmail string
	}{
		{"sms", `{"purpose":"unbind","channel":"sms"}`, "alice@example.org", binding.ChannelSMS, "alice@example.org"},
		{"email", `{"purpose":"unbind","channel":"email"}`, "alice@example.org", binding.ChannelEmail, "alice@example.org"},
		{"email claim missing", `{"purpose":"unbind","channel":"email"}`, "", binding.ChannelEmail, ""},
		{"email claim not an address", `{"purpose":"unbind","channel":"email"}`, "Alice <alice@example.org>", binding.ChannelEmail, ""},
		{"email claim garbage", `{"purpose":"unbind","channel":"email"}`, "not-an-address", binding.ChannelEmail, ""},
		{"email not verified", `{"purpose":"unbind","channel":"email"}`, "alice@example.org", binding.ChannelEmail, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &fakeBinding{sent: someSent}
			req := event("POST", "/v1/phone/verification", tt.body, func(r *events.APIGatewayV2HTTPRequest) {
				r.RequestContext.Authorizer.JWT.Claims["email"] = tt.claim
				if tt.name == "email not verified" {
					r.RequestContext.Authorizer.JWT.Claims["email_verified"] = "false"
				}
			})
			resp, _ := newAPI(svc, nil).RequestCode(context.Background(), req)
			if resp.StatusCode != http.StatusAccepted || len(svc.requested) != 1 {
				t.Fatalf("got %d: %s", resp.StatusCode, resp.Body)
			}
			got := svc.requested[0]
			if got.Purpose != binding.PurposeUnbind || got.Channel != tt.wantChan || got.Email != tt.wantEmail || got.AccountID != "alice" {
				t.Errorf("service got %+v", got)
			}
		})
	}
}

func TestRequestMetricsAndLambdaRequestID(t *testing.T) {
	var logs, emf bytes.Buffer
	svc := &fakeBinding{sent: someSent, status: binding.Status{State: binding.StateVerified}}
	api := newAPI(svc, &logs)
	api.SetMetrics(metrics.NewEMF(&emf, nil))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-9"})

	_, _ = api.RequestCode(ctx, event("POST", "/v1/phone/verification", bindBody))
	_, _ = api.ConfirmCode(ctx, event("POST", "/v1/phone/verification/confirm", confirmJSON))
	svc.err = &binding.CodeInvalidError{AttemptsLeft: 2}
	_, _ = api.Unbind(ctx, event("POST", "/v1/phone/unbind", confirmJSON))
	svc.err = &binding.RateLimitError{Limit: binding.LimitIPHour, RetryAfter: time.Minute}
	_, _ = api.RequestCode(ctx, event("POST", "/v1/phone/verification", bindBody))
	svc.err = &binding.DeliveryError{Channel: binding.ChannelEmail, RetryAfter: time.Second, Err: errors.New("ses")}
	_, _ = api.RequestCode(ctx, event("POST", "/v1/phone/verification", `{"purpose":"unbind","channel":"email"}`))

	points, err := metrics.Parse(&emf)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range points {
		if p.Name == metrics.Latency {
			if p.Unit != metrics.UnitMilliseconds || p.Value < 0 {
				t.Errorf("latency point %+v", p)
			}
			continue
		}
		got[p.Name+"{"+p.Dims+"}"] += p.Value
	}
	want := map[string]float64{
		"Requests{Code=ok,Route=POST /v1/phone/verification}":                      1,
		"Requests{Code=ok,Route=POST /v1/phone/verification/confirm}":              1,
		"Requests{Code=code_invalid,Route=POST /v1/phone/unbind}":                  1,
		"Requests{Code=rate_limited,Route=POST /v1/phone/verification}":            1,
		"Requests{Code=email_send_failed,Route=POST /v1/phone/verification}":       1,
		"CodesSent{Channel=sms,Purpose=bind}":                                      1,
		"Confirmations{Outcome=success,Route=POST /v1/phone/verification/confirm}": 1,
		"Confirmations{Outcome=code_invalid,Route=POST /v1/phone/unbind}":          1,
		"RateLimited{Limit=ip_hour}":                                               1,
		"SendFailures{Channel=email}":                                              1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metrics =\n%v\nwant\n%v", got, want)
	}
	if n := strings.Count(logs.String(), `"lambda_request_id":"lambda-req-9"`); n != 5 {
		t.Errorf("%d log lines carry the Lambda request id, want 5:\n%s", n, logs.String())
	}
}
