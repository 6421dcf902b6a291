package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/store"
)

// Issue 4 end to end: support tickets over HTTP, operators' update_ticket
// events, the status index operators read, and the feedback.* events, on
// DynamoDB Local and moto (SNS, SQS), and on `make run`'s in-memory store.

func (e *e2e) fileTicket(sub, body string) response {
	e.t.Helper()
	return e.call(sub, "POST", "/v1/feedback", body)
}

// newTicketID files a ticket and returns its id.
func (e *e2e) newTicketID(sub, message string) string {
	e.t.Helper()
	r := e.fileTicket(sub, fmt.Sprintf(`{"category":"question","message":%q}`, message))
	expect(e.t, r, 201, "")
	return r.str("ticket_id")
}

func (e *e2e) ticket(sub, id string, headers ...string) response {
	e.t.Helper()
	return e.call(sub, "GET", "/v1/feedback/"+id, "", headers...)
}

// updateTicket runs an update_ticket event through the feedback function's
// Lambda handler, as the console's Test tab would, and returns its result.
func (e *e2e) updateTicket(id, status, answer, operator string) string {
	e.t.Helper()
	ev, _ := json.Marshal(map[string]string{"action": "update_ticket", "ticket_id": id, "status": status, "answer": answer, "operator": operator})
	out, err := e.srv.app.Feedback()(context.Background(), ev)
	if err != nil {
		e.t.Fatalf("update_ticket: %v", err)
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// invokeLocal posts an event to POST /_local/invoke/{function}, what
// `make invoke` does against `make run`.
func (e *e2e) invokeLocal(function, event string) response {
	e.t.Helper()
	return e.send(e.request("POST", "/_local/invoke/"+function, event))
}

// sampleUpdate is infra/events/update-ticket.json aimed at ticket id.
func sampleUpdate(t *testing.T, id string) string {
	t.Helper()
	raw, err := os.ReadFile("../events/update-ticket.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev["ticket_id"] = id
	out, _ := json.Marshal(ev)
	return string(out)
}

// TestE2EFeedbackAnsweredFromTheSampleEvent is the definition of
// done, on `make run` as it starts (in-memory store) and on DynamoDB Local:
// a new user files a ticket, an operator answers it with the sample ops
// event through `make invoke`'s endpoint, and the user sees the answer.
func TestE2EFeedbackAnsweredFromTheSampleEvent(t *testing.T) {
	for _, backend := range []string{"memory", "dynamodb"} {
		t.Run(backend, func(t *testing.T) {
			var e *e2e
			if backend == "memory" {
				e = startE2E(t, map[string]string{"LOCAL_JWT_SECRET": "e2e-secret"}, nil, "", "")
			} else {
				e = newE2E(t, nil)
			}
			created := e.fileTicket("newcomer", `{"category":"problem","message":"Не приходит SMS с кодом","contact":"newcomer@example.ru"}`)
			expect(t, created, 201, "")
			id := created.str("ticket_id")
			if created.str("status") != "new" || created.str("created_at") == "" || created.header.Get("Location") != "/v1/feedback/"+id {
				t.Fatalf("create: %s %v", created.raw, created.header)
			}
			before := e.ticket("newcomer", id)
			expect(t, before, 200, "")
			if before.str("status") != "new" || before.body["answer"] != nil {
				t.Fatalf("before the answer: %s", before.raw)
			}
			e.clock.Advance(time.Hour)
			res := e.invokeLocal("feedback", sampleUpdate(t, id))
			if res.status != 200 || res.body["ok"] != true {
				t.Fatalf("sample update_ticket: %d %s", res.status, res.raw)
			}
			after := e.ticket("newcomer", id, "Accept-Language", "en")
			expect(t, after, 200, "")
			if after.str("status") != "answered" || after.str("status_text") != "Answered" ||
				!strings.HasPrefix(after.str("answer"), "Здравствуйте!") || after.str("answered_at") == "" ||
				after.str("updated_at") == after.str("created_at") || after.str("contact") != "n***@example.ru" {
				t.Fatalf("the user's view of the answer: %s", after.raw)
			}
			list := e.call("newcomer", "GET", "/v1/feedback", "")
			expect(t, list, 200, "")
			if tickets, _ := list.body["tickets"].([]any); len(tickets) != 1 || tickets[0].(map[string]any)["answer"] == nil {
				t.Fatalf("list after the answer: %s", list.raw)
			}
			// The HTTP samples reach the function through a direct invocation too.
			for file, status := range map[string]float64{"feedback-create.json": 201, "feedback-list.json": 200, "feedback-get.json": 404} {
				raw, err := os.ReadFile("../events/" + file)
				if err != nil {
					t.Fatal(err)
				}
				if r := e.invokeLocal("feedback", string(raw)); r.status != 200 || r.body["statusCode"] != status {
					t.Fatalf("%s: %d %s", file, r.status, r.raw)
				}
			}
			// The logical id works too, and the same event again changes nothing.
			if again := e.invokeLocal("FeedbackFunction", sampleUpdate(t, id)); again.status != 200 || !strings.Contains(again.raw, `"changed": false`) {
				t.Fatalf("the sample event twice: %d %s", again.status, again.raw)
			}
		})
	}
}

func TestE2EFeedbackCreateGetList(t *testing.T) {
	e := newE2E(t, nil)
	var ids []string
	for i, contact := range []string{`"+7 912 345-67-89"`, `"ivan@example.ru"`, `"  "`, `""`, `"8 (999) 123 45 67"`} {
		e.clock.Advance(time.Minute)
		r := e.fileTicket("alice", fmt.Sprintf(`{"category":"suggestion","message":"  Предложение %d  ","contact":%s}`, i, contact))
		expect(t, r, 201, "")
		ids = append(ids, r.str("ticket_id"))
	}
	for _, id := range ids {
		if _, ok := feedback.NormalizeTicketID(id); !ok || strings.ContainsAny(id[3:], "01OIL") {
			t.Fatalf("ticket id %q", id)
		}
	}
	got := e.ticket("alice", ids[0])
	expect(t, got, 200, "")
	if got.str("message") != "Предложение 0" || got.str("category") != "suggestion" || got.str("contact") != "+7 912 ***-**-89" ||
		got.str("status_text") != "Новое" || got.str("created_at") != got.str("updated_at") {
		t.Fatalf("get: %s", got.raw)
	}
	if got := e.ticket("alice", strings.ToLower(ids[1])); got.str("contact") != "i***@example.ru" {
		t.Fatalf("get by a lower-case id: %s", got.raw)
	}

	// Another account's ticket is 404, word for word like a missing one.
	foreign, missing := e.ticket("mallory", ids[0]), e.ticket("mallory", "FB-ZZZZZZZZ")
	expect(t, foreign, 404, "ticket_not_found")
	if foreign.raw != missing.raw {
		t.Fatalf("another account's ticket answers differently from a missing one: %s vs %s", foreign.raw, missing.raw)
	}
	if l := e.call("mallory", "GET", "/v1/feedback", ""); !strings.Contains(l.raw, `"tickets":[]`) {
		t.Fatalf("another account's list: %s", l.raw)
	}

	// Pages of two, newest first; the cursor passed back as it came.
	var listed []string
	path := "/v1/feedback?limit=2"
	for page := 0; ; page++ {
		r := e.call("alice", "GET", path, "")
		expect(t, r, 200, "")
		tickets, _ := r.body["tickets"].([]any)
		for _, tk := range tickets {
			listed = append(listed, tk.(map[string]any)["ticket_id"].(string))
		}
		next := r.str("next_cursor")
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("the list never ends")
		}
		// Another account cannot use alice's cursor to see her tickets.
		if other := e.call("mallory", "GET", "/v1/feedback?cursor="+next, ""); !strings.Contains(other.raw, `"tickets":[]`) {
			t.Fatalf("alice's cursor in mallory's hands: %s", other.raw)
		}
		path = "/v1/feedback?limit=2&cursor=" + next
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if fmt.Sprint(listed) != fmt.Sprint(want) {
		t.Fatalf("listed %v, want %v", listed, want)
	}

	// The table holds the contacts sealed, never as typed.
	var table strings.Builder
	for _, it := range e.scanItems() {
		table.WriteString(it["_raw"].(string))
	}
	for _, s := range []string{"+79123456789", "79123456789", "9123456789", "ivan@example.ru", "79991234567"} {
		if strings.Contains(table.String(), s) {
			t.Errorf("the table holds %q", s)
		}
	}
}

func TestE2EFeedbackBadRequests(t *testing.T) {
	e := newE2E(t, nil)
	tests := []struct {
		method, path, body string
		status             int
		code, field        string
	}{
		{"POST", "/v1/feedback", `{"category":"question",`, 400, "invalid_json", ""},
		{"POST", "/v1/feedback", ``, 415, "unsupported_media_type", ""},
		{"POST", "/v1/feedback", `{"category":"question","message":"x","contact":null}`, 400, "invalid_request", "contact"},
		{"POST", "/v1/feedback", `{"category":"question","message":"x","admin":true}`, 400, "invalid_request", "admin"},
		{"POST", "/v1/feedback", `{"category":["question"],"message":"x"}`, 400, "invalid_request", "category"},
		{"POST", "/v1/feedback", `{"message":"x"}`, 422, "invalid_request", "category"},
		{"POST", "/v1/feedback", `{"category":"bug","message":"x"}`, 422, "invalid_request", "category"},
		{"POST", "/v1/feedback", `{"category":"question"}`, 422, "invalid_request", "message"},
		{"POST", "/v1/feedback", `{"category":"question","message":"   "}`, 422, "invalid_request", "message"},
		{"POST", "/v1/feedback", `{"category":"question","message":"` + strings.Repeat("я", 4001) + `"}`, 422, "invalid_request", "message"},
		{"POST", "/v1/feedback", `{"category":"question","message":"x","contact":"ivan@@example.ru"}`, 422, "invalid_contact", "contact"},
		{"POST", "/v1/feedback", `{"category":"question","message":"x","contact":"+7 495 123-45-67"}`, 422, "invalid_contact", "contact"},
		{"POST", "/v1/feedback", `{"category":"question","message":"x","contact":"skype: ivan"}`, 422, "invalid_contact", "contact"},
		{"POST", "/v1/feedback", `{"category":"question","message":"` + strings.Repeat("я", 9000) + `"}`, 413, "payload_too_large", ""},
		{"GET", "/v1/feedback?limit=1000", ``, 400, "invalid_request", "limit"},
		{"GET", "/v1/feedback?cursor=not-a-cursor", ``, 400, "invalid_request", "cursor"},
		{"GET", "/v1/feedback/FB-12345678", ``, 404, "ticket_not_found", ""},
		{"DELETE", "/v1/feedback", ``, 404, "not_found", ""},
	}
	for _, tt := range tests {
		r := e.call("alice", tt.method, tt.path, tt.body)
		expect(t, r, tt.status, tt.code)
		if tt.field != "" && r.str("field") != tt.field {
			t.Errorf("%s %s %.60s: field %q, want %q", tt.method, tt.path, tt.body, r.str("field"), tt.field)
		}
	}
	expect(t, e.call("", "POST", "/v1/feedback", `{"category":"question","message":"x"}`), 401, "unauthorized")
	expect(t, e.call("", "GET", "/v1/feedback", ""), 401, "unauthorized")
	en := e.call("alice", "POST", "/v1/feedback", `{"category":"question","message":" "}`, "Accept-Language", "en")
	ru := e.call("alice", "POST", "/v1/feedback", `{"category":"question","message":" "}`)
	if en.str("detail") != `Required field "message" is missing.` || ru.str("detail") != "Не заполнено обязательное поле «message»." {
		t.Fatalf("details: en %q, ru %q", en.str("detail"), ru.str("detail"))
	}
	if l := e.call("alice", "GET", "/v1/feedback", ""); !strings.Contains(l.raw, `"tickets":[]`) {
		t.Fatalf("bad requests left tickets: %s", l.raw)
	}
	// A 4000-character Cyrillic message (8000 bytes) is one that fits.
	expect(t, e.fileTicket("alice", `{"category":"question","message":"`+strings.Repeat("я", 4000)+`"}`), 201, "")
}

func TestE2EFeedbackDailyLimit(t *testing.T) {
	e := newE2E(t, nil)
	day := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	e.clock.Advance(day.Sub(e.clock.Now()))
	for i := range feedback.DefaultTicketsPerDay {
		e.clock.Advance(time.Minute)
		e.newTicketID("alice", fmt.Sprintf("обращение %d", i+1))
	}
	r := e.fileTicket("alice", `{"category":"question","message":"одиннадцатое"}`)
	expect(t, r, 429, "rate_limited")
	// 20:10 UTC: the window closes at midnight, 3h50m away.
	if r.header.Get("Retry-After") != "13800" || r.num("retry_after") != 13800 || r.str("limit") != "feedback_day" {
		t.Fatalf("11th ticket of the day: %v %s", r.header, r.raw)
	}
	l := e.call("alice", "GET", "/v1/feedback?limit=100", "")
	if tickets, _ := l.body["tickets"].([]any); len(tickets) != 10 {
		t.Fatalf("%d tickets stored, want 10", len(tickets))
	}
	e.newTicketID("bob", "у другого аккаунта свой счёт")
	e.clock.Advance(4 * time.Hour)
	e.newTicketID("alice", "новый день")
}

// TestE2EFeedbackEveryTransition moves tickets through every pair of
// statuses with the ops event: forward moves are made and recorded, every
// other move is refused and changes nothing.
func TestE2EFeedbackEveryTransition(t *testing.T) {
	e := newE2E(t, nil)
	path := map[feedback.Status][]feedback.Status{
		feedback.StatusNew:        nil,
		feedback.StatusInProgress: {feedback.StatusInProgress},
		feedback.StatusAnswered:   {feedback.StatusAnswered},
		feedback.StatusClosed:     {feedback.StatusInProgress, feedback.StatusAnswered, feedback.StatusClosed},
	}
	answerFor := func(s feedback.Status, text string) string {
		if s == feedback.StatusAnswered {
			return text
		}
		return ""
	}
	for _, from := range feedback.Statuses {
		for _, to := range feedback.Statuses {
			// One account per pair: an account files at most 10 a day.
			sub := "mover-" + string(from) + "-" + string(to)
			id := e.newTicketID(sub, fmt.Sprintf("%s → %s", from, to))
			for _, step := range path[from] {
				if out := e.updateTicket(id, string(step), answerFor(step, "Первый ответ"), "setup"); !strings.Contains(out, `"ok":true`) {
					t.Fatalf("setting up %s: %s", from, out)
				}
			}
			e.clock.Advance(time.Minute)
			out := e.updateTicket(id, string(to), answerFor(to, "Ответ оператора"), "ivanova")
			view := e.ticket(sub, id)
			switch {
			case feedback.CanMove(from, to):
				if !strings.Contains(out, `"changed":true`) || !strings.Contains(out, `"previous_status":"`+string(from)+`"`) ||
					view.str("status") != string(to) {
					t.Errorf("%s → %s refused: %s / %s", from, to, out, view.raw)
				}
				if to == feedback.StatusAnswered && view.str("answer") != "Ответ оператора" {
					t.Errorf("%s → answered: answer %q", from, view.str("answer"))
				}
			case from == to && from != feedback.StatusAnswered:
				if !strings.Contains(out, `"changed":false`) || view.str("status") != string(from) {
					t.Errorf("%s → %s (a repeat): %s", from, to, out)
				}
			default:
				if !strings.Contains(out, `"code":"transition_not_allowed"`) || view.str("status") != string(from) {
					t.Errorf("%s → %s allowed: %s / %s", from, to, out, view.raw)
				}
			}
		}
	}
	// The record of who did what, in the table an operator reads.
	id := e.newTicketID("recorded", "кто ответил")
	e.updateTicket(id, "in_progress", "", "petrov")
	e.updateTicket(id, "answered", "Готово", "ivanova")
	e.updateTicket(id, "closed", "", "sidorov")
	tk, err := e.srv.app.Tickets.Get(context.Background(), "recorded", id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != feedback.StatusClosed || tk.UpdatedBy != "sidorov" || tk.AnsweredBy != "ivanova" || tk.Answer != "Готово" {
		t.Fatalf("recorded: %+v", tk)
	}
	// Refusals an operator can read.
	for ev, want := range map[string]string{
		`{"action":"update_ticket","ticket_id":"` + id + `","status":"answered","operator":"o"}`:            `"field":"answer"`,
		`{"action":"update_ticket","ticket_id":"FB-ZZZZZZZZ","status":"closed","operator":"o"}`:             `"code":"ticket_not_found"`,
		`{"action":"update_ticket","ticket_id":"` + id + `","status":"reopened","operator":"o"}`:            `"field":"status"`,
		`{"action":"update_ticket","ticket_id":"` + id + `","status":"closed"}`:                             `"field":"operator"`,
		`{"action":"support_unbind","account_id":"a","operator":"o","reason":"r","ticket_id":"` + id + `"}`: `"code":"unknown_action"`,
	} {
		out, err := e.srv.app.Feedback()(context.Background(), json.RawMessage(ev))
		b, _ := json.Marshal(out)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s → %s (%v), want %s", ev, b, err, want)
		}
	}
}

// TestE2EFeedbackStatusIndex runs the query an operator runs in the
// console: index TicketsByStatus, ticket_status = new, oldest first.
func TestE2EFeedbackStatusIndex(t *testing.T) {
	e := newE2E(t, nil)
	e.bind("indexed", uniqueNumber()) // binding items stay out of the index
	var ids []string
	for i := range 4 {
		e.clock.Advance(time.Minute)
		ids = append(ids, e.newTicketID(fmt.Sprintf("acc-%d", i%2), fmt.Sprintf("вопрос %d", i)))
	}
	e.updateTicket(ids[2], "in_progress", "", "ivanova")
	query := func(status string) []string {
		t.Helper()
		var out []string
		// Index reads are eventually consistent in AWS; DynamoDB Local is
		// prompt, but allow for it.
		for try := 0; try < 20; try++ {
			res, err := e.db.Query(context.Background(), &dynamodb.QueryInput{
				TableName:                 aws.String(e.table),
				IndexName:                 aws.String(store.TicketStatusIndex),
				KeyConditionExpression:    aws.String("ticket_status = :s"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: status}},
			})
			if err != nil {
				t.Fatalf("query %s: %v", store.TicketStatusIndex, err)
			}
			out = out[:0]
			for _, item := range res.Items {
				var it struct {
					TicketID  string `dynamodbav:"ticket_id"`
					AccountID string `dynamodbav:"account_id"`
					Category  string `dynamodbav:"category"`
					Message   string `dynamodbav:"message"`
				}
				if err := attributevalue.UnmarshalMap(item, &it); err != nil {
					t.Fatal(err)
				}
				if it.AccountID == "" || it.Category == "" || it.Message == "" {
					t.Fatalf("an operator cannot read the ticket from the index: %v", item)
				}
				out = append(out, it.TicketID)
			}
			if status != "new" || len(out) == 3 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return out
	}
	if got, want := query("new"), []string{ids[0], ids[1], ids[3]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("open tickets oldest first = %v, want %v", got, want)
	}
	if got := query("in_progress"); fmt.Sprint(got) != fmt.Sprint([]string{ids[2]}) {
		t.Fatalf("in_progress = %v", got)
	}
}

// TestE2EFeedbackEvents reads feedback.created and feedback.updated back
// from an SQS queue subscribed to the events topic in moto.
func TestE2EFeedbackEvents(t *testing.T) {
	e, topic := newE2EWithEvents(t, nil)
	secret, mail := "Мой паспорт 4510 123456", "secret.person@example.ru"
	r := e.fileTicket("acc-ev", fmt.Sprintf(`{"category":"problem","message":%q,"contact":%q}`, secret, mail))
	expect(t, r, 201, "")
	id := r.str("ticket_id")
	e.clock.Advance(time.Minute)
	e.updateTicket(id, "in_progress", "", "ivanova")
	e.clock.Advance(time.Minute)
	e.updateTicket(id, "answered", "Ответ с личными данными", "ivanova")
	e.updateTicket(id, "answered", "Ответ с личными данными", "ivanova") // a repeat publishes nothing
	e.clock.Advance(time.Minute)
	e.updateTicket(id, "closed", "", "ivanova")

	events := topic.Receive(t, 4, 10*time.Second)
	want := []struct{ name, status, previous string }{
		{feedback.EventCreated, "new", ""},
		{feedback.EventUpdated, "in_progress", "new"},
		{feedback.EventUpdated, "answered", "in_progress"},
		{feedback.EventUpdated, "closed", "answered"},
	}
	if len(events) != len(want) {
		t.Fatalf("received %d events, want %d: %+v", len(events), len(want), events)
	}
	seen := map[string]bool{}
	for i, w := range want {
		ev := events[i]
		var body map[string]any
		ev.Decode(t, &body)
		if ev.Name != w.name || body["event"] != w.name || body["ticket_id"] != id || body["account_id"] != "acc-ev" ||
			body["category"] != "problem" || body["status"] != w.status || (w.previous != "" && body["previous_status"] != w.previous) ||
			body["at"] == "" || body["event_id"] == "" || seen[body["event_id"].(string)] {
			t.Errorf("event %d: %q %s, want %+v", i, ev.Name, ev.Body, w)
		}
		seen[fmt.Sprint(body["event_id"])] = true
		for k := range body {
			if !strings.Contains(" event_id event ticket_id account_id category status previous_status at ", " "+k+" ") {
				t.Errorf("event %d carries %q", i, k)
			}
		}
		for _, s := range []string{secret, "паспорт", mail, "secret.person", "Ответ с личными", "ivanova"} {
			if strings.Contains(ev.Envelope, s) {
				t.Errorf("event %d carries %q", i, s)
			}
		}
	}
	logs := e.logs.String()
	for _, s := range []string{secret, mail, "Ответ с личными"} {
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %q", s)
		}
	}
}

func TestE2EFeedbackFailedPublishKeepsTheTicket(t *testing.T) {
	e := newE2E(t, map[string]string{"EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:no-such-topic"})
	id := e.newTicketID("alice", "тема событий недоступна")
	if out := e.updateTicket(id, "answered", "Ответ", "ivanova"); !strings.Contains(out, `"ok":true`) {
		t.Fatalf("update with the topic down: %s", out)
	}
	if v := e.ticket("alice", id); v.str("answer") != "Ответ" {
		t.Fatalf("ticket: %s", v.raw)
	}
	if n := strings.Count(e.logs.String(), "event not published"); n < 2 {
		t.Fatalf("%d lost events logged, want 2", n)
	}
}
