package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gosuslugi/phonebind/shared/binding"
)

// The citizen's side of the reads of the number (SPEC §4.8): partners'
// requests, the decisions on them, and the access log.
const (
	// AccessRequestsPath lists the pending requests; a request's own path
	// is below it, AccessRequestsPath + "/{request_id}".
	AccessRequestsPath = "/v1/phone/access-requests"
	// AccessLogPath is the access log.
	AccessLogPath = "/v1/phone/access-log"

	routeAccessRequests = "GET " + AccessRequestsPath
	routeDecideAccess   = "POST " + AccessRequestsPath + "/{request_id}"
	routeAccessLog      = "GET " + AccessLogPath
)

// Access is the part of the binding service the access routes call.
type Access interface {
	CurrentAccessRequests(ctx context.Context, accountID string) ([]binding.AccessRequest, error)
	DecideAccessRequest(ctx context.Context, d binding.AccessDecision) (binding.AccessRequest, error)
	AccessLog(ctx context.Context, accountID, cursor string, size int) (binding.AccessLogPage, error)
}

// SetAccess wires the access routes to acc (the binding service).
func (a *API) SetAccess(acc Access) { a.access = acc }

// errNoAccess is a function assembled without SetAccess: an internal
// error, never a client's.
var errNoAccess = errors.New("access routes not wired (httpapi.API.SetAccess)")

// accessRequestView is one partner's request as the citizen sees it.
type accessRequestView struct {
	RequestID     string `json:"request_id"`
	ClientID      string `json:"client_id"`
	ClientName    string `json:"client_name"`
	Purpose       string `json:"purpose"`
	State         string `json:"state"`
	CreatedAt     stamp  `json:"created_at"`
	ExpiresAt     stamp  `json:"expires_at"`
	ApprovedUntil stamp  `json:"approved_until,omitzero"`
	DecidedAt     stamp  `json:"decided_at,omitzero"`
}

// accessRequestsView is GET /v1/phone/access-requests: the requests that
// need or have the citizen's answer in force (pending, and approved until
// the approval runs out), newest first.
type accessRequestsView struct {
	Items []accessRequestView `json:"items"`
}

// accessDecisionBody is POST /v1/phone/access-requests/{request_id}.
type accessDecisionBody struct {
	Decision *string `json:"decision"`
}

// accessLogEntryView is one read of the number.
type accessLogEntryView struct {
	At         stamp  `json:"at"`
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name"`
	Purpose    string `json:"purpose"`
	Result     string `json:"result"`
}

// accessLogView is a page of the access log, newest first; next_cursor,
// passed back as ?cursor=, fetches the next page and is absent on the last.
type accessLogView struct {
	Items      []accessLogEntryView `json:"items"`
	NextCursor string               `json:"next_cursor,omitempty"`
}

// Decisions a citizen may send.
const (
	decisionApprove = "approve"
	decisionDecline = "decline"
)

// AccessRequests is GET /v1/phone/access-requests.
func (a *API) AccessRequests(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, routeAccessRequests, func(ctx context.Context, _ events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
		if a.access == nil {
			return events.APIGatewayV2HTTPResponse{}, errNoAccess
		}
		reqs, err := a.access.CurrentAccessRequests(ctx, c.accountID)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		v := accessRequestsView{Items: make([]accessRequestView, 0, len(reqs))}
		for _, r := range reqs {
			v.Items = append(v.Items, accessRequestViewOf(r))
		}
		return jsonResponse(http.StatusOK, v), nil
	})
}

