package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/gosuslugi/phonebind/shared/httpapi"
)

// ServeHTTP does what API Gateway does for one request: route, authorize,
// read the body, invoke the function, write its answer.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	req := s.baseEvent(r, start)
	status, routeKey := s.serve(w, r, &req)
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", routeKey),
		slog.String("request_id", req.RequestContext.RequestID),
		slog.Int("status", status),
		slog.Duration("latency", s.now().Sub(start)))
}

// localPrefix is where the runner's own routes live (outbox, invoke):
// never deployed, and never to be reached from another site.
const localPrefix = "/_local/"

// localOnly says why a request may not reach a /_local/ route ("" when it
// may). The outbox holds codes and invoke runs ops actions such as
// support_unbind, so a page on another origin must not read or drive them:
// neither by a cross-origin request (Origin, Sec-Fetch-Site), nor by a
// "simple" text/plain POST that needs no preflight, nor by DNS rebinding
// (a foreign Host that resolves to 127.0.0.1). The one exception is an
// origin CORS allows by name or pattern (a front end's dev server, by
// default any port of localhost): its tests read codes from the outbox.
// "*" lets the API be called from anywhere but opens no /_local/ route.
func (s *server) localOnly(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	switch strings.Trim(strings.ToLower(host), "[]") {
	case "localhost", "127.0.0.1", "::1":
	default:
		return "local routes answer only requests addressed to localhost or 127.0.0.1"
	}
	origin := r.Header.Get("Origin")
	allowed := origin != "" && s.cors != nil && s.cors.allowedOrigin(origin, true) != ""
	if origin != "" && !allowed {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host || (u.Scheme != "http" && u.Scheme != "https") {
			return "local routes refuse cross-origin requests"
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" && !allowed {
		return "local routes refuse cross-origin requests"
	}
	if r.Method == http.MethodPost {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return "local routes take POST bodies only as application/json"
		}
	}
	return ""
}

// writeMessage answers as API Gateway answers on its own: {"message": …}.
func writeMessage(w http.ResponseWriter, status int, message string) int {
	body, _ := json.Marshal(map[string]string{"message": message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// serve answers the request and reports the status sent and the route
// matched ("" for none).
func (s *server) serve(w http.ResponseWriter, r *http.Request, req *events.APIGatewayV2HTTPRequest) (int, string) {
	local := strings.HasPrefix(r.URL.Path, localPrefix)
	if local {
		if why := s.localOnly(r); why != "" {
			return writeMessage(w, http.StatusForbidden, why), localPrefix
		}
	}
	if s.cors != nil {
		// CORS as the deployed API answers it (on /_local/* only for the
		// origins localOnly lets through).
		if isPreflight(r) {
			return s.cors.preflight(w, r, local), ""
		}
		w = s.cors.writer(w, r, local)
	}
	if s.openAPIFile != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		switch r.URL.Path {
		case OpenAPIPath:
			return s.serveOpenAPI(w, req), OpenAPIPath
		case ReferencePath:
			return s.serveReference(w, req), ReferencePath
		}
	}
	if r.URL.Path == RunnerPath && r.Method == http.MethodGet {
		return s.write(w, req, jsonResult(http.StatusOK, RunnerInfo{Service: RunnerService, About: s.about})), RunnerPath
	}
	if s.outbox != nil && r.URL.Path == OutboxPath && (r.Method == http.MethodGet || r.Method == http.MethodDelete) {
		return s.serveOutbox(w, r, req), OutboxPath
	}
	if r.URL.Path == TokenPath && r.Method == http.MethodPost {
		return s.serveToken(w, r, req), TokenPath
	}
	if !local && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if name := s.webFile(r.URL.Path); name != "" {
			return s.serveWeb(w, r, name), "web"
		}
	}
	if fn, ok := strings.CutPrefix(r.URL.Path, InvokePath); ok && s.invoke != nil && r.Method == http.MethodPost {
		return s.serveInvoke(w, r, req, fn), InvokePath + fn
	}
	rt, params, ok := lookup(s.routes, r.Method, r.URL.EscapedPath())
	if !ok {
		return s.write(w, req, httpapi.ErrorResponse(*req, httpapi.ErrNotFound)), ""
	}
	key := rt.Key()
	req.RouteKey, req.RequestContext.RouteKey, req.PathParameters = key, key, params

	claims, err := s.authorize(r)
	if err != nil {
		resp := httpapi.ErrorResponse(*req, httpapi.ErrUnauthorized)
		resp.Headers["WWW-Authenticate"] = `Bearer error="invalid_token"`
		s.logger.Debug("token refused", slog.String("route", key), slog.String("reason", err.Error()))
		return s.write(w, req, resp), key
	}
	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: claimStrings(claims),
			Scopes: scopes(claims),
		},
	}
	if err := readBody(r, req); err != nil {
		return s.write(w, req, httpapi.ErrorResponse(*req, err)), key
	}
	if rt.handler == nil {
		s.logger.Error("no handler wired for route", slog.String("route", key), slog.String("function", rt.FunctionID))
		return s.write(w, req, httpapi.ErrorResponse(*req, errors.New("no handler"))), key
	}
	resp, err := invoke(r.Context(), rt, *req)
	if err != nil {
		// API Gateway answers a failed invocation with a bare 500; the
		// runner keeps the API's problem+json shape but no more detail.
		s.logger.Error("function failed", slog.String("route", key),
			slog.String("function", rt.FunctionID), slog.String("error", err.Error()))
		return s.write(w, req, httpapi.ErrorResponse(*req, err)), key
	}
	return s.write(w, req, resp), key
}

