package ops_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/ops"
	"github.com/gosuslugi/phonebind/shared/secure"
	"github.com/gosuslugi/phonebind/shared/store"
)

func TestUpdateTicket(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	svc := feedback.New(feedback.Config{}, store.NewFeedbackMemory(), secure.DevKeyring(), nil, func() time.Time { return now }, nil)
	tk, err := svc.Create(ctx, feedback.NewTicket{AccountID: "acc-1", Category: feedback.CategoryProblem, Message: "Не приходит SMS"})
	if err != nil {
		t.Fatal(err)
	}
	httpCalls := 0
	h := ops.Function(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		httpCalls++
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	}, map[string]ops.Action{"update_ticket": ops.UpdateTicket(svc, nil)}, nil)
	ev := func(fields string) string {
		return `{"action":"update_ticket","ticket_id":"` + tk.ID + `"` + fields + `}`
	}

	for _, c := range []struct{ event, want string }{
		{ev(`,"status":"answered","operator":"ivanova"`), `"field":"answer"`},
		{ev(`,"status":"answered","answer":"  ","operator":"ivanova"`), `"field":"answer"`},
		{ev(`,"status":"in_progress","answer":"x","operator":"ivanova"`), `answer is given only with status answered`},
		{ev(`,"status":"answered","answer":"x"`), `"field":"operator"`},
		{ev(`,"answer":"x","operator":"o"`), `"field":"status"`},
		{ev(`,"status":"done","operator":"o"`), `status must be one of: new, in_progress, answered, closed`},
		{ev(`,"status":"new","operator":"o"`), `"changed":false`},
		{ev(`,"status":"closed","operator":"o","priority":1`), `unknown field priority`},
		{ev(`,"status":1,"operator":"o"`), `wrong type for status`},
		{`{"action":"update_ticket","ticket_id":"FB-ZZZZZZZZ","status":"closed","operator":"o"}`, `"code":"ticket_not_found"`},
		{`{"action":"update_ticket","status":"closed","operator":"o"}`, `"field":"ticket_id"`},
	} {
		if got := invoke(t, h, c.event); !strings.Contains(got, c.want) || strings.Contains(got, `"ok":true`) && c.want != `"changed":false` {
			t.Errorf("%s\n  → %s\n  want %s", c.event, got, c.want)
		}
	}
	if got, _ := svc.Get(ctx, "acc-1", tk.ID); got.Status != feedback.StatusNew {
		t.Fatalf("refused events moved the ticket to %s", got.Status)
	}

	now = now.Add(time.Hour)
	got := invoke(t, h, ev(`,"status":"answered","answer":"Проверьте номер.","operator":"ivanova"`))
	for _, want := range []string{`"ok":true`, `"status":"answered"`, `"previous_status":"new"`, `"changed":true`, `"updated_by":"ivanova"`, `"updated_at":"2026-11-23T10:00:00Z"`} {
		if !strings.Contains(got, want) {
			t.Fatalf("answer: %s lacks %s", got, want)
		}
	}
	if strings.Contains(got, "Не приходит") || strings.Contains(got, "Проверьте") {
		t.Fatalf("the result carries ticket text: %s", got)
	}
	if got := invoke(t, h, ev(`,"status":"answered","answer":"Проверьте номер.","operator":"ivanova"`)); !strings.Contains(got, `"changed":false`) {
		t.Fatalf("the same event again: %s", got)
	}
	if got := invoke(t, h, ev(`,"status":"answered","answer":"Другой ответ","operator":"ivanova"`)); !strings.Contains(got, `"code":"transition_not_allowed"`) || !strings.Contains(got, "may go to: closed") {
		t.Fatalf("a second answer: %s", got)
	}
	if got := invoke(t, h, ev(`,"status":"in_progress","operator":"ivanova"`)); !strings.Contains(got, `"code":"transition_not_allowed"`) || !strings.Contains(got, "from answered to in_progress") {
		t.Fatalf("backwards: %s", got)
	}
	invoke(t, h, ev(`,"status":"closed","operator":"petrov"`))
	if got := invoke(t, h, ev(`,"status":"answered","answer":"x","operator":"o"`)); !strings.Contains(got, "a closed ticket never moves") {
		t.Fatalf("out of closed: %s", got)
	}
	final, _ := svc.Get(ctx, "acc-1", tk.ID)
	if final.Status != feedback.StatusClosed || final.Answer != "Проверьте номер." || final.AnsweredBy != "ivanova" || final.UpdatedBy != "petrov" {
		t.Fatalf("final ticket %+v", final)
	}
	// An HTTP API event never reaches the action, whatever it carries.
	invoke(t, h, `{"version":"2.0","routeKey":"POST /v1/feedback","requestContext":{},"action":"update_ticket","ticket_id":"`+tk.ID+`","status":"closed","operator":"x"}`)
	if httpCalls != 1 {
		t.Fatalf("the HTTP event went elsewhere (%d HTTP calls)", httpCalls)
	}
}
