package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/feedback"
	"github.com/gosuslugi/phonebind/shared/metrics"
)

// Route keys of the support-ticket routes, all served by FeedbackFunction.
const (
	routeFeedbackCreate = "POST /v1/feedback"
	routeFeedbackList   = "GET /v1/feedback"
	routeFeedbackGet    = "GET /v1/feedback/{ticket_id}"
)

// Feedback is the part of the feedback service the HTTP routes call.
type Feedback interface {
	Create(ctx context.Context, r feedback.NewTicket) (feedback.Ticket, error)
	Get(ctx context.Context, accountID, ticketID string) (feedback.Ticket, error)
	List(ctx context.Context, accountID, cursor string, size int) (feedback.Page, error)
}

// FeedbackAPI holds the support-ticket routes (SPEC §4.5). One function
// serves the three of them; Handle tells them apart by route key.
type FeedbackAPI struct {
	// base carries the shared request machinery (serve, logging, clock).
	base *API
	svc  Feedback
}

// NewFeedback builds the routes over the service and the phone parser that
// checks a contact given as a number. A nil logger discards logs.
func NewFeedback(svc Feedback, phones PhoneParser, logger *slog.Logger) *FeedbackAPI {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &FeedbackAPI{base: &API{phones: phones, logger: logger, now: time.Now}, svc: svc}
}

// SetMetrics makes every request record its EMF metrics to m (nil: none).
func (f *FeedbackAPI) SetMetrics(m *metrics.EMF) { f.base.metrics = m }

// Handle is FeedbackFunction's HTTP handler: POST /v1/feedback files a
// ticket, GET /v1/feedback lists the caller's, GET /v1/feedback/{ticket_id}
// shows one.
func (f *FeedbackAPI) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	route := req.RouteKey
	if route == "" {
		route = req.RequestContext.RouteKey
	}
	switch route {
	case routeFeedbackCreate:
		return f.base.serve(ctx, req, route, f.create)
	case routeFeedbackList:
		return f.base.serve(ctx, req, route, f.list)
	case routeFeedbackGet:
		return f.base.serve(ctx, req, route, f.get)
	}
	return f.base.NotFound(ctx, req)
}

// ticketBody is POST /v1/feedback. Pointers tell a missing field from an
// empty one; a missing or blank contact is none, a null one is refused.
type ticketBody struct {
	Category *string         `json:"category"`
	Message  *string         `json:"message"`
	Contact  json.RawMessage `json:"contact"`
}

// ticketCreatedView is the 201 answer (SPEC §4.5).
type ticketCreatedView struct {
	TicketID  string `json:"ticket_id"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
}

// ticketView is one ticket as its author sees it. The answer is null until
// there is one; the contact is shown masked.
type ticketView struct {
	TicketID   string  `json:"ticket_id"`
	Category   string  `json:"category"`
	Message    string  `json:"message"`
	Contact    string  `json:"contact,omitempty"`
	Status     string  `json:"status"`
	StatusText string  `json:"status_text"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
	Answer     *string `json:"answer"`
	AnsweredAt string  `json:"answered_at,omitempty"`
}

// ticketListView is a page of the caller's tickets, newest first.
// next_cursor, passed back as ?cursor=, fetches the next page; it is
// absent on the last one.
type ticketListView struct {
	Tickets    []ticketView `json:"tickets"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

func (f *FeedbackAPI) create(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	var body ticketBody
	if err := decodeBody(req, &body); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if body.Category == nil {
		return events.APIGatewayV2HTTPResponse{}, missing("category")
	}
	if body.Message == nil {
		return events.APIGatewayV2HTTPResponse{}, missing("message")
	}
	given, err := optionalString("contact", body.Contact)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	var contact feedback.ContactInput
	if given != nil {
		if contact, err = feedback.ParseContact(*given, f.base.phones); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	}
	t, err := f.svc.Create(ctx, feedback.NewTicket{
		AccountID: c.accountID,
		Category:  feedback.Category(*body.Category),
		Message:   *body.Message,
		Contact:   contact,
	})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	resp := jsonResponse(http.StatusCreated, ticketCreatedView{
		TicketID:  t.ID,
		Status:    string(t.Status),
		CreatedAt: timestamp(t.CreatedAt),
	})
	resp.Headers["Location"] = "/v1/feedback/" + t.ID
	return resp, nil
}

func (f *FeedbackAPI) list(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	size := 0
	if raw, ok := req.QueryStringParameters["limit"]; ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > feedback.MaxPageSize {
			return events.APIGatewayV2HTTPResponse{}, &requestError{code: codeInvalidRequest, detail: detailPageSize,
				field: "limit", args: []any{feedback.MaxPageSize}}
		}
		size = n
	}
	page, err := f.svc.List(ctx, c.accountID, req.QueryStringParameters["cursor"], size)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	l := preferredLang(header(req.Headers, "accept-language"))
	v := ticketListView{Tickets: make([]ticketView, 0, len(page.Tickets))}
	for _, t := range page.Tickets {
		v.Tickets = append(v.Tickets, ticketViewOf(t, l))
	}
	if page.Next != nil {
		v.NextCursor = feedback.EncodeCursor(*page.Next)
	}
	resp := jsonResponse(http.StatusOK, v)
	resp.Headers["Content-Language"] = l.String()
	return resp, nil
}

func (f *FeedbackAPI) get(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	t, err := f.svc.Get(ctx, c.accountID, req.PathParameters["ticket_id"])
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	l := preferredLang(header(req.Headers, "accept-language"))
	resp := jsonResponse(http.StatusOK, ticketViewOf(t, l))
	resp.Headers["Content-Language"] = l.String()
	return resp, nil
}

// ticketViewOf words a ticket in l.
func ticketViewOf(t feedback.Ticket, l lang) ticketView {
	v := ticketView{
		TicketID:   t.ID,
		Category:   string(t.Category),
		Message:    t.Message,
		Contact:    t.Contact.Masked,
		Status:     string(t.Status),
		StatusText: ticketStatusTexts[t.Status].in(l),
		CreatedAt:  timestamp(t.CreatedAt),
		UpdatedAt:  timestamp(t.UpdatedAt),
		AnsweredAt: timestamp(t.AnsweredAt),
	}
	if t.Answer != "" {
		answer := t.Answer
		v.Answer = &answer
	}
	return v
}