// invoke calls the function as the Lambda runtime would, with a Lambda
// context, turning a panic into the error the runtime would report.
func invoke(ctx context.Context, rt route, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       req.RequestContext.RequestID,
		InvokedFunctionArn: "arn:aws:lambda:local:000000000000:function:" + rt.FunctionID,
	})
	return rt.handler(ctx, req)
}

// authorize checks the bearer token as the JWT authorizer would.
func (s *server) authorize(r *http.Request) (map[string]any, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, errors.New("no bearer token")
	}
	return verifyHS256(s.secret, strings.TrimSpace(token), s.now())
}

// serveInvoke runs the body through a function as a direct invocation. It
// answers 200 with the function's result, or 502 with the error in the shape
// the Lambda runtime reports it ({"errorMessage","errorType"}).
func (s *server) serveInvoke(w http.ResponseWriter, r *http.Request, req *events.APIGatewayV2HTTPRequest, fn string) int {
	if err := readBody(r, req); err != nil {
		return s.write(w, req, httpapi.ErrorResponse(*req, err))
	}
	raw := []byte(req.Body)
	if req.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return s.write(w, req, httpapi.ErrorResponse(*req, err))
		}
		raw = decoded
	}
	if !json.Valid(raw) {
		return s.write(w, req, jsonResult(http.StatusBadRequest, map[string]string{
			"errorMessage": "the event is not valid JSON", "errorType": "InvalidEvent"}))
	}
	out, err := callInvoker(lambdacontext.NewContext(r.Context(), &lambdacontext.LambdaContext{
		AwsRequestID:       req.RequestContext.RequestID,
		InvokedFunctionArn: "arn:aws:lambda:local:000000000000:function:" + fn,
	}), s.invoke, fn, raw)
	if err != nil {
		s.logger.Error("invoke failed", slog.String("function", fn), slog.String("error", err.Error()))
		return s.write(w, req, jsonResult(http.StatusBadGateway, map[string]string{
			"errorMessage": err.Error(), "errorType": "FunctionError"}))
	}
	return s.write(w, req, jsonResult(http.StatusOK, out))
}

func callInvoker(ctx context.Context, invoke Invoker, fn string, raw []byte) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return invoke(ctx, fn, raw)
}

func jsonResult(status int, v any) events.APIGatewayV2HTTPResponse {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"errorMessage":"the result is not JSON","errorType":"FunctionError"}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
		Body:       string(body) + "\n",
	}
}
