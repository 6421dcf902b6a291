package httpapi

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// Route keys, as the template declares them and as logs name them.
const (
	routeRequestCode = "POST /v1/phone/verification"
	routeConfirmCode = "POST /v1/phone/verification/confirm"
	routeStatus      = "GET /v1/phone"
	routeUnbind      = "POST /v1/phone/unbind"
)

// handlerFunc is one route's work once the caller is known. It returns a
// domain or request error for anything but success; serve words it.
type handlerFunc func(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error)

// serve runs one route: it finds the caller, calls fn, turns any error into
// a problem response and writes the request's single log line. It never
// returns an error, so API Gateway never answers with its bare 500.
func (a *API) serve(ctx context.Context, req events.APIGatewayV2HTTPRequest, route string, fn handlerFunc) (events.APIGatewayV2HTTPResponse, error) {
	start := a.now()
	resp, err := a.call(ctx, req, fn)
	attrs := []slog.Attr{
		slog.String("route", route),
		slog.String("request_id", req.RequestContext.RequestID),
	}
	level := slog.LevelInfo
	if err != nil {
		f := classify(err)
		resp = problemResponse(f, preferredLang(header(req.Headers, "accept-language")))
		attrs = append(attrs, slog.String("code", f.code))
		if f.internal() {
			// The only place the cause is kept; the client sees none of it.
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", err.Error()))
		}
	}
	attrs = append(attrs,
		slog.Int("status", resp.StatusCode),
		slog.Duration("latency", a.now().Sub(start)))
	a.logger.LogAttrs(ctx, level, "request", attrs...)
	return resp, nil
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
