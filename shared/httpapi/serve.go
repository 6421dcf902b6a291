package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/gosuslugi/phonebind/shared/binding"
	"github.com/gosuslugi/phonebind/shared/metrics"
)

// Route keys, as the template declares them and as logs name them.
const (
	routeRequestCode    = "POST /v1/phone/verification"
	routeConfirmCode    = "POST /v1/phone/verification/confirm"
	routeStatus         = "GET /v1/phone"
	routeUnbind         = "POST /v1/phone/unbind"
	routeCancelUnbind   = "DELETE /v1/phone/unbind"
	routeSettings       = "GET /v1/phone/settings"
	routeChangeSettings = "PATCH /v1/phone/settings"
)

// handlerFunc is one route's work once the caller is known. It returns a
// domain or request error for anything but success; serve words it.
type handlerFunc func(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error)

// serve runs one route: it finds the caller, calls fn, turns any error into
// a problem response and writes the request's single log line. It never
// returns an error, so API Gateway never answers with its bare 500.
func (a *API) serve(ctx context.Context, req events.APIGatewayV2HTTPRequest, route string, fn handlerFunc) (events.APIGatewayV2HTTPResponse, error) {
	start := a.now()
	ctx, cancel := Budget(ctx)
	defer cancel()
	resp, err := a.call(ctx, req, fn)
	attrs := make([]slog.Attr, 0, 8) // room for all: no growing
	attrs = append(attrs,
		slog.String("route", route),
		slog.String("request_id", req.RequestContext.RequestID))
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("lambda_request_id", lc.AwsRequestID))
	}
	level := slog.LevelInfo
	outcome := fault{code: outcomeOK}
	if err != nil {
		outcome = classify(err)
		resp = problemResponse(outcome, preferredLang(header(req.Headers, "accept-language")))
		if outcome.internal() {
			// The only place the cause is kept; the client sees none of it.
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", err.Error()))
		}
	}
	latency := a.now().Sub(start)
	attrs = append(attrs,
		slog.String("code", outcome.code),
		slog.Int("status", resp.StatusCode),
		slog.Float64("latency_ms", float64(latency.Microseconds())/1000))
	a.logger.LogAttrs(ctx, level, "request", attrs...)
	a.record(route, outcome, latency)
	return resp, nil
}

// SafetyMargin is kept back from the Lambda deadline: a request whose AWS
// calls run out of time still answers (503) and logs before Lambda would
// kill it with a bare 502.
const SafetyMargin = 500 * time.Millisecond

// Budget is ctx cut SafetyMargin short of its deadline (the Lambda
// deadline, in a function); without a deadline it is ctx.
func Budget(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-SafetyMargin))
	}
	return context.WithCancel(ctx)
}

// outcomeOK is the code of a request that succeeded, in logs and metrics.
const outcomeOK = "ok"

// record turns a request's outcome into the metrics the dashboard and the
// alarms read (metrics.Requests and the rest).
func (a *API) record(route string, f fault, latency time.Duration) {
	m := a.metrics
	if m == nil {
		return
	}
	m.Count(metrics.Requests, metrics.D("Route", route), metrics.D("Code", f.code))
	m.Put(metrics.Latency, float64(latency.Microseconds())/1000, metrics.UnitMilliseconds, metrics.D("Route", route))
	switch f.code {
	case codeRateLimited:
		m.Count(metrics.RateLimited, metrics.D("Limit", f.body.Limit))
	case codeSMSUnavailable:
		m.Count(metrics.SendFailures, metrics.D("Channel", string(binding.ChannelSMS)))
	case codeEmailSendFailed:
		m.Count(metrics.SendFailures, metrics.D("Channel", string(binding.ChannelEmail)))
	}
	if route == routeConfirmCode || route == routeUnbind {
		switch f.code {
		case outcomeOK, codeCodeInvalid, codeCodeExpired, codeAttemptsExceeded:
			outcome := f.code
			if outcome == outcomeOK {
				outcome = "success"
			}
			m.Count(metrics.Confirmations, metrics.D("Outcome", outcome), metrics.D("Route", route))
		}
	}
}

// call runs fn for the request's caller, turning a panic into an internal
// error so one bad request cannot take the function down.
func (a *API) call(ctx context.Context, req events.APIGatewayV2HTTPRequest, fn handlerFunc) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	c, err := callerOf(req)
	if err != nil {
		return resp, err
	}
	return fn(ctx, req, c)
}

// NotFound answers a route the API does not have, for a catch-all
// ($default) integration.
func (a *API) NotFound(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := a.now()
	resp := ErrorResponse(req, ErrNotFound)
	a.logger.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("route", "$default"),
		slog.String("request_id", req.RequestContext.RequestID),
		slog.String("code", codeNotFound),
		slog.Int("status", resp.StatusCode),
		slog.Duration("latency", a.now().Sub(start)))
	return resp, nil
}

// ByPath serves the requests for the paths in others with their handlers
// (a path ending in "/" serves every path below it, such as an access
// request's own) and every other request with primary: a function that serves a second
// route (the settings beside status and unbind) is wired with it. The path
// is the request's own, since a local or direct invocation may carry the
// route key "$default".
func ByPath(primary Handler, others map[string]Handler) Handler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		path := req.RequestContext.HTTP.Path
		if path == "" {
			path = req.RawPath
		}
		if h, ok := others[path]; ok {
			return h(ctx, req)
		}
		for prefix, h := range others {
			if strings.HasSuffix(prefix, "/") && strings.HasPrefix(path, prefix) {
				return h(ctx, req)
			}
		}
		return primary(ctx, req)
	}
}

// SettingsPath is where the settings routes live (SPEC §4.7).
const SettingsPath = "/v1/phone/settings"
