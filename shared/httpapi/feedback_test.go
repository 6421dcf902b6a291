package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gosuslugi/phonebind/shared/testenv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/phone"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
)

// newFeedbackAPI is the routes over the real service and the memory store.
func newFeedbackAPI(t *testing.T) (*FeedbackAPI, *feedback.Service, *testenv.Clock, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := testenv.NewClock(time.Date(2026, 11, 23, 21, 15, 0, 0, time.UTC))
	svc := feedback.New(feedback.Config{}, store.NewFeedbackMemory(), secure.DevKeyring(), feedback.Events(nil), clock.Now, logger)
	return NewFeedback(svc, phone.NewParser([]string{"RU"}), logger), svc, clock, logs
}

func as(sub string) func(*events.APIGatewayV2HTTPRequest) {
	return withClaims(map[string]string{"sub": sub})
}

func withQuery(q map[string]string) func(*events.APIGatewayV2HTTPRequest) {
	return func(r *events.APIGatewayV2HTTPRequest) { r.QueryStringParameters = q }
}

func ticketGet(id string, opts ...func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPRequest {
	req := event("GET", "/v1/feedback/"+id, "", opts...)
	req.RouteKey = routeFeedbackGet
	req.PathParameters = map[string]string{"ticket_id": id}
	return req
}

func call(t *testing.T, api *FeedbackAPI, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, map[string]any) {
	t.Helper()
	resp, err := api.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("handler returned a Go error: %v", err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return resp, body
}

func fileVia(t *testing.T, api *FeedbackAPI, sub, body string) string {
	t.Helper()
	resp, b := call(t, api, event("POST", "/v1/feedback", body, as(sub)))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Body)
	}
	return b["ticket_id"].(string)
}