// DecideAccessRequest is POST /v1/phone/access-requests/{request_id}
// (step-up): the request as it is after the decision.
func (a *API) DecideAccessRequest(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, routeDecideAccess, func(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
		if a.access == nil {
			return events.APIGatewayV2HTTPResponse{}, errNoAccess
		}
		var body accessDecisionBody
		if err := decodeBody(req, &body); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		if body.Decision == nil {
			return events.APIGatewayV2HTTPResponse{}, missing("decision")
		}
		if *body.Decision != decisionApprove && *body.Decision != decisionDecline {
			return events.APIGatewayV2HTTPResponse{}, notOneOf("decision", decisionApprove, decisionDecline)
		}
		r, err := a.access.DecideAccessRequest(ctx, binding.AccessDecision{
			AccountID: c.accountID, RequestID: accessRequestID(req), Approve: *body.Decision == decisionApprove,
			Session: c.session, SourceIP: c.sourceIP,
		})
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return jsonResponse(http.StatusOK, accessRequestViewOf(r)), nil
	})
}

// accessRequestID is the request id of the path: API Gateway's path
// parameter, or, for a direct or local invocation without one, the path's
// last segment.
func accessRequestID(req events.APIGatewayV2HTTPRequest) string {
	if id := req.PathParameters["request_id"]; id != "" {
		return id
	}
	path := req.RequestContext.HTTP.Path
	if path == "" {
		path = req.RawPath
	}
	return strings.TrimPrefix(path, AccessRequestsPath+"/")
}

// AccessLog is GET /v1/phone/access-log, paged like the tickets
// (?limit=, ?cursor=).
func (a *API) AccessLog(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, routeAccessLog, func(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
		if a.access == nil {
			return events.APIGatewayV2HTTPResponse{}, errNoAccess
		}
		size := 0
		if raw, ok := req.QueryStringParameters["limit"]; ok {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > binding.MaxAccessLogPage {
				return events.APIGatewayV2HTTPResponse{}, &requestError{code: codeInvalidRequest, detail: detailPageSize,
					field: "limit", args: []any{binding.MaxAccessLogPage}}
			}
			size = n
		}
		page, err := a.access.AccessLog(ctx, c.accountID, req.QueryStringParameters["cursor"], size)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		v := accessLogView{Items: make([]accessLogEntryView, 0, len(page.Entries))}
		for _, e := range page.Entries {
			v.Items = append(v.Items, accessLogEntryViewOf(e))
		}
		if page.Next != nil {
			v.NextCursor = binding.EncodeAccessLogCursor(*page.Next)
		}
		return jsonResponse(http.StatusOK, v), nil
	})
}

func accessLogEntryViewOf(e binding.AccessLogEntry) accessLogEntryView {
	return accessLogEntryView{At: stamp(e.At), ClientID: e.ClientID, ClientName: e.ClientName, Purpose: string(e.Purpose), Result: e.Result}
}

func accessRequestViewOf(r binding.AccessRequest) accessRequestView {
	return accessRequestView{
		RequestID: r.ID, ClientID: r.ClientID, ClientName: r.ClientName, Purpose: string(r.Purpose), State: string(r.State),
		CreatedAt: stamp(r.CreatedAt), ExpiresAt: stamp(r.ExpiresAt),
		ApprovedUntil: stamp(r.ApprovedUntil), DecidedAt: stamp(r.DecidedAt),
	}
}

// accessFault is classify's part for the access routes' outcomes.
func accessFault(err error) (fault, bool) {
	switch {
	case errors.Is(err, binding.ErrAccessRequestNotFound):
		return fault{code: codeAccessRequestNotFound}, true
	case errors.Is(err, binding.ErrAccessRequestDecided):
		f := fault{code: codeAccessRequestClosed, detail: detailAccessDecided}
		f.body.Reason = "decided"
		return f, true
	case errors.Is(err, binding.ErrAccessRequestExpired):
		f := fault{code: codeAccessRequestClosed, detail: detailAccessExpired}
		f.body.Reason = "expired"
		return f, true
	case errors.Is(err, binding.ErrInvalidCursor):
		f := fault{code: codeInvalidRequest, detail: detailInvalidCursor}
		f.body.Field = "cursor"
		return f, true
	}
	return fault{}, false
}