// sample reads an infra/events fixture, the same the console's Test tab uses.
func sample(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile("../../infra/events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

func TestFeedbackSampleEvents(t *testing.T) {
	api, _, _, _ := newFeedbackAPI(t)
	resp, body := call(t, api, sample(t, "feedback-create.json"))
	if resp.StatusCode != 201 || body["status"] != "new" || body["created_at"] != "2026-11-23T21:15:00Z" {
		t.Fatalf("create sample: %d %s", resp.StatusCode, resp.Body)
	}
	id := body["ticket_id"].(string)
	if resp.Headers["Location"] != "/v1/feedback/"+id || len(body) != 3 {
		t.Fatalf("create sample: %v %s", resp.Headers, resp.Body)
	}
	assertJSONHeaders(t, resp)

	get := sample(t, "feedback-get.json")
	get.PathParameters["ticket_id"], get.RawPath = id, "/v1/feedback/"+id
	resp, body = call(t, api, get)
	if resp.StatusCode != 200 || body["ticket_id"] != id || body["category"] != "problem" || body["contact"] != "i***@example.ru" ||
		!strings.HasPrefix(body["message"].(string), "Не приходит SMS") || body["status_text"] != "Новое" || body["answer"] != nil {
		t.Fatalf("get sample: %d %s", resp.StatusCode, resp.Body)
	}
	if _, present := body["answer"]; !present {
		t.Fatalf("answer must be present (null) before there is one: %s", resp.Body)
	}
	resp, body = call(t, api, sample(t, "feedback-list.json"))
	if list := body["tickets"].([]any); resp.StatusCode != 200 || len(list) != 1 || body["next_cursor"] != nil {
		t.Fatalf("list sample: %d %s", resp.StatusCode, resp.Body)
	}
	// The sample's own id belongs to nobody here.
	if resp, body := call(t, api, sample(t, "feedback-get.json")); resp.StatusCode != 404 || body["code"] != "ticket_not_found" {
		t.Fatalf("get of an unknown ticket: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestFeedbackCreateGetList(t *testing.T) {
	api, svc, clock, _ := newFeedbackAPI(t)
	var ids []string
	for i, contact := range []string{"", `,"contact":"8 912 345 67 89"`, `,"contact":""`, `,"contact":"  "`, `,"contact":"пётр@почта.рф"`} {
		clock.Advance(time.Minute)
		ids = append(ids, fileVia(t, api, "alice", `{"category":"question","message":"  Вопрос `+string(rune('А'+i))+` "`+contact+`}`))
	}
	resp, body := call(t, api, ticketGet(ids[1], as("alice"), withLang("en")))
	if resp.StatusCode != 200 || body["message"] != "Вопрос Б" || body["contact"] != "+7 912 ***-**-89" || body["status_text"] != "New" ||
		resp.Headers["Content-Language"] != "en" || body["updated_at"] != "2026-11-23T21:17:00Z" {
		t.Fatalf("get: %d %s", resp.StatusCode, resp.Body)
	}
	if _, b := call(t, api, ticketGet(ids[3], as("alice"))); b["contact"] != nil {
		t.Fatalf("a blank contact is none: %v", b)
	}
	// The id as a person may type it.
	if resp, _ := call(t, api, ticketGet(strings.ToLower(ids[0]), as("alice"))); resp.StatusCode != 200 {
		t.Fatalf("lower-case id: %d", resp.StatusCode)
	}

	// Another account: 404, exactly as for an id that does not exist.
	foreign, fb := call(t, api, ticketGet(ids[0], as("mallory")))
	missing, mb := call(t, api, ticketGet("FB-ZZZZZZZZ", as("mallory")))
	if foreign.StatusCode != 404 || fb["code"] != "ticket_not_found" || foreign.Body != missing.Body || mb["detail"] != "Обращение не найдено." {
		t.Fatalf("another account's ticket: %d %s vs %s", foreign.StatusCode, foreign.Body, missing.Body)
	}
	if _, b := call(t, api, event("GET", "/v1/feedback", "", as("mallory"), func(r *events.APIGatewayV2HTTPRequest) { r.RouteKey = routeFeedbackList })); len(b["tickets"].([]any)) != 0 {
		t.Fatalf("another account's list: %v", b)
	}

	// Pages of two, newest first, with the answer once there is one.
	if _, err := svc.UpdateTicket(context.Background(), feedback.Update{TicketID: ids[4], Status: feedback.StatusAnswered, Answer: "Ответ", Operator: "o"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	q := map[string]string{"limit": "2"}
	for range 5 {
		req := event("GET", "/v1/feedback", "", as("alice"), withQuery(q))
		req.RouteKey = routeFeedbackList
		resp, body := call(t, api, req)
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
		}
		for _, v := range body["tickets"].([]any) {
			tk := v.(map[string]any)
			got = append(got, tk["ticket_id"].(string))
			if tk["ticket_id"] == ids[4] && (tk["answer"] != "Ответ" || tk["status"] != "answered" || tk["status_text"] != "Получен ответ" || tk["answered_at"] == nil) {
				t.Fatalf("answered ticket in the list: %v", tk)
			}
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			break
		}
		q = map[string]string{"limit": "2", "cursor": next}
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("pages %v, want %v", got, want)
	}
}

func TestFeedbackBadRequests(t *testing.T) {
	long := strings.Repeat("ж", feedback.MaxMessageChars+1)
	post := func(body string, opts ...func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPRequest {
		return event("POST", "/v1/feedback", body, append([]func(*events.APIGatewayV2HTTPRequest){as("alice")}, opts...)...)
	}
	list := func(q map[string]string) events.APIGatewayV2HTTPRequest {
		req := event("GET", "/v1/feedback", "", as("alice"), withQuery(q))
		req.RouteKey = routeFeedbackList
		return req
	}
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		code   string
		field  string
		reason string
		ru, en string
	}{
		{"not JSON", post(`category=question`), 400, "invalid_json", "", "", "JSON", "JSON"},
		{"empty body", post(``), 400, "invalid_json", "", "", "пустое", "empty"},
		{"array", post(`[]`), 400, "invalid_request", "", "", "JSON-объектом", "JSON object"},
		{"unknown field", post(`{"category":"question","message":"x","priority":"high"}`), 400, "invalid_request", "priority", "", "«priority»", `"priority"`},
		{"category a number", post(`{"category":1,"message":"x"}`), 400, "invalid_request", "category", "", "строка", "a string"},
		{"message an object", post(`{"category":"question","message":{}}`), 400, "invalid_request", "message", "", "строка", "a string"},
		{"contact a number", post(`{"category":"question","message":"x","contact":79123456789}`), 400, "invalid_request", "contact", "", "строка", "a string"},
		{"no category", post(`{"message":"x"}`), 422, "invalid_request", "category", "", "«category»", `"category"`},
		{"unknown category", post(`{"category":"complaint","message":"x"}`), 422, "invalid_request", "category", "unsupported", "question, problem, suggestion", "question, problem, suggestion"},
		{"no message", post(`{"category":"question"}`), 422, "invalid_request", "message", "", "«message»", `"message"`},
		{"null message", post(`{"category":"question","message":null}`), 422, "invalid_request", "message", "", "«message»", `"message"`},
		{"blank message", post(`{"category":"question","message":" \n\t "}`), 422, "invalid_request", "message", "required", "«message»", `"message"`},
		{"4001 characters", post(`{"category":"problem","message":"` + long + `"}`), 422, "invalid_request", "message", "too_long", "длиннее 4000 символов", "longer than 4000 characters"},
		{"null contact", post(`{"category":"question","message":"x","contact":null}`), 400, "invalid_request", "contact", "", "неверный тип", "wrong type"},
		{"bad e-mail", post(`{"category":"question","message":"x","contact":"ivan@example"}`), 422, "invalid_contact", "contact", "invalid_email", "адрес электронной почты", "e-mail address"},
		{"landline", post(`{"category":"question","message":"x","contact":"+7 495 123-45-67"}`), 422, "invalid_contact", "contact", "not_mobile", "мобильного", "mobile"},
		{"foreign number", post(`{"category":"question","message":"x","contact":"+44 7400 123456"}`), 422, "invalid_contact", "contact", "region_not_allowed", "этой страны", "this country"},
		{"neither", post(`{"category":"question","message":"x","contact":"telegram ivan"}`), 422, "invalid_contact", "contact", "invalid_characters", "почты или номер", "e-mail address or a mobile"},
		{"over 16 KiB", post(`{"category":"problem","message":"` + strings.Repeat("ж", 8300) + `"}`), 413, "payload_too_large", "", "", "16384", "16384"},
		{"no sub", post(`{"category":"question","message":"x"}`, withClaims(map[string]string{"email": "a@b.ru"})), 401, "unauthorized", "", "", "вход", "Sign-in"},
		{"limit 0", list(map[string]string{"limit": "0"}), 400, "invalid_request", "limit", "", "от 1 до 100", "from 1 to 100"},
		{"limit 101", list(map[string]string{"limit": "101"}), 400, "invalid_request", "limit", "", "от 1 до 100", "from 1 to 100"},
		{"limit words", list(map[string]string{"limit": "all"}), 400, "invalid_request", "limit", "", "limit", "limit"},
		{"forged cursor", list(map[string]string{"cursor": "eyJhY2NvdW50IjoiYm9iIn0"}), 400, "invalid_request", "cursor", "", "курсор", "cursor"},
		{"malformed id", ticketGet("FB-0OIL", as("alice")), 404, "ticket_not_found", "", "", "не найдено", "not found"},
		{"unknown id", ticketGet("FB-ZZZZZZZZ", as("alice")), 404, "ticket_not_found", "", "", "не найдено", "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, lang := range []string{"ru", "en"} {
				api, _, _, _ := newFeedbackAPI(t)
				req := tt.req
				req.Headers = map[string]string{"accept-language": lang, "content-type": "application/json"}
				resp, err := api.Handle(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
				}
				p := decodeProblem(t, resp)
				if p["code"] != tt.code || (tt.field != "" && p["field"] != tt.field) || (tt.reason != "" && p["reason"] != tt.reason) {
					t.Fatalf("problem %v, want %s field %q reason %q", p, tt.code, tt.field, tt.reason)
				}
				want := tt.ru
				if lang == "en" {
					want = tt.en
				}
				if d := p["detail"].(string); !strings.Contains(d, want) {
					t.Fatalf("[%s] detail %q, want it to contain %q", lang, d, want)
				}
			}
		})
	}
}

func TestFeedbackLongCyrillicFits(t *testing.T) {
	api, _, _, _ := newFeedbackAPI(t)
	msg := strings.Repeat("ж", feedback.MaxMessageChars)
	id := fileVia(t, api, "alice", `{"category":"problem","message":"`+msg+`"}`)
	if _, b := call(t, api, ticketGet(id, as("alice"))); b["message"] != msg {
		t.Fatal("a 4000-character Cyrillic message did not come back whole")
	}
}

func TestFeedbackDailyLimit(t *testing.T) {
	api, _, clock, _ := newFeedbackAPI(t)
	for range feedback.DefaultTicketsPerDay {
		fileVia(t, api, "alice", `{"category":"question","message":"ещё вопрос"}`)
	}
	for _, lang := range []string{"ru", "en"} {
		resp, err := api.Handle(context.Background(), event("POST", "/v1/feedback", `{"category":"question","message":"одиннадцатый"}`, as("alice"), withLang(lang)))
		if err != nil {
			t.Fatal(err)
		}
		p := decodeProblem(t, resp)
		// 21:15 UTC: the day's window closes at midnight, 2h45m away.
		if resp.StatusCode != 429 || p["code"] != "rate_limited" || p["limit"] != "feedback_day" || p["retry_after"] != float64(9900) ||
			resp.Headers["Retry-After"] != "9900" {
			t.Fatalf("11th ticket: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
		}
		want := map[string]string{"ru": "не больше 10 обращений в сутки. Следующее — после 24.11.2026 00:00 UTC", "en": "At most 10 tickets a day. You can send the next one after 24 November 2026, 00:00 UTC"}[lang]
		if !strings.Contains(p["detail"].(string), want) {
			t.Fatalf("[%s] detail %q", lang, p["detail"])
		}
	}
	fileVia(t, api, "bob", `{"category":"question","message":"у меня свой лимит"}`)
	clock.Advance(3 * time.Hour)
	fileVia(t, api, "alice", `{"category":"question","message":"новый день"}`)
}

func TestFeedbackUnknownRoute(t *testing.T) {
	api, _, _, _ := newFeedbackAPI(t)
	resp, body := call(t, api, event("DELETE", "/v1/feedback", "", as("alice")))
	if resp.StatusCode != 404 || body["code"] != "not_found" {
		t.Fatalf("unknown route: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestFeedbackLogsHoldNoMessageOrContact(t *testing.T) {
	api, _, _, logs := newFeedbackAPI(t)
	secret, mail, num := "Паспорт 4510 123456", "ivan.secret@example.ru", "+79123456789"
	id := fileVia(t, api, "alice", `{"category":"problem","message":"`+secret+`","contact":"`+mail+`"}`)
	fileVia(t, api, "alice", `{"category":"problem","message":"`+secret+`","contact":"`+num+`"}`)
	call(t, api, event("POST", "/v1/feedback", `{"category":"problem","message":"`+secret+`","contact":"`+mail+`x"}`, as("alice")))
	call(t, api, ticketGet(id, as("alice")))
	out := logs.String()
	if !strings.Contains(out, routeFeedbackCreate) || !strings.Contains(out, routeFeedbackGet) {
		t.Fatalf("nothing logged to check: %s", out)
	}
	for _, s := range []string{secret, "Паспорт", mail, "ivan.secret", num, "9123456789"} {
		if strings.Contains(out, s) {
			t.Errorf("logs hold %q", s)
		}
	}
}
